using System.Collections.Concurrent;
using ConnectOperator.Confluent;
using Serilog.Core;
using Serilog.Events;

namespace ConnectOperator.Hosting;

/// <summary>
/// Secret values the operator has read (Confluent API keys and secrets, spec.secretConfig values), so that the log
/// safety net can scrub them wherever they would otherwise appear. Process-wide, thread-safe, bounded. Values shorter
/// than <see cref="MinLength"/> are ignored: scrubbing "1" or "true" from every log line would destroy the logs and
/// protect nothing.
/// </summary>
public static class SecretValueRegistry
{
    public const int MinLength = 6;
    public const int MaxValues = 10_000;

    private static readonly ConcurrentDictionary<string, byte> Values = new(StringComparer.Ordinal);
    private static volatile string[] _snapshot = [];

    /// <summary>Registers <paramref name="value"/> (if long enough and not a masked read) and returns it unchanged.</summary>
    public static string? Register(string? value)
    {
        if (value is null || value.Length < MinLength || ConfigRedactor.IsMasked(value) || Values.ContainsKey(value)) return value;
        if (Values.Count >= MaxValues) return value;
        if (Values.TryAdd(value, 0))
            _snapshot = Values.Keys.OrderByDescending(v => v.Length).ToArray();   // longest first: no partial leftovers
        return value;
    }

    /// <summary>The value of <paramref name="key"/> in <paramref name="secret"/> (null if absent), registered on the way out.</summary>
    public static string? ReadFrom(k8s.Models.V1Secret secret, string key)
    {
        if (secret.Data != null && secret.Data.TryGetValue(key, out var bytes)) return Register(System.Text.Encoding.UTF8.GetString(bytes));
        if (secret.StringData != null && secret.StringData.TryGetValue(key, out var s)) return Register(s);
        return null;
    }

    public static int Count => Values.Count;

    /// <summary>True if <paramref name="text"/> contains a registered value.</summary>
    public static bool Contains(string? text) => !string.IsNullOrEmpty(text) && _snapshot.Any(v => text.Contains(v, StringComparison.Ordinal));

    /// <summary><paramref name="text"/> with every registered value replaced by <see cref="ConfigRedactor.RedactedValue"/>.</summary>
    public static string? Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text;
        foreach (var v in _snapshot)
            if (text.Contains(v, StringComparison.Ordinal)) text = text.Replace(v, ConfigRedactor.RedactedValue, StringComparison.Ordinal);
        return text;
    }

    /// <summary>For tests only.</summary>
    internal static void Clear()
    {
        Values.Clear();
        _snapshot = [];
    }
}

/// <summary>
/// Safety net for operator logs: before an event reaches any sink, every property whose name (or, in a dictionary,
/// whose key) looks sensitive (<see cref="ConfigRedactor.IsSensitiveKey"/>: password, secret, key, token, credentials)
/// is replaced by <c>[REDACTED]</c>, and every known secret value (<see cref="SecretValueRegistry"/>) is scrubbed from
/// all string values, however deeply nested. The rendered message (<c>@m</c>) is built from these properties, so it is
/// clean too. Not covered (an enricher cannot rewrite them): the literal text of a message template and the text of
/// an attached exception; the code must not put secrets there (see docs/handbook/06-troubleshooting.md).
/// </summary>
public sealed class SecretRedactionEnricher(ConfigRedactor? redactor = null) : ILogEventEnricher
{
    private readonly ConfigRedactor _redactor = redactor ?? ConfigRedactor.Default;

    /// <summary>Property names that carry identifiers, not secrets, although they contain "key" (e.g. the work-queue key).</summary>
    private static readonly HashSet<string> Allowed = new(StringComparer.OrdinalIgnoreCase) { "SourceContext", "EventId", "Key", "RequestKey", "ApiKeyKey", "ApiSecretKey" };

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? changed = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            var redacted = IsSensitive(name) ? Redacted : Clean(value);
            if (!ReferenceEquals(redacted, value)) (changed ??= new()).Add(new LogEventProperty(name, redacted));
        }
        if (changed != null) foreach (var p in changed) logEvent.AddOrUpdateProperty(p);
    }

    private static readonly ScalarValue Redacted = new(ConfigRedactor.RedactedValue);

    private bool IsSensitive(string name) => !Allowed.Contains(name) && _redactor.IsSensitiveKey(name);

    /// <summary>The value with secrets removed; the same instance if nothing changed.</summary>
    private LogEventPropertyValue Clean(LogEventPropertyValue value)
    {
        switch (value)
        {
            case ScalarValue { Value: string s }:
                var scrubbed = SecretValueRegistry.Scrub(s);
                return ReferenceEquals(scrubbed, s) || scrubbed == s ? value : new ScalarValue(scrubbed);
            case ScalarValue:
                return value;
            case SequenceValue seq:
            {
                var items = seq.Elements.Select(Clean).ToList();
                return items.Where((v, i) => !ReferenceEquals(v, seq.Elements[i])).Any() ? new SequenceValue(items) : value;
            }
            case StructureValue st:
            {
                var props = st.Properties.Select(p => IsSensitive(p.Name) ? new LogEventProperty(p.Name, Redacted) : Rebuild(p)).ToList();
                return props.Where((p, i) => !ReferenceEquals(p.Value, st.Properties[i].Value)).Any() ? new StructureValue(props, st.TypeTag) : value;
            }
            case DictionaryValue dict:
            {
                var any = false;
                var entries = new List<KeyValuePair<ScalarValue, LogEventPropertyValue>>();
                foreach (var (k, v) in dict.Elements)
                {
                    var keyText = k.Value?.ToString() ?? "";
                    var nv = IsSensitive(keyText) ? Redacted : Clean(v);
                    var nk = k.Value is string ks && SecretValueRegistry.Scrub(ks) is { } sk && sk != ks ? new ScalarValue(sk) : k;
                    any |= !ReferenceEquals(nv, v) || !ReferenceEquals(nk, k);
                    entries.Add(new(nk, nv));
                }
                return any ? new DictionaryValue(entries) : value;
            }
            default:
                return value;
        }
    }

    private LogEventProperty Rebuild(LogEventProperty p)
    {
        var v = Clean(p.Value);
        return ReferenceEquals(v, p.Value) ? p : new LogEventProperty(p.Name, v);
    }
}

/// <summary>
/// The last line of defence, at the sink: formats the event as it will be written, then scrubs every known secret
/// value from the whole line — message template text and exception text included, which the enricher cannot reach.
/// </summary>
public sealed class ScrubbingSink(Serilog.Formatting.ITextFormatter formatter, TextWriter output) : Serilog.Core.ILogEventSink
{
    private readonly object _lock = new();

    public void Emit(LogEvent logEvent)
    {
        using var buffer = new StringWriter();
        formatter.Format(logEvent, buffer);
        var line = SecretValueRegistry.Scrub(buffer.ToString());
        lock (_lock)
        {
            output.Write(line);
            output.Flush();
        }
    }
}
