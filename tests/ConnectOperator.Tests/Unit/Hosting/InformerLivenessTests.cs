using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ConnectOperator.Hosting;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Tests.Unit.Runtime;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Hosting;

/// <summary>A real informer's progress, as /healthz judges it: a silent watch makes it wedged; an event or bookmark is progress.</summary>
public sealed class InformerLivenessTests
{
    private sealed class SilentWatch : IListerWatcher<V1ConfigMap>
    {
        public Channel<WatchEvent<V1ConfigMap>> Events { get; } = Channel.CreateUnbounded<WatchEvent<V1ConfigMap>>();

        public Task<ListResult<V1ConfigMap>> ListAsync(CancellationToken ct) => Task.FromResult(new ListResult<V1ConfigMap>([], "1"));

        public async IAsyncEnumerable<WatchEvent<V1ConfigMap>> WatchAsync(string resourceVersion, int timeoutSeconds, [EnumeratorCancellation] CancellationToken ct)
        {
            await foreach (var e in Events.Reader.ReadAllAsync(ct)) yield return e;
        }
    }

    [Test]
    public async Task A_watch_silent_for_longer_than_its_limit_is_reported_and_a_bookmark_clears_it()
    {
        var time = new ManualTimeProvider();
        var lw = new SilentWatch();
        var informer = new Informer<V1ConfigMap>(lw, new InformerOptions { TimeProvider = time, ResyncPeriod = TimeSpan.Zero, WatchTimeoutSeconds = 60 }, name: "configmaps");
        string? Problem() => Liveness.Problem([informer], [], new LivenessOptions());

        Assert.That(informer.SinceProgress, Is.Null, "not started: not judged");
        using var cts = new CancellationTokenSource();
        var run = informer.RunAsync(cts.Token);
        await informer.WaitForSyncAsync(CancellationToken.None);
        Assert.That(informer.MaxWatchSilence, Is.EqualTo(TimeSpan.FromSeconds(90)));

        time.Advance(TimeSpan.FromSeconds(269));
        Assert.That(Problem(), Is.Null, "within 3 × 90 s");
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(Problem(), Does.Contain("informer configmaps: no list or watch progress for 271 s (limit 270 s)"));

        await lw.Events.Writer.WriteAsync(new WatchEvent<V1ConfigMap>(WatchEventType.Bookmark,
            new V1ConfigMap { Metadata = new V1ObjectMeta { ResourceVersion = "2" } }, null));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Problem() != null && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.That(Problem(), Is.Null, "a bookmark is progress");

        cts.Cancel();
        await run;
    }
}
