using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Retry;
using Polly.Timeout;

namespace ConnectOperator.Confluent;

/// <summary>
/// Creates <see cref="IConnectClient"/>s. Everything that uses the same API key shares one token-bucket rate limiter
/// and one resilience pipeline (and so one circuit breaker): a burst by one department cannot starve another
/// department that uses its own key. Hold one factory per process (singleton).
/// </summary>
public sealed class ConnectClientFactory : IDisposable
{
    private readonly ConnectClientOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, Lazy<CredentialResources>> _perKey = new(StringComparer.Ordinal);

    public ConnectClientFactory(ConnectClientOptions options, ILoggerFactory? loggerFactory = null, HttpMessageHandler? primaryHandler = null)
    {
        options.Validate();
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<ConnectClientFactory>();
        _http = new HttpClient(primaryHandler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan, // the pipeline owns timeouts
        };
    }

    public ConnectClientOptions Options => _options;

    public IConnectClient Create(ConnectCredentials credentials)
    {
        ArgumentException.ThrowIfNullOrEmpty(credentials.ApiKey);
        ArgumentException.ThrowIfNullOrEmpty(credentials.ApiSecret);
        var res = Resources(credentials.ApiKey);
        return new ConnectClient(_http, _options, credentials, res.Pipeline, _loggerFactory.CreateLogger<ConnectClient>(), res.Gate);
    }

    public IConnectClient Create(string apiKey, string apiSecret) => Create(new ConnectCredentials(apiKey, apiSecret));

    /// <summary>The rate limiter shared by all clients of <paramref name="apiKey"/> (exposed for tests and diagnostics).</summary>
    public RateLimiter GetRateLimiter(string apiKey) => Resources(apiKey).Limiter;

    private CredentialResources Resources(string apiKey) =>
        _perKey.GetOrAdd(apiKey, k => new Lazy<CredentialResources>(() => BuildResources(k))).Value;

