using System.Diagnostics;
using ConnectOperator.Emulator;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Leadership;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Reliability;

/// <summary>
/// The fault matrix of issue 8 (see RELIABILITY.md): each scenario injects a fault while connectors are created,
/// updated or deleted, then proves nothing was lost, duplicated or orphaned and that the operator went quiet.
/// </summary>
[NonParallelizable]
public class FaultMatrixTests
{
    // ------------------------------------------------------------------------------------------------ 1. flaky Confluent

    [Test]
    public async Task S1_flaky_confluent_5xx_and_latency_converges_without_duplicates()
    {
        var sw = Stopwatch.StartNew();
        await using var h = await OperatorHarness.StartAsync("rel-flaky");
        await h.StartOperatorAsync();
        var n = Sizes.FlakyConnectors;

        h.State.SetErrorRate(0.3, 503);
        h.State.SetLatency(new LatencyFault { Milliseconds = 1500 });
        var faultsUntil = DateTime.UtcNow + Sizes.FlakyPeriod;
        var names = await Invariants.CreateManyAsync(h, "f", n);
        // Updates while the faults last: half the connectors change their config (some before their create finished).
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, Sizes.FlakyPeriod.TotalSeconds / 3)));
        foreach (var name in names.Where((_, i) => i % 2 == 0))
            await h.PatchAsync(name, "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"}}}");
        var during = h.State.Calls.Count;
        var remaining = faultsUntil - DateTime.UtcNow;
        if (remaining > TimeSpan.Zero) await Task.Delay(remaining);
        var failedDuringFaults = h.State.Calls.Count(c => c.Status >= 500);
        var postsFailed = h.State.CountCalls("POST", "connectors", 503);
        h.State.ClearFaults();

        var live = await Invariants.AssertConvergedAsync(h);
        Assert.That(live.Count(m => OperatorHarness.IsReady(m)), Is.EqualTo(n), "all Ready");
        Assert.That(Invariants.RemoteNames(h), Has.Count.EqualTo(n));
        foreach (var name in names.Where((_, i) => i % 2 == 0))
            Assert.That(h.Remote(name)!.Config["quickstart"], Is.EqualTo("USERS"), $"{name}: update applied");
        Assert.That(h.State.CountCalls("POST", "connectors", 201), Is.LessThanOrEqualTo(n), "never created twice");
        Assert.That(failedDuringFaults, Is.GreaterThan(0), "the fault really happened");
        var (w, r) = await Invariants.AssertQuietAsync(h);
        var writesPerConnector = (double)h.State.Calls.Count(Invariants.IsWrite) / n;
        Assert.That(writesPerConnector, Is.LessThanOrEqualTo(8), "write calls per connector bounded (create + update + retries)");
        Invariants.Report("S1", sw, h, $"n={n} 5xx={failedDuringFaults} POST503={postsFailed} callsDuringFaults={during} writes/connector={writesPerConnector:F1} quiet(w={w},r={r})");
    }

    // ------------------------------------------------------------------------------------------------ 2. 429 storm

    [Test]
    public async Task S2_rate_limit_storm_no_call_before_retry_after()
    {
        var sw = Stopwatch.StartNew();
        await using var h = await OperatorHarness.StartAsync("rel-storm");
        await h.StartOperatorAsync();
        var n = Sizes.StormConnectors;
        const int retryAfter = 2;
        // Connectors exist first, so the remote snapshot is there and every worker calls Confluent on its own during
        // the storm (updates of all of them at once, plus new creates): the Retry-After must hold per API key, not per request.
        var names = await Invariants.CreateManyAsync(h, "s", n);
        await Invariants.AssertConvergedAsync(h);
        h.State.InjectRateLimit(new RateLimitFault { Seconds = Sizes.StormPeriod.TotalSeconds, RetryAfterSeconds = retryAfter });
        await Task.WhenAll(names.Select(name => h.PatchAsync(name, "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"}}}")));
        await Invariants.CreateManyAsync(h, "s2", n);
        n *= 2;

        var live = await Invariants.AssertConvergedAsync(h);
        Assert.That(live.Count(m => OperatorHarness.IsReady(m)), Is.EqualTo(n));
        var calls = h.State.Calls;
        var limited = calls.Where(c => c.Status == 429).ToList();
        Assert.That(limited, Is.Not.Empty, "the storm really happened");
        Assert.That(limited.All(c => c.RetryAfterSeconds == retryAfter));
        Assert.That(names.Select(x => h.Remote(x)!.Config["quickstart"]), Is.All.EqualTo("USERS"), "updates made during the storm applied");

        // After a 429 answered at t with Retry-After R, no call with the same API key may arrive before t+R.
        // Tolerance: a request the client had already sent when the 429 was answered may arrive moments after it.
        var tolerance = TimeSpan.FromMilliseconds(250);
        var violations = new List<string>();
        foreach (var r in limited)
        {
            var from = r.RespondedAt!.Value + tolerance;
            var until = r.RespondedAt.Value + TimeSpan.FromSeconds(r.RetryAfterSeconds!.Value);
            foreach (var c in calls.Where(c => c.ApiKey == r.ApiKey && c.Seq != r.Seq && c.ReceivedAt > from && c.ReceivedAt < until))
                violations.Add($"#{c.Seq} {c.Method} {c.Route} at +{(c.ReceivedAt - r.RespondedAt.Value).TotalMilliseconds:F0} ms after 429 #{r.Seq} (Retry-After {r.RetryAfterSeconds} s)");
        }
        Assert.That(violations.Distinct().Take(20), Is.Empty, $"{violations.Count} calls before Retry-After elapsed");
        Assert.That(h.State.CountCalls("POST", "connectors", 201), Is.LessThanOrEqualTo(n));
        var (w, rd) = await Invariants.AssertQuietAsync(h);
        Invariants.Report("S2", sw, h, $"n={n} 429s={limited.Count} violations={violations.Count} quiet(w={w},r={rd})");
    }

    // ------------------------------------------------------------------------------------------------ 3. kill mid-create

    [Test]
    public async Task S3_operator_killed_repeatedly_while_creates_are_in_flight_leaves_exactly_one_remote_each()
    {
        var sw = Stopwatch.StartNew();
        await using var h = await OperatorHarness.StartAsync("rel-kill");
        var n = Sizes.KillConnectors;
        // Creates take a while, so kills land with requests in flight.
        h.State.SetLatency(new LatencyFault { Milliseconds = 400 });
        await Invariants.CreateManyAsync(h, "k", n);
        var rnd = new Random(8);
        var killsWithPostInFlight = 0;
        for (var kill = 0; kill < Sizes.Kills; kill++)
        {
            var op = await h.StartOperatorAsync("op-kill");
            await h.WaitUntilAsync(() => Task.FromResult(op.Service<LeaderElection>().IsLeader), "leader", TimeSpan.FromSeconds(30));
            await Task.Delay(rnd.Next(300, 2500));
            if (h.State.Calls.Any(c => c.Method == "POST" && c.RespondedAt == null)) killsWithPostInFlight++;
            await OperatorHarness.StopOperatorAsync(op);
        }
        h.State.SetLatency(null);
        await h.StartOperatorAsync("op-kill");

        var live = await Invariants.AssertConvergedAsync(h);
        Assert.That(live.Count(m => OperatorHarness.IsReady(m)), Is.EqualTo(n), "all Ready, none Stalled NameConflict");
        Assert.That(Invariants.RemoteNames(h), Has.Count.EqualTo(n), "exactly one remote connector per ManagedConnector");
        var (w, r) = await Invariants.AssertQuietAsync(h);
        Invariants.Report("S3", sw, h, $"n={n} kills={Sizes.Kills} killsWithPostInFlight={killsWithPostInFlight} POST409={h.State.CountCalls("POST", "connectors", 409)} quiet(w={w},r={r})");
    }

    /// <summary>
    /// The same, with the real binary as a child process killed by SIGKILL (no graceful shutdown, no lease release,
    /// requests cut mid-flight), restarted under the same identity as a pod's container restart would be.
    /// </summary>
    [Test]
    public async Task S3b_operator_process_SIGKILLed_repeatedly_leaves_exactly_one_remote_each()
    {
        var sw = Stopwatch.StartNew();
        await using var h = await OperatorHarness.StartAsync("rel-sigkill");
        var binary = Path.Combine(AppContext.BaseDirectory, "connect-operator");
        Assert.That(File.Exists(binary), Is.True, $"the operator binary is copied next to the tests: {binary}");
        var n = Sizes.KillConnectors;
        h.State.SetLatency(new LatencyFault { Milliseconds = 400 });
        await Invariants.CreateManyAsync(h, "s", n);
        var rnd = new Random(9);
        var killsWithPostInFlight = 0;
        for (var kill = 0; kill <= Sizes.Kills; kill++)
        {
            var port = TestCluster.FreePort();
            var psi = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("run");
            foreach (var a in h.OperatorArgs("op-sigkill", port)) psi.ArgumentList.Add(a);
            psi.Environment["KUBECONFIG"] = h.Kube.KubeconfigPath;
            using var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (kill == Sizes.Kills)
            {
                // The last start runs to the end: everything must converge under it.
                try
                {
                    h.State.SetLatency(null);
                    var live = await Invariants.AssertConvergedAsync(h);
                    Assert.That(live.Count(m => OperatorHarness.IsReady(m)), Is.EqualTo(n), "all Ready, none Stalled NameConflict");
                    Assert.That(Invariants.RemoteNames(h), Has.Count.EqualTo(n), "exactly one remote connector per ManagedConnector");
                }
                finally { process.Kill(entireProcessTree: true); await process.WaitForExitAsync(); }
                break;
            }
            await Task.Delay(rnd.Next(1500, 4000));
            if (h.State.Calls.Any(c => c.Method == "POST" && c.RespondedAt == null)) killsWithPostInFlight++;
            process.Kill(entireProcessTree: true);   // SIGKILL
            await process.WaitForExitAsync();
        }
        Invariants.Report("S3b", sw, h, $"n={n} kills={Sizes.Kills} killsWithPostInFlight={killsWithPostInFlight} POST409={h.State.CountCalls("POST", "connectors", 409)}");
    }

    // ------------------------------------------------------------------------------------------------ 4. leader failover

    [Test]
    public async Task S4_leader_failover_mid_reconcile_no_duplicates_all_converge()
    {
        var sw = Stopwatch.StartNew();
        await using var h = await OperatorHarness.StartAsync("rel-failover");
        var a = await h.StartOperatorAsync("op-a");
        var b = await h.StartOperatorAsync("op-b");
        await h.WaitUntilAsync(() => Task.FromResult(a.Service<LeaderElection>().IsLeader || b.Service<LeaderElection>().IsLeader), "a leader");
        var (leader, follower) = a.Service<LeaderElection>().IsLeader ? (a, b) : (b, a);
        var n = Sizes.FailoverConnectors;
        h.State.SetLatency(new LatencyFault { Milliseconds = 300 });
        await Invariants.CreateManyAsync(h, "l", n);
        // Stop the leader once some, not all, connectors exist remotely.
        await h.WaitUntilAsync(() => Task.FromResult(Invariants.RemoteNames(h).Count >= Math.Max(1, n / 4)), "some creates done", TimeSpan.FromSeconds(60));
        var createdByFirst = Invariants.RemoteNames(h).Count;
        await OperatorHarness.StopOperatorAsync(leader);
        h.State.SetLatency(null);
        await h.WaitUntilAsync(() => Task.FromResult(follower.Service<LeaderElection>().IsLeader), "follower takes over", TimeSpan.FromSeconds(30));

        var live = await Invariants.AssertConvergedAsync(h);
        Assert.That(createdByFirst, Is.LessThan(n), "failover happened mid-way");
        Assert.That(live.Count(m => OperatorHarness.IsReady(m)), Is.EqualTo(n));
        Assert.That(Invariants.RemoteNames(h), Has.Count.EqualTo(n));
        var (w, r) = await Invariants.AssertQuietAsync(h);
        Invariants.Report("S4", sw, h, $"n={n} createdByFirstLeader={createdByFirst} POST409={h.State.CountCalls("POST", "connectors", 409)} quiet(w={w},r={r})");
    }

    // ------------------------------------------------------------------------------------------------ 6. quota races

    [Test]
    public async Task S6a_concurrent_creates_against_quota_without_webhook_reconciler_backstop()
    {
        var sw = Stopwatch.StartNew();
        await using var h = await OperatorHarness.StartAsync("rel-quota", quota: new V1Alpha1QuotaAmounts { Connectors = Sizes.QuotaLimit });
        await h.StartOperatorAsync();
        var max = await CreateConcurrentlyAndSampleAsync(h, null);

        var live = await Invariants.AssertConvergedAsync(h, ["QuotaExceeded"]);
        Assert.That(max, Is.LessThanOrEqualTo(Sizes.QuotaLimit), "never more remote connectors than the quota, at any sampled moment");
        Assert.That(live, Has.Count.EqualTo(Sizes.QuotaCreates), "no webhook: every create was admitted");
        Assert.That(live.Count(m => OperatorHarness.IsReady(m)), Is.EqualTo(Sizes.QuotaLimit));
        Assert.That(Invariants.RemoteNames(h), Has.Count.EqualTo(Sizes.QuotaLimit), "exactly the quota at the end");
        var (w, r) = await Invariants.AssertQuietAsync(h);
        Invariants.Report("S6a", sw, h, $"creates={Sizes.QuotaCreates} quota={Sizes.QuotaLimit} maxRemoteSampled={max} quiet(w={w},r={r})");
    }

    [Test]
    public async Task S6b_concurrent_creates_against_quota_with_webhook()
    {
        var sw = Stopwatch.StartNew();
        await using var h = await OperatorHarness.StartAsync("rel-quotawh", quota: new V1Alpha1QuotaAmounts { Connectors = Sizes.QuotaLimit });
        var rig = await WebhookRig.StartOperatorWithWebhookAsync(h);
        try
        {
            var tenants = rig.Operator.Service<ConnectOperator.Policy.TenantDirectory>();
            await h.WaitUntilAsync(() => Task.FromResult(tenants.LimitsOf(h.Department).Count == 1), "quota cached");
            var max = await CreateConcurrentlyAndSampleAsync(h, rig.Id);
            var live = await Invariants.AssertConvergedAsync(h, ["QuotaExceeded"]);
            Assert.That(max, Is.LessThanOrEqualTo(Sizes.QuotaLimit), "never more remote connectors than the quota, at any sampled moment");
            Assert.That(live.Count(m => OperatorHarness.IsReady(m)), Is.EqualTo(Sizes.QuotaLimit));
            Assert.That(Invariants.RemoteNames(h), Has.Count.EqualTo(Sizes.QuotaLimit), "exactly the quota at the end");
            var (w, r) = await Invariants.AssertQuietAsync(h);
            Invariants.Report("S6b", sw, h, $"creates={Sizes.QuotaCreates} admitted={live.Count} quota={Sizes.QuotaLimit} maxRemoteSampled={max} quiet(w={w},r={r})");
        }
        finally { await WebhookRig.StopAsync(h, rig); }
    }

    /// <summary>Fires all creates at once; samples the emulator every 10 ms until converged; returns the max seen.</summary>
    private static async Task<int> CreateConcurrentlyAndSampleAsync(OperatorHarness h, string? webhookId)
    {
        var max = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                max = Math.Max(max, Invariants.RemoteNames(h).Count);
                await Task.Delay(10);
            }
        });
        var denied = 0;
        var creates = Enumerable.Range(0, Sizes.QuotaCreates).Select(async i =>
        {
            var mc = h.Datagen($"q-{i:00}");
            if (webhookId != null) WebhookRig.Label(mc, webhookId);
            try { await h.CreateAsync(mc); }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Forbidden)
            {
                Assert.That(e.Response.Content, Does.Contain("exceeded quota"));
                Interlocked.Increment(ref denied);
            }
        });
        await Task.WhenAll(creates);
        // Converge: every live object settled; keep sampling through it.
        await h.WaitUntilAsync(async () => (await Invariants.LiveAsync(h)).All(Invariants.Settled), "settled", Sizes.ConvergeTimeout);
        await Task.Delay(2000);
        stop.Cancel();
        await sampler;
        if (webhookId != null) TestContext.Progress.WriteLine($"webhook denied {denied} of {Sizes.QuotaCreates}");
        return max;
    }

    // ------------------------------------------------------------------------------------------------ 7. credentials lost

    [Test]
    public async Task S7_credentials_secret_deleted_then_restored_stall_then_recover()
    {
        var sw = Stopwatch.StartNew();
        await using var h = await OperatorHarness.StartAsync("rel-creds");
        await h.StartOperatorAsync();
        var n = Sizes.CredentialConnectors;
        var before = await Invariants.CreateManyAsync(h, "before", n);
        await Invariants.AssertConvergedAsync(h);

        await h.Api.DeleteAsync(ResourceKind.Secret, h.OperatorNamespace, "confluent-credentials");
        // While the Secret is gone: existing ones are updated, new ones are created; nothing may reach Confluent.
        foreach (var name in before) await h.PatchAsync(name, "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"}}}");
        var during = await Invariants.CreateManyAsync(h, "during", n);
        foreach (var name in before.Concat(during))
        {
            var m = await h.WaitForAsync(name, x => OperatorHarness.IsStalled(x, "CredentialsNotFound"), "Stalled CredentialsNotFound");
            Assert.That(m.Status!.Conditions.First(c => c.Type == ConditionTypes.Stalled).Message, Does.Contain(h.OperatorNamespace + "/confluent-credentials"));
        }
        Assert.That(during.Select(d => h.Remote(d)), Is.All.Null, "nothing created without credentials");
        Assert.That(before.Select(b => h.Remote(b)!.Config["quickstart"]), Is.All.EqualTo("ORDERS"), "no update without credentials");
        // Stalled is not a hot loop: no write call while the credentials are missing.
        var from = h.State.Now;
        await Task.Delay(3000);
        Assert.That(h.State.Calls.Where(c => c.ReceivedAt >= from && Invariants.IsWrite(c)), Is.Empty);

        await h.CreateSecretAsync(h.OperatorNamespace, "confluent-credentials", new() { ["api-key"] = OperatorHarness.ApiKey, ["api-secret"] = OperatorHarness.ApiSecret });
        foreach (var name in before.Concat(during)) await h.WaitForAsync(name, x => OperatorHarness.IsReady(x), "Ready again");
        var live = await Invariants.AssertConvergedAsync(h);
        Assert.That(live.Count(m => OperatorHarness.IsReady(m)), Is.EqualTo(2 * n), "all recovered");
        Assert.That(before.Select(b => h.Remote(b)!.Config["quickstart"]), Is.All.EqualTo("USERS"), "updates made while stalled are applied");
        var (w, r) = await Invariants.AssertQuietAsync(h);
        Invariants.Report("S7", sw, h, $"n={2 * n} quiet(w={w},r={r})");
    }

    // ------------------------------------------------------------------------------------------------ 8. delete during outage

    [Test]
    public async Task S8_delete_while_confluent_is_down_keeps_finalizer_then_completes_without_orphans()
    {
        var sw = Stopwatch.StartNew();
        await using var h = await OperatorHarness.StartAsync("rel-outage");
        await h.StartOperatorAsync();
        var n = Sizes.OutageConnectors;
        var names = await Invariants.CreateManyAsync(h, "o", n);
        await Invariants.AssertConvergedAsync(h);
        var keep = names[0];   // one connector is not deleted: it must survive the outage untouched

        h.State.SetErrorRate(1.0, 503);
        foreach (var name in names.Skip(1)) await h.Api.DeleteAsync(OperatorHarness.ConnectorKind, h.Namespace, name);
        await Task.Delay(Sizes.OutagePeriod);
        foreach (var name in names.Skip(1))
        {
            var m = await h.GetAsync(name);
            Assert.That(m, Is.Not.Null, $"{name} must stay while Confluent is down");
            Assert.That(m!.Metadata.DeletionTimestamp, Is.Not.Null);
            Assert.That(m.Metadata.Finalizers, Does.Contain(ConnectApi.Finalizer), "finalizer kept");
            Assert.That(h.Remote(name), Is.Not.Null, "remote still there");
            Assert.That(m.Status!.Conditions.FirstOrDefault(c => c.Type == ConditionTypes.Reconciling)?.Message ?? "",
                Does.Contain("deleting connector").And.Contain("in Confluent Cloud failed: Confluent Cloud is failing (HTTP 503").And.Contain("retrying"));
        }
        var deletesDuringOutage = h.State.CountCalls("DELETE", null, 503);
        Assert.That(deletesDuringOutage, Is.GreaterThan(0));
        // Retries back off: per pass the client tries 1 + 4 times; passes follow the queue's 5 ms * 2^n backoff, so the
        // attempts per connector grow with log2(outage), not with its length (a hot loop would be ~30 per second).
        var bound = 5 * (Math.Log2(Sizes.OutagePeriod.TotalMilliseconds / 5) + 3);
        Assert.That((double)deletesDuringOutage / (n - 1), Is.LessThanOrEqualTo(bound), $"delete attempts per connector bounded by {bound:F0}");

        h.State.ClearFaults();
        await h.WaitUntilAsync(async () => (await Invariants.LiveAsync(h)).Count == 1, "deletes complete once Confluent is back", TimeSpan.FromSeconds(90));
        var live = await Invariants.AssertConvergedAsync(h);
        Assert.That(live.Select(m => m.Metadata.Name), Is.EqualTo(new[] { keep }));
        Assert.That(Invariants.RemoteNames(h), Is.EqualTo(new[] { h.RemoteName(keep) }), "no orphan, survivor intact");
        var (w, r) = await Invariants.AssertQuietAsync(h);
        Invariants.Report("S8", sw, h, $"n={n} DELETE503={deletesDuringOutage} perConnector={(double)deletesDuringOutage / (n - 1):F1} quiet(w={w},r={r})");
    }
}
