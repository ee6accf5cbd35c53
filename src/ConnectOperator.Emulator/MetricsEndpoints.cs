using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;

namespace ConnectOperator.Emulator;

/// <summary>
/// <c>POST /v2/metrics/{dataset}/query</c> of the Metrics API v2, for the Connect metrics of the emulated connectors.
/// Honours what the operator uses: one SUM aggregation, <c>group_by</c> on <c>resource.connector.id</c> and/or
/// <c>resource.kafka.id</c>, filters (EQ/GT/GTE on those labels, AND/OR, NOT), granularity, intervals
/// (<c>start/duration</c> or <c>start/end</c>), <c>limit</c> and FLAT/GROUPED. Malformed requests get 400 in the spec's
/// ErrorResponse shape. The key's environment/cluster scope limits which connectors it sees.
/// </summary>
public static class MetricsEndpoints
{
    public const string Route = "/v2/metrics/{dataset}/query";
    internal const string KeyItem = "emulator.apiKey";

    public const string ConnectorIdLabel = "resource.connector.id";
    public const string KafkaIdLabel = "resource.kafka.id";
    private static readonly string[] Labels = [ConnectorIdLabel, KafkaIdLabel];

    public static readonly IReadOnlyList<string> Metrics =
    [
        "io.confluent.kafka.connect/sent_records", "io.confluent.kafka.connect/received_records", "io.confluent.kafka.connect/sent_bytes",
        "io.confluent.kafka.connect/received_bytes", "io.confluent.kafka.connect/dead_letter_queue_records",
    ];

    private static readonly string[] Granularities = ["PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT4H", "PT6H", "PT12H", "P1D", "ALL"];

    /// <summary>Spec ErrorResponse: <c>{"errors":[{"status":"400","detail":"…"}]}</c>.</summary>
    public static IResult Error(int status, string detail) =>
        Results.Json(new JsonObject
        {
            ["errors"] = new JsonArray(new JsonObject { ["status"] = status.ToString(CultureInfo.InvariantCulture), ["detail"] = detail }),
        }, EmulatorApp.Json, statusCode: status);

