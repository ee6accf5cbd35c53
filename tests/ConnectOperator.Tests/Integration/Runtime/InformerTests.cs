using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Autorest;
using k8s.Models;
using static ConnectOperator.Tests.Integration.Runtime.RuntimeTestSupport;

namespace ConnectOperator.Tests.Integration.Runtime;

[TestFixture]
public class InformerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private TestCluster _cluster = null!;
    private KubeApiClient _api = null!;
    private string _ns = null!;

    [SetUp]
    public async Task SetUp()
    {
        _cluster = await TestCluster.GetAsync();
        _api = new KubeApiClient(_cluster.Client);
        _ns = await _cluster.CreateNamespaceAsync("informer");
    }

    [TearDown]
    public async Task TearDown()
    {
        try { await _cluster.Client.CoreV1.DeleteNamespaceAsync(_ns); } catch (HttpOperationException) { }
    }

    private Task<V1ConfigMap> CreateCm(string name, string value = "1") => _cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(
        new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name }, Data = new Dictionary<string, string> { ["v"] = value } }, _ns);

    private Task<V1ConfigMap> UpdateCm(string name, string value) => _cluster.Client.CoreV1.PatchNamespacedConfigMapAsync(
        new V1Patch("{\"data\":{\"v\":\"" + value + "\"}}", V1Patch.PatchType.MergePatch), name, _ns);

    private Task DeleteCm(string name) => _cluster.Client.CoreV1.DeleteNamespacedConfigMapAsync(name, _ns);

    /// <summary>Records deltas as "add:name", "update:name:v", "delete:name".</summary>
    private static ConcurrentQueue<string> Record(Informer<V1ConfigMap> inf)
    {
        var log = new ConcurrentQueue<string>();
        inf.AddEventHandler(
            onAdd: o => log.Enqueue($"add:{o.Metadata.Name}"),
            onUpdate: (o, n) => log.Enqueue($"update:{n.Metadata.Name}:{n.Data?["v"]}"),
            onDelete: o => log.Enqueue($"delete:{o.Metadata.Name}"));
        return log;
    }

    [Test]
    public async Task ListThenWatch_SeesAddUpdateDelete_AndCacheFollows()
    {
        await CreateCm("pre");
        var inf = new Informer<V1ConfigMap>(_api, ResourceKind.ConfigMap, new InformerOptions { ResyncPeriod = TimeSpan.Zero }, ns: _ns);
        var log = Record(inf);
        using var cts = new CancellationTokenSource();
        var run = inf.RunAsync(cts.Token);
        await inf.WaitForSyncAsync(new CancellationTokenSource(Wait).Token);
        Assert.That(inf.HasSynced);
        Assert.That(inf.Store.Get(_ns, "pre"), Is.Not.Null);
        Assert.That(inf.Store.Get(_ns, "pre")!.Kind, Is.EqualTo("ConfigMap"), "type meta filled in for list items");

        await CreateCm("b");
        await UpdateCm("pre", "2");
        await DeleteCm("b");
        await EventuallyAsync(() => log.Contains("delete:b"), Wait, "delete seen");
        Assert.That(log, Is.EqualTo(new[] { "add:pre", "add:b", "update:pre:2", "delete:b" }));
        Assert.That(inf.Store.ListKeys(), Is.EqualTo(new[] { $"{_ns}/pre" }));
        Assert.That(inf.Store.Get(_ns, "pre")!.Data["v"], Is.EqualTo("2"));
        cts.Cancel();
        await run.WaitAsync(Wait);
    }

    [Test]
    public async Task ServerClosedWatch_ReconnectsFromLastResourceVersion_WithoutRelist()
    {
        var inf = new Informer<V1ConfigMap>(_api, ResourceKind.ConfigMap,
            new InformerOptions { ResyncPeriod = TimeSpan.Zero, WatchTimeoutSeconds = 1, MinBackoff = TimeSpan.FromMilliseconds(50) }, ns: _ns);
        var log = Record(inf);
        using var cts = new CancellationTokenSource();
        var run = inf.RunAsync(cts.Token);
        await inf.WaitForSyncAsync(new CancellationTokenSource(Wait).Token);
        for (var i = 0; i < 4; i++)
        {
            await CreateCm("c" + i);
            await Task.Delay(700);   // the server ends each watch after 1 s: changes straddle reconnects
        }
        await DeleteCm("c0");
        await EventuallyAsync(() => log.Contains("delete:c0"), Wait, "delete seen");
        Assert.That(log, Is.EqualTo(new[] { "add:c0", "add:c1", "add:c2", "add:c3", "delete:c0" }));
        Assert.That(inf.ListCount, Is.EqualTo(1), "reconnects resume from the resourceVersion; no relist");
        cts.Cancel();
        await run.WaitAsync(Wait);
    }

    /// <summary>Wraps the real lister-watcher: the test can break the open watch, hold reconnects, and inject a 410.</summary>
    private sealed class FaultyListerWatcher(IListerWatcher<V1ConfigMap> inner) : IListerWatcher<V1ConfigMap>
    {
        private CancellationTokenSource _current = new();
        public volatile TaskCompletionSource Gate = Completed();
        public volatile string? Inject;   // "event410" | "http410"
        public int Watches;

        private static TaskCompletionSource Completed() { var t = new TaskCompletionSource(); t.SetResult(); return t; }

        public Task<ListResult<V1ConfigMap>> ListAsync(CancellationToken ct) => inner.ListAsync(ct);

        /// <summary>Kills the open watch stream (as a dropped connection would) and holds reconnects until <see cref="Release"/>.</summary>
        public void BreakAndHold()
        {
            Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _current.Cancel();
        }

        public void Release() => Gate.TrySetResult();

        public async IAsyncEnumerable<WatchEvent<V1ConfigMap>> WatchAsync(string rv, int timeoutSeconds, [EnumeratorCancellation] CancellationToken ct)
        {
            await Gate.Task.WaitAsync(ct);
            var inject = Inject;
            Inject = null;
            if (inject != null) Interlocked.Increment(ref Watches);
            if (inject == "http410")
            {
                throw new HttpOperationException("gone")
                {
                    Response = new HttpResponseMessageWrapper(new HttpResponseMessage(HttpStatusCode.Gone), "{\"code\":410}"),
                };
            }
            if (inject == "event410")
            {
                yield return new WatchEvent<V1ConfigMap>(WatchEventType.Error, null, new V1Status { Code = 410, Reason = "Expired", Message = "too old resource version" });
                yield break;
            }
            _current = new CancellationTokenSource();
            Interlocked.Increment(ref Watches);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _current.Token);
            await foreach (var e in inner.WatchAsync(rv, timeoutSeconds, linked.Token)) yield return e;
        }
    }

    private (Informer<V1ConfigMap>, FaultyListerWatcher, ConcurrentQueue<string>) FaultyInformer()
    {
        var lw = new FaultyListerWatcher(new KubeListerWatcher<V1ConfigMap>(_api, ResourceKind.ConfigMap, _ns));
        var inf = new Informer<V1ConfigMap>(lw, new InformerOptions { ResyncPeriod = TimeSpan.Zero, MinBackoff = TimeSpan.FromMilliseconds(50) });
        return (inf, lw, Record(inf));
    }

    [Test]
    public async Task BrokenWatch_RecoversWithNoMissedChange()
    {
        await CreateCm("a"); await CreateCm("b");
        var (inf, lw, log) = FaultyInformer();
        using var cts = new CancellationTokenSource();
        var run = inf.RunAsync(cts.Token);
        await inf.WaitForSyncAsync(new CancellationTokenSource(Wait).Token);
        await EventuallyAsync(() => Volatile.Read(ref lw.Watches) == 1, Wait, "watch open");

        lw.BreakAndHold();
        await UpdateCm("a", "2");   // all made while no watch is open
        await DeleteCm("b");
        await CreateCm("c");
        lw.Release();

        await EventuallyAsync(() => log.Count >= 5, Wait, "changes after reconnect");
        await Task.Delay(300);
        Assert.That(log, Is.EqualTo(new[] { "add:a", "add:b", "update:a:2", "delete:b", "add:c" }));
        Assert.That(inf.ListCount, Is.EqualTo(1), "recovered by re-watching from the last resourceVersion");
        Assert.That(inf.Store.ListKeys(), Is.EquivalentTo(new[] { $"{_ns}/a", $"{_ns}/c" }));
        cts.Cancel();
        await run.WaitAsync(Wait);
    }

    [TestCase("event410")]
    [TestCase("http410")]
    public async Task Gone_RelistsAndEmitsDeltasAgainstTheCache(string how)
    {
        await CreateCm("keep"); await CreateCm("change"); await CreateCm("remove");
        var (inf, lw, log) = FaultyInformer();
        using var cts = new CancellationTokenSource();
        var run = inf.RunAsync(cts.Token);
        await inf.WaitForSyncAsync(new CancellationTokenSource(Wait).Token);
        await EventuallyAsync(() => Volatile.Read(ref lw.Watches) == 1, Wait, "watch open");
        while (log.TryDequeue(out _)) { }

        lw.BreakAndHold();
        await UpdateCm("change", "2");
        await DeleteCm("remove");
        await CreateCm("new");
        lw.Inject = how;   // the next watch says: your resourceVersion is gone
        lw.Release();

        await EventuallyAsync(() => inf.ListCount == 2 && log.Count >= 3, Wait, "relist deltas");
        await Task.Delay(300);
        Assert.That(log, Is.EquivalentTo(new[] { "update:change:2", "delete:remove", "add:new" }), "no event for the unchanged object, no missed delete");
        Assert.That(inf.Store.ListKeys(), Is.EquivalentTo(new[] { $"{_ns}/keep", $"{_ns}/change", $"{_ns}/new" }));

        await UpdateCm("keep", "3");   // and watching resumes after the relist
        await EventuallyAsync(() => log.Contains("update:keep:3"), Wait, "watch after relist");
        cts.Cancel();
        await run.WaitAsync(Wait);
    }

    [Test]
    public async Task Resync_RedeliversCachedObjectsAsUpdates()
    {
        await CreateCm("r1");
        var inf = new Informer<V1ConfigMap>(_api, ResourceKind.ConfigMap, new InformerOptions { ResyncPeriod = TimeSpan.FromMilliseconds(300) }, ns: _ns);
        var log = Record(inf);
        using var cts = new CancellationTokenSource();
        var run = inf.RunAsync(cts.Token);
        await EventuallyAsync(() => log.Count(e => e == "update:r1:1") >= 2, Wait, "two resyncs");
        cts.Cancel();
        await run.WaitAsync(Wait);
    }
}
