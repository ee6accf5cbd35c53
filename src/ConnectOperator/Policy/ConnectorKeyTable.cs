using System.Collections.Frozen;
using System.Text.Json;

namespace ConnectOperator.Policy;

/// <summary>
/// The vetted connector classes with every config key that carries a topic or a network endpoint, and the vetted
/// transforms and predicates. The data lives in <c>Policy/policy-tables.json</c> (embedded) so a platform team can
/// review it without reading C#; a key missing there is a key policy cannot see, so new classes get all their keys
/// added there before they are listed.
/// </summary>
public static class ConnectorKeyTable
{
    public enum TopicKeyKind
    {
        /// <summary>A single topic name.</summary>
        Name,
        /// <summary>A comma-separated list of topic names.</summary>
        List,
        /// <summary>A regular expression over topic names: every topic it can match must carry a prefix.</summary>
        Regex,
        /// <summary>A comma-separated list of regular expressions (Kafka's <c>topic.creation.*.include</c>).</summary>
        RegexList,
        /// <summary>A prefix that the connector prepends to the topics it writes.</summary>
        Prefix,
        /// <summary>A topic name with <c>${…}</c> placeholders: the text before the first one must carry a prefix.</summary>
        Template,
        /// <summary>Shapes topic names in a way policy cannot check (a JSON map, a separator): refused when set.</summary>
        Unsupported,
    }

    public enum HostKeyKind
    {
        /// <summary>A bare hostname (optionally with a port).</summary>
        Host,
        /// <summary>A URL (http, https, jdbc:…://); the host part is checked.</summary>
        Url,
        /// <summary>A comma-separated list of host[:port].</summary>
        HostList,
        /// <summary>A comma-separated list of URLs.</summary>
        UrlList,
    }

    public enum TransformOutput
    {
        /// <summary>Does not change the record's topic.</summary>
        Unchanged,
        /// <summary>RegexRouter style: a matching topic becomes the replacement (with <c>$n</c> group references).</summary>
        Replacement,
        /// <summary>TimestampRouter style: the topic becomes a format with <c>${topic}</c> and <c>${timestamp}</c>.</summary>
        TopicFormat,
        /// <summary>The topic comes from the record's data: nothing can check it before it runs.</summary>
        RecordData,
    }

    public sealed record TransformInfo(string Type, TransformOutput Output, string? Parameter);

    private sealed record ClassKeys(FrozenDictionary<string, TopicKeyKind> Topics, FrozenDictionary<string, HostKeyKind> Hosts);

    private static readonly FrozenDictionary<string, TopicKeyKind> CommonTopicKeys;
    private static readonly FrozenDictionary<string, HostKeyKind> CommonHostKeys;
    private static readonly FrozenDictionary<string, ClassKeys> ByClass;
    private static readonly FrozenDictionary<string, TransformInfo> Transforms;
    private static readonly FrozenSet<string> Predicates;

