using ConnectOperator.Entities;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Integration;

/// <summary>
/// The CRDs install on a real API server, every sample is accepted, every invalid sample is rejected by schema/CEL
/// alone with the expected message, and kubectl's category/explain views work.
/// </summary>
[NonParallelizable]
public sealed class CrdAndSampleTests
{
    private static string Samples => Path.Combine(TestCluster.RepoRoot, "samples");

    private TestCluster _cluster = null!;
    private string? _copyNamespace;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _cluster = await TestCluster.GetAsync();
        await _cluster.InstallCrdsAsync();
        // The platform samples (namespaces finance/hr, Departments, quotas) are applied for real and idempotently:
        // the invalid samples need the namespaces to exist.
        await Kubectl("apply", "-f", Path.Combine(Samples, "platform"));
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        if (_copyNamespace != null) await Run("delete", "namespace", _copyNamespace, "--wait=false");
    }

    private Task<(int Code, string Output)> Run(params string[] args) => _cluster.KubectlAsync(args);

    private async Task<string> Kubectl(params string[] args)
    {
        var (code, output) = await Run(args);
        Assert.That(code, Is.EqualTo(0), $"kubectl {string.Join(' ', args)}:\n{output}");
        return output;
    }

    [TestCase("departments.connect.ebs.io", "dept", "Cluster")]
    [TestCase("connectorquotas.connect.ebs.io", "cq", "Cluster")]
    [TestCase("managedconnectors.connect.ebs.io", "mc", "Namespaced")]
    public async Task Crd_is_established_with_short_name_and_category(string name, string shortName, string scope)
    {
        var crd = await _cluster.Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(name);
        Assert.Multiple(() =>
        {
            Assert.That(crd.Status.Conditions.Any(c => c.Type == "Established" && c.Status == "True"), "Established");
            Assert.That(crd.Status.Conditions.Any(c => c.Type == "NamesAccepted" && c.Status == "True"), "NamesAccepted");
            Assert.That(crd.Spec.Names.ShortNames, Is.EquivalentTo(new[] { shortName }));
            Assert.That(crd.Spec.Names.Categories, Is.EquivalentTo(new[] { ConnectApi.Category }));
            Assert.That(crd.Spec.Scope, Is.EqualTo(scope));
            Assert.That(crd.Spec.Versions.Single().Subresources.Status, Is.Not.Null, "status subresource");
            Assert.That(crd.Spec.Versions.Single().AdditionalPrinterColumns, Is.Not.Empty);
        });
    }

    [TestCase("platform")]
    [TestCase("finance")]
    [TestCase("hr")]
    public async Task Sample_folder_is_accepted_by_server_side_dry_run(string folder)
    {
        var output = await Kubectl("apply", "--dry-run=server", "-f", Path.Combine(Samples, folder));
        Assert.That(output, Does.Contain("(server dry run)"));
    }

    [Test]
    public async Task Connector_samples_can_be_created_and_read_back_as_entities_with_defaults()
    {
        var ns = await CopyNamespaceAsync();
        var list = await _cluster.Client.CustomObjects.ListNamespacedCustomObjectAsync<V1Alpha1ManagedConnectorList>(
            ConnectApi.Group, ConnectApi.Version, ns, V1Alpha1ManagedConnector.KubePluralName);
        Assert.That(list.Items.Select(i => i.Spec.ConnectorClass),
            Is.EquivalentTo(new[] { "PostgresCdcSource", "S3_SINK", "HttpSink", "DatagenSource", "com.example.ledger.LedgerAuditSourceConnector" }));
        Assert.That(list.Items.Single(i => i.Spec.CustomPlugin != null).Spec.CustomPlugin!.Id, Is.EqualTo("ccp-ledger01"));
        var datagen = list.Items.Single(i => i.Spec.ConnectorClass == "DatagenSource");
        Assert.Multiple(() =>
        {
            Assert.That(datagen.Spec.TasksMax, Is.EqualTo(1), "default tasksMax");
            Assert.That(datagen.Spec.State, Is.EqualTo(ConnectorDesiredState.Paused));
            Assert.That(datagen.Spec.DeletionPolicy, Is.EqualTo(DeletionPolicies.Delete), "default deletionPolicy");
            Assert.That(datagen.Spec.RestartPolicy.Type, Is.EqualTo(RestartPolicyTypes.OnFailure), "default restartPolicy.type");
            Assert.That(datagen.Spec.RestartPolicy.MaxRestarts, Is.EqualTo(10), "default restartPolicy.maxRestarts");
        });

        var dept = await _cluster.Client.CustomObjects.GetClusterCustomObjectAsync<V1Alpha1Department>(
            ConnectApi.Group, ConnectApi.Version, V1Alpha1Department.KubePluralName, "finance");
        Assert.That(dept.Spec.Confluent.CredentialsSecretRef.ApiKeyKey, Is.EqualTo("api-key"), "default apiKeyKey");
        Assert.That(dept.Spec.Suspend, Is.False);
    }

    [Test]
    public async Task Status_written_from_the_entity_model_is_accepted_by_the_status_subresource()
    {
        var ns = await CopyNamespaceAsync();
        var mc = await _cluster.Client.CustomObjects.GetNamespacedCustomObjectAsync<V1Alpha1ManagedConnector>(
            ConnectApi.Group, ConnectApi.Version, ns, V1Alpha1ManagedConnector.KubePluralName, "s3-ledger-archive");
        var now = DateTime.UtcNow;
        mc.Status = new V1Alpha1ManagedConnectorStatus
        {
            ObservedGeneration = mc.Metadata.Generation,
            Department = "finance",
            ConnectorName = $"fin-{ns}-s3-ledger-archive",
            ConnectorId = "lcc-abc123",
            ConnectorState = "RUNNING",
            Tasks = { new V1Alpha1TaskStatus { Id = 0, State = "RUNNING" }, new V1Alpha1TaskStatus { Id = 1, State = "FAILED", Message = "boom" } },
            Trace = new string('x', V1Alpha1ManagedConnectorStatus.MaxTraceLength),
            AutoRestart = new V1Alpha1AutoRestartStatus { Count = 1, LastRestartTime = now },
            LastSyncTime = now,
            ConfigHash = "sha256:0123",
            RestartAnnotation = "2026-01-01",
            Conditions =
            {
                new Condition { Type = ConditionTypes.Ready, Status = ConditionStatus.True, Reason = "Running", LastTransitionTime = now, ObservedGeneration = mc.Metadata.Generation },
                new Condition { Type = ConditionTypes.Reconciling, Status = ConditionStatus.False, Reason = "Synced", Message = "", LastTransitionTime = now },
            },
        };
        var updated = await _cluster.Client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync<V1Alpha1ManagedConnector>(
            mc, ConnectApi.Group, ConnectApi.Version, ns, V1Alpha1ManagedConnector.KubePluralName, mc.Metadata.Name);
        Assert.That(updated.Status!.Conditions.Select(c => c.Type), Is.EquivalentTo(new[] { "Ready", "Reconciling" }));
        Assert.That(updated.Status.Tasks, Has.Count.EqualTo(2));

        var (_, table) = await Run("get", "mc", "-n", ns, "s3-ledger-archive");
        Assert.That(table, Does.Contain("finance").And.Contain("RUNNING").And.Contain("True"));
    }

    public static IEnumerable<TestCaseData> InvalidSamples() =>
        Directory.GetFiles(Path.Combine(Samples, "invalid"), "*.yaml").Order()
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetArgDisplayNames(Path.GetFileNameWithoutExtension(f)));

    [Test]
    public void There_are_enough_invalid_samples() => Assert.That(InvalidSamples().Count(), Is.GreaterThanOrEqualTo(8));

    [TestCaseSource(nameof(InvalidSamples))]
    public async Task Invalid_sample_is_rejected_with_the_expected_message(string file)
    {
        var path = Path.Combine(Samples, "invalid", file);
        var first = File.ReadLines(path).First();
        Assert.That(first, Does.StartWith("# expect: "), $"{file}: first line must be '# expect: <message>'");
        var expected = first["# expect: ".Length..].Trim();
        Assert.That(File.ReadAllText(path).Split("\n---").Length, Is.EqualTo(1), $"{file}: one object per file");

        var (code, output) = await Run("apply", "--dry-run=server", "-f", path);
        Assert.That(code, Is.Not.EqualTo(0), $"{file} was accepted:\n{output}");
        Assert.That(output, Does.Contain(expected));
    }

    [Test]
    public async Task Kubectl_get_connect_lists_all_three_kinds()
    {
        await CopyNamespaceAsync();
        var output = await Kubectl("get", "connect", "-A");
        Assert.That(output, Does.Contain("department.connect.ebs.io/finance")
            .And.Contain("connectorquota.connect.ebs.io/finance")
            .And.Contain("managedconnector.connect.ebs.io/"));
    }

    [TestCase("managedconnectors.spec.secretConfig", "Sensitive configuration values")]
    [TestCase("departments.spec.confluent.credentialsSecretRef", "Cloud API key and secret")]
    [TestCase("connectorquotas.status.used", "Current usage")]
    public async Task Kubectl_explain_shows_descriptions(string field, string text)
    {
        var output = await Kubectl("explain", field);
        Assert.That(output, Does.Contain("DESCRIPTION:"));
        Assert.That(string.Join(' ', output.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), Does.Contain(text));
    }

    /// <summary>
    /// Creates (once per fixture) a fresh namespace holding real copies of the finance and hr connector samples,
    /// so the test leaves the shared finance/hr namespaces without ManagedConnectors.
    /// </summary>
    private async Task<string> CopyNamespaceAsync()
    {
        if (_copyNamespace != null) return _copyNamespace;
        var ns = await _cluster.CreateNamespaceAsync("samples");
        var docs = Directory.GetFiles(Path.Combine(Samples, "finance"), "*.yaml")
            .Concat(Directory.GetFiles(Path.Combine(Samples, "hr"), "*.yaml"))
            .Select(f => File.ReadAllText(f).Replace("namespace: finance", $"namespace: {ns}").Replace("namespace: hr", $"namespace: {ns}"));
        var (code, output) = await _cluster.KubectlWithInputAsync(string.Join("\n---\n", docs), "apply", "-f", "-");
        Assert.That(code, Is.EqualTo(0), output);
        _copyNamespace = ns;
        return ns;
    }
}
