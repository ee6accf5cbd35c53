using System.Text.RegularExpressions;
using Newtonsoft.Json.Linq;

namespace ConnectOperator.Cli.Validation;

/// <summary>
/// The CEL rules (<c>x-kubernetes-validations</c>) of our CRDs, evaluated offline. There is no general CEL evaluator
/// here: each rule text is matched against a small set of rule shapes (with their parameters — lengths, patterns,
/// key lists — read from the rule itself) and evaluated in C#. A rule of another shape, and every transition rule
/// (<c>oldSelf</c>, which needs the live object), is reported as not covered by <see cref="Inventory"/>; a unit test
/// keeps the embedded CRDs fully covered.
/// </summary>
public static partial class CelRules
{
    /// <summary>A rule found in a CRD schema, and whether <c>validate</c> evaluates it.</summary>
    public sealed record RuleInfo(string Kind, string Path, string Rule, string Message, bool Covered, string? Shape, string? NotCoveredReason);

    /// <summary>A violated rule: where, and the message the API server would give.</summary>
    public sealed record CelViolation(string Field, string Message, JToken? Token);

    private delegate IEnumerable<(string Field, JToken? Token)> Check(Match rule, JToken self, JToken root, string path);

    private static readonly (string Shape, Regex Pattern, Check Check)[] Shapes =
    {
        ("metadata.name length limit", RootNameSize(), CheckNameSize),
        ("metadata.name must not contain", RootNameContains(), CheckNameContains),
        ("secret keys disjoint from config keys", Disjoint(), CheckDisjoint),
        ("map keys: length limit and pattern", KeysMatch(), CheckKeysMatch),
        ("map keys: reserved key list", MapKeysNotIn(), CheckMapKeysNotIn),
        ("list items: reserved key list", ListKeysNotIn(), CheckListKeysNotIn),
    };

    [GeneratedRegex(@"^self\.metadata\.name\.size\(\) <= (\d+)$")]
    private static partial Regex RootNameSize();

    [GeneratedRegex(@"^!self\.metadata\.name\.contains\('([^']*)'\)$")]
    private static partial Regex RootNameContains();

    [GeneratedRegex(@"^!has\(self\.(\w+)\) \|\| !has\(self\.(\w+)\) \|\| self\.\2\.all\((\w+), !\(\3\.(\w+) in self\.\1\)\)$")]
    private static partial Regex Disjoint();

    [GeneratedRegex(@"^self\.all\((\w+), \1\.size\(\) <= (\d+) && \1\.matches\('([^']*)'\)\)$")]
    private static partial Regex KeysMatch();

    [GeneratedRegex(@"^!self\.exists\((\w+), \1(\.lowerAscii\(\))? in \[((?:\s*'[^']*'\s*,?)*)\]\)$")]
    private static partial Regex MapKeysNotIn();

    [GeneratedRegex(@"^!self\.exists\((\w+), \1\.(\w+)(\.lowerAscii\(\))? in \[((?:\s*'[^']*'\s*,?)*)\]\)$")]
    private static partial Regex ListKeysNotIn();