    internal static void Map(WebApplication app, EmulatorState state)
    {
        app.MapPost(Route, async (string dataset, HttpContext ctx) =>
        {
            if (dataset != "cloud") return Error(404, $"dataset '{dataset}' not found");
            JsonNode? body;
            try { body = await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted); }
            catch (JsonException e) { return Error(400, "malformed JSON: " + e.Message); }
            if (body is not JsonObject q) return Error(400, "request body must be a QueryRequest object");
            var key = ctx.Items[KeyItem] as EmulatorApiKey;
            try { return Results.Json(Query(q, state, key), EmulatorApp.Json); }
            catch (BadQueryException e) { return Error(400, e.Message); }
        });
    }

    private sealed class BadQueryException(string message) : Exception(message);

    private static JsonObject Query(JsonObject q, EmulatorState state, EmulatorApiKey? key)
    {
        if (q["aggregations"] is not JsonArray { Count: 1 } aggs || aggs[0] is not JsonObject agg)
            throw new BadQueryException("aggregations must hold exactly one aggregation");
        var metric = Str(agg["metric"]) ?? throw new BadQueryException("aggregations[0].metric is required");
        if (!Metrics.Contains(metric)) throw new BadQueryException($"unknown metric '{metric}'");
        if (agg["agg"] is { } a && Str(a) != "SUM") throw new BadQueryException("aggregations[0].agg must be SUM");

        var granularity = Str(q["granularity"]) ?? throw new BadQueryException("granularity is required");
        if (!Granularities.Contains(granularity)) throw new BadQueryException($"granularity '{granularity}' is not supported");
        if (q["intervals"] is not JsonArray { Count: > 0 } intervals) throw new BadQueryException("intervals must hold at least one interval");

        var groupBy = new List<string>();
        if (q["group_by"] is { } gb)
        {
            if (gb is not JsonArray arr) throw new BadQueryException("group_by must be an array");
            foreach (var g in arr)
            {
                var label = Str(g) ?? throw new BadQueryException("group_by items must be strings");
                if (!Labels.Contains(label)) throw new BadQueryException($"cannot group by '{label}'");
                groupBy.Add(label);
            }
        }
        var format = Str(q["format"]) ?? "FLAT";
        if (format is not ("FLAT" or "GROUPED")) throw new BadQueryException($"format '{format}' is not supported");
        if (format == "GROUPED" && groupBy.Count == 0) throw new BadQueryException("GROUPED format requires group_by");
        var limit = 100;
        if (q["limit"] is { } l)
        {
            if (l is not JsonValue lv || !lv.TryGetValue<int>(out limit) || limit < 1 || limit > 1000) throw new BadQueryException("limit must be an integer from 1 to 1000");
        }
        var filter = q["filter"];
        if (filter != null) Validate(filter, 0);

        var buckets = new List<(DateTimeOffset Start, TimeSpan Length)>();
        foreach (var i in intervals)
        {
            var (start, end) = ParseInterval(Str(i) ?? throw new BadQueryException("intervals must be strings"));
            if (granularity == "ALL") { buckets.Add((start, end - start)); continue; }
            var g = XmlConvert.ToTimeSpan(granularity);
            var t = new DateTimeOffset(start.UtcTicks - start.UtcTicks % g.Ticks, TimeSpan.Zero);
            for (; t < end; t += g)
            {
                buckets.Add((t, g));
                if (buckets.Count > 1440) throw new BadQueryException("the interval is too long for the granularity");
            }
        }
        buckets = buckets.Distinct().OrderByDescending(b => b.Start).ToList();

        var now = state.Now;
        var groups = new SortedDictionary<string, (Dictionary<string, string> Labels, List<double> Values)>(StringComparer.Ordinal);
        lock (state.Lock)
        {
            foreach (var c in state.Connectors)
            {
                if (key != null && !key.Allows(c.EnvironmentId, c.ClusterId)) continue;
                var labels = new Dictionary<string, string> { [ConnectorIdLabel] = c.Id, [KafkaIdLabel] = c.ClusterId };
                if (filter != null && !Matches(filter, labels)) continue;
                var groupLabels = groupBy.ToDictionary(g => g, g => labels[g]);
                var groupKey = string.Join("\u0001", groupBy.Select(g => labels[g]));
                if (!groups.TryGetValue(groupKey, out var grp)) groups[groupKey] = grp = (groupLabels, buckets.Select(_ => 0.0).ToList());
                for (var b = 0; b < buckets.Count; b++) grp.Values[b] += Value(c, metric, buckets[b].Start, buckets[b].Length, now);
            }
        }

        var data = new JsonArray();
        foreach (var (labels, values) in groups.Values.Take(limit))
        {
            if (format == "GROUPED")
            {
                var g = new JsonObject();
                foreach (var (k, v) in labels) g[k] = v;
                g["points"] = new JsonArray(buckets.Select((b, i) => (JsonNode)new JsonObject { ["timestamp"] = Ts(b.Start), ["value"] = values[i] }).ToArray());
                data.Add(g);
            }
            else
            {
                for (var i = 0; i < buckets.Count; i++)
                {
                    var p = new JsonObject { ["timestamp"] = Ts(buckets[i].Start), ["value"] = values[i] };
                    foreach (var (k, v) in labels) p[k] = v;
                    data.Add(p);
                }
            }
        }
        return new JsonObject { ["data"] = data };
    }

    /// <summary>
    /// The emulated value of <paramref name="metric"/> for one connector over one bucket. RUNNING/DEGRADED connectors
    /// move <c>600 × running tasks</c> records a minute (±25 % over a 30-minute cycle, per minute deterministic), the
    /// dead-letter queue gets one record in every fourth minute; PROVISIONING, PAUSED and FAILED connectors (their
    /// state now: the emulator keeps no history) produce 0. Bytes are 200 per record.
    /// </summary>
    public static double Value(EmulatedConnector c, string metric, DateTimeOffset bucketStart, TimeSpan bucketLength, DateTimeOffset now)
    {
        var state = c.StateAt(now);
        if (state is not ("RUNNING" or "DEGRADED")) return 0;
        var tasks = Math.Max(0, c.TaskCount - c.TaskFailures.Count);
        var minutes = Math.Max(1, (int)Math.Round(bucketLength.TotalMinutes));
        var first = bucketStart.ToUnixTimeSeconds() / 60;
        var seed = c.Id.Aggregate(17, (h, ch) => h * 31 + ch) & 0x7fffffff;
        double received = 0, dlq = 0;
        for (var m = first; m < first + minutes; m++)
        {
            received += Math.Round(600 * tasks * (1 + 0.25 * Math.Sin(2 * Math.PI * ((m + seed) % 30) / 30.0)));
            if ((m + seed) % 4 == 0 && tasks > 0) dlq += 1;
        }
        var sent = received - dlq;
        return metric switch
        {
            "io.confluent.kafka.connect/received_records" => received,
            "io.confluent.kafka.connect/sent_records" => sent,
            "io.confluent.kafka.connect/dead_letter_queue_records" => dlq,
            "io.confluent.kafka.connect/received_bytes" => received * 200,
            "io.confluent.kafka.connect/sent_bytes" => sent * 200,
            _ => 0,
        };
    }

    private static string Ts(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static (DateTimeOffset Start, DateTimeOffset End) ParseInterval(string s)
    {
        var parts = s.Split('/');
        if (parts.Length != 2) throw new BadQueryException($"interval '{s}' is not <start>/<end>, <start>/<duration> or <duration>/<end>");
        DateTimeOffset? Time(string x) => DateTimeOffset.TryParse(x, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
        TimeSpan? Dur(string x) { try { return x.StartsWith('P') ? XmlConvert.ToTimeSpan(x) : null; } catch (FormatException) { return null; } }
        DateTimeOffset start, end;
        if (Time(parts[0]) is { } a && Time(parts[1]) is { } b) (start, end) = (a, b);
        else if (Time(parts[0]) is { } a2 && Dur(parts[1]) is { } d) (start, end) = (a2, a2 + d);
        else if (Dur(parts[0]) is { } d2 && Time(parts[1]) is { } b2) (start, end) = (b2 - d2, b2);
        else throw new BadQueryException($"interval '{s}' is not a valid ISO-8601 interval");
        if (end <= start) throw new BadQueryException($"interval '{s}' is empty");
        return (start, end);
    }

    private static void Validate(JsonNode f, int depth)
    {
        if (depth > 32 || f is not JsonObject o) throw new BadQueryException("filter must be an object");
        switch (Str(o["op"]))
        {
            case "EQ" or "GT" or "GTE":
                if (Str(o["field"]) is null) throw new BadQueryException("a field filter needs field");
                if (o["value"] is not JsonValue) throw new BadQueryException("a field filter needs a string or integer value");
                break;
            case "AND" or "OR":
                if (o["filters"] is not JsonArray fs) throw new BadQueryException("a compound filter needs filters");
                foreach (var x in fs) Validate(x!, depth + 1);
                break;
            case "NOT":
                Validate(o["filter"] ?? throw new BadQueryException("a unary filter needs filter"), depth + 1);
                break;
            default:
                throw new BadQueryException($"unknown filter op '{Str(o["op"])}'");
        }
    }

    private static bool Matches(JsonNode f, IReadOnlyDictionary<string, string> labels)
    {
        var o = (JsonObject)f;
        switch (Str(o["op"]))
        {
            case "AND": return ((JsonArray)o["filters"]!).All(x => Matches(x!, labels));
            case "OR": return ((JsonArray)o["filters"]!).Any(x => Matches(x!, labels));
            case "NOT": return !Matches(o["filter"]!, labels);
        }
        if (!labels.TryGetValue(Str(o["field"])!, out var actual)) return false;
        var value = o["value"]!.ToString();
        var cmp = string.CompareOrdinal(actual, value);
        return Str(o["op"]) switch { "EQ" => cmp == 0, "GT" => cmp > 0, _ => cmp >= 0 };
    }

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
