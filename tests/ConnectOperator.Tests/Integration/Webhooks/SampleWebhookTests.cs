using System.Text.RegularExpressions;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Webhooks;

/// <summary>
/// samples/invalid/webhook through the real admission chain, against the sample Departments and quotas: each
/// manifest is refused at apply time with the message its first line promises (the same text `validate` gives).
/// </summary>
[NonParallelizable]
public class SampleWebhookTests
{
    private const string TestLabel = "connect.ebs.io/webhook-test";
    private static readonly string[] SampleNamespaces = { "finance", "hr", "default" };
    private OperatorHarness _h = null!;
    private string _id = "";
    private string _configName = "";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _h = await OperatorHarness.StartAsync("whs");
        var (code, output) = await _h.Kube.KubectlAsync("apply", "-f", Path.Combine(TestCluster.RepoRoot, "samples", "platform"));
        Assert.That(code, Is.Zero, output);
        _id = Guid.NewGuid().ToString("N")[..8];
        _configName = "connect-operator-samples-" + _id;
        foreach (var ns in SampleNamespaces)
            await _h.Api.PatchAsync<V1Namespace>(ResourceKind.Namespace, null, ns, $"{{\"metadata\":{{\"labels\":{{\"{TestLabel}\":\"{_id}\"}}}}}}", PatchKind.Merge);
        var port = TestCluster.FreePort();
        var op = await _h.StartOperatorAsync(null,
            "--Operator:Namespace=connect-operator-system",
            $"--Operator:WebhookPort={port}",
            "--Webhook:SecretName=webhook-tls-samples",
            $"--Webhook:ConfigurationName={_configName}",
            "--Webhook:ManageConfiguration=true",
            $"--Webhook:Url=https://127.0.0.1:{port}",
            $"--Webhook:NamespaceSelector:{TestLabel}={_id}",
            $"--Webhook:ObjectSelector:{TestLabel}={_id}");
        var tenants = op.Service<TenantDirectory>();
        await _h.WaitUntilAsync(() => Task.FromResult(tenants.Departments.Store.Get("finance") != null && tenants.LimitsOf("hr").Count == 1), "sample departments cached");
        await _h.WaitUntilAsync(async () =>
        {
            var (c, o) = await _h.Kube.KubectlAsync("apply", "--dry-run=server", "-f", Path.Combine(TestCluster.RepoRoot, "samples", "invalid", "webhook", "mc-class-not-allowed.yaml"));
            return c != 0 && o.Contains("denied the request");
        }, "webhook registered", TimeSpan.FromSeconds(30));
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        try { await _h.Client.AdmissionregistrationV1.DeleteValidatingWebhookConfigurationAsync(_configName); } catch (HttpOperationException) { }
        foreach (var ns in SampleNamespaces)
            try { await _h.Api.PatchAsync<V1Namespace>(ResourceKind.Namespace, null, ns, $"{{\"metadata\":{{\"labels\":{{\"{TestLabel}\":null}}}}}}", PatchKind.Merge); }
            catch (HttpOperationException) { }
        await _h.DisposeAsync();
    }

    public static IEnumerable<TestCaseData> Samples()
        => Directory.GetFiles(Path.Combine(TestCluster.RepoRoot, "samples", "invalid", "webhook"), "*.yaml").Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName("webhook refuses " + Path.GetFileName(f)));

    [TestCaseSource(nameof(Samples))]
    public async Task Sample_is_refused_at_apply_time_with_its_expected_message(string file)
    {
        var path = Path.Combine(TestCluster.RepoRoot, "samples", "invalid", "webhook", file);
        var expect = Regex.Match((await File.ReadAllTextAsync(path)).Split('\n')[0], @"^# expect: (.+?)\s*$").Groups[1].Value;
        Assert.That(expect, Is.Not.Empty);
        foreach (var mode in new[] { "--dry-run=server", "--dry-run=none" })
        {
            var (code, output) = await _h.Kube.KubectlAsync("apply", mode, "-f", path);
            Assert.That(code, Is.Not.Zero, $"{mode}: {output}");
            Assert.That(output, Does.Contain("denied the request: ").And.Contain(expect), mode);
        }
    }
}
