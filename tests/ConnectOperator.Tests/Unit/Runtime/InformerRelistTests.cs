using System.Collections.Concurrent;
using System.Net;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using k8s;
using k8s.Autorest;
using k8s.Models;
using static ConnectOperator.Tests.Integration.Runtime.RuntimeTestSupport;
using static ConnectOperator.Tests.Unit.Runtime.ScriptedListerWatcher;

namespace ConnectOperator.Tests.Unit.Runtime;

/// <summary>
/// Which list the informer makes and when it relists, against client-go's reflector: the first list from the watch cache
/// (resourceVersion=0) with a quorum fallback; a relist, as a quorum read, on 410 and on "too large resource version"
/// (HTTP 504 or a watch ERROR event); any other watch failure re-watches from the last resourceVersion without a list.
/// </summary>
public class InformerRelistTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    // The apiserver's answer (storage.NewTooLargeResourceVersionError), as an HTTP body and as a watch ERROR object.
    private const string TooLargeJson = """
        {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Timeout: Too large resource version: 30, current: 20",
         "reason":"Timeout","details":{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1},"code":504}
        """;

    private static V1Status TooLargeStatus() => KubeJson.Deserialize<V1Status>(TooLargeJson);

    private static (Informer<V1ConfigMap>, ScriptedListerWatcher, ConcurrentQueue<string>) New(bool fromWatchCache = true)
    {
        var lw = new ScriptedListerWatcher();
        var inf = new Informer<V1ConfigMap>(lw, new InformerOptions
        {
            ResyncPeriod = TimeSpan.Zero, MinBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(50),
            InitialListFromWatchCache = fromWatchCache,
        });
        var log = new ConcurrentQueue<string>();
        inf.AddEventHandler(
            onAdd: o => log.Enqueue($"add:{o.Metadata.Name}"),
            onUpdate: (o, n) => log.Enqueue($"update:{n.Metadata.Name}:{n.Metadata.ResourceVersion}"),
            onDelete: o => log.Enqueue($"delete:{o.Metadata.Name}"));
        return (inf, lw, log);
    }

    private static async Task RunUntil(Informer<V1ConfigMap> inf, Func<bool> done, string what)
    {
        using var cts = new CancellationTokenSource();
        var run = inf.RunAsync(cts.Token);
        try { await EventuallyAsync(done, Wait, what); }
        finally
        {
            cts.Cancel();
            await run.WaitAsync(Wait);
        }
    }

    [Test]
    public async Task InitialList_IsServedFromTheWatchCache_AndTheWatchStartsAtItsResourceVersion()
    {
        var (inf, lw, log) = New();
        lw.OnList = _ => ListOf("10", Cm("a", "5"));
        await RunUntil(inf, () => !lw.Watches.IsEmpty, "watch opened");
        Assert.That(lw.Lists, Is.EqualTo(new[] { "0" }));
        Assert.That(lw.Watches.First(), Is.EqualTo("10"));
        Assert.That(log, Is.EqualTo(new[] { "add:a" }));
    }

    [Test]
    public async Task InitialList_FallsBackToAQuorumList_WhenTheWatchCacheListFails()
    {
        var (inf, lw, _) = New();
        lw.OnList = rv => rv == "0" ? throw new HttpOperationException("boom")
        {
            Response = new HttpResponseMessageWrapper(new HttpResponseMessage(HttpStatusCode.InternalServerError), "{}"),
        } : ListOf("11", Cm("a", "5"));
        await RunUntil(inf, () => !lw.Watches.IsEmpty, "watch opened");
        Assert.That(lw.Lists, Is.EqualTo(new[] { "0", "" }), "one fallback, at once, no backoff round");
        Assert.That(inf.HasSynced);
        Assert.That(lw.Watches.First(), Is.EqualTo("11"));
    }

    [Test]
    public async Task InitialList_IsAQuorumList_WhenTheWatchCacheIsNotWanted()
    {
        var (inf, lw, _) = New(fromWatchCache: false);
        await RunUntil(inf, () => !lw.Watches.IsEmpty, "watch opened");
        Assert.That(lw.Lists, Is.EqualTo(new[] { "" }));
    }

    private static async Task AssertRelistsAsQuorumRead(Informer<V1ConfigMap> inf, ScriptedListerWatcher lw, ConcurrentQueue<string> log)
    {
        // Cache: a@5, b@6. After the relist: a unchanged, b gone, c new; the next watch starts from the relist's resourceVersion.
        await RunUntil(inf, () => inf.ListCount == 2 && lw.Watches.Count >= 2, "relist and re-watch");
        Assert.That(lw.Lists, Is.EqualTo(new[] { "0", "" }), "the relist is a quorum read, not the watch cache that just failed");
        Assert.That(log, Is.EqualTo(new[] { "add:a", "add:b", "add:c", "delete:b" }), "deltas against the cache; nothing for unchanged a");
        Assert.That(lw.Watches.ToArray()[1], Is.EqualTo("20"));
        Assert.That(inf.Store.ListKeys(), Is.EquivalentTo(new[] { "ns/a", "ns/c" }));
    }

    private static ScriptedListerWatcher Lists(ScriptedListerWatcher lw)
    {
        lw.OnList = rv => rv == "0" ? ListOf("10", Cm("a", "5"), Cm("b", "6")) : ListOf("20", Cm("a", "5"), Cm("c", "12"));
        return lw;
    }

    [Test]
    public async Task TooLargeResourceVersion_AsWatchErrorEvent_Relists()
    {
        var (inf, lw, log) = New();
        Lists(lw).ScriptWatch(holdOpen: true, new WatchEvent<V1ConfigMap>(WatchEventType.Error, null, TooLargeStatus()));
        await AssertRelistsAsQuorumRead(inf, lw, log);
    }

    [Test]
    public async Task TooLargeResourceVersion_AsHttp504OnWatchOpen_Relists()
    {
        var (inf, lw, log) = New();
        Lists(lw).ScriptWatchFailure(new HttpOperationException("GET returned 504")
        {
            Response = new HttpResponseMessageWrapper(new HttpResponseMessage(HttpStatusCode.GatewayTimeout), TooLargeJson),
        });
        await AssertRelistsAsQuorumRead(inf, lw, log);
    }

    [Test]
    public async Task TooLargeResourceVersion_FromOldServersWithOnlyTheMessage_Relists()
    {
        // API servers before 1.17 set neither the cause type nor the cause message: only code 504 and the text.
        var (inf, lw, log) = New();
        var old = new V1Status { Code = 504, Reason = "Timeout", Message = "Too large resource version: 30, current: 20" };
        Lists(lw).ScriptWatch(holdOpen: true, new WatchEvent<V1ConfigMap>(WatchEventType.Error, null, old));
        await AssertRelistsAsQuorumRead(inf, lw, log);
    }

    [Test]
    public async Task Gone_AsWatchErrorEvent_RelistsAsQuorumRead()
    {
        var (inf, lw, log) = New();
        Lists(lw).ScriptWatch(holdOpen: true, new WatchEvent<V1ConfigMap>(WatchEventType.Error, null,
            new V1Status { Code = 410, Reason = "Expired", Message = "too old resource version: 10 (15)" }));
        await AssertRelistsAsQuorumRead(inf, lw, log);
    }

    [Test]
    public async Task OtherWatchErrors_ReWatchFromTheLastResourceVersion_WithoutARelist()
    {
        var (inf, lw, _) = New();
        lw.OnList = _ => ListOf("10", Cm("a", "5"));
        lw.ScriptWatch(holdOpen: false,
            new WatchEvent<V1ConfigMap>(WatchEventType.Modified, Cm("a", "14"), null),
            new WatchEvent<V1ConfigMap>(WatchEventType.Error, null, new V1Status { Code = 500, Reason = "InternalError", Message = "etcd hiccup" }));
        lw.ScriptWatchFailure(new HttpOperationException("GET returned 504")
        {
            Response = new HttpResponseMessageWrapper(new HttpResponseMessage(HttpStatusCode.GatewayTimeout), """{"kind":"Status","code":504,"reason":"Timeout","message":"request timed out"}"""),
        });
        await RunUntil(inf, () => lw.Watches.Count >= 3, "two reconnects");
        Assert.That(inf.ListCount, Is.EqualTo(1));
        Assert.That(lw.Watches.Skip(1), Is.All.EqualTo("14"), "resumes after the last event seen");
    }

    [TestCase("""{"code":504,"reason":"Timeout","details":{"causes":[{"reason":"ResourceVersionTooLarge"}]}}""", true)]
    [TestCase("""{"code":504,"reason":"Timeout","details":{"causes":[{"message":"Too large resource version"}]}}""", true)]
    [TestCase("""{"code":504,"reason":"Timeout","message":"Too large resource version: 5, current: 4"}""", true)]
    [TestCase("""{"code":504,"reason":"Timeout","message":"request timed out"}""", false)]
    [TestCase("""{"code":500,"message":"Too large resource version"}""", false)]
    [TestCase("not json", false)]
    public void TooLarge_IsRecognisedAsClientGoDoes(string body, bool tooLarge)
    {
        var status = ResourceVersionErrors.ParseStatus(body);
        Assert.That(ResourceVersionErrors.IsTooLarge(status), Is.EqualTo(tooLarge));
        var e = new HttpOperationException("x") { Response = new HttpResponseMessageWrapper(new HttpResponseMessage((HttpStatusCode)(status?.Code ?? 504)), body) };
        Assert.That(ResourceVersionErrors.IsTooLarge(e), Is.EqualTo(tooLarge));
    }
}
