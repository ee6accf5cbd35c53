using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.Http;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Webhooks;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Webhooks;

/// <summary>
/// The webhooks through the real admission chain: an in-process operator serves them over TLS with its self-managed
/// certificate and registers its own ValidatingWebhookConfiguration (clientConfig.url, caBundle), scoped by labels to
/// this fixture's namespaces and objects so other fixtures sharing the API server are not affected.
/// </summary>
[NonParallelizable]
public class AdmissionWebhookTests
{
    private const string TestLabel = "connect.ebs.io/webhook-test";
    private static readonly ResourceKind QuotaKind = ResourceKind.For<V1Alpha1ConnectorQuota>(namespaced: false);
    private static readonly ResourceKind DeptKind = ResourceKind.For<V1Alpha1Department>(namespaced: false);

    private OperatorHarness _h = null!;
    private OperatorHarness.OperatorInstance _op = null!;
    private string _id = "";
    private int _port;
    private string _configName = "";
    private string _orphanNs = "";
    private string Quota => _h.Department + "-quota";
    private TenantDirectory Tenants => _op.Service<TenantDirectory>();

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _h = await OperatorHarness.StartAsync("wh", quota: new V1Alpha1QuotaAmounts { Connectors = 5, Tasks = 100, TasksPerConnector = 10 });
        _id = Guid.NewGuid().ToString("N")[..8];
        _port = TestCluster.FreePort();
        _configName = "connect-operator-wh-" + _id;
        await LabelAsync(ResourceKind.Namespace, _h.Namespace);
        _orphanNs = await _h.Kube.CreateNamespaceAsync("wh-orphan", new Dictionary<string, string> { [TestLabel] = _id });
        _op = await _h.StartOperatorAsync(null,
            $"--Operator:WebhookPort={_port}",
            $"--Webhook:CertMode=self-managed",
            $"--Webhook:SecretName=webhook-tls",
            $"--Webhook:ConfigurationName={_configName}",
            "--Webhook:ManageConfiguration=true",
            $"--Webhook:Url=https://127.0.0.1:{_port}",
            $"--Webhook:NamespaceSelector:{TestLabel}={_id}",
            $"--Webhook:ObjectSelector:{TestLabel}={_id}",
            "--Webhook:CheckInterval=00:00:02");
        await _h.WaitUntilAsync(() => Task.FromResult(Tenants.Departments.HasSynced && Tenants.Connectors.HasSynced && Tenants.Quotas.HasSynced
                                                        && Tenants.Departments.Store.Get(_h.Department) != null && Tenants.LimitsOf(_h.Department).Count == 1), "operator caches");
        // The API server picks the new configuration up within moments: probe until a bad object is refused by our webhook.
        await _h.WaitUntilAsync(async () =>
        {
            var (code, output) = await ApplyAsync(Connector("probe", topic: "nope.x"), "--dry-run=server");
            return code != 0 && output.Contains("denied the request");
        }, "webhook registered", TimeSpan.FromSeconds(30));
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        try { await _h.Client.AdmissionregistrationV1.DeleteValidatingWebhookConfigurationAsync(_configName); } catch (HttpOperationException) { }
        try { await _h.Client.CoreV1.DeleteNamespaceAsync(_orphanNs); } catch (HttpOperationException) { }
        await _h.DisposeAsync();
    }

    [SetUp]
    public async Task ResetAsync()
    {
        foreach (var mc in (await _h.Api.ListAsync<V1Alpha1ManagedConnector>(OperatorHarness.ConnectorKind, _h.Namespace)).Items)
            await _h.Api.DeleteAsync(OperatorHarness.ConnectorKind, _h.Namespace, mc.Metadata.Name);
        await _h.WaitUntilAsync(async () => (await _h.Api.ListAsync<V1Alpha1ManagedConnector>(OperatorHarness.ConnectorKind, _h.Namespace)).Items.Count == 0
                                            && Tenants.Connectors.Store.ListByNamespace(_h.Namespace).Count == 0, "connectors deleted", TimeSpan.FromSeconds(60));
        await SetQuotaAsync(5, 100, 10);
    }

    private async Task SetQuotaAsync(int? connectors, int? tasks, int? perConnector)
    {
        string J(int? v) => v?.ToString() ?? "null";
        await _h.Api.PatchAsync<V1Alpha1ConnectorQuota>(QuotaKind, null, Quota,
            $"{{\"spec\":{{\"hard\":{{\"connectors\":{J(connectors)},\"tasks\":{J(tasks)},\"tasksPerConnector\":{J(perConnector)}}}}}}}", PatchKind.Merge);
        await _h.WaitUntilAsync(() => Task.FromResult(Tenants.LimitsOf(_h.Department).SingleOrDefault() is { } l
                                                      && l.Connectors == connectors && l.Tasks == tasks && l.TasksPerConnector == perConnector), "quota in the operator's cache");
    }

    private async Task LabelAsync(ResourceKind kind, string name)
    {
        var patch = $"{{\"metadata\":{{\"labels\":{{\"{TestLabel}\":\"{_id}\"}}}}}}";
        if (kind == ResourceKind.Namespace) await _h.Api.PatchAsync<V1Namespace>(kind, null, name, patch, PatchKind.Merge);
        else await _h.Api.PatchAsync<V1Alpha1Department>(kind, null, name, patch, PatchKind.Merge);
    }

    private string Connector(string name, int tasks = 1, string topic = "app.orders", string? ns = null) => $"""
        apiVersion: connect.ebs.io/v1alpha1
        kind: ManagedConnector
        metadata:
          name: {name}
          namespace: {ns ?? _h.Namespace}
        spec:
          connectorClass: DatagenSource
          tasksMax: {tasks}
          config:
            kafka.topic: {topic}
            quickstart: ORDERS
            output.data.format: JSON
        """;

    private Task<(int Code, string Output)> ApplyAsync(string yaml, params string[] extra)
        => _h.Kube.KubectlWithInputAsync(yaml, new[] { "apply", "-f", "-" }.Concat(extra).ToArray());

    private async Task WaitCachedAsync(string name, int tasks)
        => await _h.WaitUntilAsync(() => Task.FromResult(Tenants.Connectors.Store.Get(_h.Namespace, name)?.Spec.TasksMax == tasks), $"{name} cached with tasksMax={tasks}");

    private static string Denial(string resource, string message) => $"admission webhook \"{resource}.validate.connect.ebs.io\" denied the request: {message}";

    [Test]
    public async Task Policy_violations_are_refused_with_the_fix_in_the_message()
    {
        var (code, output) = await ApplyAsync(Connector("badtopic", topic: "finance.orders"));
        Assert.That(code, Is.Not.Zero);
        Assert.That(output, Does.Contain(Denial("managedconnectors",
            $"spec.config[kafka.topic]: topic finance.orders does not start with an allowed prefix of department {_h.Department} (app.); rename it or ask the platform team to add a prefix to Department {_h.Department} spec.policy.topicPrefixes")));
        Assert.That(await _h.GetAsync("badtopic"), Is.Null);

        (code, output) = await ApplyAsync(Connector("orphan", ns: _orphanNs));
        Assert.That(code, Is.Not.Zero);
        Assert.That(output, Does.Contain(Denial("managedconnectors",
            $"namespace {_orphanNs} is not assigned to any Department; ask the platform team to add it to a Department's spec.namespaces")));

        (code, output) = await ApplyAsync(Connector("good"));
        Assert.That(code, Is.Zero, output);
        await _h.WaitForAsync("good", m => OperatorHarness.IsReady(m), "Ready");
    }

    [Test]
    public async Task Quota_denials_name_quota_requested_used_and_limit()
    {
        await SetQuotaAsync(5, 4, 3);
        var (code, output) = await ApplyAsync(Connector("big", tasks: 4));
        Assert.That(code, Is.Not.Zero);
        Assert.That(output, Does.Contain(Denial("managedconnectors",
            $"exceeded quota {Quota}: requested tasksPerConnector=4, limited tasksPerConnector=3; lower spec.tasksMax to 3 or less")));
        Assert.That(output, Does.Contain("Error from server (Forbidden)"));
    }

    [Test]
    public async Task Server_dry_run_is_decided_and_leaves_no_reservation()
    {
        var ledger = _op.Service<AdmissionDecider>().Ledger;
        await SetQuotaAsync(1, 100, 10);
        var (code, output) = await ApplyAsync(Connector("dry1"), "--dry-run=server");
        Assert.That(code, Is.Zero, output);
        Assert.That(ledger.Count, Is.Zero, "a dry run must not reserve quota");
        Assert.That(await _h.GetAsync("dry1"), Is.Null);
        // Had the dry run reserved, this real create would exceed connectors=1.
        (code, output) = await ApplyAsync(Connector("real1"));
        Assert.That(code, Is.Zero, output);
        (code, output) = await ApplyAsync(Connector("dry2"), "--dry-run=server");
        Assert.That(code, Is.Not.Zero);
        Assert.That(output, Does.Contain(Denial("managedconnectors", $"exceeded quota {Quota}: requested connectors=1, used connectors=1, limited connectors=1")));
        (code, output) = await ApplyAsync(Connector("dry3", topic: "bad.topic"), "--dry-run=server");
        Assert.That(output, Does.Contain("topic bad.topic does not start with an allowed prefix"));
    }

    [Test]
    public async Task An_update_is_charged_only_its_delta()
    {
        await SetQuotaAsync(5, 4, 10);
        Assert.That((await ApplyAsync(Connector("a", tasks: 2))).Code, Is.Zero);
        Assert.That((await ApplyAsync(Connector("b", tasks: 1))).Code, Is.Zero);
        await WaitCachedAsync("a", 2);
        await WaitCachedAsync("b", 1);

        var (code, output) = await ApplyAsync(Connector("a", tasks: 4));
        Assert.That(code, Is.Not.Zero);
        Assert.That(output, Does.Contain(Denial("managedconnectors", $"exceeded quota {Quota}: requested tasks=2, used tasks=3, limited tasks=4")));
        (code, output) = await ApplyAsync(Connector("a", tasks: 3));
        Assert.That(code, Is.Zero, output);
        Assert.That((await _h.GetAsync("a"))!.Spec.TasksMax, Is.EqualTo(3));

        // Over quota after lowering it: the operator's own finalizer/status/annotation updates still go through.
        await SetQuotaAsync(5, 1, 10);
        await _h.PatchAsync("a", "{\"metadata\":{\"annotations\":{\"team\":\"x\"}}}");
        var a = await _h.WaitForAsync("a", m => m.Status?.ObservedGeneration == m.Metadata.Generation && m.Metadata.Finalizers.Contains(ConnectApi.Finalizer), "reconciled with finalizer");
        Assert.That(a.Metadata.Annotations["team"], Is.EqualTo("x"));
    }

    [Test]
    public async Task Lowering_a_quota_below_usage_is_allowed_with_a_warning()
    {
        Assert.That((await ApplyAsync(Connector("w1"))).Code, Is.Zero);
        Assert.That((await ApplyAsync(Connector("w2"))).Code, Is.Zero);
        await WaitCachedAsync("w1", 1);
        await WaitCachedAsync("w2", 1);
        var name = "extra-" + _id;
        string Yaml(int connectors, string? dept = null) => $"""
            apiVersion: connect.ebs.io/v1alpha1
            kind: ConnectorQuota
            metadata:
              name: {name}
              labels: {"{"}{TestLabel}: "{_id}"{"}"}
            spec:
              departmentRef: {"{"}name: {dept ?? _h.Department}{"}"}
              hard: {"{"}connectors: {connectors}{"}"}
            """;
        try
        {
            var (code, output) = await ApplyAsync(Yaml(10));
            Assert.That(code, Is.Zero, output);
            Assert.That(output, Does.Not.Contain("Warning"));
            (code, output) = await ApplyAsync(Yaml(1));
            Assert.That(code, Is.Zero, output);
            Assert.That(output, Does.Contain($"Warning: ConnectorQuota {name}: spec.hard.connectors=1 is below what Department {_h.Department} uses (connectors=2); existing connectors keep running, new ones are refused until usage drops"));

            (code, output) = await ApplyAsync(Yaml(1, "ghost-" + _id).Replace(name, name + "-ghost"));
            Assert.That(code, Is.Not.Zero);
            Assert.That(output, Does.Contain(Denial("connectorquotas", $"spec.departmentRef.name: Department ghost-{_id} does not exist; create the Department first or fix the name")));
            Assert.That(output, Does.StartWith("The request is invalid"));   // code 422
        }
        finally
        {
            try { await _h.Api.DeleteAsync(QuotaKind, null, name); } catch (HttpOperationException) { }
        }
    }

    [Test]
    public async Task Departments_cannot_share_a_namespace_or_drop_one_that_holds_connectors()
    {
        var other = "other-" + _id;
        var yaml = $"""
            apiVersion: connect.ebs.io/v1alpha1
            kind: Department
            metadata:
              name: {other}
              labels: {"{"}{TestLabel}: "{_id}"{"}"}
            spec:
              namespaces: [{_h.Namespace}]
              confluent:
                environmentId: env-emu1
                kafkaClusterId: lkc-emu1
                serviceAccountId: sa-emu1
                credentialsSecretRef: {"{"}name: confluent-credentials{"}"}
            """;
        var (code, output) = await ApplyAsync(yaml);
        Assert.That(code, Is.Not.Zero);
        Assert.That(output, Does.Contain(Denial("departments",
            $"spec.namespaces: namespace {_h.Namespace} is already claimed by Department {_h.Department}; a namespace belongs to exactly one Department, so remove it there first")));

        Assert.That((await ApplyAsync(Connector("held1"))).Code, Is.Zero);
        Assert.That((await ApplyAsync(Connector("held2"))).Code, Is.Zero);
        await WaitCachedAsync("held1", 1);
        await WaitCachedAsync("held2", 1);
        await LabelAsync(DeptKind, _h.Department);   // metadata-only update: never refused
        try
        {
            await _h.Api.PatchAsync<V1Alpha1Department>(DeptKind, null, _h.Department, $"{{\"spec\":{{\"namespaces\":[\"{_orphanNs}\"]}}}}", PatchKind.Merge);
            Assert.Fail("removing a namespace with connectors was admitted");
        }
        catch (HttpOperationException e)
        {
            Assert.That((int)e.Response.StatusCode, Is.EqualTo(403));
            Assert.That(e.Response.Content, Does.Contain(
                $"spec.namespaces: cannot remove namespace {_h.Namespace} from Department {_h.Department}: it still holds ManagedConnectors {_h.Namespace}/held1, {_h.Namespace}/held2; delete those ManagedConnectors first"));
        }
        Assert.That((await _h.Api.GetAsync<V1Alpha1Department>(DeptKind, null, _h.Department)).Spec.Namespaces, Is.EqualTo(new[] { _h.Namespace }));
    }

    [Test]
    public async Task Concurrent_creates_never_pass_a_limit_and_the_emulator_never_holds_more()
    {
        await SetQuotaAsync(5, 100, 10);
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            try
            {
                var mc = _h.Datagen($"race-{i:D2}");
                await _h.CreateAsync(mc);
                return "ok";
            }
            catch (HttpOperationException e) { return $"{(int)e.Response.StatusCode} {e.Response.Content}"; }
        }));
        Assert.That(results.Count(r => r == "ok"), Is.EqualTo(5), string.Join("\n", results));
        Assert.That(results.Where(r => r != "ok"), Has.All.StartWith("403 ").And.All.Contain($"exceeded quota {Quota}: requested connectors=1, used connectors=5, limited connectors=5"));
        Assert.That((await _h.Api.ListAsync<V1Alpha1ManagedConnector>(OperatorHarness.ConnectorKind, _h.Namespace)).Items, Has.Count.EqualTo(5));

        var prefix = $"{_h.Prefix}.{_h.Namespace}.";
        var max = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var n = _h.State.Connectors.Count(c => c.Name.StartsWith(prefix, StringComparison.Ordinal));
            max = Math.Max(max, n);
            if (n == 5) break;
            await Task.Delay(100);
        }
        for (var i = 0; i < 20; i++)
        {
            max = Math.Max(max, _h.State.Connectors.Count(c => c.Name.StartsWith(prefix, StringComparison.Ordinal)));
            await Task.Delay(100);
        }
        Assert.That(max, Is.EqualTo(5), "the emulator must hold exactly the 5 admitted connectors, never more");
    }

    [Test]
    public async Task The_webhook_serves_the_certificate_in_the_Secret_and_the_configuration_trusts_its_CA()
    {
        var secret = await _h.Client.CoreV1.ReadNamespacedSecretAsync("webhook-tls", _h.OperatorNamespace);
        using var inSecret = TlsMaterial.ParseCertificate(Encoding.UTF8.GetString(secret.Data["tls.crt"]));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _port);
        X509Certificate? presented = null;
        using var ssl = new SslStream(tcp.GetStream(), false, (_, cert, _, _) => { presented = cert; return true; });
        await ssl.AuthenticateAsClientAsync("127.0.0.1");
        Assert.That(presented?.GetCertHashString(), Is.EqualTo(inSecret.GetCertHashString()));

        var vwc = await _h.Client.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync(_configName);
        Assert.That(vwc.Webhooks, Has.Count.EqualTo(3));
        foreach (var w in vwc.Webhooks)
        {
            Assert.That(w.ClientConfig.CaBundle, Is.EqualTo(secret.Data["ca.crt"]), w.Name);
            Assert.That(w.ClientConfig.Url, Does.StartWith($"https://127.0.0.1:{_port}/validate/"));
            Assert.That(w.FailurePolicy, Is.EqualTo("Fail"));
            Assert.That(w.SideEffects, Is.EqualTo("None"));
            Assert.That(w.TimeoutSeconds, Is.EqualTo(5));
        }
    }

    [Test]
    public async Task AdmissionReview_v1_round_trip_over_HTTPS_and_metrics()
    {
        var seen = new List<(long Value, string Kind, string Result)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (i, l) => { if (i.Meter.Name == WebhookMetrics.MeterName) l.EnableMeasurementEvents(i); };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) =>
        {
            if (i.Name != "admission_total") return;
            var t = tags.ToArray().ToDictionary(x => x.Key, x => x.Value?.ToString() ?? "");
            lock (seen) seen.Add((v, t["kind"], t["result"]));
        });
        listener.Start();

        var review = """
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-ID","operation":"CREATE","namespace":"ORPHAN","name":"x",
             "object":{"apiVersion":"connect.ebs.io/v1alpha1","kind":"ManagedConnector","metadata":{"name":"x","namespace":"ORPHAN"},
                       "spec":{"connectorClass":"DatagenSource","tasksMax":1,"config":{"kafka.topic":"app.x"}}}}}
            """.Replace("ID", _id).Replace("ORPHAN", _orphanNs);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler);
        var resp = await http.PostAsync($"https://127.0.0.1:{_port}/validate/managedconnectors", new StringContent(review, Encoding.UTF8, "application/json"));
        Assert.That(resp.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var doc = System.Text.Json.JsonDocument.Parse(await resp.Content.ReadAsStringAsync());
        var r = doc.RootElement;
        Assert.That(r.GetProperty("apiVersion").GetString(), Is.EqualTo("admission.k8s.io/v1"));
        Assert.That(r.GetProperty("kind").GetString(), Is.EqualTo("AdmissionReview"));
        var response = r.GetProperty("response");
        Assert.That(response.GetProperty("uid").GetString(), Is.EqualTo($"u-{_id}"));
        Assert.That(response.GetProperty("allowed").GetBoolean(), Is.False);
        Assert.That(response.GetProperty("status").GetProperty("code").GetInt32(), Is.EqualTo(403));
        Assert.That(response.GetProperty("status").GetProperty("message").GetString(), Does.StartWith($"namespace {_orphanNs} is not assigned to any Department"));
        lock (seen) Assert.That(seen, Does.Contain((1L, "managedconnectors", "denied")));
    }

    // ---- issue 16, through the real admission chain (schema, CEL, this webhook)

    private string Raw(string name, string cls, params (string K, string V)[] config) =>
        $"apiVersion: connect.ebs.io/v1alpha1\nkind: ManagedConnector\nmetadata:\n  name: {name}\n  namespace: {_h.Namespace}\nspec:\n  connectorClass: {cls}\n  config:\n"
        + string.Concat(config.Select(c => $"    {c.K}: '{c.V}'\n"));

    public static IEnumerable<TestCaseData> Bypasses()
    {
        TestCaseData Case(string name, string cls, string expect, params (string, string)[] config) => new TestCaseData(name, cls, expect, config).SetName("refused: " + name);
        yield return Case("regex-second-alternative", "S3_SINK", "spec.config[topics.regex]: topic pattern app\\.orders|hr\\..* can match topics that do not start with an allowed prefix", ("topics.regex", @"app\.orders|hr\..*"));
        yield return Case("regex-match-all", "S3_SINK", "e.g. the empty topic name", ("topics.regex", @"app\..*|.*"));
        yield return Case("regex-anchored-alternatives", "S3_SINK", "e.g. topics starting with \"hr.s\"", ("topics.regex", @"^app\.x$|^hr\.salaries$"));
        yield return Case("regex-case-flag", "S3_SINK", "cannot be checked", ("topics.regex", @"(?i)app\..*"));
        yield return Case("regexrouter-out", "DatagenSource", "spec.config[transforms.r.replacement]: transform org.apache.kafka.connect.transforms.RegexRouter renames topics to hr.salaries",
            ("kafka.topic", "app.x"), ("quickstart", "ORDERS"), ("transforms", "r"), ("transforms.r.type", "org.apache.kafka.connect.transforms.RegexRouter"), ("transforms.r.regex", ".*"), ("transforms.r.replacement", "hr.salaries"));
        yield return Case("unknown-transform", "DatagenSource", "transform type com.evil.Exfiltrate is not one the operator knows",
            ("kafka.topic", "app.x"), ("quickstart", "ORDERS"), ("transforms", "x"), ("transforms.x.type", "com.evil.Exfiltrate"));
        yield return Case("extracttopic", "DatagenSource", "takes the topic from the record's data",
            ("kafka.topic", "app.x"), ("quickstart", "ORDERS"), ("transforms", "e"), ("transforms.e.type", "io.confluent.connect.transforms.ExtractTopic$Value"));
        yield return Case("generic-url", "DatagenSource", "spec.config[callback.url]: host evil.example.net is not in the allowed hosts",
            ("kafka.topic", "app.x"), ("quickstart", "ORDERS"), ("callback.url", "https://evil.example.net/x"));
        yield return Case("reserved-key-upper-case", "DatagenSource", "must not set reserved key(s)", ("kafka.topic", "app.x"), ("quickstart", "ORDERS"), ("KAFKA.API.KEY", "stolen"));
    }

    [TestCaseSource(nameof(Bypasses))]
    public async Task Issue16_bypass(string name, string cls, string expect, (string K, string V)[] config)
    {
        var (code, output) = await ApplyAsync(Raw(name, cls, config), "--dry-run=server");
        Assert.That(code, Is.Not.Zero, output);
        Assert.That(output, Does.Contain(expect));
    }

    [Test]
    public async Task A_department_with_ManagedConnectors_cannot_be_deleted()
    {
        Assert.That((await ApplyAsync(Connector("keep1"))).Code, Is.Zero);
        await WaitCachedAsync("keep1", 1);
        await LabelAsync(DeptKind, _h.Department);
        var (code, output) = await _h.Kube.KubectlAsync("delete", "department", _h.Department, "--dry-run=server");
        Assert.That(code, Is.Not.Zero, output);
        Assert.That(output, Does.Contain(Denial("departments",
            $"cannot delete Department {_h.Department}: it still has 1 ManagedConnector(s) {_h.Namespace}/keep1; delete those ManagedConnectors first")));
        Assert.That(await _h.Api.GetAsync<V1Alpha1Department>(DeptKind, null, _h.Department), Is.Not.Null);
    }

    [Test]
    public async Task Forged_reviews_flooding_the_webhook_do_not_stop_the_departments_real_creates()
    {
        await SetQuotaAsync(2, 100, 10);
        var ledger = _op.Service<AdmissionDecider>().Ledger;
        // Another address on the loopback network, as a pod elsewhere in the cluster would be: the API server calls from 127.0.0.1.
        using var handler = new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            ConnectCallback = async (ctx, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                await socket.ConnectAsync(ctx.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler);
        var allowed = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 300), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var review = new System.Text.Json.Nodes.JsonObject
            {
                ["apiVersion"] = "admission.k8s.io/v1", ["kind"] = "AdmissionReview",
                ["request"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["uid"] = Guid.NewGuid().ToString(), ["operation"] = "CREATE", ["namespace"] = _h.Namespace, ["name"] = $"forged-{i % 50}",
                    ["object"] = System.Text.Json.Nodes.JsonNode.Parse(
                        $"{{\"apiVersion\":\"connect.ebs.io/v1alpha1\",\"kind\":\"ManagedConnector\",\"metadata\":{{\"name\":\"forged-{i % 50}\",\"namespace\":\"{_h.Namespace}\",\"uid\":\"{Guid.NewGuid()}\"}}," +
                        "\"spec\":{\"connectorClass\":\"DatagenSource\",\"tasksMax\":1,\"config\":{\"kafka.topic\":\"app.x\",\"quickstart\":\"ORDERS\"}}}"),
                },
            }.ToJsonString();
            var resp = await http.PostAsync($"https://127.0.0.1:{_port}/validate/managedconnectors", new StringContent(review, Encoding.UTF8, "application/json"), ct);
            Assert.That(resp.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            if ((await resp.Content.ReadAsStringAsync(ct)).Contains("\"allowed\":true")) Interlocked.Increment(ref allowed);
        });
        Assert.That(allowed, Is.GreaterThan(0), "the forged reviews were decided (and reserved) like any other");
        Assert.That(ledger.CountOf(_h.Department), Is.LessThanOrEqualTo(WebhookOptions.DefaultMaxReservationsPerDepartment), "bounded");

        // The department's own creates, through the API server, still get both slots of the quota.
        var (code, output) = await ApplyAsync(Connector("real-a"));
        Assert.That(code, Is.Zero, output);
        (code, output) = await ApplyAsync(Connector("real-b"));
        Assert.That(code, Is.Zero, output);
        (code, output) = await ApplyAsync(Connector("real-c"));
        Assert.That(output, Does.Contain("exceeded quota"), "the quota itself still holds");
        // The forged reservations would otherwise stand for ReservationTimeout and show in the other tests' ledger counts.
        for (var i = 0; i < 50; i++) ledger.Release($"{_h.Namespace}/forged-{i}");
    }

    private string DeptYaml(string name, string ns, string? prefix) => $"""
        apiVersion: connect.ebs.io/v1alpha1
        kind: Department
        metadata:
          name: {name}
          labels: {"{"}{TestLabel}: "{_id}"{"}"}
        spec:
          namespaces: [{ns}]
        {(prefix is null ? "" : "  connectorNamePrefix: " + prefix + "\n")}  confluent:
            environmentId: env-emu1
            kafkaClusterId: lkc-emu1
            serviceAccountId: sa-emu1
            credentialsSecretRef: {"{"}name: confluent-credentials{"}"}
        """;

    [Test]
    public async Task Department_names_with_dots_and_shared_prefixes_are_refused()
    {
        var (code, output) = await ApplyAsync(DeptYaml($"a.b-{_id}", "c-" + _id, null), "--dry-run=server");
        Assert.That(code, Is.Not.Zero, output);
        Assert.That(output, Does.Contain("metadata.name must not contain a dot"));

        (code, output) = await ApplyAsync(DeptYaml("other-" + _id, "other-" + _id, _h.Prefix), "--dry-run=server");
        Assert.That(code, Is.Not.Zero, output);
        Assert.That(output, Does.Contain(Denial("departments",
            $"spec.connectorNamePrefix: the Confluent connector name prefix {_h.Prefix} is already used by Department {_h.Department}")));
    }

    private async Task SetClassesAsync(string classesJson, bool unvetted)
    {
        await _h.Api.PatchAsync<V1Alpha1Department>(DeptKind, null, _h.Department,
            $"{{\"spec\":{{\"policy\":{{\"allowedConnectorClasses\":{classesJson},\"allowUnvettedConnectorClasses\":{(unvetted ? "true" : "false")}}}}}}}", PatchKind.Merge);
        await _h.WaitUntilAsync(() => Task.FromResult(Tenants.Departments.Store.Get(_h.Department) is { } d
            && System.Text.Json.JsonSerializer.Serialize(d.Spec.Policy.AllowedConnectorClasses) == classesJson && d.Spec.Policy.AllowUnvettedConnectorClasses == unvetted), "department policy cached");
    }

    [Test]
    public async Task An_empty_class_list_allows_none_and_an_unvetted_class_needs_the_departments_consent()
    {
        var snowflake = Raw("snow", "SnowflakeSink", ("topics", "app.x"));
        try
        {
            await SetClassesAsync("[]", false);
            var (code, output) = await ApplyAsync(Connector("none"), "--dry-run=server");
            Assert.That(output, Does.Contain($"spec.connectorClass DatagenSource is not allowed for department {_h.Department} (allowed: none configured)"));

            await SetClassesAsync("[\"SnowflakeSink\"]", false);
            (code, output) = await ApplyAsync(snowflake, "--dry-run=server");
            Assert.That(code, Is.Not.Zero, output);
            Assert.That(output, Does.Contain("spec.connectorClass SnowflakeSink has not been vetted by the operator").And.Contain("allowUnvettedConnectorClasses: true"));

            await SetClassesAsync("[\"SnowflakeSink\"]", true);
            (code, output) = await ApplyAsync(snowflake, "--dry-run=server");
            Assert.That(code, Is.Zero, output);
        }
        finally
        {
            await SetClassesAsync("[\"DatagenSource\",\"HttpSink\",\"PostgresCdcSource\",\"S3_SINK\"]", false);
        }
    }
}
