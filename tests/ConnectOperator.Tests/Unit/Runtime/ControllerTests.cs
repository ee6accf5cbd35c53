using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Runtime.Rate;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Runtime;

public class ControllerTests
{
    private sealed class NoopListerWatcher : IListerWatcher<V1ConfigMap>
    {
        public Task<ListResult<V1ConfigMap>> ListAsync(CancellationToken ct) => Task.FromResult(new ListResult<V1ConfigMap>([], "1"));

        public async IAsyncEnumerable<WatchEvent<V1ConfigMap>> WatchAsync(string rv, int timeoutSeconds, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        {
            await Task.Delay(Timeout.Infinite, ct);
            yield break;
        }
    }

    private sealed class ScriptedReconciler(Func<ReconcileRequest, ReconcileResult> f) : IReconciler<V1ConfigMap>
    {
        public Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct) => Task.FromResult(f(request));
    }

    [Test]
    public async Task ResultContract_ErrorBacksOff_RequeueAfterForgetsAndDelays_SuccessForgets()
    {
        var time = new ManualTimeProvider();
        var mode = "error";
        var reconciler = new ScriptedReconciler(_ => mode switch
        {
            "error" => throw new InvalidOperationException("boom"),
            "after" => ReconcileResult.After(TimeSpan.FromMinutes(1)),
            "requeue" => ReconcileResult.RequeueRateLimited(),
            _ => ReconcileResult.Done,
        });
        var c = new Controller<V1ConfigMap>("t", new Informer<V1ConfigMap>(new NoopListerWatcher()), reconciler,
            new ControllerOptions { TimeProvider = time, RateLimiterFactory = () => new ItemExponentialFailureRateLimiter<ReconcileRequest>(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)) });
        var q = c.Queue;
        var req = new ReconcileRequest("ns", "a");

        await c.ProcessAsync(q, req, CancellationToken.None);
        await c.ProcessAsync(q, req, CancellationToken.None);
        Assert.That(q.NumRequeues(req), Is.EqualTo(2), "errors are retried with backoff");
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(q.Depth, Is.EqualTo(1), "first retry due after 1 s (base delay)");

        mode = "requeue";
        await c.ProcessAsync(q, req, CancellationToken.None);
        Assert.That(q.NumRequeues(req), Is.EqualTo(3));

        mode = "after";
        await c.ProcessAsync(q, req, CancellationToken.None);
        Assert.That(q.NumRequeues(req), Is.Zero, "RequeueAfter resets backoff");
        Assert.That(q.DelayedCount, Is.Zero.Or.EqualTo(1));

        mode = "ok";
        await c.ProcessAsync(q, req, CancellationToken.None);
        Assert.That(q.NumRequeues(req), Is.Zero);
    }

    [Test]
    public async Task RequeueAfter_FiresAfterTheDelay()
    {
        var time = new ManualTimeProvider();
        var c = new Controller<V1ConfigMap>("t2", new Informer<V1ConfigMap>(new NoopListerWatcher()),
            new ScriptedReconciler(_ => ReconcileResult.After(TimeSpan.FromMinutes(5))), new ControllerOptions { TimeProvider = time });
        var q = c.Queue;
        var req = new ReconcileRequest(null, "x");
        await c.ProcessAsync(q, req, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        Assert.That(q.Depth, Is.Zero);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(q.Depth, Is.EqualTo(1));
    }

    [Test]
    public async Task Queue_IsFairAcrossNamespacesByDefault()
    {
        Assert.That(new ControllerOptions().FairnessKey, Is.Not.Null);
        var c = new Controller<V1ConfigMap>("t3", new Informer<V1ConfigMap>(new NoopListerWatcher()),
            new ScriptedReconciler(_ => ReconcileResult.Done), new ControllerOptions { TimeProvider = new ManualTimeProvider() });
        for (var i = 0; i < 100; i++) c.Enqueue(new ReconcileRequest("busy", $"c{i}"));
        c.Enqueue(new ReconcileRequest("quiet", "c0"));
        c.Enqueue(new ReconcileRequest(null, "cluster-scoped"));
        var first = new List<ReconcileRequest>();
        for (var i = 0; i < 3; i++) { var (_, r) = await c.Queue.GetAsync(); first.Add(r); }
        Assert.That(first, Is.EqualTo(new[] { new ReconcileRequest("busy", "c0"), new ReconcileRequest("quiet", "c0"), new ReconcileRequest(null, "cluster-scoped") }));
    }
}
