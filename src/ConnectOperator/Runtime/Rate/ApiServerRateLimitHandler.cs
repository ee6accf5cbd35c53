namespace ConnectOperator.Runtime.Rate;

/// <summary>
/// The client-side limit on API-server requests (client-go's rest.Config QPS and Burst, there 5 and 10).
/// <para>
/// Ours is 500 per second with a burst of 1,000. client-go's 5/10 would make the operator's own writes the bottleneck
/// long before the API server is: 10,000 new connectors take about three status/metadata writes each plus their Events,
/// some 35,000 requests, which at 5 per second is two hours; the goal is convergence within twice the server's raw
/// status-write floor (47 s for 10,000 in BENCHMARKS.md, about 210 writes per second). At 500 per second the limiter
/// alone accounts for at most ~70 s of that, so it does not bind in normal convergence, and it still bounds what a
/// runaway reconcile loop (the echo passes of issue 17, a status that changes on every attempt) can send. Sharing the
/// server's capacity fairly between clients is API Priority and Fairness' job on the server; this is a safety net.
/// </para>
/// <para>Watches are not limited: a watch is one long request, and re-opening one must not queue behind a burst of writes.</para>
/// </summary>
public sealed class ApiServerRateLimit
{
    /// <summary>A fresh instance each time, so no caller can change everyone's default.</summary>
    public static ApiServerRateLimit Default => new();

    /// <summary>Sustained requests per second; 0 or less disables the limit (leave it to the server's API Priority and Fairness).</summary>
    public double Qps { get; set; } = 500;

    /// <summary>Requests that may go at once after a quiet period.</summary>
    public int Burst { get; set; } = 1000;

    public bool Enabled => Qps > 0;
}

/// <summary>
/// Applies <see cref="ApiServerRateLimit"/> to every non-watch request: each request reserves a token of one bucket shared
/// by the whole client and waits until it exists, as client-go's token-bucket rate limiter does.
/// </summary>
public sealed class ApiServerRateLimitHandler : DelegatingHandler
{
    private readonly BucketRateLimiter<object?> _bucket;
    private readonly TimeProvider _time;
    private long _throttled;

    public ApiServerRateLimitHandler(ApiServerRateLimit limit, HttpMessageHandler inner, TimeProvider? time = null) : base(inner)
    {
        _time = time ?? TimeProvider.System;
        _bucket = new BucketRateLimiter<object?>(limit.Qps, Math.Max(1, limit.Burst), _time);
    }

    /// <summary>The handler for the limit, or <paramref name="inner"/> itself when the limit is off.</summary>
    public static HttpMessageHandler Wrap(HttpMessageHandler inner, ApiServerRateLimit? limit, TimeProvider? time = null)
    {
        limit ??= ApiServerRateLimit.Default;
        return limit.Enabled ? new ApiServerRateLimitHandler(limit, inner, time) : inner;
    }

    /// <summary>Requests that have waited for a token since start (for tests and diagnostics).</summary>
    public long Throttled => Interlocked.Read(ref _throttled);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!IsWatch(request.RequestUri))
        {
            var wait = _bucket.When(null);
            if (wait > TimeSpan.Zero)
            {
                Interlocked.Increment(ref _throttled);
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    internal static bool IsWatch(Uri? uri)
    {
        var q = uri?.Query;
        if (string.IsNullOrEmpty(q)) return false;
        foreach (var part in q.TrimStart('?').Split('&'))
            if (part.Equals("watch=true", StringComparison.OrdinalIgnoreCase) || part.Equals("watch=1", StringComparison.Ordinal)) return true;
        return false;
    }
}
