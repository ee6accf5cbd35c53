using System.Globalization;
using System.Reflection;
using Newtonsoft.Json.Linq;
using NJsonSchema;
using NJsonSchema.Validation;

namespace ConnectOperator.Cli.Validation;

/// <summary>One served version of one CRD: its OpenAPI v3 schema and the JSON Schema NJsonSchema validates with.</summary>
public sealed class CrdSchema
{
    internal CrdSchema(string group, string version, string kind, bool namespaced, JObject openApi, JsonSchema jsonSchema)
    {
        Group = group;
        Version = version;
        Kind = kind;
        Namespaced = namespaced;
        OpenApi = openApi;
        JsonSchema = jsonSchema;
    }

    public string Group { get; }
    public string Version { get; }
    public string Kind { get; }
    public bool Namespaced { get; }
    public string ApiVersion => $"{Group}/{Version}";

    /// <summary>The CRD's <c>openAPIV3Schema</c>, as written (with x-kubernetes-* extensions).</summary>
    public JObject OpenApi { get; }

    public JsonSchema JsonSchema { get; }
}

/// <summary>
/// The CRDs embedded in the operator binary (<c>crds/*.yaml</c>), so <c>validate</c> needs no repository checkout and
/// checks exactly the schema the operator version was built with.
/// </summary>
public static class CrdSchemas
{
    public static readonly string[] ResourceNames = { "crds/departments.yaml", "crds/connectorquotas.yaml", "crds/managedconnectors.yaml" };

    private static readonly Lazy<IReadOnlyList<CrdSchema>> Loaded = new(LoadEmbedded);

    public static IReadOnlyList<CrdSchema> All => Loaded.Value;

    public static CrdSchema? Find(string apiVersion, string kind)
        => All.FirstOrDefault(s => s.ApiVersion == apiVersion && s.Kind == kind);

    public static bool IsOurGroup(string? apiVersion) => apiVersion != null && All.Any(s => apiVersion.StartsWith(s.Group + "/", StringComparison.Ordinal));

