namespace ConnectOperator.Confluent;

/// <summary>Options for <see cref="ConnectClientFactory"/>. Defaults suit production; tests shrink the delays.</summary>
public sealed class ConnectClientOptions
{
    public const string DefaultBaseUrl = "https://api.confluent.cloud";

    /// <summary>API root, e.g. <c>https://api.confluent.cloud</c> or the emulator's <c>http://127.0.0.1:8085</c>.</summary>
    public string BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>Timeout of a single HTTP attempt (inner timeout).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of a whole call including retries and waits (outer timeout).</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Retries after the first attempt (0 disables retries).</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>Base delay of the jittered exponential backoff used for 5xx / timeouts / network errors.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Upper bound for one backoff delay.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Fallback delay for a 429 without a (parsable) Retry-After header.</summary>
    public TimeSpan RateLimitedDefaultDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A 429 whose Retry-After exceeds this is not retried: <see cref="ConfluentRateLimitException"/> is thrown with RetryAfter so the caller can requeue.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Safety margin added to Retry-After, so no call is sent before that time elapsed.</summary>
    public TimeSpan RetryAfterMargin { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Client-side rate limit per API key (shared by all clients with the key), requests per second.</summary>
    public double RateLimitPermitsPerSecond { get; set; } = 5;

    /// <summary>Token bucket size (burst).</summary>
    public int RateLimitBurst { get; set; } = 10;

    /// <summary>Max requests queued waiting for a permit per API key; beyond that calls fail fast.</summary>
    public int RateLimitQueueLimit { get; set; } = 10_000;

    /// <summary>Circuit breaker: failure ratio (0..1) within <see cref="BreakerSamplingDuration"/> that opens the circuit.</summary>
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Circuit breaker: minimum attempts in the sampling window before it may open.</summary>
    public int BreakerMinimumThroughput { get; set; } = 20;

    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the circuit stays open before a probe is allowed.</summary>
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Whether jitter is applied to backoff delays (tests may turn it off for determinism).</summary>
    public bool UseJitter { get; set; } = true;

    /// <summary>User-Agent product token.</summary>
    public string UserAgent { get; set; } = "connect-operator";

    internal void Validate()
    {
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out _)) throw new ArgumentException($"BaseUrl '{BaseUrl}' is not an absolute URL");
        if (RateLimitPermitsPerSecond <= 0) throw new ArgumentException("RateLimitPermitsPerSecond must be > 0");
        if (RateLimitBurst < 1) throw new ArgumentException("RateLimitBurst must be >= 1");
        if (MaxRetries < 0) throw new ArgumentException("MaxRetries must be >= 0");
    }
}
