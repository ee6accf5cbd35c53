using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnectOperator.Confluent;

/// <summary>Addresses one Kafka cluster in one Confluent Cloud environment (connectors live per cluster).</summary>
public sealed record ClusterRef(string EnvironmentId, string KafkaClusterId)
{
    public override string ToString() => $"{EnvironmentId}/{KafkaClusterId}";
}

/// <summary>The API key + secret used for HTTP Basic authentication.</summary>
public sealed record ConnectCredentials(string ApiKey, string ApiSecret)
{
    // Never print the secret (records print all members by default).
    public override string ToString() => $"ConnectCredentials {{ ApiKey = {ApiKey} }}";

    /// <summary>HTTP Basic with the Cloud API key, as the Connect and Metrics APIs both take it.</summary>
    public System.Net.Http.Headers.AuthenticationHeaderValue BasicAuthHeader()
        => new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{ApiKey}:{ApiSecret}")));
}

/// <summary>Connector states (connector level) as documented by Connect v1.</summary>
public static class ConnectorStates
{
    public const string None = "NONE";
    public const string Provisioning = "PROVISIONING";
    public const string Running = "RUNNING";
    public const string Degraded = "DEGRADED";
    public const string Failed = "FAILED";
    public const string Paused = "PAUSED";
    public const string Deleted = "DELETED";
}

/// <summary><c>connect.v1.Connector</c>: returned by create, put config and read.</summary>
public sealed class ConnectorInfo
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("config")] public Dictionary<string, string> Config { get; set; } = new();
    [JsonPropertyName("tasks")] public List<ConnectorTaskId>? Tasks { get; set; }
    /// <summary><c>source</c> or <c>sink</c>.</summary>
    [JsonPropertyName("type")] public string? Type { get; set; }
}

public sealed class ConnectorTaskId
{
    [JsonPropertyName("connector")] public string Connector { get; set; } = "";
    [JsonPropertyName("task")] public int Task { get; set; }
}

/// <summary>Status of a connector and its tasks (<c>GET …/status</c> and the <c>status</c> expansion).</summary>
public sealed class ConnectorStatus
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("connector")] public ConnectorState Connector { get; set; } = new();
    [JsonPropertyName("tasks")] public List<TaskStatus>? Tasks { get; set; }
    // The next three are in every recorded status body but not in the spec; their item shapes are not documented, so
    // they are kept as JSON and turned into text only when a failure needs a cause (FailureCause).
    [JsonPropertyName("errors_from_trace")] public List<JsonElement>? ErrorsFromTrace { get; set; }
    [JsonPropertyName("validation_errors")] public List<JsonElement>? ValidationErrors { get; set; }
    [JsonPropertyName("override_message")] public string? OverrideMessage { get; set; }
}

public sealed class ConnectorState
{
    [JsonPropertyName("state")] public string State { get; set; } = ConnectorStates.None;
    [JsonPropertyName("worker_id")] public string? WorkerId { get; set; }
    [JsonPropertyName("trace")] public string? Trace { get; set; }
}

public sealed class TaskStatus
{
    [JsonPropertyName("id")] public int Id { get; set; }
    [JsonPropertyName("state")] public string State { get; set; } = "";
    [JsonPropertyName("worker_id")] public string? WorkerId { get; set; }
    [JsonPropertyName("msg")] public string? Msg { get; set; }
}

/// <summary>One entry of <c>GET …/connectors?expand=id,info,status</c>.</summary>
public sealed class ConnectorExpansion
{
    [JsonPropertyName("id")] public ConnectorIdInfo? Id { get; set; }
    [JsonPropertyName("info")] public ConnectorExpansionInfo? Info { get; set; }
    [JsonPropertyName("status")] public ConnectorStatus? Status { get; set; }
}

public sealed class ConnectorIdInfo
{
    /// <summary>The connector id, <c>lcc-…</c>.</summary>
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("id_type")] public string? IdType { get; set; }
}

public sealed class ConnectorExpansionInfo
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("config")] public Dictionary<string, string> Config { get; set; } = new();
    [JsonPropertyName("type")] public string? Type { get; set; }
}

