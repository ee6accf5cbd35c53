using Microsoft.Extensions.Logging;

namespace ConnectOperator.Confluent;

/// <summary>
/// The Confluent clients' log lines as source-generated <see cref="LoggerMessageAttribute"/> methods (CA1848): every
/// API call passes through here, so the template is parsed once and nothing is boxed or formatted when the level is off.
/// </summary>
internal static partial class ConfluentLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Creating connector {Connector} on {Cluster} with config fields {Fields}")]
    public static partial void CreatingConnector(this ILogger log, string connector, ClusterRef cluster, string fields);

    [LoggerMessage(Level = LogLevel.Information, Message = "Putting config of connector {Connector} on {Cluster} with config fields {Fields}")]
    public static partial void PuttingConfig(this ILogger log, string connector, ClusterRef cluster, string fields);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connect API {Operation} for {Connector} on {Cluster} failed: {Failure}")]
    public static partial void ConnectTransportFailed(this ILogger log, string operation, string? connector, ClusterRef cluster, TransportFailure failure);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connect API {Operation} for {Connector} on {Cluster} → {Status} in {ElapsedMs} ms")]
    public static partial void ConnectAnswered(this ILogger log, string operation, string? connector, ClusterRef cluster, int status, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connect API {Operation} for {Connector} on {Cluster} failed: {Status} {ErrorCode} {VendorMessage} (request id {RequestId})")]
    public static partial void ConnectFailed(this ILogger log, string operation, string? connector, ClusterRef cluster, int status, int? errorCode, string? vendorMessage, string? requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retrying Connect API {Method} {Route} (attempt {Attempt}) after {DelayMs} ms: {Reason}")]
    public static partial void ConnectRetrying(this ILogger log, string method, string route, int attempt, long delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connect API circuit opened for API key {ApiKey} for {BreakMs} ms")]
    public static partial void ConnectCircuitOpened(this ILogger log, string apiKey, long breakMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Metrics API {Operation} failed: {Failure}")]
    public static partial void MetricsTransportFailed(this ILogger log, string operation, TransportFailure failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Metrics API {Operation} failed: {Status} {VendorMessage}")]
    public static partial void MetricsFailed(this ILogger log, string operation, int status, string? vendorMessage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retrying Metrics API query (attempt {Attempt}) after {DelayMs} ms: {Reason}")]
    public static partial void MetricsRetrying(this ILogger log, int attempt, long delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Metrics API pipeline built for API key {ApiKey}")]
    public static partial void MetricsPipelineBuilt(this ILogger log, string apiKey);
}