    private static List<CrdSchema> LoadEmbedded()
    {
        var asm = typeof(CrdSchemas).Assembly;
        var result = new List<CrdSchema>();
        foreach (var name in ResourceNames)
        {
            using var stream = asm.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"embedded resource {name} is missing from {asm.GetName().Name}");
            using var reader = new StreamReader(stream);
            result.AddRange(FromCrdYaml(name, reader.ReadToEnd()));
        }
        return result;
    }

    /// <summary>The served versions of a CustomResourceDefinition document.</summary>
    public static IEnumerable<CrdSchema> FromCrdYaml(string file, string yaml)
    {
        foreach (var doc in YamlManifests.Load(file, yaml))
        {
            if (doc.Kind != "CustomResourceDefinition") continue;
            var spec = (JObject)doc.Root["spec"]!;
            var group = (string)spec["group"]!;
            var kind = (string)spec["names"]!["kind"]!;
            var namespaced = (string?)spec["scope"] == "Namespaced";
            foreach (var v in spec["versions"]!.Children<JObject>())
            {
                if (v["served"]?.Value<bool>() == false) continue;
                var openApi = (JObject)v["schema"]!["openAPIV3Schema"]!;
                var json = ToJsonSchema(openApi);
                json["$schema"] = "http://json-schema.org/draft-04/schema#";
                var schema = JsonSchema.FromJsonAsync(json.ToString()).GetAwaiter().GetResult();
                yield return new CrdSchema(group, (string)v["name"]!, kind, namespaced, openApi, schema);
            }
        }
    }

    /// <summary>
    /// Structural OpenAPI v3 to JSON Schema: x-kubernetes-* extensions and defaults are dropped, <c>nullable</c> adds
    /// the null type, int-or-string accepts both, and an object with <c>properties</c> refuses unknown fields (as
    /// strict field validation does) unless it preserves unknown fields.
    /// </summary>
    public static JObject ToJsonSchema(JObject openApi)
    {
        var result = new JObject();
        foreach (var p in openApi.Properties())
        {
            switch (p.Name)
            {
                case "properties":
                    var props = new JObject();
                    foreach (var child in ((JObject)p.Value).Properties()) props[child.Name] = ToJsonSchema((JObject)child.Value);
                    result["properties"] = props;
                    break;
                case "items" when p.Value is JObject items:
                    result["items"] = ToJsonSchema(items);
                    break;
                case "additionalProperties" when p.Value is JObject ap:
                    result["additionalProperties"] = ToJsonSchema(ap);
                    break;
                case "allOf" or "anyOf" or "oneOf" when p.Value is JArray arr:
                    result[p.Name] = new JArray(arr.Children<JObject>().Select(ToJsonSchema));
                    break;
                case "not" when p.Value is JObject not:
                    result["not"] = ToJsonSchema(not);
                    break;
                case "format" when (string?)p.Value is "int32" or "int64" or "byte" or "double" or "float":
                    break; // Kubernetes does not enforce these formats; date-time and the like it does
                case "nullable" or "default" or "example" or "externalDocs":
                    break;
                default:
                    if (!p.Name.StartsWith("x-kubernetes-", StringComparison.Ordinal)) result[p.Name] = p.Value.DeepClone();
                    break;
            }
        }
        if (openApi["x-kubernetes-int-or-string"]?.Value<bool>() == true)
        {
            result.Remove("type");
            result["anyOf"] = new JArray(new JObject { ["type"] = "integer" }, new JObject { ["type"] = "string" });
        }
        if (openApi["nullable"]?.Value<bool>() == true && result["type"] is JValue t)
            result["type"] = new JArray((string)t!, "null");
        var preserve = openApi["x-kubernetes-preserve-unknown-fields"]?.Value<bool>() == true || openApi["x-kubernetes-embedded-resource"]?.Value<bool>() == true;
        if (openApi["properties"] != null && openApi["additionalProperties"] == null && !preserve)
            result["additionalProperties"] = false;
        return result;
    }

    /// <summary>Schema errors of one object, formatted as the API server reports them.</summary>
    public static IEnumerable<(JToken? Token, string Field, string Message)> Validate(CrdSchema crd, JToken root)
    {
        foreach (var e in Flatten(crd.JsonSchema.Validate(root)))
        {
            var token = e.Token;
            var segments = PathOf(token);
            string field;
            string message;
            switch (e.Kind)
            {
                case ValidationErrorKind.PropertyRequired:
                    // The token is the object missing the property.
                    field = FieldPath(crd.OpenApi, segments.Append(e.Property!));
                    message = $"{field}: Required value";
                    break;
                case ValidationErrorKind.NoAdditionalPropertiesAllowed:
                    if (token is JProperty jp) { segments = PathOf(jp.Value); }
                    else if (token is JObject && e.Property != null && !(segments.LastOrDefault() is string last && last == e.Property)) segments = segments.Append(e.Property).ToList();
                    field = StrictPath(segments);
                    message = $"unknown field \"{field}\"";
                    break;
                default:
                    field = FieldPath(crd.OpenApi, segments);
                    message = $"{field}: {Describe(e, field, token)}";
                    break;
            }
            yield return (token, field, message);
        }
    }

    private static IEnumerable<ValidationError> Flatten(IEnumerable<ValidationError> errors)
    {
        foreach (var e in errors)
        {
            if (e is ChildSchemaValidationError c && c.Errors.Count > 0 && e.Kind is ValidationErrorKind.ArrayItemNotValid or ValidationErrorKind.AdditionalPropertiesNotValid)
            {
                foreach (var inner in Flatten(c.Errors.SelectMany(kv => kv.Value))) yield return inner;
                continue;
            }
            yield return e;
        }
    }

    private static string Describe(ValidationError e, string field, JToken? token)
    {
        var value = token is JProperty p ? p.Value : token;
        var s = e.Schema;
        return e.Kind switch
        {
            ValidationErrorKind.StringExpected or ValidationErrorKind.IntegerExpected or ValidationErrorKind.NumberExpected
                or ValidationErrorKind.BooleanExpected or ValidationErrorKind.ObjectExpected or ValidationErrorKind.ArrayExpected
                or ValidationErrorKind.NullExpected or ValidationErrorKind.NoTypeValidates
                => $"Invalid value: \"{TypeName(value)}\": {field} in body must be of type {ExpectedType(e)}: \"{TypeName(value)}\"",
            ValidationErrorKind.NotInEnumeration
                => $"Unsupported value: {GoValue(value)}: supported values: {string.Join(", ", (s?.Enumeration ?? Array.Empty<object>()).Select(x => GoValue(x is JToken jt ? jt : new JValue(x))))}",
            ValidationErrorKind.PatternMismatch => $"Invalid value: {GoValue(value)}: {field} in body should match '{s?.Pattern}'",
            ValidationErrorKind.StringTooShort => $"Invalid value: {GoValue(value)}: {field} in body should be at least {s?.MinLength} chars long",
            ValidationErrorKind.StringTooLong => $"Too long: may not be more than {s?.MaxLength} bytes",
            ValidationErrorKind.NumberTooSmall => $"Invalid value: {GoValue(value)}: {field} in body should be greater than {(s?.IsExclusiveMinimum == true ? "" : "or equal to ")}{Num(s?.Minimum)}",
            ValidationErrorKind.NumberTooBig or ValidationErrorKind.IntegerTooBig
                => $"Invalid value: {GoValue(value)}: {field} in body should be less than {(s?.IsExclusiveMaximum == true ? "" : "or equal to ")}{Num(s?.Maximum)}",
            ValidationErrorKind.TooManyItems => $"Too many: {(value as JArray)?.Count}: must have at most {s?.MaxItems} items",
            ValidationErrorKind.TooFewItems => $"Invalid value: {(value as JArray)?.Count}: {field} in body should have at least {s?.MinItems} items",
            ValidationErrorKind.TooManyProperties => $"Too many: {(value as JObject)?.Count}: must have at most {s?.MaxProperties} items",
            ValidationErrorKind.TooFewProperties => $"Invalid value: {(value as JObject)?.Count}: {field} in body should have at least {s?.MinProperties} properties",
            ValidationErrorKind.DateTimeExpected => $"Invalid value: {GoValue(value)}: {field} in body must be of type date-time: {GoValue(value)}",
            _ => $"Invalid value: {GoValue(value)}: {e.Kind}",
        };
    }

    private static string ExpectedType(ValidationError e) => e.Kind switch
    {
        ValidationErrorKind.StringExpected => "string",
        ValidationErrorKind.IntegerExpected => "integer",
        ValidationErrorKind.NumberExpected => "number",
        ValidationErrorKind.BooleanExpected => "boolean",
        ValidationErrorKind.ObjectExpected => "object",
        ValidationErrorKind.ArrayExpected => "array",
        _ => e.Schema?.Type.ToString().ToLowerInvariant() ?? "unknown",
    };

    private static string Num(decimal? d) => d?.ToString(CultureInfo.InvariantCulture) ?? "?";

    internal static string TypeName(JToken? t) => t?.Type switch
    {
        JTokenType.Object => "object",
        JTokenType.Array => "array",
        JTokenType.String => "string",
        JTokenType.Integer => "integer",
        JTokenType.Float => "number",
        JTokenType.Boolean => "boolean",
        JTokenType.Null or null => "null",
        _ => "string",
    };

    /// <summary>A value the way the API server prints it: strings quoted, numbers and booleans bare.</summary>
    internal static string GoValue(JToken? t) => t?.Type switch
    {
        JTokenType.String => "\"" + (string?)t + "\"",
        JTokenType.Integer or JTokenType.Float => Convert.ToString(((JValue)t).Value, CultureInfo.InvariantCulture) ?? "",
        JTokenType.Boolean => (bool)t ? "true" : "false",
        JTokenType.Null or null => "null",
        _ => "\"" + TypeName(t) + "\"",
    };

    /// <summary>Property names and array indexes from the document root down to <paramref name="token"/>.</summary>
    public static List<object> PathOf(JToken? token)
    {
        var segments = new List<object>();
        var t = token;
        while (t != null)
        {
            switch (t.Parent)
            {
                case JProperty p: segments.Add(p.Name); t = p.Parent; break;
                case JArray a: segments.Add(a.IndexOf(t)); t = a; break;
                case JObject o when t is JProperty tp: segments.Add(tp.Name); t = o; break;
                default: t = null; break;
            }
        }
        segments.Reverse();
        return segments;
    }

    /// <summary>A field path as the API server prints it: <c>spec.config[topics]</c>, <c>spec.secretConfig[0].key</c>.</summary>
    public static string FieldPath(JObject openApi, IEnumerable<object> segments)
    {
        var sb = new System.Text.StringBuilder();
        JToken? schema = openApi;
        foreach (var seg in segments)
        {
            if (seg is int i)
            {
                sb.Append('[').Append(i.ToString(CultureInfo.InvariantCulture)).Append(']');
                schema = schema?["items"];
                continue;
            }
            var name = (string)seg;
            if (schema?["properties"]?[name] is JObject prop)
            {
                if (sb.Length > 0) sb.Append('.');
                sb.Append(name);
                schema = prop;
            }
            else if (schema?["additionalProperties"] is JObject ap)
            {
                sb.Append('[').Append(name).Append(']');
                schema = ap;
            }
            else
            {
                if (sb.Length > 0) sb.Append('.');
                sb.Append(name);
                schema = null;
            }
        }
        return sb.ToString();
    }

    /// <summary>The path strict field validation prints for an unknown field (dots and indexes only).</summary>
    public static string StrictPath(IEnumerable<object> segments)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var seg in segments)
        {
            if (seg is int i) sb.Append('[').Append(i.ToString(CultureInfo.InvariantCulture)).Append(']');
            else { if (sb.Length > 0) sb.Append('.'); sb.Append((string)seg); }
        }
        return sb.ToString();
    }
}
