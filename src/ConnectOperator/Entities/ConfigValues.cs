using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace ConnectOperator.Entities;

/// <summary>What a <c>spec.config</c> value is, as far as the config rules care.</summary>
public enum ConfigValueKind
{
    Scalar,
    List,
    Map,
}

/// <summary>A broken config rule: the field it names (<c>spec.config[key]</c>) and the message every layer gives.</summary>
public sealed record ConfigViolation(string Field, string Message);

/// <summary>
/// The <c>spec.config</c> rules the CRD cannot state: its values are untyped so that unquoted numbers and booleans are
/// kept as written, and CEL has no type for a map of untyped values, so key format, reserved keys and keys also in
/// <c>spec.secretConfig</c> are checked here, by the admission webhook and by <c>validate</c>, with one wording.
/// The CRD itself still refuses lists and maps (and over-long strings), naming the key.
/// </summary>
public static partial class ConfigRules
{
    public const int MaxKeyLength = 255;
    public const int MaxValueLength = 8192;

    public const string KeyFormatMessage =
        "spec.config keys must be 1-255 characters of letters, digits, \".\", \"_\" or \"-\", starting with a letter or digit";

    public const string ReservedMessage =
        "spec.config must not set reserved key(s) name, connector.class, tasks.max, kafka.auth.mode, kafka.api.key, kafka.api.secret, kafka.service.account.id, confluent.connector.type, confluent.custom.plugin.id (in any letter case): use spec.connectorClass, spec.tasksMax and spec.customPlugin; Kafka auth is injected from the Department";

    public const string DisjointMessage = "spec.secretConfig keys must not also appear in spec.config; set each key in exactly one of them";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();

    public static string Field(string key) => $"spec.config[{key}]";

    /// <summary>The refusal of a list or map value; the converter throws it and <c>validate</c> prints it.</summary>
    public static string NotScalarMessage(string key, ConfigValueKind kind)
        => $"{Field(key)}: a {(kind == ConfigValueKind.List ? "list" : "map")} is not allowed: spec.config values must be strings, numbers or booleans; "
           + "write the value as Confluent expects it (for several values usually one comma-separated string)";

    /// <summary>Every broken rule of one connector's config, in key order.</summary>
    public static IReadOnlyList<ConfigViolation> Check(IEnumerable<KeyValuePair<string, ConfigValueKind>> config, IEnumerable<string> secretKeys)
    {
        var result = new List<ConfigViolation>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, kind) in config.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            keys.Add(key);
            if (kind != ConfigValueKind.Scalar) result.Add(new(Field(key), NotScalarMessage(key, kind)));
            if (key.EnumerateRunes().Count() > MaxKeyLength || !KeyPattern().IsMatch(key)) result.Add(new(Field(key), $"{Field(key)}: {KeyFormatMessage}"));
            if (ConnectApi.ReservedConfigKeys.Contains(key)) result.Add(new(Field(key), $"{Field(key)}: {ReservedMessage}"));
        }
        foreach (var key in secretKeys)
            if (keys.Contains(key)) result.Add(new($"spec.secretConfig[{key}]", $"spec.secretConfig[{key}]: {DisjointMessage}"));
        return result;
    }

    public static IReadOnlyList<ConfigViolation> Check(V1Alpha1ManagedConnectorSpec spec)
        => Check(spec.Config.Select(kv => KeyValuePair.Create(kv.Key, ConfigValueKind.Scalar)), spec.SecretConfig.Select(e => e.Key));
}

/// <summary>A list or map in <c>spec.config</c>: the CRD refuses it, so only a request that skipped the CRD carries one.</summary>
public sealed class ConfigValueException(string message) : JsonException(message);

/// <summary>
/// Reads <c>spec.config</c> into strings whatever scalar YAML made of them: a number or boolean becomes its JSON text
/// (<c>1000</c> → "1000", <c>true</c> → "true"), which is what Confluent expects. The operator never writes a spec
/// (status goes through the status subresource), so a write only has to round-trip strings.
/// </summary>
public sealed class ConfigValuesConverter : JsonConverter<IDictionary<string, string>>
{
    public override IDictionary<string, string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("spec.config must be a map");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            reader.Read();
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    result[key] = reader.GetString()!;
                    break;
                case JsonTokenType.Number:
                    // The JSON text as written: 1000 stays "1000", 0.50 stays "0.50", no float round trip.
                    result[key] = System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
                    break;
                case JsonTokenType.True:
                    result[key] = "true";
                    break;
                case JsonTokenType.False:
                    result[key] = "false";
                    break;
                case JsonTokenType.Null:
                    break; // the API server prunes nulls; a null is no value to send
                case JsonTokenType.StartArray:
                    throw new ConfigValueException(ConfigRules.NotScalarMessage(key, ConfigValueKind.List));
                default:
                    throw new ConfigValueException(ConfigRules.NotScalarMessage(key, ConfigValueKind.Map));
            }
        }
        return result;
    }

    public override void Write(Utf8JsonWriter writer, IDictionary<string, string> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (k, v) in value) writer.WriteString(k, v);
        writer.WriteEndObject();
    }
}
