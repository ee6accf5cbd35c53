using System.Diagnostics;
using ConnectOperator.Emulator;
using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Reliability;

/// <summary>
/// Sizes of the fault matrix. CI runs scaled-down sizes; <c>RELIABILITY_FULL=1</c> selects the sizes of issue 8.
/// Every scenario reads its numbers from here so RELIABILITY.md can name them in one place.
/// </summary>
public static class Sizes
{
    public static readonly bool Full = Environment.GetEnvironmentVariable("RELIABILITY_FULL") == "1";

    /// <summary>Scenario 1: connectors created (and half of them updated) under 30% 5xx + 1.5 s latency.</summary>
    public static int FlakyConnectors => Full ? 500 : 24;
    /// <summary>Scenario 1: how long the faults last.</summary>
    public static TimeSpan FlakyPeriod => Full ? TimeSpan.FromMinutes(2) : TimeSpan.FromSeconds(20);
    /// <summary>Scenario 2: connectors created during the 429 storm.</summary>
    public static int StormConnectors => Full ? 100 : 12;
    public static TimeSpan StormPeriod => Full ? TimeSpan.FromSeconds(60) : TimeSpan.FromSeconds(8);
    /// <summary>Scenario 3: creates in flight while the operator is killed (5 kills).</summary>
    public static int KillConnectors => Full ? 100 : 15;
    public static int Kills => 5;
    /// <summary>Scenario 4: connectors reconciled during a leader failover.</summary>
    public static int FailoverConnectors => Full ? 200 : 20;
    /// <summary>Scenario 6: concurrent creates against a quota.</summary>
    public static int QuotaCreates => 50;
    public static int QuotaLimit => 10;
    /// <summary>Scenario 7: connectors before/while the credentials Secret is gone.</summary>
    public static int CredentialConnectors => Full ? 50 : 4;
    /// <summary>Scenario 8: connectors deleted while Confluent is down.</summary>
    public static int OutageConnectors => Full ? 50 : 5;
    public static TimeSpan OutagePeriod => Full ? TimeSpan.FromSeconds(60) : TimeSpan.FromSeconds(6);
    /// <summary>Scenario 9: hostile specs through the API server (dry-run=server), real-create subset.</summary>
    public static int HostileSpecs => Full ? 5000 : 1000;
    public static int HostileRealCreates => 50;

    /// <summary>After convergence: a quiet window in which no write call may happen and reads stay at the poll rate.</summary>
    public static TimeSpan QuietWindow => TimeSpan.FromSeconds(5);

    public static TimeSpan ConvergeTimeout => Full ? TimeSpan.FromMinutes(15) : TimeSpan.FromSeconds(120);
}

/// <summary>The assertions every scenario ends with: nothing lost, nothing duplicated, nothing orphaned, no hot loop.</summary>
public static class Invariants
{
    public static readonly string[] WriteMethods = ["POST", "PUT", "DELETE"];

    public static bool IsWrite(CallRecord c) => WriteMethods.Contains(c.Method, StringComparer.OrdinalIgnoreCase);

    public static List<string> RemoteNames(OperatorHarness h, string? prefix = null)
        => h.State.Connectors.Where(c => c.Name.StartsWith((prefix ?? h.Prefix) + ".", StringComparison.Ordinal)).Select(c => c.Name).OrderBy(n => n, StringComparer.Ordinal).ToList();

    public static async Task<List<V1Alpha1ManagedConnector>> LiveAsync(OperatorHarness h, string? ns = null)
        => (await h.Api.ListAsync<V1Alpha1ManagedConnector>(OperatorHarness.ConnectorKind, ns ?? h.Namespace)).Items.ToList();

    public static bool Settled(V1Alpha1ManagedConnector m)
        => OperatorHarness.IsReady(m) || (m.Status?.ObservedGeneration == m.Metadata.Generation
                                          && m.Status?.Conditions.FirstOrDefault(c => c.Type == ConditionTypes.Stalled) is { Status: ConditionStatus.True });

