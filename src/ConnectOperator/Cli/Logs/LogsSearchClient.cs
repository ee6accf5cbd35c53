using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConnectOperator.Cli.Logs;

/// <summary>One log line from Confluent's logs search API.</summary>
public sealed record ConnectorLogLine(DateTimeOffset? Timestamp, string Level, string? TaskId, string Message, string? StackTrace);

/// <summary>The outcome of one search: lines, or an error text (with Retry-After for 429).</summary>
public sealed record LogsSearchResult(IReadOnlyList<ConnectorLogLine> Lines, string? Error, int? StatusCode = null, TimeSpan? RetryAfter = null);

/// <summary>
/// Client for Confluent Cloud's connector logs search (<c>POST {base}/logs/v1/search</c>, bearer token; not in a public
/// spec). It keeps about 72 h and allows 5 searches per minute per connector, so callers make ONE request per invocation.
/// </summary>
public sealed class LogsSearchClient(HttpClient http, Uri baseUrl, string token)
{
    public static readonly TimeSpan MaxHistory = TimeSpan.FromHours(72);
    public static readonly string[] DefaultLevels = ["ERROR", "WARN", "INFO"];

    /// <summary>The connector's CRN. The organization segment is optional here (the connector id is unique).</summary>
    public static string ConnectorCrn(string? organizationId, string environmentId, string clusterId, string connectorId)
        => "crn://confluent.cloud/" + (string.IsNullOrEmpty(organizationId) ? "" : $"organization={organizationId}/")
           + $"environment={environmentId}/cloud-cluster={clusterId}/connector={connectorId}";

    public static JsonObject Request(string crn, DateTimeOffset start, DateTimeOffset end, IEnumerable<string> levels, int pageSize) => new()
    {
        ["crn"] = crn,
        ["search"] = new JsonObject { ["level"] = new JsonArray(levels.Select(l => (JsonNode)l).ToArray()) },
        ["start_time"] = start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        // Whole seconds on the wire: the end is rounded up, or lines from the current second (a failure a moment ago)
        // would fall after it.
        ["end_time"] = CeilingToSecond(end).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        ["sort"] = "asc",
        ["page_size"] = pageSize,
    };

    private static DateTimeOffset CeilingToSecond(DateTimeOffset t)
        => t.UtcTicks % TimeSpan.TicksPerSecond == 0 ? t : new DateTimeOffset(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerSecond + TimeSpan.TicksPerSecond, TimeSpan.Zero);

    public async Task<LogsSearchResult> SearchAsync(string crn, DateTimeOffset start, DateTimeOffset end, IEnumerable<string> levels, int pageSize, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/logs/v1/search"))
        {
            Content = new StringContent(Request(crn, start, end, levels, pageSize).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        HttpResponseMessage response;
        try { response = await http.SendAsync(request, ct); }
        catch (HttpRequestException e) { return new([], $"cannot reach {baseUrl}: {e.Message}"); }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return new([], $"{baseUrl} did not answer in time"); }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var after = response.Headers.RetryAfter?.Delta;
                return new([], $"rate limited (5 searches per minute per connector); try again in {(int)(after?.TotalSeconds ?? 60)} s", 429, after);
            }
            if (!response.IsSuccessStatusCode)
                return new([], $"HTTP {(int)response.StatusCode}: {Detail(text)}", (int)response.StatusCode);
            try
            {
                var data = JsonNode.Parse(text)?["data"] as JsonArray ?? new JsonArray();
                var lines = data.OfType<JsonObject>().Select(d => new ConnectorLogLine(
                    d["timestamp"]?.GetValue<string>() is { } ts && DateTimeOffset.TryParse(ts, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null,
                    d["level"]?.GetValue<string>() ?? "?",
                    d["task_id"]?.GetValue<string>(),
                    d["message"]?.GetValue<string>() ?? "",
                    d["exception"]?["stacktrace"]?.GetValue<string>())).ToList();
                return new(lines, null, (int)response.StatusCode);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                return new([], "unexpected answer: " + e.Message, (int)response.StatusCode);
            }
        }
    }

    private static string Detail(string body)
    {
        try
        {
            var node = JsonNode.Parse(body);
            var d = node?["errors"]?[0]?["detail"]?.GetValue<string>() ?? node?["error"]?["message"]?.GetValue<string>();
            if (d != null) return d;
        }
        catch (JsonException) { }
        return body.Length > 300 ? body[..300] + "…" : body;
    }
}
