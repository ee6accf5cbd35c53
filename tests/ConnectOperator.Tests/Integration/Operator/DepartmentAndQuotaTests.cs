using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Operator;

/// <summary>Department readiness and counts, policy at reconcile time, credentials lost and restored, health endpoints.</summary>
[NonParallelizable]
public class DepartmentAndQuotaTests
{
    private static readonly ResourceKind DepartmentKind = ResourceKind.For<V1Alpha1Department>(namespaced: false);

    private static bool DepartmentIs(V1Alpha1Department d, string type, string reason)
        => d.Status?.ObservedGeneration == d.Metadata.Generation
           && d.Status?.Conditions.FirstOrDefault(c => c.Type == type) is { Status: ConditionStatus.True } c && c.Reason == reason;

    private static async Task<V1Alpha1Department> WaitForDepartmentAsync(OperatorHarness h, string name, Func<V1Alpha1Department, bool> condition, string what)
    {
        V1Alpha1Department? last = null;
        await h.WaitUntilAsync(async () => condition(last = await h.Api.GetAsync<V1Alpha1Department>(DepartmentKind, null, name)),
            $"{what} (last status: {(last?.Status is null ? "none" : k8s.KubernetesJson.Serialize(last.Status))})");
        return last!;
    }

    [Test]
    public async Task Department_is_Ready_counts_its_connectors_and_reports_a_namespace_claimed_twice()
    {
        await using var h = await OperatorHarness.StartAsync("dept");
        var op = await h.StartOperatorAsync();
        await h.CreateAsync(h.Datagen("c1", tasks: 2));
        await h.CreateAsync(h.Datagen("c2", tasks: 3));
        var d = await WaitForDepartmentAsync(h, h.Department, x => DepartmentIs(x, "Ready", "CredentialsVerified") && x.Status!.Connectors == 2, "Ready with 2 connectors");
        Assert.That(d.Status!.Tasks, Is.EqualTo(5));

        var rival = "rival-" + Guid.NewGuid().ToString("N")[..5];
        await h.Api.CreateAsync(DepartmentKind, null, new V1Alpha1Department
        {
            Metadata = new V1ObjectMeta { Name = rival },
            Spec = new V1Alpha1DepartmentSpec
            {
                Namespaces = new List<string> { h.Namespace },
                Confluent = new V1Alpha1DepartmentConfluent
                {
                    EnvironmentId = "env-x", KafkaClusterId = "lkc-x", ServiceAccountId = "sa-x",
                    CredentialsSecretRef = new V1Alpha1CredentialsSecretRef { Name = "confluent-credentials" },
                },
            },
        });
        try
        {
            var stalled = await WaitForDepartmentAsync(h, h.Department, x => DepartmentIs(x, "Stalled", "NamespaceConflict"), "Stalled NamespaceConflict");
            Assert.That(stalled.Status!.Conditions.First(c => c.Type == "Stalled").Message, Does.Contain($"{h.Namespace} (also {rival})"));
            // Connectors of a namespace with two owners are not reconciled against either.
            await h.CreateAsync(h.Datagen("ambiguous"));
            await h.WaitForAsync("ambiguous", m => OperatorHarness.IsStalled(m, "NamespaceConflict"), "Stalled NamespaceConflict");
            Assert.That(h.Remote("ambiguous"), Is.Null);
        }
        finally
        {
            await h.Api.DeleteAsync(DepartmentKind, null, rival);
        }
        await WaitForDepartmentAsync(h, h.Department, x => DepartmentIs(x, "Ready", "CredentialsVerified"), "Ready again");
        await h.WaitForAsync("ambiguous", m => OperatorHarness.IsReady(m), "Ready once the namespace has one owner");
    }

