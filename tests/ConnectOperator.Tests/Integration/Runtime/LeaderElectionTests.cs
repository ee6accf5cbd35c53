using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Leadership;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Autorest;
using static ConnectOperator.Tests.Integration.Runtime.RuntimeTestSupport;

namespace ConnectOperator.Tests.Integration.Runtime;

[TestFixture]
public class LeaderElectionTests
{
    [Test]
    public async Task TwoCandidates_ExactlyOneLeads_AndStoppingItFailsOver()
    {
        var cluster = await TestCluster.GetAsync();
        var ns = await cluster.CreateNamespaceAsync("leader");
        try
        {
            LeaderElection Candidate(string id) => new(new KubeApiClient(cluster.Client), new LeaderElectionOptions
            {
                LeaseName = "op", LeaseNamespace = ns, Identity = id,
                LeaseDuration = TimeSpan.FromSeconds(3), RenewDeadline = TimeSpan.FromSeconds(2), RetryPeriod = TimeSpan.FromMilliseconds(300),
            });
            var a = Candidate("a"); var b = Candidate("b");
            var lost = new List<string>();
            a.LostLeadership += () => { lock (lost) lost.Add("a"); };
            b.LostLeadership += () => { lock (lost) lost.Add("b"); };
            using var ctsA = new CancellationTokenSource(); using var ctsB = new CancellationTokenSource();
            var ta = a.RunAsync(ctsA.Token); var tb = b.RunAsync(ctsB.Token);

            await EventuallyAsync(() => a.IsLeader || b.IsLeader, TimeSpan.FromSeconds(20), "a leader");
            await Task.Delay(1500);
            Assert.That(a.IsLeader ^ b.IsLeader, Is.True, "exactly one leader");
            var (leader, follower, leaderCts) = a.IsLeader ? (a, b, ctsA) : (b, a, ctsB);
            var lease = await cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("op", ns);
            Assert.That(lease.Spec.HolderIdentity, Is.EqualTo(leader.Identity));
            Assert.That(follower.WhenLeaderAsync().IsCompleted, Is.False);

            leaderCts.Cancel();
            await EventuallyAsync(() => follower.IsLeader, TimeSpan.FromSeconds(20), "failover");
            await follower.WhenLeaderAsync().WaitAsync(TimeSpan.FromSeconds(1));
            Assert.That(leader.IsLeader, Is.False);
            lock (lost) Assert.That(lost, Does.Contain(leader.Identity));
            lease = await cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("op", ns);
            Assert.That(lease.Spec.HolderIdentity, Is.EqualTo(follower.Identity));

            ctsA.Cancel(); ctsB.Cancel();
            await Task.WhenAll(ta, tb).WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            try { await cluster.Client.CoreV1.DeleteNamespaceAsync(ns); } catch (HttpOperationException) { }
        }
    }

    [Test]
    public async Task GracefulStop_ReleasesTheLease_OnARealApiServer_AndFailoverDoesNotWaitForExpiry()
    {
        // The API server drops an empty holderIdentity (omitempty): the follower must still read the Lease as free.
        var cluster = await TestCluster.GetAsync();
        var ns = await cluster.CreateNamespaceAsync("leader-release");
        try
        {
            LeaderElection Candidate(string id) => new(new KubeApiClient(cluster.Client), new LeaderElectionOptions
            {
                LeaseName = "op", LeaseNamespace = ns, Identity = id,
                LeaseDuration = TimeSpan.FromSeconds(20), RenewDeadline = TimeSpan.FromSeconds(10), RetryPeriod = TimeSpan.FromMilliseconds(300),
            });
            var a = Candidate("a");
            using var ctsA = new CancellationTokenSource(); using var ctsB = new CancellationTokenSource();
            var ta = a.RunAsync(ctsA.Token);
            await a.WhenLeaderAsync().WaitAsync(TimeSpan.FromSeconds(20));
            var b = Candidate("b");
            var tb = b.RunAsync(ctsB.Token);
            await Task.Delay(1000);
            Assert.That(b.IsLeader, Is.False);

            var sw = System.Diagnostics.Stopwatch.StartNew();
            ctsA.Cancel();
            await ta.WaitAsync(TimeSpan.FromSeconds(20));
            await b.WhenLeaderAsync().WaitAsync(TimeSpan.FromSeconds(15));
            Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "within retry periods, not the 20 s lease duration");
            var lease = await cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("op", ns);
            Assert.That(lease.Spec.HolderIdentity, Is.EqualTo("b"));
            Assert.That(lease.Spec.LeaseTransitions, Is.GreaterThanOrEqualTo(1));

            ctsB.Cancel();
            await tb.WaitAsync(TimeSpan.FromSeconds(20));
            lease = await cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("op", ns);
            Assert.That(lease.Spec.HolderIdentity, Is.Null.Or.Empty, "released on the way out");
        }
        finally
        {
            try { await cluster.Client.CoreV1.DeleteNamespaceAsync(ns); } catch (HttpOperationException) { }
        }
    }

    [Test]
    public async Task Disabled_LeadsImmediately()
    {
        var cluster = await TestCluster.GetAsync();
        var le = new LeaderElection(new KubeApiClient(cluster.Client), new LeaderElectionOptions { Enabled = false });
        using var cts = new CancellationTokenSource();
        var t = le.RunAsync(cts.Token);
        await le.WhenLeaderAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(le.IsLeader);
        cts.Cancel();
        await t.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(le.IsLeader, Is.False);
    }
}
