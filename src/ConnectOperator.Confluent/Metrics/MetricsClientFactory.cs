using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.RateLimiting;
using Polly.Timeout;

namespace ConnectOperator.Confluent.Metrics;

/// <summary>
/// Creates <see cref="IMetricsClient"/>s. Like <see cref="ConnectClientFactory"/>, everything that uses one API key shares
/// one resilience pipeline: total timeout → retry (429 honouring Retry-After, 5xx/408/network/attempt timeout with
/// jittered backoff) → a sliding-window limiter of <see cref="MetricsClientOptions.RequestsPerMinute"/> per key (retries
/// count against it) → attempt timeout. The Connect pipeline is not reused: its limiter is tuned for the Connect API
/// (requests per second), the Metrics API allows 60 requests per minute.
/// </summary>
public sealed class MetricsClientFactory : IDisposable
{
    private readonly MetricsClientOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, Lazy<(RateLimiter Limiter, ResiliencePipeline<HttpResponseMessage> Pipeline)>> _perKey = new(StringComparer.Ordinal);

    public MetricsClientFactory(MetricsClientOptions options, ILoggerFactory? loggerFactory = null, HttpMessageHandler? primaryHandler = null)
    {
        options.Validate();
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<MetricsClientFactory>();
        _http = new HttpClient(primaryHandler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public MetricsClientOptions Options => _options;

    public IMetricsClient Create(ConnectCredentials credentials)
    {
        ArgumentException.ThrowIfNullOrEmpty(credentials.ApiKey);
        ArgumentException.ThrowIfNullOrEmpty(credentials.ApiSecret);
        var res = Resources(credentials.ApiKey);
        return new MetricsClient(_http, _options, credentials, res.Pipeline, _loggerFactory.CreateLogger<MetricsClient>());
    }

    /// <summary>The per-key limiter (tests, diagnostics).</summary>
    public RateLimiter GetRateLimiter(string apiKey) => Resources(apiKey).Limiter;

    private (RateLimiter Limiter, ResiliencePipeline<HttpResponseMessage> Pipeline) Resources(string apiKey)
        => _perKey.GetOrAdd(apiKey, k => new(() => Build(k))).Value;

    private (RateLimiter, ResiliencePipeline<HttpResponseMessage>) Build(string apiKey)
    {
        var o = _options;
        var limiter = new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
        {
            PermitLimit = o.RequestsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            SegmentsPerWindow = 12,
            AutoReplenishment = true,
            QueueLimit = 1000,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        var retry = new HttpRetryStrategyOptions
        {
            ShouldRetryAfterHeader = false,
            MaxRetryAttempts = Math.Max(o.MaxRetries, 1),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = o.UseJitter,
            Delay = o.RetryBaseDelay,
            MaxDelay = o.RetryMaxDelay,
            ShouldHandle = args => ValueTask.FromResult(o.MaxRetries > 0 && !args.Context.CancellationToken.IsCancellationRequested && ShouldRetry(args.Outcome, o)),
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } r
                ? (ConnectClientFactory.RetryAfterOf(r) ?? o.RateLimitedDefaultDelay) + TimeSpan.FromMilliseconds(50)
                : null),
            OnRetry = args =>
            {
                var reason = args.Outcome.Result != null ? ((int)args.Outcome.Result.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : args.Outcome.Exception?.GetType().Name ?? "?";
                ConnectClientMetrics.Retries.Add(1, new("route", MetricsClient.Route), new("method", "POST"), new("reason", reason));
                _logger.MetricsRetrying(args.AttemptNumber + 1, (long)args.RetryDelay.TotalMilliseconds, reason);
                return ValueTask.CompletedTask;
            },
        };
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = "metrics-v2" }
            .AddTimeout(o.TotalTimeout)
            .AddRetry(retry)
            .AddRateLimiter(new RateLimiterStrategyOptions
            {
                RateLimiter = async args =>
                {
                    var lease = limiter.AttemptAcquire();
                    if (lease.IsAcquired) return lease;
                    lease.Dispose();
                    var sw = Stopwatch.StartNew();
                    lease = await limiter.AcquireAsync(1, args.Context.CancellationToken);
                    ConnectClientMetrics.RateLimitWaits.Add(1, new KeyValuePair<string, object?>("route", MetricsClient.Route));
                    ConnectClientMetrics.RateLimitWaitDuration.Record(sw.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("route", MetricsClient.Route));
                    return lease;
                },
            })
            .AddTimeout(o.AttemptTimeout)
            .Build();
        _logger.MetricsPipelineBuilt(apiKey);
        return (limiter, pipeline);
    }

    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, MetricsClientOptions o) => outcome switch
    {
        { Result: { StatusCode: HttpStatusCode.TooManyRequests } r } => (ConnectClientFactory.RetryAfterOf(r) ?? TimeSpan.Zero) <= o.MaxRetryAfter,
        { Result: { } r } => (int)r.StatusCode >= 500 || r.StatusCode == HttpStatusCode.RequestTimeout,
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        _ => false,
    };

    public void Dispose()
    {
        foreach (var lazy in _perKey.Values)
            if (lazy.IsValueCreated) lazy.Value.Limiter.Dispose();
        _http.Dispose();
    }
}
