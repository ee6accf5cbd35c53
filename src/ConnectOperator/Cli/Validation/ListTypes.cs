using Newtonsoft.Json.Linq;

namespace ConnectOperator.Cli.Validation;

/// <summary>
/// <c>x-kubernetes-list-type: map</c> (unique map keys) and <c>set</c> (unique items), which JSON Schema cannot
/// express; reported with the API server's "Duplicate value" message.
/// </summary>
public static class ListTypes
{
    public static IEnumerable<(JToken Token, string Field, string Message)> Validate(CrdSchema crd, JToken root)
    {
        var result = new List<(JToken, string, string)>();
        Walk(crd.OpenApi, root, "", result);
        return result;
    }

    private static void Walk(JObject schema, JToken self, string path, List<(JToken, string, string)> into)
    {
        switch (self)
        {
            case JObject o when schema["properties"] is JObject props:
                foreach (var p in props.Properties())
                    if (p.Value is JObject child && o[p.Name] is { } value) Walk(child, value, path.Length == 0 ? p.Name : $"{path}.{p.Name}", into);
                break;
            case JObject o when schema["additionalProperties"] is JObject ap:
                foreach (var p in o.Properties()) Walk(ap, p.Value, $"{path}[{p.Name}]", into);
                break;
            case JArray a:
                var listType = (string?)schema["x-kubernetes-list-type"];
                var keys = schema["x-kubernetes-list-map-keys"]?.Values<string>().OfType<string>().ToList() ?? new List<string>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < a.Count; i++)
                {
                    var item = a[i];
                    if (listType == "set" && item is JValue)
                    {
                        if (!seen.Add(item.ToString(Newtonsoft.Json.Formatting.None)))
                            into.Add((item, $"{path}[{i}]", $"{path}[{i}]: Duplicate value: {CrdSchemas.GoValue(item)}"));
                    }
                    else if (listType == "map" && item is JObject obj && keys.Count > 0)
                    {
                        var keyValues = keys.Where(k => obj[k] is JValue).Select(k => (k, v: (JValue)obj[k]!)).ToList();
                        var id = string.Join("\u0000", keyValues.Select(kv => kv.k + "=" + kv.v.ToString(Newtonsoft.Json.Formatting.None)));
                        if (keyValues.Count > 0 && !seen.Add(id))
                            into.Add((item, $"{path}[{i}]", $"{path}[{i}]: Duplicate value: map[string]interface {{}}{{{string.Join(", ", keyValues.Select(kv => $"\"{kv.k}\":{CrdSchemas.GoValue(kv.v)}"))}}}"));
                    }
                    if (schema["items"] is JObject items) Walk(items, item, $"{path}[{i}]", into);
                }
                break;
        }
    }
}
