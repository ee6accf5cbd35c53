using System.Diagnostics.Metrics;

namespace ConnectOperator.Confluent;

/// <summary>
/// Metrics of the Connect client, on the Meter <see cref="MeterName"/>. Tags: <c>route</c> (a template such as
/// <c>connectors/{name}/config</c>, never a raw name), <c>method</c>, <c>status_code</c> (HTTP status, or
/// <c>timeout</c>/<c>network</c>/<c>circuit_open</c>), <c>api_key</c> is deliberately not a tag (cardinality/secrecy).
/// </summary>
public static class ConnectClientMetrics
{
    public const string MeterName = "ConnectOperator.Confluent";
    public const string RequestsName = "connect_client_requests";
    public const string DurationName = "connect_client_request_duration_seconds";
    public const string RateLimitWaitsName = "connect_client_rate_limit_waits";
    public const string RateLimitWaitDurationName = "connect_client_rate_limit_wait_seconds";
    public const string RetriesName = "connect_client_retries";

    public static readonly Meter Meter = new(MeterName);

    /// <summary>Every HTTP attempt, by route/method/status_code.</summary>
    public static readonly Counter<long> Requests = Meter.CreateCounter<long>(RequestsName, description: "Connect API HTTP attempts");
    /// <summary>Attempt latency, by route/method/status_code.</summary>
    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(DurationName, unit: "s", description: "Connect API attempt latency");
    /// <summary>Attempts that had to wait for a permit of the shared client-side rate limiter.</summary>
    public static readonly Counter<long> RateLimitWaits = Meter.CreateCounter<long>(RateLimitWaitsName, description: "Waits for a client-side rate limit permit");
    public static readonly Histogram<double> RateLimitWaitDuration = Meter.CreateHistogram<double>(RateLimitWaitDurationName, unit: "s", description: "Time waited for a rate limit permit");
    /// <summary>Retries, by route/method/reason (status code or exception kind).</summary>
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>(RetriesName, description: "Connect API retries");
}