/// <summary>Result of <c>PUT …/connector-plugins/{class}/config/validate</c>.</summary>
public sealed class ConfigValidationResult
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("groups")] public List<string>? Groups { get; set; }
    [JsonPropertyName("error_count")] public int ErrorCount { get; set; }
    [JsonPropertyName("configs")] public List<ConfigValidationEntry> Configs { get; set; } = new();

    /// <summary>Field name → error messages, for fields with at least one error.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> FieldErrors() =>
        Configs.Where(c => c.Value?.Errors is { Count: > 0 })
            .GroupBy(c => c.Value!.Name ?? c.Definition?.Name ?? "")
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.SelectMany(c => c.Value!.Errors!).ToList());
}

public sealed class ConfigValidationEntry
{
    [JsonPropertyName("definition")] public ConfigDefinition? Definition { get; set; }
    [JsonPropertyName("value")] public ConfigValue? Value { get; set; }
    [JsonPropertyName("metadata")] public JsonElement? Metadata { get; set; }
}

public sealed class ConfigDefinition
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("required")] public bool? Required { get; set; }
    [JsonPropertyName("default_value")] public string? DefaultValue { get; set; }
    [JsonPropertyName("importance")] public string? Importance { get; set; }
    [JsonPropertyName("documentation")] public string? Documentation { get; set; }
    [JsonPropertyName("group")] public string? Group { get; set; }
    [JsonPropertyName("display_name")] public string? DisplayName { get; set; }
}

public sealed class ConfigValue
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("value")] public string? Value { get; set; }
    [JsonPropertyName("recommended_values")] public List<string>? RecommendedValues { get; set; }
    [JsonPropertyName("errors")] public List<string>? Errors { get; set; }
    [JsonPropertyName("visible")] public bool? Visible { get; set; }
}

/// <summary><c>connect.v1.ConnectorOffsets</c> (preview API).</summary>
public sealed class ConnectorOffsets
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("offsets")] public List<PartitionOffset>? Offsets { get; set; }
    [JsonPropertyName("metadata")] public OffsetsMetadata? Metadata { get; set; }
}

public sealed class PartitionOffset
{
    [JsonPropertyName("partition")] public Dictionary<string, JsonElement>? Partition { get; set; }
    [JsonPropertyName("offset")] public Dictionary<string, JsonElement>? Offset { get; set; }
}

public sealed class OffsetsMetadata
{
    [JsonPropertyName("observed_at")] public DateTimeOffset? ObservedAt { get; set; }
}

/// <summary><c>connect.v1.AlterOffsetRequest</c>: PATCH moves the given partitions, DELETE resets the connector as if new.</summary>
public sealed class AlterOffsetsRequest
{
    public const string Patch = "PATCH";
    public const string Delete = "DELETE";

    [JsonPropertyName("type")] public string Type { get; set; } = Patch;
    [JsonPropertyName("offsets")] public List<PartitionOffset>? Offsets { get; set; }
}

/// <summary><c>connect.v1.AlterOffsetRequestInfo</c>: the request as Confluent recorded it.</summary>
public sealed class AlterOffsetsRequestInfo
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("offsets")] public List<PartitionOffset>? Offsets { get; set; }
    [JsonPropertyName("requested_at")] public DateTimeOffset? RequestedAt { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
}

/// <summary><c>connect.v1.AlterOffsetStatus</c>: the last alter request of a connector and how far it got.</summary>
public sealed class AlterOffsetsStatus
{
    [JsonPropertyName("request")] public AlterOffsetsRequestInfo? Request { get; set; }
    [JsonPropertyName("status")] public AlterOffsetsPhase? Status { get; set; }
    [JsonPropertyName("previous_offsets")] public List<PartitionOffset>? PreviousOffsets { get; set; }
    // A string: the recorded value ("2024-02-20T15:14:20+0000") is not always RFC 3339.
    [JsonPropertyName("applied_at")] public string? AppliedAt { get; set; }
}

public sealed class AlterOffsetsPhase
{
    public const string Pending = "PENDING";
    public const string PendingValidation = "PENDING_VALIDATION";
    public const string Applied = "APPLIED";
    public const string Failed = "FAILED";

    [JsonPropertyName("phase")] public string? Phase { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
}
