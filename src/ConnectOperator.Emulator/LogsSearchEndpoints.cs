using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ConnectOperator.Emulator;

/// <summary>
/// Emulates Confluent Cloud's logs search API for connectors, which has no public spec:
/// <c>POST /logs/v1/search</c> with a bearer token and <c>{crn, search:{level:[…]}, start_time, end_time, page_size}</c>;
/// the CRN names the connector (<c>…/connector=lcc-…</c>). Like the real service it keeps about 72 h of history and
/// allows 5 searches per minute per connector (429 with Retry-After beyond that). It answers plausible lines for the
/// connector's life (created, provisioned, tasks started, paused) and every failure injected through the admin
/// endpoints (remembered even after a restart clears it) or present now, with the trace as stack trace.
/// The accepted token is <c>Emulator:LogsToken</c> (default <c>emulator-logs-token</c>).
/// </summary>
public static partial class LogsSearchEndpoints
{
    public const string Path = "/logs/v1/search";
    public const string DefaultToken = "emulator-logs-token";
    public static readonly TimeSpan Retention = TimeSpan.FromHours(72);
    public const int RequestsPerMinute = 5;

    private sealed record Recorded(DateTimeOffset At, string Env, string Cluster, string Name, int? Task, string Trace);

    /// <summary>Adds the logs search endpoint and the failure recorder in front of the Connect middleware.</summary>
    public static void Use(WebApplication app, EmulatorState state)
    {
        var token = app.Configuration["Emulator:LogsToken"] ?? DefaultToken;
        var history = new ConcurrentQueue<Recorded>();
        var calls = new ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>>(StringComparer.Ordinal);
        app.Use(async (ctx, next) =>
        {
            var path = ctx.Request.Path.Value ?? "";
            if (path == Path)
            {
                await SearchAsync(ctx, state, token, history, calls);
                return;
            }
            if (HttpMethods.IsPost(ctx.Request.Method) && FailPath().Match(path) is { Success: true } m)
            {
                ctx.Request.EnableBuffering();
                string? trace = null;
                try
                {
                    using var doc = await JsonDocument.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted);
                    if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("trace", out var t) && t.ValueKind == JsonValueKind.String)
                        trace = t.GetString();
                }
                catch (JsonException) { }
                ctx.Request.Body.Position = 0;
                await next(ctx);
                if (ctx.Response.StatusCode is >= 200 and < 300)
                {
                    int? task = m.Groups["task"].Success ? int.Parse(m.Groups["task"].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
                    var name = Uri.UnescapeDataString(m.Groups["name"].Value);
                    var c = state.Find(m.Groups["env"].Value, m.Groups["cluster"].Value, name);
                    trace ??= task is null ? c?.FailureTrace : c?.TaskFailures.GetValueOrDefault(task.Value).Trace;
                    history.Enqueue(new Recorded(state.Now, m.Groups["env"].Value, m.Groups["cluster"].Value, name, task, trace ?? "injected failure"));
                    while (history.Count > 10_000) history.TryDequeue(out _);
                }
                return;
            }
            await next(ctx);
        });
    }

    [GeneratedRegex("^/emulator/environments/(?<env>[^/]+)/clusters/(?<cluster>[^/]+)/connectors/(?<name>[^/]+)(/tasks/(?<task>[0-9]+))?/fail$")]
    private static partial Regex FailPath();

    [GeneratedRegex("(^|/)connector=(?<id>lcc-[a-z0-9]+)($|/)")]
    private static partial Regex ConnectorCrn();

    private static async Task SearchAsync(HttpContext ctx, EmulatorState state, string token, ConcurrentQueue<Recorded> history,
        ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> calls)
    {
        if (!HttpMethods.IsPost(ctx.Request.Method)) { await Error(405, "use POST").ExecuteAsync(ctx); return; }
        var auth = ctx.Request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || auth[7..].Trim() != token)
        {
            await Error(401, "Unauthorized").ExecuteAsync(ctx);
            return;
        }
        JsonNode? body;
        try { body = await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted); }
        catch (JsonException e) { await Error(400, "malformed JSON: " + e.Message).ExecuteAsync(ctx); return; }
        var crn = body?["crn"]?.GetValue<string>();
        var id = crn is null ? null : ConnectorCrn().Match(crn) is { Success: true } cm ? cm.Groups["id"].Value : null;
        if (id is null) { await Error(400, "crn must name a connector: crn://confluent.cloud/…/connector=lcc-…").ExecuteAsync(ctx); return; }

        var now = state.Now;
        var start = ParseTime(body?["start_time"]) ?? now - TimeSpan.FromHours(1);
        var end = ParseTime(body?["end_time"]) ?? now;
        if (start < now - Retention - TimeSpan.FromMinutes(1))
        {
            await Error(400, "start_time is outside the retention of 72 hours").ExecuteAsync(ctx);
            return;
        }
        var window = calls.GetOrAdd(id, _ => new ConcurrentQueue<DateTimeOffset>());
        lock (window)
        {
            while (window.TryPeek(out var t) && now - t >= TimeSpan.FromMinutes(1)) window.TryDequeue(out _);
            if (window.Count >= RequestsPerMinute)
            {
                window.TryPeek(out var oldest);
                var retry = Math.Max(1, (int)Math.Ceiling((oldest + TimeSpan.FromMinutes(1) - now).TotalSeconds));
                ctx.Response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Error(429, $"rate limit of {RequestsPerMinute} requests per minute for {id} exceeded").ExecuteAsync(ctx).GetAwaiter().GetResult();
                return;
            }
            window.Enqueue(now);
        }

        var levels = (body?["search"]?["level"] as JsonArray)?.Select(l => l?.GetValue<string>()?.ToUpperInvariant()).Where(l => l != null).ToHashSet()
                     ?? new HashSet<string?> { "ERROR", "WARN", "INFO" };
        var pageSize = body?["page_size"]?.GetValue<int>() is { } ps and > 0 ? Math.Min(ps, 1000) : 200;
        var connector = state.Connectors.FirstOrDefault(c => c.Id == id);
        var lines = connector is null ? new List<JsonObject>() : Lines(connector, history, now);
        var data = lines.Where(l => levels.Contains(l["level"]!.GetValue<string>()))
            .Where(l => DateTimeOffset.Parse(l["timestamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) is var t && t >= start && t <= end)
            .TakeLast(pageSize).ToList();
        var result = new JsonObject
        {
            ["api_version"] = "logs/v1",
            ["kind"] = "SearchResult",
            ["data"] = new JsonArray(data.Select(d => (JsonNode)d).ToArray()),
            ["metadata"] = new JsonObject { ["next"] = null },
        };
        await Results.Json(result, EmulatorApp.Json).ExecuteAsync(ctx);
    }

    private static List<JsonObject> Lines(EmulatedConnector c, ConcurrentQueue<Recorded> history, DateTimeOffset now)
    {
        var lines = new List<(DateTimeOffset At, JsonObject Line)>();
        void Add(DateTimeOffset at, string level, string? task, string message, string? stack = null)
        {
            var o = new JsonObject
            {
                ["timestamp"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
                ["level"] = level,
                ["task_id"] = task,
                ["id"] = Guid.NewGuid().ToString(),
                ["message"] = message,
            };
            if (stack != null) o["exception"] = new JsonObject { ["stacktrace"] = stack };
            lines.Add((at, o));
        }
        Add(c.CreatedAt, "INFO", null, $"Connector {c.Name} ({c.ConnectorClass ?? "unknown class"}) created; provisioning {c.TaskCount} task(s)");
        if (c.ReadyAt <= now)
        {
            Add(c.ReadyAt, "INFO", null, $"Connector {c.Name} provisioned");
            for (var i = 0; i < c.TaskCount; i++) Add(c.ReadyAt, "INFO", $"task-{i}", $"WorkerSourceTask{{id={c.Name}-{i}}} Executing task {i}");
        }
        var recorded = history.Where(r => r.Env == c.EnvironmentId && r.Cluster == c.ClusterId && r.Name == c.Name && r.At >= c.CreatedAt).ToList();
        foreach (var r in recorded)
            Add(r.At, "ERROR", r.Task is { } t ? $"task-{t}" : null,
                r.Task is { } tt ? $"Task {c.Name}-{tt} threw an uncaught and unrecoverable exception" : $"Connector {c.Name} failed", r.Trace);
        if (c.FailureTrace != null && recorded.All(r => r.Task != null || r.Trace != c.FailureTrace))
            Add(now, "ERROR", null, $"Connector {c.Name} failed", c.FailureTrace);
        foreach (var (task, (taskState, trace)) in c.TaskFailures)
            if (recorded.All(r => r.Task != task || r.Trace != trace))
                Add(now, "ERROR", $"task-{task}", $"Task {c.Name}-{task} is {taskState}", trace);
        if (c.RestartCount > 0) Add(now, "INFO", null, $"Connector {c.Name} restarted {c.RestartCount} time(s) since creation");
        if (c.Paused) Add(now, "INFO", null, $"Connector {c.Name} paused");
        if (c.ReadyAt <= now && c.FailureTrace == null && c.TaskFailures.Count == 0 && !c.Paused)
            Add(now, "WARN", null, $"Connector {c.Name}: no records for 60s on some partitions (emulated)");
        return lines.OrderBy(l => l.At).Select(l => l.Line).ToList();
    }

    private static DateTimeOffset? ParseTime(JsonNode? node)
        => node?.GetValue<string>() is { } s && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private static IResult Error(int code, string message) =>
        Results.Json(new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["status"] = code.ToString(System.Globalization.CultureInfo.InvariantCulture), ["detail"] = message }) },
            EmulatorApp.Json, statusCode: code);
}
