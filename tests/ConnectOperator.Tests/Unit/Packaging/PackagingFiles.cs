using System.Globalization;
using System.Text.RegularExpressions;
using ConnectOperator.Tests.Infrastructure;
using Newtonsoft.Json.Linq;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Unit.Packaging;

/// <summary>Paths and YAML helpers shared by the packaging tests (chart, deploy/).</summary>
internal static class PackagingFiles
{
    public static string Root => TestCluster.RepoRoot;
    public static string Chart => Path.Combine(Root, "charts", "connect-operator");
    public static string Deploy => Path.Combine(Root, "deploy");

    /// <summary>A Go template action, including string literals that contain braces ({{`{{ $labels.x }}`}}).</summary>
    private static readonly Regex TemplateAction = new(
        @"\{\{-?(?:""(?:[^""\\]|\\.)*""|`[^`]*`|[^""`}]|\}(?!\}))*?-?\}\}", RegexOptions.Compiled);

    public const string Placeholder = "TEMPLATE_VALUE";

    /// <summary>
    /// Turns a Helm template into plain YAML: a line that holds only template actions ({{ if }}, {{ end }},
    /// {{- include … | nindent N }}, …) is dropped, an inline action becomes an opaque scalar. Every branch of an
    /// if/else therefore stays in, which is what the structural tests want (templates avoid duplicate keys in
    /// branches for that reason).
    /// </summary>
    public static string StripTemplateActions(string template)
    {
        var lines = template.Replace("\r\n", "\n").Split('\n');
        var kept = new List<string>();
        foreach (var line in lines)
        {
            if (line.Contains("{{") && TemplateAction.Replace(line, "").Trim().Length == 0) continue;
            kept.Add(TemplateAction.Replace(line, Placeholder));
        }
        var result = string.Join('\n', kept);
        if (result.Contains("{{") || result.Contains("}}"))
            throw new InvalidOperationException("unbalanced template action left after stripping:\n" + result);
        return result;
    }

    /// <summary>All non-empty YAML documents of a text.</summary>
    public static List<YamlMappingNode> LoadDocuments(string yaml, string what)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            Assert.Fail($"{what} is not valid YAML: {e.Message}\n---\n{yaml}");
        }
        return stream.Documents
            .Select(d => d.RootNode)
            .Where(n => n is not YamlScalarNode { Value: null or "" })
            .Select(n => n as YamlMappingNode ?? throw new AssertionException($"{what}: a document is not a mapping"))
            .ToList();
    }

    public static List<YamlMappingNode> LoadTemplate(string fileName)
        => LoadDocuments(StripTemplateActions(File.ReadAllText(Path.Combine(Chart, "templates", fileName))), "templates/" + fileName);

    public static string? Str(this YamlNode node, params string[] path)
    {
        YamlNode? cur = node;
        foreach (var key in path)
        {
            if (cur is not YamlMappingNode m || !m.Children.TryGetValue(new YamlScalarNode(key), out cur)) return null;
        }
        return (cur as YamlScalarNode)?.Value;
    }

    public static YamlNode? Get(this YamlNode node, params string[] path)
    {
        YamlNode? cur = node;
        foreach (var key in path)
        {
            if (cur is not YamlMappingNode m || !m.Children.TryGetValue(new YamlScalarNode(key), out cur)) return null;
        }
        return cur;
    }

    public static List<string> Strings(this YamlNode? node)
        => node is YamlSequenceNode s ? s.Children.OfType<YamlScalarNode>().Select(x => x.Value ?? "").ToList() : new List<string>();

    /// <summary>YAML → JSON with YAML 1.2 core-schema typing of plain scalars (quoted scalars stay strings).</summary>
    public static JToken ToJson(YamlNode node) => node switch
    {
        YamlMappingNode m => new JObject(m.Children.Select(kv => new JProperty(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode s => new JArray(s.Children.Select(ToJson)),
        YamlScalarNode sc => Scalar(sc),
        _ => throw new NotSupportedException(node.NodeType.ToString()),
    };

    private static JToken Scalar(YamlScalarNode sc)
    {
        var v = sc.Value ?? "";
        if (sc.Style != ScalarStyle.Plain) return new JValue(v);
        if (v is "" or "~" or "null" or "Null" or "NULL") return JValue.CreateNull();
        if (v is "true" or "True" or "TRUE") return new JValue(true);
        if (v is "false" or "False" or "FALSE") return new JValue(false);
        if (Regex.IsMatch(v, @"^[-+]?[0-9]+$") && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return new JValue(l);
        if (Regex.IsMatch(v, @"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
            && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return new JValue(d);
        return new JValue(v);
    }

    public static JToken YamlFileToJson(string path)
    {
        var docs = LoadDocuments(File.ReadAllText(path), path);
        Assert.That(docs, Has.Count.EqualTo(1), path + " must hold one YAML document");
        return ToJson(docs[0]);
    }
}
