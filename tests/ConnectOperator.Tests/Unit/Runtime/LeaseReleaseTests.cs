using System.Diagnostics;
using System.Net;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Runtime.Leadership;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Runtime;

/// <summary>
/// Releasing the leader Lease on graceful shutdown (client-go's ReleaseOnCancel), with KubernetesClient's real elector over
/// an in-memory Lease that behaves as the API server does: optimistic concurrency, 404 before creation, and an empty
/// holder dropped on write (omitempty).
/// </summary>
public class LeaseReleaseTests
{
    private sealed class MemoryLease
    {
        public readonly object Gate = new();
        public V1LeaseSpec? Spec;
        public int Version;
        public int Writes;
        public readonly System.Collections.Concurrent.ConcurrentQueue<string> Log = new();
    }

    private sealed class MemoryLock(MemoryLease store, string identity) : ILock
    {
        private int _seen = -1;

        public string Identity => identity;

        public string Describe() => "memory/lease";

        public Task<LeaderElectionRecord> GetAsync(CancellationToken cancellationToken = default)
        {
            lock (store.Gate)
            {
                if (store.Spec == null)
                    throw new HttpOperationException("not found") { Response = new HttpResponseMessageWrapper(new HttpResponseMessage(HttpStatusCode.NotFound), "") };
                _seen = store.Version;
                return Task.FromResult(KubeLeaseLock.ToRecord(store.Spec));
            }
        }

        public Task<bool> CreateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default)
        {
            lock (store.Gate)
            {
                if (store.Spec != null) return Task.FromResult(false);
                Write(record);
                return Task.FromResult(true);
            }
        }

        public Task<bool> UpdateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default)
        {
            lock (store.Gate)
            {
                if (store.Spec == null || store.Version != _seen) return Task.FromResult(false);
                Write(record);
                return Task.FromResult(true);
            }
        }

        private void Write(LeaderElectionRecord record)
        {
            var spec = KubeLeaseLock.ToSpec(record);
            if (spec.HolderIdentity == "") spec.HolderIdentity = null;   // the server does not keep an empty string
            store.Spec = spec;
            _seen = ++store.Version;
            store.Writes++;
            store.Log.Enqueue("lease:" + (spec.HolderIdentity ?? "released"));
        }
    }

    private static LeaderElection Candidate(MemoryLease store, string id, bool release) => LeaderElection.ForLock(() => new MemoryLock(store, id),
        new LeaderElectionOptions
        {
            Identity = id, LeaseDuration = TimeSpan.FromSeconds(15), RenewDeadline = TimeSpan.FromSeconds(10),
            RetryPeriod = TimeSpan.FromMilliseconds(100), ReleaseOnCancel = release,
        });

    private static async Task Until(Func<bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!condition() && sw.Elapsed < timeout) await Task.Delay(20);
    }

    [Test]
    public async Task GracefulStop_ReleasesTheLease_AndTheNextCandidateLeadsWithinRetryPeriods()
    {
        var store = new MemoryLease();
        var a = Candidate(store, "a", release: true);
        using var stopA = new CancellationTokenSource();
        var runA = a.RunAsync(stopA.Token);
        await a.WhenLeaderAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var b = Candidate(store, "b", release: true);
        using var stopB = new CancellationTokenSource();
        var runB = b.RunAsync(stopB.Token);
        await Task.Delay(500);
        Assert.That(b.IsLeader, Is.False, "a holds an unexpired Lease");

        var sw = Stopwatch.StartNew();
        await stopA.CancelAsync();
        await runA.WaitAsync(TimeSpan.FromSeconds(10));
        lock (store.Gate)
        {
            Assert.That(store.Spec!.HolderIdentity, Is.Null.Or.Empty, "released: no holder");
            Assert.That(store.Spec.LeaseDurationSeconds, Is.EqualTo(1));
        }
        await b.WhenLeaderAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "not the 15 s lease duration");
        lock (store.Gate) Assert.That(store.Spec!.HolderIdentity, Is.EqualTo("b"));

        await stopB.CancelAsync();
        await runB.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task WithoutRelease_TheLeaseStaysHeldUntilItExpires()
    {
        var store = new MemoryLease();
        var a = Candidate(store, "a", release: false);
        using var stopA = new CancellationTokenSource();
        var runA = a.RunAsync(stopA.Token);
        await a.WhenLeaderAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await stopA.CancelAsync();
        await runA.WaitAsync(TimeSpan.FromSeconds(10));
        lock (store.Gate) Assert.That(store.Spec!.HolderIdentity, Is.EqualTo("a"));
    }

    [Test]
    public async Task Release_NeverTakesTheLeaseFromAnotherHolder()
    {
        var store = new MemoryLease();
        var a = Candidate(store, "a", release: true);
        using var stopA = new CancellationTokenSource();
        var runA = a.RunAsync(stopA.Token);
        await a.WhenLeaderAsync().WaitAsync(TimeSpan.FromSeconds(10));
        // Another replica took the Lease over (as after a's renewals had stalled) just before a is stopped.
        lock (store.Gate) { store.Spec = KubeLeaseLock.ToSpec(new LeaderElectionRecord { HolderIdentity = "z", AcquireTime = DateTime.UtcNow, RenewTime = DateTime.UtcNow, LeaseDurationSeconds = 15 }); store.Version++; }
        await stopA.CancelAsync();
        await runA.WaitAsync(TimeSpan.FromSeconds(10));
        lock (store.Gate) Assert.That(store.Spec!.HolderIdentity, Is.EqualTo("z"));
    }

    private sealed class SlowToStop(MemoryLease store) : IReconciler<V1ConfigMap>
    {
        public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct)
        {
            store.Log.Enqueue("reconcile:start");
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException)
            {
                await Task.Delay(300, CancellationToken.None);   // finishing a remote call after the stop signal
                store.Log.Enqueue("reconcile:end");
                throw;
            }
            return ReconcileResult.Done;
        }
    }

    [Test]
    public async Task OperatorRuntime_ReleasesOnlyAfterItsControllersHaveStopped()
    {
        var store = new MemoryLease();
        var election = Candidate(store, "a", release: true);
        var lw = new ScriptedListerWatcher { OnList = _ => ScriptedListerWatcher.ListOf("1", ScriptedListerWatcher.Cm("x", "1")) };
        var controller = new Controller<V1ConfigMap>("cm", new Informer<V1ConfigMap>(lw), new SlowToStop(store));
        using var host = new OperatorRuntime(election, [], [controller]);
        await host.StartAsync(CancellationToken.None);
        await Until(() => store.Log.Contains("reconcile:start"), TimeSpan.FromSeconds(10));
        await host.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        var log = store.Log.Where(e => e is "reconcile:end" or "lease:released").ToList();
        Assert.That(log, Is.EqualTo(new[] { "reconcile:end", "lease:released" }));
    }

    [Test]
    public void AnExistingLeaseWithoutHolder_IsFreeForTheElector()
        => Assert.That(KubeLeaseLock.ToRecord(new V1LeaseSpec { LeaseDurationSeconds = 1 }).HolderIdentity, Is.EqualTo(""));
}
