using System.Globalization;
using Newtonsoft.Json.Linq;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Cli.Validation;

/// <summary>One YAML document of a file, as JSON, with the YAML line of every node.</summary>
public sealed class ManifestDocument
{
    private readonly Dictionary<JToken, int> _lines;

    internal ManifestDocument(string file, int line, JToken root, Dictionary<JToken, int> lines)
    {
        File = file;
        Line = line;
        Root = root;
        _lines = lines;
    }

    public string File { get; }

    /// <summary>1-based line where the document's content starts.</summary>
    public int Line { get; }

    public JToken Root { get; }

    public string? ApiVersion => (Root as JObject)?["apiVersion"] is JValue { Type: JTokenType.String } v ? (string?)v : null;
    public string? Kind => (Root as JObject)?["kind"] is JValue { Type: JTokenType.String } v ? (string?)v : null;
    public string? Name => (Root as JObject)?["metadata"]?["name"] is JValue { Type: JTokenType.String } v ? (string?)v : null;
    public string? Namespace => (Root as JObject)?["metadata"]?["namespace"] is JValue { Type: JTokenType.String } v ? (string?)v : null;

    /// <summary>The line of a token (or of its nearest ancestor that has one); a property's line is its key's line.</summary>
    public int LineOf(JToken? token)
    {
        for (var t = token; t != null; t = t.Parent)
        {
            if (t.Parent is JProperty p && _lines.TryGetValue(p, out var keyLine)) return keyLine;
            if (_lines.TryGetValue(t, out var line)) return line;
        }
        return Line;
    }

    /// <summary>The line of the node at a path of property names / indexes below the root, or of its closest existing ancestor.</summary>
    public int LineOf(IEnumerable<object> path)
    {
        JToken? t = Root;
        foreach (var seg in path)
        {
            JToken? next = seg switch
            {
                string s when t is JObject o => o.Property(s, StringComparison.Ordinal)?.Value,
                int i when t is JArray a && i >= 0 && i < a.Count => a[i],
                _ => null,
            };
            if (next is null) break;
            t = next;
        }
        return LineOf(t);
    }
}

/// <summary>Reads multi-document YAML into JSON tokens, typing plain scalars the way Kubernetes' YAML decoder does.</summary>
public static class YamlManifests
{
    public sealed class YamlParseException(string file, int line, string message) : Exception(message)
    {
        public string File { get; } = file;
        public int Line { get; } = line;
    }

    /// <summary>Every non-empty document of a file. Throws <see cref="YamlParseException"/> for unreadable YAML.</summary>
    public static IReadOnlyList<ManifestDocument> Load(string file, string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var msg = e.InnerException is { } inner && inner.Message != e.Message ? $"{e.Message} {inner.Message}" : e.Message;
            throw new YamlParseException(file, Math.Max(1, (int)e.Start.Line), "cannot parse YAML: " + msg);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            // YamlDotNet fails on some malformed input without a position.
            throw new YamlParseException(file, 1, "cannot parse YAML: " + e.Message);
        }
        var docs = new List<ManifestDocument>();
        foreach (var doc in stream.Documents)
        {
            if (doc.RootNode is YamlScalarNode s && IsNull(s)) continue; // empty or comment-only document
            var lines = new Dictionary<JToken, int>(ReferenceEqualityComparer.Instance);
            var root = Convert(doc.RootNode, lines, 0);
            docs.Add(new ManifestDocument(file, (int)doc.RootNode.Start.Line, root, lines));
        }
        return docs;
    }

    private static JToken Convert(YamlNode node, Dictionary<JToken, int> lines, int depth)
    {
        if (depth > 100) throw new YamlParseException("", (int)node.Start.Line, "YAML nested too deeply");
        JToken result;
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JObject();
                foreach (var (k, v) in map.Children)
                {
                    var key = k is YamlScalarNode ks ? ks.Value ?? "" : k.ToString();
                    if (key == "<<") continue; // merge keys are not supported by Kubernetes' decoder either
                    var prop = new JProperty(key, Convert(v, lines, depth + 1));
                    obj.Remove(key);
                    obj.Add(prop);
                    lines[prop] = (int)k.Start.Line;
                }
                result = obj;
                break;
            case YamlSequenceNode seq:
                var arr = new JArray();
                foreach (var item in seq.Children) arr.Add(Convert(item, lines, depth + 1));
                result = arr;
                break;
            case YamlScalarNode scalar:
                result = Scalar(scalar);
                break;
            default:
                result = JValue.CreateNull();
                break;
        }
        lines[result] = (int)node.Start.Line;
        return result;
    }

    private static bool IsNull(YamlScalarNode s)
        => s.Style == ScalarStyle.Plain && s.Tag.IsEmpty && (s.Value is null or "" or "~" or "null" or "Null" or "NULL");

    private static readonly HashSet<string> True = new(StringComparer.Ordinal) { "true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON" };
    private static readonly HashSet<string> False = new(StringComparer.Ordinal) { "false", "False", "FALSE", "n", "N", "no", "No", "NO", "off", "Off", "OFF" };

    // sigs.k8s.io/yaml resolves plain scalars as YAML 1.1 (go-yaml v2): yes/no/on/off are booleans, so is `quickstart: on`.
    private static JValue Scalar(YamlScalarNode s)
    {
        var value = s.Value ?? "";
        var tag = s.Tag.IsEmpty ? "" : s.Tag.Value;
        if (tag is "tag:yaml.org,2002:str" || (tag.Length == 0 && s.Style != ScalarStyle.Plain)) return new JValue(value);
        if (tag is "tag:yaml.org,2002:null" || IsNull(s)) return JValue.CreateNull();
        if (True.Contains(value)) return new JValue(true);
        if (False.Contains(value)) return new JValue(false);
        var v = value.Replace("_", "", StringComparison.Ordinal);
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return new JValue(l);
        if (v.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(v[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex)) return new JValue(hex);
        if (v.Length > 0 && (char.IsDigit(v[0]) || v[0] is '-' or '+' or '.') && v.Any(char.IsDigit)
            && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return new JValue(d);
        if (value is ".inf" or ".Inf" or ".INF" or "+.inf") return new JValue(double.PositiveInfinity);
        if (value is "-.inf" or "-.Inf" or "-.INF") return new JValue(double.NegativeInfinity);
        if (tag is "tag:yaml.org,2002:int" or "tag:yaml.org,2002:float" or "tag:yaml.org,2002:bool") return new JValue(value);
        return new JValue(value);
    }
}
