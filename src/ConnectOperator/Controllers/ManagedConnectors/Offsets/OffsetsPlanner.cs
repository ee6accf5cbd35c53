using System.Text.Json;
using ConnectOperator.Confluent;
using ConnectOperator.Entities;

namespace ConnectOperator.Controllers.ManagedConnectors.Offsets;

/// <summary>What the offsets controller should do for one ManagedConnector now.</summary>
public enum OffsetsAction
{
    Nothing,
    Refuse,
    Wait,
    List,
    Alter,
    Reset,
    Poll,
}

public sealed record OffsetsPlan(OffsetsAction Action, string Annotation = "", string Operation = "", string Message = "");

/// <summary>
/// Pure decisions for <c>connect.ebs.io/offsets</c> (Strimzi's KafkaConnector shape: list, alter, reset).
/// <para>
/// The annotation is not removed when the operation is done. An operation runs once per distinct value, recorded in
/// status.offsets.annotation, so a value kept in Git (and re-applied by Argo CD's self-heal) never runs twice, and Git
/// never drifts from the cluster. To run the same operation again, change the value: <c>alter:2</c>, <c>reset:ticket-123</c>.
/// Removing the annotation instead would race with self-heal: Argo CD re-adds it, and an operator that had already
/// seen it gone could not tell the re-added value from a new request.
/// </para>
/// </summary>
public static class OffsetsPlanner
{
    public const string Annotation = "connect.ebs.io/offsets";
    public const string ConfigMapKey = "offsets.json";

    public const string List = "list";
    public const string Alter = "alter";
    public const string Reset = "reset";

    /// <summary>Phases the operator writes itself (Confluent's are PENDING, PENDING_VALIDATION, APPLIED, FAILED).</summary>
    public const string Listed = "Listed";
    public const string Refused = "Refused";
    public const string Waiting = "Waiting";

    public static bool IsInFlight(string? phase) => phase is AlterOffsetsPhase.Pending or AlterOffsetsPhase.PendingValidation;

    /// <summary>list, alter or reset, and an optional <c>:id</c> that only makes the value new.</summary>
    public static string? OperationOf(string value)
    {
        var op = value.Split(':', 2)[0].Trim();
        return op is List or Alter or Reset ? op : null;
    }

    public static OffsetsPlan Plan(V1Alpha1ManagedConnector mc, string? expectedRemoteName)
    {
        if (mc.Metadata.Annotations?.TryGetValue(Annotation, out var value) != true || string.IsNullOrWhiteSpace(value)) return new(OffsetsAction.Nothing);
        var last = mc.Status?.Offsets;
        if (last?.Annotation == value)
        {
            if (IsInFlight(last.Phase)) return new(OffsetsAction.Poll, value, last.Operation ?? "");
            // Waiting and Refused sent nothing to Confluent, so trying again (once the spec or ConfigMap is fixed and the
            // ManagedConnector changes) is still the first run of this value.
            if (last.Phase is not (Waiting or Refused)) return new(OffsetsAction.Nothing);
        }
        if (mc.Metadata.DeletionTimestamp != null) return new(OffsetsAction.Nothing);
        var op = OperationOf(value);
        if (op is null)
            return new(OffsetsAction.Refuse, value, "", $"annotation {Annotation}: \"{value}\" is not list, alter or reset (optionally followed by :<id> to run it again)");
        if (expectedRemoteName is null)
            return new(OffsetsAction.Refuse, value, op, $"namespace {mc.Metadata.NamespaceProperty} has no Department: offsets can only be changed for a department's own connectors");
        if (mc.Status?.ConnectorName != expectedRemoteName || string.IsNullOrEmpty(mc.Status?.ConnectorId))
            return new(OffsetsAction.Wait, value, op, "the connector does not exist in Confluent Cloud yet; the operation runs once it does");
        return op switch
        {
            List when string.IsNullOrEmpty(mc.Spec.ListOffsets?.ToConfigMap.Name)
                => new(OffsetsAction.Refuse, value, op, "set spec.listOffsets.toConfigMap.name: the ConfigMap (in this namespace) to write the offsets to"),
            Alter when string.IsNullOrEmpty(mc.Spec.AlterOffsets?.FromConfigMap.Name)
                => new(OffsetsAction.Refuse, value, op, "set spec.alterOffsets.fromConfigMap.name: the ConfigMap (in this namespace) with the offsets to set"),
            List => new(OffsetsAction.List, value, op),
            Alter => new(OffsetsAction.Alter, value, op),
            _ => new(OffsetsAction.Reset, value, op),
        };
    }

    /// <summary>
    /// Reads a ConfigMap's offsets.json (<c>{"offsets": [{"partition": {…}, "offset": {…}}]}</c>, what list writes) and
    /// checks every Kafka topic it names against the department's topic prefixes: a department may move its own
    /// connectors over its own topics only. Returns the offsets, or the reason they are refused.
    /// </summary>
    public static (List<PartitionOffset>? Offsets, string? Error) ReadAlter(string configMap, IDictionary<string, string>? data, IReadOnlyList<string> topicPrefixes, string department)
    {
        if (data is null || !data.TryGetValue(ConfigMapKey, out var json) || string.IsNullOrWhiteSpace(json))
            return (null, $"ConfigMap {configMap} has no key {ConfigMapKey}: write the offsets there as {{\"offsets\": [{{\"partition\": …, \"offset\": …}}]}} (the shape list writes)");
        ConnectorOffsets? parsed;
        try { parsed = JsonSerializer.Deserialize(json, OffsetsJsonContext.Default.ConnectorOffsets); }
        catch (JsonException e) { return (null, $"ConfigMap {configMap} key {ConfigMapKey} is not valid JSON: {e.Message}"); }
        if (parsed?.Offsets is not { Count: > 0 } offsets)
            return (null, $"ConfigMap {configMap} key {ConfigMapKey} lists no offsets; to start over use {Annotation}: reset");
        foreach (var o in offsets)
        {
            if (o.Partition?.TryGetValue("kafka_topic", out var t) != true || t.ValueKind != JsonValueKind.String) continue;
            var topic = t.GetString()!;
            if (topicPrefixes.Count > 0 && !topicPrefixes.Any(p => topic.StartsWith(p, StringComparison.Ordinal)))
                return (null, $"ConfigMap {configMap} names topic {topic}, which does not start with an allowed prefix of department {department} ({string.Join(", ", topicPrefixes)}); a department can only move offsets of its own topics");
        }
        return (offsets, null);
    }

    public static string Serialize(ConnectorOffsets offsets)
        => JsonSerializer.Serialize(new ConnectorOffsets { Offsets = offsets.Offsets ?? new() }, OffsetsJsonContext.Indented.ConnectorOffsets);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ConnectorOffsets))]
internal sealed partial class OffsetsJsonContext : System.Text.Json.Serialization.JsonSerializerContext
{
    public static OffsetsJsonContext Indented { get; } = new(new JsonSerializerOptions { WriteIndented = true, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });
}
