namespace ConnectOperator.Confluent;

/// <summary>
/// Decides which connector config keys are sensitive and removes their values from anything that may be logged or
/// put in an exception: redacted copies of config, and scrubbing of free text (vendor messages) that may echo values.
/// </summary>
public sealed class ConfigRedactor
{
    public const string RedactedValue = "[REDACTED]";

    /// <summary>Case-insensitive substrings of a key that make it sensitive.</summary>
    public static readonly IReadOnlyList<string> DefaultSensitivePatterns = ["password", "secret", "key", "token", "credentials"];

    /// <summary>Reserved Kafka keys always treated as sensitive.</summary>
    public static readonly IReadOnlyList<string> ReservedSensitiveKeys = ["kafka.api.key", "kafka.api.secret"];

    public static ConfigRedactor Default { get; } = new();

    private readonly string[] _patterns;
    private readonly HashSet<string> _keys;

    public ConfigRedactor(IEnumerable<string>? extraPatterns = null, IEnumerable<string>? extraKeys = null)
    {
        _patterns = DefaultSensitivePatterns.Concat(extraPatterns ?? []).ToArray();
        _keys = new HashSet<string>(ReservedSensitiveKeys.Concat(extraKeys ?? []), StringComparer.OrdinalIgnoreCase);
    }

    public bool IsSensitiveKey(string key) =>
        _keys.Contains(key) || _patterns.Any(p => key.Contains(p, StringComparison.OrdinalIgnoreCase));

    /// <summary>A copy of <paramref name="config"/> with sensitive values replaced by <see cref="RedactedValue"/>.</summary>
    public IReadOnlyDictionary<string, string> Redact(IEnumerable<KeyValuePair<string, string>>? config)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (config == null) return result;
        foreach (var (k, v) in config) result[k] = IsSensitiveKey(k) ? RedactedValue : v;
        return result;
    }

    /// <summary>
    /// Replaces every verbatim occurrence of a secret value of <paramref name="config"/> in <paramref name="text"/>: the
    /// values of sensitive-named keys and of <paramref name="secretKeys"/>, however short.
    /// </summary>
    public string? Scrub(string? text, IEnumerable<KeyValuePair<string, string>>? config, IReadOnlyCollection<string>? secretKeys = null)
    {
        if (string.IsNullOrEmpty(text) || config == null) return text;
        var secrets = config.Where(kv => (IsSensitiveKey(kv.Key) || (secretKeys?.Contains(kv.Key) ?? false)) && !string.IsNullOrEmpty(kv.Value) && !IsMasked(kv.Value))
            .Select(kv => kv.Value);
        return ScrubValues(text, secrets);
    }

    /// <summary>
    /// <paramref name="text"/> with every occurrence of each value replaced by <see cref="RedactedValue"/>, longest first
    /// (so no part of a longer value is left behind), whatever its length: a short secret is still a secret.
    /// </summary>
    public static string? ScrubValues(string? text, IEnumerable<string?> values)
    {
        if (string.IsNullOrEmpty(text)) return text;
        foreach (var v in values.Where(v => !string.IsNullOrEmpty(v) && !IsMasked(v)).Distinct(StringComparer.Ordinal).OrderByDescending(v => v!.Length))
            text = text.Replace(v!, RedactedValue, StringComparison.Ordinal);
        return text;
    }

    /// <summary>How Confluent returns a PASSWORD-type value (recorded: 16 asterisks).</summary>
    public const string Masked = "****************";

    /// <summary>True for values the API masks on read (<c>****************</c>: all asterisks).</summary>
    public static bool IsMasked(string? value) => !string.IsNullOrEmpty(value) && value.All(c => c == '*');
}