    /// <summary>
    /// Waits until every live ManagedConnector is Ready or Stalled, then asserts: Stalled ones carry an actionable
    /// message (and one of <paramref name="allowedStalled"/> reasons); the remote connectors under the department's
    /// prefix are exactly the Ready ones (no loss, no orphan, and - names being unique remotely - no duplicate).
    /// </summary>
    public static async Task<List<V1Alpha1ManagedConnector>> AssertConvergedAsync(OperatorHarness h, string[]? allowedStalled = null, TimeSpan? timeout = null, string? ns = null, string? prefix = null)
    {
        List<V1Alpha1ManagedConnector> live = new();
        var deadline = DateTime.UtcNow + (timeout ?? Sizes.ConvergeTimeout);
        while (DateTime.UtcNow < deadline)
        {
            live = await LiveAsync(h, ns);
            if (live.All(Settled)) break;
            await Task.Delay(500);
        }
        var unsettled = live.Where(m => !Settled(m)).ToList();
        Assert.That(unsettled.Select(m => $"{m.Metadata.Name}: {(m.Status is null ? "no status" : KubernetesJson.Serialize(m.Status.Conditions))}"), Is.Empty,
            "every connector ends Ready or Stalled");

        foreach (var m in live.Where(m => !OperatorHarness.IsReady(m)))
        {
            var stalled = m.Status!.Conditions.First(c => c.Type == ConditionTypes.Stalled);
            Assert.That(allowedStalled ?? Array.Empty<string>(), Does.Contain(stalled.Reason), $"{m.Metadata.Name} Stalled for an unexpected reason: {stalled.Message}");
            Assert.That(stalled.Message, Has.Length.GreaterThan(30).And.Contain(" "), $"{m.Metadata.Name}: Stalled message must say what to do");
        }

        var expected = live.Where(m => OperatorHarness.IsReady(m)).Select(m => h.RemoteName(m.Metadata.Name, m.Metadata.NamespaceProperty)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var remote = RemoteNames(h, prefix);
        Assert.That(remote.Except(expected), Is.Empty, "orphans: remote connectors without a Ready ManagedConnector");
        Assert.That(expected.Except(remote), Is.Empty, "lost: Ready ManagedConnectors without a remote connector");
        foreach (var m in live.Where(m => OperatorHarness.IsReady(m)))
            Assert.That(m.Status!.ConnectorName, Is.EqualTo(h.RemoteName(m.Metadata.Name, m.Metadata.NamespaceProperty)));
        return live;
    }

    /// <summary>
    /// No hot loop: during <see cref="Sizes.QuietWindow"/> after convergence there is no write call at all, and reads
    /// stay at the poll rate (one list per second per cluster, plus slack) - independent of the number of connectors.
    /// </summary>
    public static async Task<(int Writes, int Reads)> AssertQuietAsync(OperatorHarness h, int clusters = 1)
    {
        var from = h.State.Now;
        await Task.Delay(Sizes.QuietWindow);
        var calls = h.State.Calls.Where(c => c.ReceivedAt >= from).ToList();
        var writes = calls.Count(IsWrite);
        var reads = calls.Count - writes;
        var readBound = clusters * ((int)Sizes.QuietWindow.TotalSeconds + 2) * 2;
        Assert.That(calls.Where(IsWrite).Select(c => $"{c.Method} {c.Route} {c.Status}"), Is.Empty, "no write call after convergence");
        Assert.That(reads, Is.LessThanOrEqualTo(readBound), $"reads after convergence bounded by the poll rate ({readBound} in {Sizes.QuietWindow.TotalSeconds} s)");
        return (writes, reads);
    }

    public static void Report(string scenario, Stopwatch sw, OperatorHarness h, string extra = "")
    {
        var writes = h.State.Calls.Count(IsWrite);
        var line = $"RELIABILITY {scenario}: {sw.Elapsed.TotalSeconds:F1} s, calls total={h.State.Calls.Count} writes={writes} " +
                   $"POST201={h.State.CountCalls("POST", "connectors", 201)} {extra}";
        TestContext.Progress.WriteLine(line);
        try { File.AppendAllText(Path.Combine(Path.GetTempPath(), "reliability-results.txt"), DateTime.UtcNow.ToString("u") + " " + line + Environment.NewLine); }
        catch (IOException) { }
    }

    /// <summary>Creates <paramref name="count"/> connectors concurrently (bounded parallelism), names <c>{prefix}-{i:000}</c>.</summary>
    public static async Task<List<string>> CreateManyAsync(OperatorHarness h, string prefix, int count, int parallel = 8, Action<V1Alpha1ManagedConnector>? customize = null)
    {
        var names = Enumerable.Range(0, count).Select(i => $"{prefix}-{i:000}").ToList();
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (n, _) =>
        {
            var mc = h.Datagen(n);
            customize?.Invoke(mc);
            await h.CreateAsync(mc);
        });
        return names;
    }

