using System.Net;

namespace ConnectOperator.Confluent.Metrics;

/// <summary>
/// A failed Metrics API query: an HTTP error (<see cref="StatusCode"/>) or no response at all (<see cref="Failure"/>).
/// The message names the operation and the vendor's detail, never the credentials or the request body.
/// </summary>
public sealed class MetricsApiException : Exception
{
    public MetricsApiException(string operation, HttpStatusCode? statusCode, TransportFailure? failure, string? vendorMessage, string? requestId,
        TimeSpan? retryAfter = null, Exception? inner = null)
        : base(BuildMessage(operation, statusCode, failure, vendorMessage, requestId), inner)
    {
        Operation = operation;
        StatusCode = statusCode;
        Failure = failure;
        VendorMessage = vendorMessage;
        RequestId = requestId;
        RetryAfter = retryAfter;
    }

    public string Operation { get; }
    public HttpStatusCode? StatusCode { get; }
    public TransportFailure? Failure { get; }
    public string? VendorMessage { get; }
    public string? RequestId { get; }
    /// <summary>Retry-After of a 429, if known.</summary>
    public TimeSpan? RetryAfter { get; }

    public bool IsRateLimited => StatusCode == HttpStatusCode.TooManyRequests;
    public bool IsUnauthorized => StatusCode == HttpStatusCode.Unauthorized;

    private static string BuildMessage(string operation, HttpStatusCode? status, TransportFailure? failure, string? vendorMessage, string? requestId)
    {
        var msg = status is { } s ? $"Confluent Metrics API {operation} failed with HTTP {(int)s} ({s})" : $"Confluent Metrics API {operation} failed: {failure}";
        if (!string.IsNullOrEmpty(vendorMessage)) msg += $": {vendorMessage}";
        if (!string.IsNullOrEmpty(requestId)) msg += $" [request id {requestId}]";
        return msg;
    }
}
