using ConnectOperator.Entities;
using ConnectOperator.Runtime.Leadership;
using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests.Integration.Operator;

/// <summary>What must hold when things go wrong: quota races, leader failover, a process killed mid-create.</summary>
[NonParallelizable]
public class OperatorResilienceTests
{
    [Test]
    public async Task Quota_is_enforced_at_reconcile_time_oldest_first_and_freed_quota_is_used()
    {
        await using var h = await OperatorHarness.StartAsync("quota", quota: new V1Alpha1QuotaAmounts { Connectors = 2 });
        // Created before the operator runs (as if the webhook had been bypassed): the reconciler alone must hold the line.
        foreach (var n in new[] { "q1", "q2", "q3", "q4" })
        {
            await h.CreateAsync(h.Datagen(n));
            await Task.Delay(1100);   // creationTimestamp has one-second resolution: make the order unambiguous
        }
        await h.StartOperatorAsync();
        await h.WaitForAsync("q1", m => OperatorHarness.IsReady(m), "Ready");
        await h.WaitForAsync("q2", m => OperatorHarness.IsReady(m), "Ready");
        var q3 = await h.WaitForAsync("q3", m => OperatorHarness.IsStalled(m, "QuotaExceeded"), "Stalled QuotaExceeded");
        await h.WaitForAsync("q4", m => OperatorHarness.IsStalled(m, "QuotaExceeded"), "Stalled QuotaExceeded");
        Assert.That(q3.Status!.Conditions.First(c => c.Type == "Stalled").Message,
            Does.StartWith($"exceeded quota {h.Department}-quota: requested connectors=1, used connectors=2, limited connectors=2"));
        Assert.That(h.State.Connectors.Count(c => c.Name.StartsWith(h.Prefix + ".")), Is.EqualTo(2));
        Assert.That((await h.EventsAsync("q3")).Select(e => e.Reason), Does.Contain("QuotaExceeded"));

        var quota = await h.Api.GetAsync<V1Alpha1ConnectorQuota>(ConnectOperator.Runtime.ResourceKind.For<V1Alpha1ConnectorQuota>(false), null, h.Department + "-quota");
        await h.WaitUntilAsync(async () =>
        {
            quota = await h.Api.GetAsync<V1Alpha1ConnectorQuota>(ConnectOperator.Runtime.ResourceKind.For<V1Alpha1ConnectorQuota>(false), null, h.Department + "-quota");
            return quota.Status?.Used?.Connectors == 4 && quota.Status.Hard?.Connectors == 2;
        }, "quota status used=4 hard=2 (four objects exist, two are running)");

        // Deleting one running connector frees a slot: the oldest held-back connector takes it, the other stays held.
        await h.Api.DeleteAsync(OperatorHarness.ConnectorKind, h.Namespace, "q1");
        await h.WaitForAsync("q3", m => OperatorHarness.IsReady(m), "Ready once quota freed");
        await Task.Delay(2000);
        Assert.That(OperatorHarness.IsStalled((await h.GetAsync("q4"))!, "QuotaExceeded"), Is.True);
        Assert.That(h.State.Connectors.Count(c => c.Name.StartsWith(h.Prefix + ".")), Is.EqualTo(2));
    }

    [Test]
    public async Task Leader_failover_hands_over_without_duplicating_anything()
    {
        await using var h = await OperatorHarness.StartAsync("failover");
        var a = await h.StartOperatorAsync("op-a");
        var b = await h.StartOperatorAsync("op-b");
        await h.WaitUntilAsync(() => Task.FromResult(a.Service<LeaderElection>().IsLeader || b.Service<LeaderElection>().IsLeader), "a leader");
        var (leader, follower) = a.Service<LeaderElection>().IsLeader ? (a, b) : (b, a);
        Assert.That(follower.Service<LeaderElection>().IsLeader, Is.False, "exactly one leader");

        await h.CreateAsync(h.Datagen("before"));
        await h.WaitForAsync("before", m => OperatorHarness.IsReady(m), "Ready under the first leader");
        await OperatorHarness.StopOperatorAsync(leader);

        await h.CreateAsync(h.Datagen("after"));
        await h.WaitUntilAsync(() => Task.FromResult(follower.Service<LeaderElection>().IsLeader), "follower takes over", TimeSpan.FromSeconds(30));
        await h.WaitForAsync("after", m => OperatorHarness.IsReady(m), "Ready under the new leader");
        await h.PatchAsync("before", "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"}}}");
        await h.WaitForAsync("before", m => OperatorHarness.IsReady(m) && m.Metadata.Generation == 2, "update handled by the new leader");

        Assert.That(h.State.Connectors.Where(c => c.Name.StartsWith(h.Prefix + ".")).Select(c => c.Name),
            Is.EquivalentTo(new[] { h.RemoteName("before"), h.RemoteName("after") }));
        Assert.That(h.State.CountCalls("POST", "connectors"), Is.EqualTo(2), "each connector created exactly once");
    }

    [Test]
    public async Task An_operator_killed_mid_create_leaves_exactly_one_remote_connector_after_restart()
    {
        await using var h = await OperatorHarness.StartAsync("kill");
        var first = await h.StartOperatorAsync();
        await h.WaitUntilAsync(() => Task.FromResult(first.Service<LeaderElection>().IsLeader), "leader");
        // Slow creates down so the process dies while the create is in flight.
        h.State.SetLatency(new ConnectOperator.Emulator.LatencyFault { Milliseconds = 1500, Route = "connectors" });
        await h.CreateAsync(h.Datagen("inflight"));
        await h.WaitUntilAsync(() => Task.FromResult(h.State.Calls.Any(c => c.Method == "POST")), "create in flight");
        await OperatorHarness.StopOperatorAsync(first);
        h.State.SetLatency(null);

        await h.StartOperatorAsync();
        await h.WaitForAsync("inflight", m => OperatorHarness.IsReady(m), "Ready after restart", TimeSpan.FromSeconds(60));
        Assert.That(h.State.Connectors.Count(c => c.Name == h.RemoteName("inflight")), Is.EqualTo(1));
        Assert.That(h.State.Connectors.Count(c => c.Name.StartsWith(h.Prefix + ".")), Is.EqualTo(1));
    }
}