    [Test]
    public async Task Credentials_deleted_then_restored_stall_and_recover()
    {
        await using var h = await OperatorHarness.StartAsync("creds");
        await h.StartOperatorAsync();
        await h.CreateAsync(h.Datagen("c"));
        await h.WaitForAsync("c", m => OperatorHarness.IsReady(m), "Ready");

        await h.Api.DeleteAsync(ResourceKind.Secret, h.OperatorNamespace, "confluent-credentials");
        var d = await WaitForDepartmentAsync(h, h.Department, x => DepartmentIs(x, "Stalled", "CredentialsNotFound"), "Stalled CredentialsNotFound");
        Assert.That(d.Status!.Conditions.First(c => c.Type == "Stalled").Message, Does.Contain($"{h.OperatorNamespace}/confluent-credentials"));
        await h.PatchAsync("c", "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"}}}");
        await h.WaitForAsync("c", m => OperatorHarness.IsStalled(m, "CredentialsNotFound"), "connector Stalled CredentialsNotFound");

        await h.CreateSecretAsync(h.OperatorNamespace, "confluent-credentials", new() { ["api-key"] = OperatorHarness.ApiKey, ["api-secret"] = OperatorHarness.ApiSecret });
        await WaitForDepartmentAsync(h, h.Department, x => DepartmentIs(x, "Ready", "CredentialsVerified"), "Ready again");
        await h.WaitForAsync("c", m => OperatorHarness.IsReady(m), "connector Ready again with the update applied");
        Assert.That(h.Remote("c")!.Config["quickstart"], Is.EqualTo("USERS"));
    }

    [Test]
    public async Task Wrong_credentials_are_reported_as_rejected()
    {
        await using var h = await OperatorHarness.StartAsync("badcreds");
        await h.Api.DeleteAsync(ResourceKind.Secret, h.OperatorNamespace, "confluent-credentials");
        await h.CreateSecretAsync(h.OperatorNamespace, "confluent-credentials", new() { ["api-key"] = OperatorHarness.ApiKey, ["api-secret"] = "wrong-secret-canary" });
        await h.StartOperatorAsync();
        var d = await WaitForDepartmentAsync(h, h.Department, x => DepartmentIs(x, "Stalled", "CredentialsRejected"), "Stalled CredentialsRejected");
        Assert.That(d.Status!.Conditions.First(c => c.Type == "Stalled").Message, Does.Contain("HTTP 401").And.Not.Contain("wrong-secret-canary"));
    }

    [Test]
    public async Task Policy_is_enforced_again_at_reconcile_time()
    {
        await using var h = await OperatorHarness.StartAsync("policy");
        await h.StartOperatorAsync();
        await h.CreateAsync(h.Datagen("offside", topic: "hr.salaries"));
        var stalled = await h.WaitForAsync("offside", m => OperatorHarness.IsStalled(m, "PolicyViolation"), "Stalled PolicyViolation");
        Assert.That(stalled.Status!.Conditions.First(c => c.Type == "Stalled").Message,
            Does.Contain($"spec.config[kafka.topic]: topic hr.salaries does not start with an allowed prefix of department {h.Department} (app.)"));
        Assert.That(h.Remote("offside"), Is.Null);
        Assert.That((await h.EventsAsync("offside")).Select(e => e.Reason), Does.Contain("PolicyViolation"));
        await h.PatchAsync("offside", "{\"spec\":{\"config\":{\"kafka.topic\":\"app.salaries\"}}}");
        await h.WaitForAsync("offside", m => OperatorHarness.IsReady(m), "Ready once compliant");
    }

    [Test]
    public async Task Issue16_rules_are_enforced_again_at_reconcile_time()
    {
        await using var h = await OperatorHarness.StartAsync("policy16");
        await h.StartOperatorAsync();
        var regex = h.Datagen("regex-alt");
        regex.Spec.ConnectorClass = "S3_SINK";
        regex.Spec.Config = new Dictionary<string, string> { ["topics.regex"] = @"app\.x|hr\..*", ["s3.bucket.name"] = "b" };
        var router = h.Datagen("router");
        router.Spec.Config["transforms"] = "r";
        router.Spec.Config["transforms.r.type"] = "org.apache.kafka.connect.transforms.RegexRouter";
        router.Spec.Config["transforms.r.regex"] = ".*";
        router.Spec.Config["transforms.r.replacement"] = "hr.salaries";
        var upper = h.Datagen("upper");
        var upperCase = h.Datagen("upper-case");
        upperCase.Spec.Config["Kafka.Service.Account.Id"] = "sa-x";
        foreach (var mc in new[] { regex, router, upper, upperCase }) await h.CreateAsync(mc);
        // No webhook in this harness, and spec.config's values are untyped for CEL: the reconciler compares reserved
        // keys without regard to case, so a different spelling never reaches the remote config.
        var refused = await h.WaitForAsync("upper-case", m => OperatorHarness.IsStalled(m, "PolicyViolation"), "Stalled PolicyViolation");
        Assert.That(refused.Status!.Conditions.First(c => c.Type == "Stalled").Message, Does.Contain("must not set reserved key Kafka.Service.Account.Id (in any letter case)"));
        Assert.That(h.Remote("upper-case"), Is.Null, "nothing reached Confluent");

        foreach (var (name, fragment) in new[]
                 {
                     ("regex-alt", "spec.config[topics.regex]: topic pattern app\\.x|hr\\..* can match topics that do not start with an allowed prefix"),
                     ("router", "spec.config[transforms.r.replacement]: transform org.apache.kafka.connect.transforms.RegexRouter renames topics to hr.salaries"),
                 })
        {
            var stalled = await h.WaitForAsync(name, m => OperatorHarness.IsStalled(m, "PolicyViolation"), "Stalled PolicyViolation");
            Assert.That(stalled.Status!.Conditions.First(c => c.Type == "Stalled").Message, Does.Contain(fragment));
            Assert.That(h.Remote(name), Is.Null, "nothing reached Confluent");
        }
        await h.WaitForAsync("upper", m => OperatorHarness.IsReady(m), "the compliant one runs");
    }

    [Test]
    public async Task Health_endpoints_report_ready_only_after_caches_synced()
    {
        await using var h = await OperatorHarness.StartAsync("health");
        var op = await h.StartOperatorAsync();
        var url = op.App.Urls.First();
        using var http = new HttpClient();
        Assert.That((await http.GetAsync(url + "/healthz")).IsSuccessStatusCode, Is.True);
        await h.WaitUntilAsync(async () => (await http.GetAsync(url + "/readyz")).IsSuccessStatusCode, "/readyz 200");
        var metrics = await http.GetStringAsync(url + "/metrics");
        Assert.That(metrics, Does.Contain("# TYPE"));
    }
}
