using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace ConnectOperator.Cli.Validation;

/// <summary>Which check produced a finding.</summary>
public static class FindingRules
{
    public const string Parse = "parse";
    public const string Schema = "schema";
    public const string Cel = "cel";

    /// <summary>spec.config rules the CRD cannot state in CEL (<see cref="Entities.ConfigRules"/>): the webhook checks them.</summary>
    public const string Config = "config";
    public const string Policy = "policy";
    public const string Quota = "quota";
}

/// <summary>One problem found in one object (or one file, for parse errors).</summary>
public sealed record Finding(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("line")] int Line,
    [property: JsonPropertyName("kind")] string? Kind,
    [property: JsonPropertyName("namespace")] string? Namespace,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("field")] string Field,
    [property: JsonPropertyName("rule")] string Rule,
    [property: JsonPropertyName("message")] string Message)
{
    /// <summary><c>ManagedConnector finance/pg-orders</c>, or empty for a file-level finding.</summary>
    [JsonIgnore]
    public string ObjectName => Kind is null ? "" : Namespace is null ? $"{Kind} {Name}" : $"{Kind} {Namespace}/{Name}";
}

/// <summary>The outcome of one <c>validate</c> run.</summary>
public sealed record ValidationReport(
    [property: JsonPropertyName("valid")] bool Valid,
    [property: JsonPropertyName("files")] int Files,
    [property: JsonPropertyName("objects")] int Objects,
    [property: JsonPropertyName("findings")] IReadOnlyList<Finding> Findings,
    [property: JsonPropertyName("notes")] IReadOnlyList<ValidationNote>? Notes = null);

/// <summary>A check that could not run for a file, so that "valid" is never read as "policy checked".</summary>
public sealed record ValidationNote(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("message")] string Message);

/// <summary>Compile-time metadata for <c>--output json</c> (the operator also ships as a NativeAOT executable).</summary>
[JsonSerializable(typeof(ValidationReport))]
internal sealed partial class ValidationJsonContext : JsonSerializerContext
{
    /// <summary>Indented, and non-ASCII and HTML-significant characters in messages kept as they are.</summary>
    // A property, not a field: a field initializer here could run before the generated part's Default is set.
    public static JsonTypeInfo<ValidationReport> Report => field ??= (JsonTypeInfo<ValidationReport>)new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = Default,
    }.GetTypeInfo(typeof(ValidationReport));
}
