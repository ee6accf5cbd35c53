using ConnectOperator.Confluent;
using ConnectOperator.Controllers.ManagedConnectors.Planning;
using Microsoft.Extensions.Logging;

namespace ConnectOperator.Controllers.ManagedConnectors;

/// <summary>The ManagedConnector controller's log lines as source-generated <see cref="LoggerMessageAttribute"/> methods (CA1848).</summary>
internal static partial class ConnectorLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "asked Confluent to pause {Connector} (it reported {State})")]
    public static partial void AskedToPause(this ILogger log, string connector, string? state);

    [LoggerMessage(Level = LogLevel.Information, Message = "asked Confluent to resume {Connector}")]
    public static partial void AskedToResume(this ILogger log, string connector);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Confluent call {Action} failed for {Connector}: {Error}")]
    public static partial void CallFailed(this ILogger log, RemoteActionKind action, string connector, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "poll of {Cluster} failed: {Error}")]
    public static partial void PollFailed(this ILogger log, ClusterRef cluster, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Namespace}/{Name} is gone; offsets status not written")]
    public static partial void OffsetsTargetGone(this ILogger log, string? @namespace, string name);
}
