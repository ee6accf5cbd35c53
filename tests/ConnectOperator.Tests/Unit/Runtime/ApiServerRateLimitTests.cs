using System.Collections.Concurrent;
using System.Net;
using ConnectOperator.Runtime.Rate;

namespace ConnectOperator.Tests.Unit.Runtime;

/// <summary>The client-side API-server limit: client-go's token bucket (QPS refill, Burst capacity), watches exempt.</summary>
public class ApiServerRateLimitTests
{
    private sealed class Recorder : HttpMessageHandler
    {
        public ConcurrentQueue<string> Sent { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            Sent.Enqueue(request.RequestUri!.PathAndQuery);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }

    private static (HttpClient, Recorder, ApiServerRateLimitHandler) Client(ManualTimeProvider time, double qps, int burst)
    {
        var rec = new Recorder();
        var handler = new ApiServerRateLimitHandler(new ApiServerRateLimit { Qps = qps, Burst = burst }, rec, time);
        return (new HttpClient(handler) { BaseAddress = new Uri("https://api.test/") }, rec, handler);
    }

    [Test]
    public async Task Burst_GoesAtOnce_ThenRequestsWaitForTheRefill()
    {
        var time = new ManualTimeProvider();
        var (http, rec, handler) = Client(time, qps: 10, burst: 3);
        using var _ = http;
        var sends = Enumerable.Range(0, 5).Select(i => http.GetAsync($"api/v1/namespaces/ns/configmaps/c{i}")).ToList();
        await Task.Delay(100);
        Assert.That(rec.Sent.Count, Is.EqualTo(3), "the burst");
        Assert.That(handler.Throttled, Is.EqualTo(2));
        time.Advance(TimeSpan.FromMilliseconds(100));
        await EventuallyCount(rec, 4);
        time.Advance(TimeSpan.FromMilliseconds(100));
        await EventuallyCount(rec, 5);
        await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Test]
    public async Task Watches_AreNotLimited()
    {
        var time = new ManualTimeProvider();
        var (http, rec, _) = Client(time, qps: 1, burst: 1);
        using var __ = http;
        await http.GetAsync("api/v1/configmaps");   // uses the only token
        for (var i = 0; i < 5; i++)
            await http.GetAsync("api/v1/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=5").WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(rec.Sent.Count, Is.EqualTo(6));
    }

    [Test]
    public void Disabled_LeavesThePipelineAsItIs()
    {
        var inner = new Recorder();
        Assert.That(ApiServerRateLimitHandler.Wrap(inner, new ApiServerRateLimit { Qps = 0 }), Is.SameAs(inner));
        Assert.That(ApiServerRateLimitHandler.Wrap(inner, null), Is.InstanceOf<ApiServerRateLimitHandler>(), "on by default");
        var d = ApiServerRateLimit.Default;
        Assert.That((d.Qps, d.Burst), Is.EqualTo((500d, 1000)), "the documented default (docs/runtime.md)");
    }

    [TestCase("?watch=true", true)]
    [TestCase("?labelSelector=a&watch=true", true)]
    [TestCase("?watch=false", false)]
    [TestCase("?limit=500", false)]
    [TestCase("", false)]
    public void IsWatch(string query, bool watch)
        => Assert.That(ApiServerRateLimitHandler.IsWatch(new Uri("https://api.test/api/v1/pods" + query)), Is.EqualTo(watch));

    private static async Task EventuallyCount(Recorder rec, int n)
    {
        for (var i = 0; i < 100 && rec.Sent.Count < n; i++) await Task.Delay(20);
        Assert.That(rec.Sent.Count, Is.EqualTo(n));
    }
}
