using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using ConnectOperator.Confluent;

namespace ConnectOperator.Tests.Unit.Reliability;

/// <summary>
/// Fault matrix, scenario 2 at unit level: Retry-After holds for the API key. After a 429 with Retry-After R, no
/// request with that key is sent before R has passed - also not a different, concurrent request - while another key
/// is not held back. (The end-to-end version is FaultMatrixTests.S2 against the emulator.)
/// </summary>
public class RetryAfterPerKeyTests
{
    /// <summary>Answers the first request of key A with 429 Retry-After 1, everything else with an empty list.</summary>
    private sealed class FakeConfluent : HttpMessageHandler
    {
        public readonly ConcurrentQueue<(string Auth, TimeSpan At, int Status)> Seen = new();
        public readonly Stopwatch Clock = Stopwatch.StartNew();
        private int _limited;
        public string KeyAAuth = "";

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var auth = request.Headers.Authorization!.Parameter!;
            var limited = auth == KeyAAuth && Interlocked.Exchange(ref _limited, 1) == 0;
            Seen.Enqueue((auth, Clock.Elapsed, limited ? 429 : 200));
            var r = limited
                ? new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Content = new StringContent("{\"error\":{\"code\":429,\"message\":\"Too Many Requests\"}}") }
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("[]") };
            if (limited) r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
            return Task.FromResult(r);
        }
    }

    [Test]
    public async Task A_429_holds_back_every_request_of_the_key_until_Retry_After_and_no_other_key()
    {
        var fake = new FakeConfluent { KeyAAuth = Convert.ToBase64String("key-a:secret-a"u8.ToArray()) };
        using var factory = new ConnectClientFactory(new ConnectClientOptions
        {
            BaseUrl = "http://confluent.invalid", RetryBaseDelay = TimeSpan.FromMilliseconds(10), RetryMaxDelay = TimeSpan.FromMilliseconds(50),
            RetryAfterMargin = TimeSpan.Zero, RateLimitPermitsPerSecond = 1000, RateLimitBurst = 1000, UseJitter = false,
        }, primaryHandler: fake);
        var a = factory.Create("key-a", "secret-a");
        var b = factory.Create("key-b", "secret-b");
        var cluster = new ClusterRef("env-1", "lkc-1");

        var first = a.ListConnectorNamesAsync(cluster);   // gets the 429, retries after 1 s
        await Task.Delay(100);
        var concurrent = a.ListConnectorNamesAsync(cluster);   // same key, different request: must wait too
        var other = Stopwatch.StartNew();
        await b.ListConnectorNamesAsync(cluster);              // another key: not held back
        Assert.That(other.Elapsed, Is.LessThan(TimeSpan.FromMilliseconds(500)), "another API key is not rate-limited by key A's 429");
        await Task.WhenAll(first, concurrent);

        var seen = fake.Seen.ToList();
        var limitedAt = seen.Single(s => s.Status == 429).At;
        var laterA = seen.Where(s => s.Auth == fake.KeyAAuth && s.Status != 429).ToList();
        Assert.That(laterA, Has.Count.EqualTo(2));
        Assert.That(laterA.Select(s => s.At - limitedAt), Is.All.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(990)),
            "no request of key A before Retry-After (1 s) has passed");
    }
}
