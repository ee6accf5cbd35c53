using System.Collections.Concurrent;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Runtime.Leadership;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Runtime;

public class OperatorRuntimeTests
{
    private sealed class StaticListerWatcher(params string[] names) : IListerWatcher<V1ConfigMap>
    {
        public Task<ListResult<V1ConfigMap>> ListAsync(CancellationToken ct) => Task.FromResult(new ListResult<V1ConfigMap>(
            names.Select(n => new V1ConfigMap { Metadata = new V1ObjectMeta { NamespaceProperty = "ns", Name = n, ResourceVersion = "1" } }).ToList(), "1"));

        public async IAsyncEnumerable<WatchEvent<V1ConfigMap>> WatchAsync(string rv, int timeoutSeconds, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        {
            await Task.Delay(Timeout.Infinite, ct);
            yield break;
        }
    }

    private sealed class Recorder : IReconciler<V1ConfigMap>
    {
        public readonly ConcurrentQueue<string> Calls = new();

        public Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct)
        {
            Calls.Enqueue(request.ToString());
            return Task.FromResult(ReconcileResult.Done);
        }
    }

    [Test]
    public async Task WithoutLeaderElection_RunsInformersAndControllers_AndStopsCleanly()
    {
        var informer = new Informer<V1ConfigMap>(new StaticListerWatcher("a", "b"));
        var rec = new Recorder();
        var controller = new Controller<V1ConfigMap>("cm", informer, rec);
        var election = new LeaderElection(null!, new LeaderElectionOptions { Enabled = false });
        using var host = new OperatorRuntime(election, [], [controller]);
        await host.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (rec.Calls.Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.That(rec.Calls, Is.EquivalentTo(new[] { "ns/a", "ns/b" }), "each cached object reconciled once (events and leadership seed are deduplicated)");
        Assert.That(informer.HasSynced);
        await host.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(election.IsLeader, Is.False);
    }
}