    public static async Task DeleteAllAsync(OperatorHarness h)
    {
        foreach (var mc in await LiveAsync(h))
            await h.Api.DeleteAsync(OperatorHarness.ConnectorKind, h.Namespace, mc.Metadata.Name);
    }
}

/// <summary>Registers the operator's admission webhook through the real API server, scoped by labels (as AdmissionWebhookTests does).</summary>
public static class WebhookRig
{
    public const string TestLabel = "connect.ebs.io/webhook-test";

    public sealed record Rig(string Id, string ConfigName, OperatorHarness.OperatorInstance Operator);

    public static async Task<Rig> StartOperatorWithWebhookAsync(OperatorHarness h, params string[] extraArgs)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var port = TestCluster.FreePort();
        var configName = "connect-operator-rel-" + id;
        await LabelNamespaceAsync(h, h.Namespace, id);
        var op = await h.StartOperatorAsync(null, new[]
        {
            $"--Operator:WebhookPort={port}",
            "--Webhook:CertMode=self-managed",
            "--Webhook:SecretName=webhook-tls",
            $"--Webhook:ConfigurationName={configName}",
            "--Webhook:ManageConfiguration=true",
            $"--Webhook:Url=https://127.0.0.1:{port}",
            $"--Webhook:NamespaceSelector:{TestLabel}={id}",
            $"--Webhook:ObjectSelector:{TestLabel}={id}",
            "--Webhook:CheckInterval=00:00:02",
        }.Concat(extraArgs).ToArray());
        var tenants = op.Service<TenantDirectory>();
        await h.WaitUntilAsync(() => Task.FromResult(tenants.Departments.HasSynced && tenants.Connectors.HasSynced && tenants.Quotas.HasSynced
                                                     && tenants.Departments.Store.Get(h.Department) != null), "operator caches");
        // Probe until a bad object is refused by our webhook (dry run, so nothing is stored).
        await h.WaitUntilAsync(async () =>
        {
            var probe = h.Datagen("probe", topic: "nope.x");
            Label(probe, id);
            try
            {
                await h.Client.CustomObjects.CreateNamespacedCustomObjectAsync(probe, ConnectApi.Group, ConnectApi.Version, h.Namespace, "managedconnectors", dryRun: "All");
                return false;
            }
            catch (k8s.Autorest.HttpOperationException e) { return e.Response.Content.Contains("denied the request"); }
        }, "webhook registered", TimeSpan.FromSeconds(30));
        return new Rig(id, configName, op);
    }

    public static async Task LabelNamespaceAsync(OperatorHarness h, string ns, string id)
        => await h.Api.PatchAsync<V1Namespace>(ResourceKind.Namespace, null, ns, $"{{\"metadata\":{{\"labels\":{{\"{TestLabel}\":\"{id}\"}}}}}}", PatchKind.Merge);

    public static void Label(V1Alpha1ManagedConnector mc, string id)
    {
        mc.Metadata.Labels ??= new Dictionary<string, string>();
        mc.Metadata.Labels[TestLabel] = id;
    }

    public static async Task StopAsync(OperatorHarness h, Rig rig)
    {
        try { await h.Client.AdmissionregistrationV1.DeleteValidatingWebhookConfigurationAsync(rig.ConfigName); }
        catch (k8s.Autorest.HttpOperationException) { }
    }
}
