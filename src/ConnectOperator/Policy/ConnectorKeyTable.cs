namespace ConnectOperator.Policy;

/// <summary>
/// The one table of config keys that carry topics or network endpoints, per connector class. Policy checks read
/// it; a key missing here is a key policy cannot see, so new classes get their keys added here.
/// </summary>
public static class ConnectorKeyTable
{
    public enum TopicKeyKind
    {
        /// <summary>A single topic name.</summary>
        Name,
        /// <summary>A comma-separated list of topic names.</summary>
        List,
        /// <summary>A regular expression over topic names; its literal start must carry the prefix.</summary>
        Regex,
        /// <summary>A prefix that the connector prepends to the topics it writes.</summary>
        Prefix,
    }

    public enum HostKeyKind
    {
        /// <summary>A bare hostname.</summary>
        Host,
        /// <summary>A URL (http, https, jdbc:…://); the host part is checked.</summary>
        Url,
        /// <summary>A comma-separated list of host[:port].</summary>
        HostList,
    }

    private static readonly IReadOnlyDictionary<string, TopicKeyKind> CommonTopicKeys = new Dictionary<string, TopicKeyKind>
    {
        ["topics"] = TopicKeyKind.List,
        ["topics.regex"] = TopicKeyKind.Regex,
        ["kafka.topic"] = TopicKeyKind.Name,
        ["topic.prefix"] = TopicKeyKind.Prefix,
        ["errors.deadletterqueue.topic.name"] = TopicKeyKind.Name,
    };

    private static readonly IReadOnlyDictionary<string, HostKeyKind> CommonHostKeys = new Dictionary<string, HostKeyKind>
    {
        ["connection.url"] = HostKeyKind.Url,
        ["connection.host"] = HostKeyKind.Host,
        ["database.hostname"] = HostKeyKind.Host,
        ["http.api.url"] = HostKeyKind.Url,
    };

    /// <summary>Class-specific keys beyond the common ones.</summary>
    private static readonly IReadOnlyDictionary<string, (Dictionary<string, TopicKeyKind> Topics, Dictionary<string, HostKeyKind> Hosts)> ByClass =
        new Dictionary<string, (Dictionary<string, TopicKeyKind>, Dictionary<string, HostKeyKind>)>(StringComparer.Ordinal)
        {
            ["PostgresCdcSource"] = (new() { ["topic.prefix"] = TopicKeyKind.Prefix, ["database.server.name"] = TopicKeyKind.Prefix }, new() { ["database.hostname"] = HostKeyKind.Host }),
            ["PostgresCdcSourceV2"] = (new() { ["topic.prefix"] = TopicKeyKind.Prefix }, new() { ["database.hostname"] = HostKeyKind.Host }),
            ["MySqlCdcSource"] = (new() { ["topic.prefix"] = TopicKeyKind.Prefix, ["database.server.name"] = TopicKeyKind.Prefix }, new() { ["database.hostname"] = HostKeyKind.Host }),
            ["S3_SINK"] = (new() { ["topics"] = TopicKeyKind.List }, new() { ["store.url"] = HostKeyKind.Url }),
            ["HttpSink"] = (new() { ["topics"] = TopicKeyKind.List, ["http.error.topic"] = TopicKeyKind.Name }, new() { ["http.api.url"] = HostKeyKind.Url }),
            ["HttpSource"] = (new() { ["kafka.topic"] = TopicKeyKind.Name, ["topic.name.pattern"] = TopicKeyKind.Name }, new() { ["url"] = HostKeyKind.Url }),
            ["DatagenSource"] = (new() { ["kafka.topic"] = TopicKeyKind.Name }, new()),
            ["PostgresSink"] = (new() { ["topics"] = TopicKeyKind.List }, new() { ["connection.host"] = HostKeyKind.Host }),
            ["MySqlSink"] = (new() { ["topics"] = TopicKeyKind.List }, new() { ["connection.host"] = HostKeyKind.Host }),
            ["ElasticsearchSink"] = (new() { ["topics"] = TopicKeyKind.List }, new() { ["connection.url"] = HostKeyKind.Url }),
            ["MongoDbAtlasSource"] = (new() { ["topic.prefix"] = TopicKeyKind.Prefix }, new() { ["connection.host"] = HostKeyKind.Host }),
            ["MongoDbAtlasSink"] = (new() { ["topics"] = TopicKeyKind.List }, new() { ["connection.host"] = HostKeyKind.Host }),
        };

    /// <summary>Topic-bearing keys of a class, including every <c>topic.creation.*.include</c> key present.</summary>
    public static IEnumerable<(string Key, TopicKeyKind Kind)> TopicKeys(string connectorClass, IEnumerable<string> presentKeys)
    {
        var keys = new Dictionary<string, TopicKeyKind>(CommonTopicKeys);
        if (ByClass.TryGetValue(connectorClass, out var c))
            foreach (var (k, v) in c.Topics) keys[k] = v;
        foreach (var k in presentKeys)
            if (k.StartsWith("topic.creation.", StringComparison.Ordinal) && k.EndsWith(".include", StringComparison.Ordinal))
                keys[k] = TopicKeyKind.Regex;
        return keys.Select(kv => (kv.Key, kv.Value));
    }

    /// <summary>Endpoint-bearing keys of a class.</summary>
    public static IEnumerable<(string Key, HostKeyKind Kind)> HostKeys(string connectorClass)
    {
        var keys = new Dictionary<string, HostKeyKind>(CommonHostKeys);
        if (ByClass.TryGetValue(connectorClass, out var c))
            foreach (var (k, v) in c.Hosts) keys[k] = v;
        return keys.Select(kv => (kv.Key, kv.Value));
    }

    /// <summary>Every key that policy reads, so it can insist they live in spec.config where it can see them.</summary>
    public static bool IsPolicyKey(string connectorClass, string key)
        => TopicKeys(connectorClass, new[] { key }).Any(t => t.Key == key) || HostKeys(connectorClass).Any(h => h.Key == key);
}
