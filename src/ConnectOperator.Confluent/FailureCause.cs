using System.Text.Json;

namespace ConnectOperator.Confluent;

/// <summary>
/// The most specific reason Confluent gives for a connector's failure, from one status body. Real bodies carry
/// <c>"trace": ""</c> and task <c>"msg": ""</c> when there is nothing to say, so an empty string counts as absent, and the
/// fields the spec does not describe (<c>errors_from_trace</c>, <c>validation_errors</c>, <c>override_message</c>) are the
/// last resort. Order: connector trace, then the first failed task's message, then those fields.
/// </summary>
public static class FailureCause
{
    private static readonly HashSet<string> FailedTaskStates = new(StringComparer.Ordinal) { "FAILED", "SYSTEM_ERROR", "USER_ACTIONABLE_ERROR" };

    public static bool IsFailedTaskState(string? state) => state != null && FailedTaskStates.Contains(state);

    /// <summary>Null when the body says nothing about a cause.</summary>
    public static string? Of(ConnectorStatus? status)
    {
        if (status is null) return null;
        if (NonEmpty(status.Connector.Trace) is { } trace) return trace;
        if (status.Tasks is { } tasks)
            foreach (var t in tasks.Where(t => IsFailedTaskState(t.State)).OrderBy(t => t.Id))
                if (NonEmpty(t.Msg) is { } msg) return $"task {t.Id}: {msg}";
        if (FirstText(status.ErrorsFromTrace) is { } fromTrace) return fromTrace;
        if (status.ValidationErrors is { Count: > 0 } validation)
        {
            var texts = validation.Select(Text).OfType<string>().ToList();
            if (texts.Count > 0) return "config validation: " + string.Join("; ", texts);
        }
        return NonEmpty(status.OverrideMessage);
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static string? FirstText(List<JsonElement>? items) => items?.Select(Text).FirstOrDefault(t => t != null);

    /// <summary>A string item as it is; an object by its usual message fields; anything else as compact JSON.</summary>
    internal static string? Text(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                return NonEmpty(e.GetString());
            case JsonValueKind.Object:
                var hasMessageField = false;
                foreach (var name in (ReadOnlySpan<string>)["error", "message", "msg", "detail", "description"])
                {
                    if (!e.TryGetProperty(name, out var v)) continue;
                    hasMessageField = true;
                    if (v.ValueKind == JsonValueKind.String && NonEmpty(v.GetString()) is { } text)
                    {
                        var field = e.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                        return field is { Length: > 0 } ? $"{field}: {text}" : text;
                    }
                }
                // An item whose message fields are all empty says nothing, like an empty trace.
                return !hasMessageField && e.EnumerateObject().Any() ? e.GetRawText() : null;
            case JsonValueKind.Array:
                return e.GetArrayLength() > 0 ? e.GetRawText() : null;
            case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                return e.GetRawText();
            default:
                return null;
        }
    }
}