    private CredentialResources BuildResources(string apiKey)
    {
        var o = _options;
        var period = TimeSpan.FromSeconds(1.0 / o.RateLimitPermitsPerSecond);
        if (period < TimeSpan.FromMilliseconds(1)) period = TimeSpan.FromMilliseconds(1);
        var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = o.RateLimitBurst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = period,
            AutoReplenishment = true,
            QueueLimit = o.RateLimitQueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });

        var gate = new RetryAfterGate();
        var retry = new HttpRetryStrategyOptions
        {
            ShouldRetryAfterHeader = false, // we compute the delay ourselves (margin + cap)
            MaxRetryAttempts = Math.Max(o.MaxRetries, 1),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = o.UseJitter,
            Delay = o.RetryBaseDelay,
            MaxDelay = o.RetryMaxDelay,
            ShouldHandle = args => ValueTask.FromResult(o.MaxRetries > 0 && ShouldRetry(args.Outcome, args.Context)),
            DelayGenerator = args =>
            {
                if (args.Outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } r)
                    return ValueTask.FromResult<TimeSpan?>((RetryAfterOf(r) ?? o.RateLimitedDefaultDelay) + o.RetryAfterMargin);
                return ValueTask.FromResult<TimeSpan?>(null); // exponential backoff with jitter
            },
            OnRetry = args =>
            {
                var route = args.Context.Properties.GetValue(ConnectClient.RouteKey, "?");
                var method = args.Context.Properties.GetValue(ConnectClient.MethodKey, "?");
                var reason = args.Outcome.Result != null ? ((int)args.Outcome.Result.StatusCode).ToString() : args.Outcome.Exception?.GetType().Name ?? "?";
                ConnectClientMetrics.Retries.Add(1, new("route", route), new("method", method), new("reason", reason));
                _logger.ConnectRetrying(method, route, args.AttemptNumber + 1, (long)args.RetryDelay.TotalMilliseconds, reason);
                return ValueTask.CompletedTask;
            },
        };

        var breaker = new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = o.BreakerFailureRatio,
            MinimumThroughput = Math.Max(2, o.BreakerMinimumThroughput),
            SamplingDuration = o.BreakerSamplingDuration < TimeSpan.FromMilliseconds(500) ? TimeSpan.FromMilliseconds(500) : o.BreakerSamplingDuration,
            BreakDuration = o.BreakerBreakDuration < TimeSpan.FromMilliseconds(500) ? TimeSpan.FromMilliseconds(500) : o.BreakerBreakDuration,
            ShouldHandle = args => ValueTask.FromResult(IsServerFailure(args.Outcome)),
            OnOpened = args =>
            {
                _logger.ConnectCircuitOpened(apiKey, (long)args.BreakDuration.TotalMilliseconds);
                return ValueTask.CompletedTask;
            },
        };

        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = "connect-v1" }
            .AddTimeout(o.TotalTimeout)
            .AddRetry(retry)
            .AddCircuitBreaker(breaker)
            .AddRateLimiter(new RateLimiterStrategyOptions
            {
                RateLimiter = async args =>
                {
                    // Every attempt (first or retry) of this key waits until the latest Retry-After has passed.
                    await gate.WaitAsync(args.Context.CancellationToken);
                    // Fast path: a permit is available now.
                    var lease = limiter.AttemptAcquire();
                    if (lease.IsAcquired) return lease;
                    lease.Dispose();
                    var route = args.Context.Properties.GetValue(ConnectClient.RouteKey, "?");
                    var sw = Stopwatch.StartNew();
                    lease = await limiter.AcquireAsync(1, args.Context.CancellationToken);
                    ConnectClientMetrics.RateLimitWaits.Add(1, new KeyValuePair<string, object?>("route", route));
                    ConnectClientMetrics.RateLimitWaitDuration.Record(sw.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("route", route));
                    return lease;
                },
            })
            .AddTimeout(o.AttemptTimeout)
            .Build();

        return new CredentialResources(limiter, pipeline, gate);
    }

    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        // A 429 means the request was not processed: safe to retry for every method, unless the wait is too long.
        if (outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } r)
        {
            var max = context.Properties.GetValue(ConnectClient.MaxRetryAfterKey, TimeSpan.MaxValue);
            return (RetryAfterOf(r) ?? TimeSpan.Zero) <= max;
        }
        if (!context.Properties.GetValue(ConnectClient.IdempotentKey, false)) return false;
        if (context.CancellationToken.IsCancellationRequested) return false;
        return IsServerFailure(outcome);
    }

    /// <summary>5xx (and 408), network failures and per-attempt timeouts.</summary>
    private static bool IsServerFailure(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Result: { } r } => (int)r.StatusCode >= 500 || r.StatusCode == HttpStatusCode.RequestTimeout,
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        _ => false,
    };

    /// <summary>Retry-After as delta-seconds or HTTP date; falls back to X-RateLimit-Reset (seconds from now).</summary>
    internal static TimeSpan? RetryAfterOf(HttpResponseMessage r)
    {
        var ra = r.Headers.RetryAfter;
        if (ra?.Delta is { } d) return d < TimeSpan.Zero ? TimeSpan.Zero : d;
        if (ra?.Date is { } date)
        {
            var delta = date - DateTimeOffset.UtcNow;
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }
        if (r.Headers.TryGetValues("X-RateLimit-Reset", out var vals) && double.TryParse(vals.FirstOrDefault(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var secs) && secs >= 0)
            return TimeSpan.FromSeconds(secs);
        return null;
    }

    public void Dispose()
    {
        foreach (var lazy in _perKey.Values)
            if (lazy.IsValueCreated) lazy.Value.Limiter.Dispose();
        _http.Dispose();
    }

    private sealed record CredentialResources(RateLimiter Limiter, ResiliencePipeline<HttpResponseMessage> Pipeline, RetryAfterGate Gate);
}

/// <summary>
/// Retry-After speaks for the API key, not for the one request that got the 429: Confluent rate-limits per key. Before
/// this gate only that request waited (its retry delay), while other workers and the poller kept calling with the
/// same key inside the window and drew more 429s (found by the 429-storm scenario of the fault matrix, issue 8).
/// One gate per key: a 429 closes it until now + Retry-After (+ margin); every attempt waits for it to open.
/// </summary>
internal sealed class RetryAfterGate
{
    private long _openAtTicks; // UTC ticks; 0 = open

    public void Close(TimeSpan retryAfter)
    {
        var until = (DateTimeOffset.UtcNow + retryAfter).UtcTicks;
        long current;
        do
        {
            current = Interlocked.Read(ref _openAtTicks);
            if (until <= current) return; // keep the later of two Retry-Afters
        } while (Interlocked.CompareExchange(ref _openAtTicks, until, current) != current);
    }

    public async ValueTask WaitAsync(CancellationToken ct)
    {
        while (true)
        {
            var wait = new DateTimeOffset(Interlocked.Read(ref _openAtTicks), TimeSpan.Zero) - DateTimeOffset.UtcNow;
            if (wait <= TimeSpan.Zero) return;
            await Task.Delay(wait, ct);  // loop: another 429 may have moved the time further meanwhile
        }
    }
}

/// <summary>Unused outside the factory; keeps <see cref="BrokenCircuitException"/>/<see cref="RateLimiterRejectedException"/> referenced for docs.</summary>
internal static class PipelineExceptions
{
    internal static TransportFailure? Classify(Exception e) => e switch
    {
        BrokenCircuitException => TransportFailure.CircuitOpen,
        RateLimiterRejectedException => TransportFailure.RateLimiterRejected,
        TimeoutRejectedException => TransportFailure.Timeout,
        HttpRequestException => TransportFailure.Network,
        _ => null,
    };
}