    [GeneratedRegex(@"'([^']*)'")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    private static string Normalize(string rule) => Spaces().Replace(rule.Trim(), " ");

    private static (string Shape, Match Match, Check Check)? Recognize(string rule)
    {
        var text = Normalize(rule);
        if (text.Contains("oldSelf", StringComparison.Ordinal)) return null;
        foreach (var (shape, pattern, check) in Shapes)
        {
            var m = pattern.Match(text);
            if (m.Success) return (shape, m, check);
        }
        return null;
    }

    /// <summary>Every CEL rule of the given CRDs and whether it is evaluated offline.</summary>
    public static IReadOnlyList<RuleInfo> Inventory(IEnumerable<CrdSchema> crds)
    {
        var result = new List<RuleInfo>();
        foreach (var crd in crds) Collect(crd.Kind, crd.OpenApi, "", result);
        return result;
    }

    private static void Collect(string kind, JObject schema, string path, List<RuleInfo> into)
    {
        foreach (var v in schema["x-kubernetes-validations"]?.Children<JObject>() ?? Enumerable.Empty<JObject>())
        {
            var rule = (string?)v["rule"] ?? "";
            var r = Recognize(rule);
            var reason = r != null ? null
                : rule.Contains("oldSelf", StringComparison.Ordinal) ? "transition rule (oldSelf): needs the live object, checked only by the API server"
                : "rule shape not known to the offline evaluator: checked only by the API server";
            into.Add(new RuleInfo(kind, path.Length == 0 ? "<root>" : path, rule, (string?)v["message"] ?? "", r != null, r?.Shape, reason));
        }
        if (schema["properties"] is JObject props)
            foreach (var p in props.Properties())
                if (p.Value is JObject child) Collect(kind, child, path.Length == 0 ? p.Name : path + "." + p.Name, into);
        if (schema["items"] is JObject items) Collect(kind, items, path + "[*]", into);
        if (schema["additionalProperties"] is JObject ap) Collect(kind, ap, path + "[*]", into);
    }

    /// <summary>Violated CEL rules of one object (rules of absent fields are not evaluated, as in the API server).</summary>
    public static IReadOnlyList<CelViolation> Evaluate(CrdSchema crd, JToken root)
    {
        var result = new List<CelViolation>();
        Walk(crd.OpenApi, root, root, "", result);
        return result;
    }

    private static void Walk(JObject schema, JToken self, JToken root, string path, List<CelViolation> into)
    {
        if (self.Type == JTokenType.Null) return;
        foreach (var v in schema["x-kubernetes-validations"]?.Children<JObject>() ?? Enumerable.Empty<JObject>())
        {
            var r = Recognize((string?)v["rule"] ?? "");
            if (r is not { } rule) continue;
            var message = (string?)v["message"] ?? $"failed rule: {Normalize((string?)v["rule"] ?? "")}";
            var fieldPath = ((string?)v["fieldPath"] ?? "").TrimStart('.');
            foreach (var (field, token) in rule.Check(rule.Match, self, root, path))
            {
                var f = fieldPath.Length > 0 ? Join(path, fieldPath) : field;
                var target = fieldPath.Length > 0 ? (self as JObject)?[fieldPath] ?? token : token;
                var prefix = f.Length > 0 ? f + ": " : "";
                var typeOf = fieldPath.Length > 0 ? target : field == path ? self : token is JProperty ? self : token;
                into.Add(new CelViolation(f, $"{prefix}Invalid value: \"{CrdSchemas.TypeName(typeOf)}\": {message}", target));
            }
        }
        switch (self)
        {
            case JObject o when schema["properties"] is JObject props:
                foreach (var p in props.Properties())
                    if (p.Value is JObject child && o[p.Name] is { } value) Walk(child, value, root, Join(path, p.Name), into);
                break;
            case JObject o when schema["additionalProperties"] is JObject ap:
                foreach (var p in o.Properties()) Walk(ap, p.Value, root, $"{path}[{p.Name}]", into);
                break;
            case JArray a when schema["items"] is JObject items:
                for (var i = 0; i < a.Count; i++) Walk(items, a[i], root, $"{path}[{i}]", into);
                break;
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    private static IEnumerable<string> QuotedList(string list) => Quoted().Matches(list).Select(m => m.Groups[1].Value);

    private static int CodePoints(string s) => s.EnumerateRunes().Count();

    private static IEnumerable<(string, JToken?)> CheckNameSize(Match m, JToken self, JToken root, string path)
    {
        var max = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (self["metadata"]?["name"] is JValue { Type: JTokenType.String } name && CodePoints((string)name!) > max)
            yield return (Join(path, "metadata.name"), name);
    }

    private static IEnumerable<(string, JToken?)> CheckNameContains(Match m, JToken self, JToken root, string path)
    {
        if (self["metadata"]?["name"] is JValue { Type: JTokenType.String } name && ((string)name!).Contains(m.Groups[1].Value, StringComparison.Ordinal))
            yield return (Join(path, "metadata.name"), name);
    }

    // CEL lowerAscii folds A-Z only; ToLowerInvariant would also fold non-ASCII letters the API server keeps.
    private static string LowerAscii(string s) => string.Create(s.Length, s, (span, src) =>
    {
        for (var i = 0; i < src.Length; i++) span[i] = src[i] is >= 'A' and <= 'Z' ? (char)(src[i] + 32) : src[i];
    });

    private static IEnumerable<(string, JToken?)> CheckDisjoint(Match m, JToken self, JToken root, string path)
    {
        string mapField = m.Groups[1].Value, listField = m.Groups[2].Value, keyField = m.Groups[4].Value;
        if (self[mapField] is not JObject map || self[listField] is not JArray list) yield break;
        if (list.Children<JObject>().Any(e => e[keyField] is JValue { Type: JTokenType.String } k && map.ContainsKey((string)k!)))
            yield return (path, self);
    }

    private static IEnumerable<(string, JToken?)> CheckKeysMatch(Match m, JToken self, JToken root, string path)
    {
        if (self is not JObject map) yield break;
        var max = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        var re = new Regex(m.Groups[3].Value, RegexOptions.CultureInvariant);
        var bad = map.Properties().FirstOrDefault(p => !(CodePoints(p.Name) <= max && re.IsMatch(p.Name)));
        if (bad != null) yield return (path, bad);
    }

    private static IEnumerable<(string, JToken?)> CheckMapKeysNotIn(Match m, JToken self, JToken root, string path)
    {
        if (self is not JObject map) yield break;
        var reserved = QuotedList(m.Groups[3].Value).ToHashSet(StringComparer.Ordinal);
        var lower = m.Groups[2].Success;
        var bad = map.Properties().FirstOrDefault(p => reserved.Contains(lower ? LowerAscii(p.Name) : p.Name));
        if (bad != null) yield return (path, bad);
    }

    private static IEnumerable<(string, JToken?)> CheckListKeysNotIn(Match m, JToken self, JToken root, string path)
    {
        if (self is not JArray list) yield break;
        var keyField = m.Groups[2].Value;
        var reserved = QuotedList(m.Groups[4].Value).ToHashSet(StringComparer.Ordinal);
        var lower = m.Groups[3].Success;
        var bad = list.Children<JObject>().FirstOrDefault(e => e[keyField] is JValue { Type: JTokenType.String } k && reserved.Contains(lower ? LowerAscii((string)k!) : (string)k!));
        if (bad != null) yield return (path, bad);
    }
}
