using System.Net;

namespace ConnectOperator.Confluent;

/// <summary>
/// A non-success HTTP response from the Connect API. The message never contains request bodies; the vendor message
/// is scrubbed of sensitive config values the caller passed.
/// </summary>
public class ConfluentApiException : Exception
{
    public ConfluentApiException(HttpStatusCode statusCode, string operation, string? vendorMessage, int? errorCode, string? requestId, TimeSpan? retryAfter = null)
        : base(BuildMessage(statusCode, operation, vendorMessage, errorCode, requestId))
    {
        StatusCode = statusCode;
        Operation = operation;
        VendorMessage = vendorMessage;
        ErrorCode = errorCode;
        RequestId = requestId;
        RetryAfter = retryAfter;
    }

    public HttpStatusCode StatusCode { get; }
    /// <summary>The operation as a route template, e.g. <c>PUT connectors/{name}/config</c>.</summary>
    public string Operation { get; }
    /// <summary>The vendor's error message (scrubbed of known secret values).</summary>
    public string? VendorMessage { get; }
    /// <summary><c>error.code</c> or <c>error_code</c> from the body, if any.</summary>
    public int? ErrorCode { get; }
    /// <summary>From the <c>X-Request-Id</c> header (or the body), for support tickets.</summary>
    public string? RequestId { get; }
    /// <summary>Retry-After of a 429, if known.</summary>
    public TimeSpan? RetryAfter { get; }

    public bool IsBadRequest => StatusCode == HttpStatusCode.BadRequest;
    public bool IsUnauthorized => StatusCode == HttpStatusCode.Unauthorized;
    public bool IsForbidden => StatusCode == HttpStatusCode.Forbidden;
    public bool IsNotFound => StatusCode == HttpStatusCode.NotFound;
    public bool IsConflict => StatusCode == HttpStatusCode.Conflict;
    public bool IsRateLimited => StatusCode == HttpStatusCode.TooManyRequests;
    public bool IsServerError => (int)StatusCode >= 500;

    private static string BuildMessage(HttpStatusCode status, string operation, string? vendorMessage, int? errorCode, string? requestId)
    {
        var msg = $"Confluent Connect API {operation} failed with HTTP {(int)status} ({status})";
        if (errorCode != null) msg += $", error code {errorCode}";
        if (!string.IsNullOrEmpty(vendorMessage)) msg += $": {vendorMessage}";
        if (!string.IsNullOrEmpty(requestId)) msg += $" [request id {requestId}]";
        return msg;
    }

    internal static ConfluentApiException Create(HttpStatusCode status, string operation, string? vendorMessage, int? errorCode, string? requestId, TimeSpan? retryAfter) => status switch
    {
        HttpStatusCode.Unauthorized => new ConfluentUnauthorizedException(operation, vendorMessage, errorCode, requestId),
        HttpStatusCode.Forbidden => new ConfluentForbiddenException(operation, vendorMessage, errorCode, requestId),
        HttpStatusCode.NotFound => new ConfluentNotFoundException(operation, vendorMessage, errorCode, requestId),
        HttpStatusCode.Conflict => new ConfluentConflictException(operation, vendorMessage, errorCode, requestId),
        HttpStatusCode.TooManyRequests => new ConfluentRateLimitException(operation, vendorMessage, errorCode, requestId, retryAfter),
        _ => new ConfluentApiException(status, operation, vendorMessage, errorCode, requestId, retryAfter),
    };
}

/// <summary>401: wrong or revoked API key.</summary>
public sealed class ConfluentUnauthorizedException(string operation, string? vendorMessage, int? errorCode, string? requestId)
    : ConfluentApiException(HttpStatusCode.Unauthorized, operation, vendorMessage, errorCode, requestId);

/// <summary>403: the API key has no access to the environment/cluster.</summary>
public sealed class ConfluentForbiddenException(string operation, string? vendorMessage, int? errorCode, string? requestId)
    : ConfluentApiException(HttpStatusCode.Forbidden, operation, vendorMessage, errorCode, requestId);

/// <summary>404 on an operation where absence is an error (pause, resume, restart).</summary>
public sealed class ConfluentNotFoundException(string operation, string? vendorMessage, int? errorCode, string? requestId)
    : ConfluentApiException(HttpStatusCode.NotFound, operation, vendorMessage, errorCode, requestId);

/// <summary>409: e.g. POST create of an existing name (not in the spec, but observed).</summary>
public sealed class ConfluentConflictException(string operation, string? vendorMessage, int? errorCode, string? requestId)
    : ConfluentApiException(HttpStatusCode.Conflict, operation, vendorMessage, errorCode, requestId);

/// <summary>429 after retries were exhausted or Retry-After exceeded <see cref="ConnectClientOptions.MaxRetryAfter"/>.</summary>
public sealed class ConfluentRateLimitException(string operation, string? vendorMessage, int? errorCode, string? requestId, TimeSpan? retryAfter)
    : ConfluentApiException(HttpStatusCode.TooManyRequests, operation, vendorMessage, errorCode, requestId, retryAfter);

public enum TransportFailure
{
    /// <summary>An attempt (or the whole call) timed out.</summary>
    Timeout,
    /// <summary>The circuit breaker for this API key is open; no request was sent.</summary>
    CircuitOpen,
    /// <summary>Connection / protocol failure.</summary>
    Network,
    /// <summary>The client-side rate limiter queue is full; no request was sent.</summary>
    RateLimiterRejected,
}

/// <summary>The call produced no HTTP response (timeout, circuit open, network error, local rate limiter full).</summary>
public sealed class ConfluentTransportException(string operation, TransportFailure failure, Exception? inner)
    : Exception($"Confluent Connect API {operation} failed: {failure}" + (inner == null ? "" : $" ({inner.GetType().Name})"), inner)
{
    public string Operation { get; } = operation;
    public TransportFailure Failure { get; } = failure;
}
