using System.Net;

namespace ConnectOperator.Confluent;

/// <summary>
/// A failed Confluent call in words a person reads in status and Events ("Confluent Cloud is failing; retrying in
/// 15 s"), never the name of a .NET exception. The text is the same for every attempt of one kind of failure: status is
/// written only when it changes, so a text that changed per attempt (a request id, a time) would rewrite status on every
/// retry. Request ids stay in the log.
/// </summary>
public static class FailureText
{
    /// <param name="e">A <see cref="ConfluentApiException"/> or <see cref="ConfluentTransportException"/>.</param>
    /// <param name="retryIn">When the next attempt is due, if the caller knows it.</param>
    public static string Describe(Exception e, TimeSpan? retryIn = null)
    {
        var what = e switch
        {
            ConfluentTransportException { Failure: TransportFailure.CircuitOpen } =>
                "Confluent Cloud is failing (too many calls with this API key failed in a row, so the operator holds further calls for a while)",
            ConfluentTransportException { Failure: TransportFailure.Timeout } => "Confluent Cloud did not answer in time",
            ConfluentTransportException { Failure: TransportFailure.Network } => "Confluent Cloud could not be reached (network error)",
            ConfluentTransportException { Failure: TransportFailure.RateLimiterRejected } =>
                "too many calls to Confluent Cloud are queued for this API key (the operator's own rate limit)",
            ConfluentApiException { StatusCode: HttpStatusCode.TooManyRequests } => "Confluent Cloud is rate-limiting this API key (HTTP 429)",
            ConfluentApiException { IsServerError: true } a => $"Confluent Cloud is failing (HTTP {(int)a.StatusCode}{Vendor(a)})",
            ConfluentApiException a => $"Confluent Cloud refused the call (HTTP {(int)a.StatusCode}{Vendor(a)})",
            _ => "the call to Confluent Cloud failed",
        };
        return what + "; " + Retry(retryIn);
    }

    /// <summary>When the operator will try again, in whole seconds (or "with backoff" when the work queue decides).</summary>
    public static string Retry(TimeSpan? retryIn) => retryIn is { } t && t > TimeSpan.Zero
        ? $"retrying in {Math.Max(1, (int)Math.Ceiling(t.TotalSeconds))} s"
        : "retrying with backoff";

    /// <summary>
    /// The delay the failure itself implies: Retry-After of a 429, the breaker's break for an open circuit; null when the
    /// caller's per-item backoff should decide.
    /// </summary>
    public static TimeSpan? RetryDelay(Exception e, ConnectClientOptions options) => e switch
    {
        ConfluentApiException { RetryAfter: { } after } => after,
        ConfluentTransportException { Failure: TransportFailure.CircuitOpen } => options.BreakerBreakDuration,
        _ => null,
    };

    private static string Vendor(ConfluentApiException a) => string.IsNullOrWhiteSpace(a.VendorMessage) ? "" : $": {a.VendorMessage}";
}
