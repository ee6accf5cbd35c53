using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConnectOperator.Confluent.Metrics;

/// <summary>The Connect metrics the operator reads (Metrics API v2, dataset <c>cloud</c>).</summary>
public static class ConnectMetrics
{
    public const string SentRecords = "io.confluent.kafka.connect/sent_records";
    public const string ReceivedRecords = "io.confluent.kafka.connect/received_records";
    public const string DeadLetterQueueRecords = "io.confluent.kafka.connect/dead_letter_queue_records";
    public const string SentBytes = "io.confluent.kafka.connect/sent_bytes";
    public const string ReceivedBytes = "io.confluent.kafka.connect/received_bytes";

    /// <summary>The label that names a connector (<c>lcc-…</c>).</summary>
    public const string ConnectorIdLabel = "resource.connector.id";

    /// <summary>The spec's maximum <c>limit</c> (groups per response).</summary>
    public const int MaxGroups = 1000;
}

/// <summary>
/// Builds the <c>POST /v2/metrics/cloud/query</c> body and parses its response. Pure functions, unit-tested:
/// SUM of one metric, <c>group_by: [resource.connector.id]</c>, filter <c>resource.connector.id EQ id</c> (an OR of EQ
/// filters for several ids: the spec's FieldFilter has no IN), granularity PT1M over one whole minute, FLAT format.
/// </summary>
public static class MetricsQuery
{
    /// <summary>The one-minute bucket that ended at least <paramref name="lag"/> before <paramref name="now"/> (metric data arrives late).</summary>
    public static DateTimeOffset LastCompleteMinute(DateTimeOffset now, TimeSpan lag)
    {
        var t = now.ToUniversalTime() - lag - TimeSpan.FromMinutes(1);
        return new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, TimeSpan.Zero);
    }

    /// <summary>ISO-8601 <c>start/PT1M</c>, start in UTC with seconds.</summary>
    public static string Interval(DateTimeOffset minuteStart)
        => minuteStart.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) + "/PT1M";

    public static JsonObject Build(string metric, IReadOnlyCollection<string> connectorIds, DateTimeOffset minuteStart)
    {
        ArgumentException.ThrowIfNullOrEmpty(metric);
        var ids = connectorIds.Where(i => !string.IsNullOrEmpty(i)).Distinct(StringComparer.Ordinal).OrderBy(i => i, StringComparer.Ordinal).ToList();
        if (ids.Count == 0) throw new ArgumentException("at least one connector id is required", nameof(connectorIds));
        if (ids.Count > ConnectMetrics.MaxGroups) throw new ArgumentException($"at most {ConnectMetrics.MaxGroups} connector ids per query", nameof(connectorIds));
        JsonObject Eq(string id) => new() { ["field"] = ConnectMetrics.ConnectorIdLabel, ["op"] = "EQ", ["value"] = id };
        JsonNode filter = ids.Count == 1
            ? Eq(ids[0])
            : new JsonObject { ["op"] = "OR", ["filters"] = new JsonArray(ids.Select(i => (JsonNode)Eq(i)).ToArray()) };
        return new JsonObject
        {
            ["aggregations"] = new JsonArray(new JsonObject { ["metric"] = metric, ["agg"] = "SUM" }),
            ["group_by"] = new JsonArray(ConnectMetrics.ConnectorIdLabel),
            ["granularity"] = "PT1M",
            ["filter"] = filter,
            ["intervals"] = new JsonArray(Interval(minuteStart)),
            ["limit"] = Math.Max(ids.Count, 1),
            ["format"] = "FLAT",
        };
    }

    /// <summary>
    /// Sums the points per connector id, for a FLAT (<c>data: [{timestamp, value, resource.connector.id}]</c>) or
    /// GROUPED (<c>data: [{resource.connector.id, points: [{timestamp, value}]}]</c>) response. Points without the label
    /// are ignored.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Parse(string json)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            throw new FormatException("metrics response has no data array");
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object) continue;
            if (!item.TryGetProperty(ConnectMetrics.ConnectorIdLabel, out var idEl) || idEl.ValueKind != JsonValueKind.String) continue;
            var id = idEl.GetString()!;
            double sum = 0;
            if (item.TryGetProperty("points", out var points) && points.ValueKind == JsonValueKind.Array)
            {
                foreach (var p in points.EnumerateArray()) sum += ValueOf(p);
            }
            else sum = ValueOf(item);
            result[id] = result.GetValueOrDefault(id) + sum;
        }
        return result;
    }

    private static double ValueOf(JsonElement point)
        => point.ValueKind == JsonValueKind.Object && point.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
}
