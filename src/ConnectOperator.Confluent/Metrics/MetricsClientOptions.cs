namespace ConnectOperator.Confluent.Metrics;

/// <summary>Options of <see cref="MetricsClientFactory"/> (Confluent Cloud Metrics API v2). Defaults suit production.</summary>
public sealed class MetricsClientOptions
{
    public const string DefaultBaseUrl = "https://api.telemetry.confluent.cloud";

    /// <summary>API root, e.g. <c>https://api.telemetry.confluent.cloud</c> or the emulator's URL.</summary>
    public string BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>Timeout of a single HTTP attempt.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of a whole query including retries and waits.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Retries after the first attempt (429, 5xx, 408, network errors, attempt timeouts); 0 disables retries.</summary>
    public int MaxRetries { get; set; } = 3;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Delay after a 429 without a (parsable) Retry-After header.</summary>
    public TimeSpan RateLimitedDefaultDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A 429 whose Retry-After exceeds this is not retried (the caller tries again next interval).</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Client-side limit per API key (the Metrics API allows 60 requests per minute); sliding one-minute window.</summary>
    public int RequestsPerMinute { get; set; } = 60;

    public bool UseJitter { get; set; } = true;

    public string UserAgent { get; set; } = "connect-operator";

    internal void Validate()
    {
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out _)) throw new ArgumentException($"Metrics BaseUrl '{BaseUrl}' is not an absolute URL");
        if (RequestsPerMinute is < 1 or > 60) throw new ArgumentException("RequestsPerMinute must be between 1 and 60 (the Metrics API limit)");
        if (MaxRetries < 0) throw new ArgumentException("MaxRetries must be >= 0");
    }
}