    static ConnectorKeyTable()
    {
        var asm = typeof(ConnectorKeyTable).Assembly;
        using var stream = asm.GetManifestResourceStream("policy-tables.json")
            ?? throw new InvalidOperationException("embedded resource policy-tables.json is missing");
        using var doc = JsonDocument.Parse(stream);
        var root = doc.RootElement;
        CommonTopicKeys = TopicMap(root.GetProperty("commonTopicKeys"));
        CommonHostKeys = HostMap(root.GetProperty("commonHostKeys"));
        ByClass = root.GetProperty("classes").EnumerateObject()
            .ToFrozenDictionary(c => c.Name, c => new ClassKeys(TopicMap(c.Value.GetProperty("topics")), HostMap(c.Value.GetProperty("hosts"))), StringComparer.Ordinal);
        Transforms = root.GetProperty("transforms").EnumerateObject().ToFrozenDictionary(t => t.Name, t => new TransformInfo(t.Name,
            Enum.Parse<TransformOutput>(t.Value.GetProperty("output").GetString()!, ignoreCase: true),
            t.Value.TryGetProperty("parameter", out var p) ? p.GetString() : null), StringComparer.Ordinal);
        Predicates = root.GetProperty("predicates").EnumerateArray().Select(p => p.GetString()!).ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// A kind as a Department's plugin key table writes it: the spellings of policy-tables.json, in any letter case.
    /// Null for an unknown one, which the CRD's enum refuses.
    /// </summary>
    public static TopicKeyKind? ParseTopicKind(string kind)
        => Enum.TryParse<TopicKeyKind>(kind, ignoreCase: true, out var k) && Enum.IsDefined(k) && !int.TryParse(kind, out _) ? k : null;

    public static HostKeyKind? ParseHostKind(string kind)
        => Enum.TryParse<HostKeyKind>(kind, ignoreCase: true, out var k) && Enum.IsDefined(k) && !int.TryParse(kind, out _) ? k : null;

    private static FrozenDictionary<string, TopicKeyKind> TopicMap(JsonElement e)
        => e.EnumerateObject().ToFrozenDictionary(p => p.Name, p => Enum.Parse<TopicKeyKind>(p.Value.GetString()!, ignoreCase: true), StringComparer.Ordinal);

    private static FrozenDictionary<string, HostKeyKind> HostMap(JsonElement e)
        => e.EnumerateObject().ToFrozenDictionary(p => p.Name, p => Enum.Parse<HostKeyKind>(p.Value.GetString()!, ignoreCase: true), StringComparer.Ordinal);

    /// <summary>The classes whose keys are all known.</summary>
    public static IReadOnlyCollection<string> VettedClasses => ByClass.Keys;

    public static bool IsVetted(string connectorClass) => ByClass.ContainsKey(connectorClass);

    public static TransformInfo? Transform(string type) => Transforms.GetValueOrDefault(type);

    public static bool IsKnownPredicate(string type) => Predicates.Contains(type);

    /// <summary>Topic-bearing keys of a class, including every <c>topic.creation.*.include</c> key present.</summary>
    public static IEnumerable<(string Key, TopicKeyKind Kind)> TopicKeys(string connectorClass, IEnumerable<string> presentKeys, CustomPluginPolicy? plugin = null)
    {
        var keys = new Dictionary<string, TopicKeyKind>(CommonTopicKeys);
        // A plugin's class name is whatever its authors chose: it must not pick up a vetted class's table by coincidence.
        if (plugin is not null)
            foreach (var (k, v) in plugin.TopicKeys) keys[k] = v;
        else if (ByClass.TryGetValue(connectorClass, out var c))
            foreach (var (k, v) in c.Topics) keys[k] = v;
        foreach (var k in presentKeys)
            if (IsTopicCreationInclude(k)) keys[k] = TopicKeyKind.RegexList;
        return keys.Select(kv => (kv.Key, kv.Value));
    }

    private static bool IsTopicCreationInclude(string key)
        => key.StartsWith("topic.creation.", StringComparison.Ordinal) && key.EndsWith(".include", StringComparison.Ordinal);

    /// <summary>Endpoint-bearing keys of a class.</summary>
    public static IEnumerable<(string Key, HostKeyKind Kind)> HostKeys(string connectorClass, CustomPluginPolicy? plugin = null)
    {
        var keys = new Dictionary<string, HostKeyKind>(CommonHostKeys);
        if (plugin is not null)
            foreach (var (k, v) in plugin.HostKeys) keys[k] = v;
        else if (ByClass.TryGetValue(connectorClass, out var c))
            foreach (var (k, v) in c.Hosts) keys[k] = v;
        return keys.Select(kv => (kv.Key, kv.Value));
    }

    /// <summary>
    /// Whether a key not in the table still looks like it names an endpoint by its name (<c>*.url</c>, <c>*.host</c>,
    /// <c>*proxy</c> …): such keys are checked against the approved hosts too.
    /// </summary>
    public static HostKeyKind? GenericHostKind(string key)
    {
        var k = key.ToLowerInvariant();
        if (k is "url" or "uri" || k.EndsWith(".url", StringComparison.Ordinal) || k.EndsWith(".uri", StringComparison.Ordinal)
            || k.EndsWith(".endpoint", StringComparison.Ordinal))
            return HostKeyKind.Url;
        if (k.EndsWith(".urls", StringComparison.Ordinal) || k.EndsWith(".uris", StringComparison.Ordinal) || k.EndsWith(".endpoints", StringComparison.Ordinal))
            return HostKeyKind.UrlList;
        if (k is "host" or "hostname" || k.EndsWith(".host", StringComparison.Ordinal) || k.EndsWith(".hostname", StringComparison.Ordinal)
            || k.EndsWith("proxy", StringComparison.Ordinal))
            return HostKeyKind.Host;
        if (k is "hosts" || k.EndsWith(".hosts", StringComparison.Ordinal) || k.EndsWith(".servers", StringComparison.Ordinal))
            return HostKeyKind.HostList;
        return null;
    }

    /// <summary>
    /// Every key that policy reads, so it can insist they live in spec.config where it can see them: topic and host
    /// keys of the class, endpoint-looking keys, and the transform and predicate chain.
    /// </summary>
    public static bool IsPolicyKey(string connectorClass, string key, CustomPluginPolicy? plugin = null)
        => key == "transforms" || key == "predicates" || key.StartsWith("transforms.", StringComparison.Ordinal) || key.StartsWith("predicates.", StringComparison.Ordinal)
           || IsTopicCreationInclude(key)
           || TopicKeys(connectorClass, Array.Empty<string>(), plugin).Any(t => t.Key == key) || HostKeys(connectorClass, plugin).Any(h => h.Key == key)
           || GenericHostKind(key) != null;
}
