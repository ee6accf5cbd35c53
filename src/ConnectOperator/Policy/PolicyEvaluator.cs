namespace ConnectOperator.Policy;

/// <summary>
/// Decides whether a connector fits its department's policy. The admission webhook, the reconciler and the
/// offline <c>validate</c> command all call this, so a rule cannot differ between apply time and reconcile time.
/// Empty <c>allowedConnectorClasses</c>, <c>topicPrefixes</c> or <c>allowedHosts</c> allow nothing: a department
/// reaches only what the platform team has opened for it.
/// </summary>
public static class PolicyEvaluator
{
    /// <summary>Finds the single department that owns a namespace, or says why there is none (<see cref="NamespaceOwnership"/>).</summary>
    public static (DepartmentPolicy? Department, Violation? Violation) ResolveDepartment(string @namespace, IEnumerable<DepartmentPolicy> departments)
    {
        var list = departments as IReadOnlyCollection<DepartmentPolicy> ?? departments.ToList();
        var claim = NamespaceOwnership.Resolve(@namespace, list);
        return (claim.Owner is { } owner ? list.First(d => d.Name == owner && d.Namespaces.Contains(@namespace, StringComparer.Ordinal)) : null, claim.Violation);
    }

    /// <summary>
    /// Every policy violation of <paramref name="connector"/>; empty when it complies. With
    /// <paramref name="otherDepartments"/>, a department whose connector name prefix another one also uses (possible
    /// only from before the webhook refused it) cannot run connectors: their Confluent names could collide.
    /// </summary>
    public static IReadOnlyList<Violation> Evaluate(DepartmentPolicy department, ConnectorCandidate connector, IEnumerable<DepartmentPolicy>? otherDepartments = null)
    {
        var violations = new List<Violation>();
        if (otherDepartments != null && ConnectorNaming.CheckUniquePrefix(department, otherDepartments) is { } clash)
            violations.Add(clash with { Message = $"Department {department.Name} cannot run connectors: {clash.Message}" });
        foreach (var v in ConnectorNaming.CheckDepartment(department))
            violations.Add(new Violation("metadata.namespace", ViolationReasons.PolicyViolation,
                $"Department {department.Name} cannot run connectors: {v.Message}"));
        var plugin = CheckClass(department, connector, violations);
        CheckReservedKeys(connector, violations);
        CheckPolicyKeysArePlain(connector, plugin, violations);
        CheckTopics(department, connector, plugin, violations);
        CheckTransforms(department, connector, violations);
        CheckHosts(department, connector, plugin, violations);
        return violations;
    }

    /// <summary>The approved plugin the connector runs, if any: its key table replaces the class's for the checks that follow.</summary>
    private static CustomPluginPolicy? CheckClass(DepartmentPolicy d, ConnectorCandidate c, List<Violation> violations)
    {
        if (c.CustomPluginId is { } id)
        {
            var plugin = d.Plugins.FirstOrDefault(p => string.Equals(p.Id, id, StringComparison.Ordinal));
            if (plugin is null)
            {
                violations.Add(new Violation("spec.customPlugin.id", ViolationReasons.PolicyViolation,
                    $"spec.customPlugin.id {id} is not a custom plugin department {d.Name} may run (approved: {Describe(d.Plugins.Select(p => p.Id).ToList())}); " +
                    $"use an approved plugin or ask the platform team to review it and add it, with its key table, to Department {d.Name} spec.policy.customPlugins"));
                return null;
            }
            if (!string.Equals(plugin.ConnectorClass, c.ConnectorClass, StringComparison.Ordinal))
                violations.Add(new Violation("spec.connectorClass", ViolationReasons.PolicyViolation,
                    $"spec.connectorClass {c.ConnectorClass} is not the class of custom plugin {id} ({plugin.ConnectorClass}); set spec.connectorClass: {plugin.ConnectorClass}"));
            return plugin;
        }
        CheckManagedClass(d, c, violations);
        return null;
    }

    private static void CheckManagedClass(DepartmentPolicy d, ConnectorCandidate c, List<Violation> violations)
    {
        if (!d.AllowedConnectorClasses.Contains(c.ConnectorClass, StringComparer.Ordinal))
        {
            violations.Add(new Violation("spec.connectorClass", ViolationReasons.PolicyViolation,
                $"spec.connectorClass {c.ConnectorClass} is not allowed for department {d.Name} (allowed: {Describe(d.AllowedConnectorClasses)}); " +
                $"use an allowed class or ask the platform team to add it to Department {d.Name} spec.policy.allowedConnectorClasses"));
            return;
        }
        if (ConnectorKeyTable.IsVetted(c.ConnectorClass) || d.AllowUnvettedConnectorClasses) return;
        violations.Add(new Violation("spec.connectorClass", ViolationReasons.PolicyViolation,
            $"spec.connectorClass {c.ConnectorClass} has not been vetted by the operator: it does not know which of its config keys name topics, hosts or URLs, so policy cannot check them; " +
            $"use a vetted class ({string.Join(", ", ConnectorKeyTable.VettedClasses.Order(StringComparer.Ordinal))}) or ask the platform team to set " +
            $"Department {d.Name} spec.policy.allowUnvettedConnectorClasses: true"));
    }

    // The CRD refuses the exact spellings; a different case (KAFKA.API.KEY) must not slip past it into the remote config.
    private static void CheckReservedKeys(ConnectorCandidate c, List<Violation> violations)
    {
        foreach (var key in c.Config.Keys.Where(IsReservedKey).Order(StringComparer.Ordinal))
            violations.Add(new Violation($"spec.config[{key}]", ViolationReasons.PolicyViolation, ReservedMessage("spec.config", key)));
        foreach (var key in c.SecretKeys.Where(IsReservedKey).Order(StringComparer.Ordinal))
            violations.Add(new Violation($"spec.secretConfig[{key}]", ViolationReasons.PolicyViolation, ReservedMessage("spec.secretConfig", key)));
    }

    /// <summary>Whether a config key is one the operator sets itself, compared without regard to case.</summary>
    public static bool IsReservedKey(string key) => Entities.ConnectApi.ReservedConfigKeys.Contains(key);

    private static string ReservedMessage(string where, string key)
        => $"{where} must not set reserved key {key} (in any letter case): name, connector.class, tasks.max, the kafka.* auth keys and the custom plugin keys " +
           "confluent.connector.type and confluent.custom.plugin.id are set by the operator; " +
           "use spec.connectorClass, spec.tasksMax and spec.customPlugin, Kafka auth is injected from the Department";

    // Policy can only check what it can read: a topic or host hidden in a Secret would bypass it.
    private static void CheckPolicyKeysArePlain(ConnectorCandidate c, CustomPluginPolicy? plugin, List<Violation> violations)
    {
        foreach (var key in c.SecretKeys.Where(k => ConnectorKeyTable.IsPolicyKey(c.ConnectorClass, k, plugin)).Order(StringComparer.Ordinal))
            violations.Add(new Violation($"spec.secretConfig[{key}]", ViolationReasons.PolicyViolation,
                $"spec.secretConfig key {key} names a topic, a network endpoint or a transform that policy must check; move it to spec.config"));
    }

    private static void CheckTopics(DepartmentPolicy d, ConnectorCandidate c, CustomPluginPolicy? plugin, List<Violation> violations)
    {
        foreach (var (key, kind) in ConnectorKeyTable.TopicKeys(c.ConnectorClass, c.Config.Keys, plugin).OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (!c.Config.TryGetValue(key, out var value) || string.IsNullOrWhiteSpace(value)) continue;
            if (kind == ConnectorKeyTable.TopicKeyKind.Unsupported)
            {
                violations.Add(new Violation($"spec.config[{key}]", ViolationReasons.PolicyViolation,
                    $"spec.config[{key}] shapes topic names in a way policy cannot check against the allowed prefixes of department {d.Name}; remove it " +
                    "(the connector's default keeps every topic under its checked topic prefix)"));
                continue;
            }
            var topics = kind is ConnectorKeyTable.TopicKeyKind.List or ConnectorKeyTable.TopicKeyKind.RegexList
                ? value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : new[] { value.Trim() };
            foreach (var topic in topics)
            {
                if (kind is ConnectorKeyTable.TopicKeyKind.Regex or ConnectorKeyTable.TopicKeyKind.RegexList)
                {
                    if (CheckPattern(d, key, topic) is { } v) violations.Add(v);
                    continue;
                }
                var literal = kind == ConnectorKeyTable.TopicKeyKind.Template ? LiteralBefore(topic, "${") : topic;
                if (d.TopicPrefixes.Any(p => TopicMatches(literal, p, kind))) continue;
                var what = kind switch
                {
                    ConnectorKeyTable.TopicKeyKind.Prefix => $"topic prefix {topic} does not start with",
                    ConnectorKeyTable.TopicKeyKind.Template => $"topic template {topic} does not start with",
                    _ => $"topic {topic} does not start with",
                };
                violations.Add(new Violation($"spec.config[{key}]", ViolationReasons.PolicyViolation,
                    $"spec.config[{key}]: {what} an allowed prefix of department {d.Name} ({Describe(d.TopicPrefixes)}); " +
                    $"rename it or ask the platform team to add a prefix to Department {d.Name} spec.policy.topicPrefixes"));
            }
        }
    }

    /// <summary>A topic regex is allowed only if every topic it can match starts with an allowed prefix.</summary>
    public static Violation? CheckPattern(DepartmentPolicy d, string key, string pattern)
    {
        var r = TopicPatternAnalyzer.Analyze(pattern, d.TopicPrefixes);
        var example = TopicPatternAnalyzer.ExampleFor(d.TopicPrefixes);
        return r.Outcome switch
        {
            TopicPatternAnalyzer.Outcome.Allowed => null,
            TopicPatternAnalyzer.Outcome.Escapes => new Violation($"spec.config[{key}]", ViolationReasons.PolicyViolation,
                $"spec.config[{key}]: topic pattern {pattern} can match topics that do not start with an allowed prefix of department {d.Name} ({Describe(d.TopicPrefixes)})" +
                (r.Witness is { Length: > 0 } w ? $", e.g. topics starting with \"{w}\"" : ", e.g. the empty topic name") +
                $"; start every alternative with an escaped allowed prefix, e.g. {example}, or ask the platform team to add a prefix to Department {d.Name} spec.policy.topicPrefixes"),
            _ => new Violation($"spec.config[{key}]", ViolationReasons.PolicyViolation,
                $"spec.config[{key}]: topic pattern {pattern} cannot be checked against the allowed prefixes of department {d.Name} ({Describe(d.TopicPrefixes)}): {r.Reason}; " +
                $"write it as alternatives that each start with an escaped allowed prefix, e.g. {example}"),
        };
    }

    private static string LiteralBefore(string s, string marker)
    {
        var i = s.IndexOf(marker, StringComparison.Ordinal);
        return i < 0 ? s : s[..i];
    }

    private static bool TopicMatches(string topicOrLiteral, string prefix, ConnectorKeyTable.TopicKeyKind kind)
    {
        if (topicOrLiteral.StartsWith(prefix, StringComparison.Ordinal)) return true;
        // A CDC topic.prefix "finance" yields topics "finance.<schema>.<table>", which do start with "finance.".
        return kind == ConnectorKeyTable.TopicKeyKind.Prefix && (topicOrLiteral + ".").StartsWith(prefix, StringComparison.Ordinal);
    }

    private static void CheckTransforms(DepartmentPolicy d, ConnectorCandidate c, List<Violation> violations)
    {
        CheckChain(d, c, "transforms", violations);
        CheckChain(d, c, "predicates", violations);
    }

    /// <summary>
    /// Every alias of a transform or predicate chain, whether listed in <c>transforms</c> or only configured under
    /// <c>transforms.&lt;alias&gt;.*</c>, needs a type the operator knows (or the Department names), and a transform
    /// that renames topics must rename them into the department's prefixes.
    /// </summary>
    private static void CheckChain(DepartmentPolicy d, ConnectorCandidate c, string chain, List<Violation> violations)
    {
        var what = chain == "transforms" ? "transform" : "predicate";
        var aliases = new SortedSet<string>(StringComparer.Ordinal);
        if (c.Config.TryGetValue(chain, out var list))
            foreach (var a in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) aliases.Add(a);
        foreach (var key in c.Config.Keys.Where(k => k.StartsWith(chain + ".", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var rest = key[(chain.Length + 1)..];
            var dot = rest.IndexOf('.');
            if (dot <= 0)
            {
                violations.Add(new Violation($"spec.config[{key}]", ViolationReasons.PolicyViolation,
                    $"spec.config[{key}] is not a {what} setting: write {chain}.<alias>.<setting> with the alias listed in spec.config[{chain}]"));
                continue;
            }
            aliases.Add(rest[..dot]);
        }
        foreach (var alias in aliases)
        {
            var typeKey = $"{chain}.{alias}.type";
            if (!c.Config.TryGetValue(typeKey, out var type) || string.IsNullOrWhiteSpace(type))
            {
                violations.Add(new Violation($"spec.config[{typeKey}]", ViolationReasons.PolicyViolation,
                    $"spec.config[{typeKey}] is not set: every {what} needs a type (a class name) that policy can check"));
                continue;
            }
            type = type.Trim();
            var named = d.Transforms.Contains(type, StringComparer.Ordinal);
            if (chain == "predicates")
            {
                if (!ConnectorKeyTable.IsKnownPredicate(type) && !named) violations.Add(Unknown(d, typeKey, what, type));
                continue;
            }
            var info = ConnectorKeyTable.Transform(type);
            if (info is null)
            {
                if (!named) violations.Add(Unknown(d, typeKey, what, type));
                continue;
            }
            var paramKey = $"{chain}.{alias}.{info.Parameter}";
            switch (info.Output)
            {
                case ConnectorKeyTable.TransformOutput.RecordData when !named:
                    violations.Add(new Violation($"spec.config[{typeKey}]", ViolationReasons.PolicyViolation,
                        $"spec.config[{typeKey}]: transform {type} takes the topic from the record's data, so policy cannot check that it stays within the allowed prefixes of department {d.Name}; " +
                        $"use RegexRouter with a replacement that starts with an allowed prefix, or ask the platform team to name {type} in Department {d.Name} spec.policy.allowedTransforms"));
                    break;
                case ConnectorKeyTable.TransformOutput.Replacement:
                    if (!c.Config.TryGetValue(paramKey, out var replacement)) break;   // the connector refuses to start without it
                    if (ReplacementStaysInPrefixes(replacement, d.TopicPrefixes)) break;
                    violations.Add(new Violation($"spec.config[{paramKey}]", ViolationReasons.PolicyViolation,
                        $"spec.config[{paramKey}]: transform {type} renames topics to {replacement}, which does not start with an allowed prefix of department {d.Name} ({Describe(d.TopicPrefixes)}); " +
                        $"start the replacement with an allowed prefix, e.g. {(d.TopicPrefixes.Count > 0 ? d.TopicPrefixes[0] : "finance.")}$1"));
                    break;
                case ConnectorKeyTable.TransformOutput.TopicFormat:
                    var format = c.Config.TryGetValue(paramKey, out var f) ? f.Trim() : "${topic}-${timestamp}";
                    if (format.StartsWith("${topic}", StringComparison.Ordinal)) break;
                    var literal = LiteralBefore(format, "${");
                    if (d.TopicPrefixes.Any(p => literal.StartsWith(p, StringComparison.Ordinal))) break;
                    violations.Add(new Violation($"spec.config[{paramKey}]", ViolationReasons.PolicyViolation,
                        $"spec.config[{paramKey}]: transform {type} renames topics to {format}, which does not start with ${{topic}} or an allowed prefix of department {d.Name} ({Describe(d.TopicPrefixes)}); " +
                        "start the format with ${topic}, e.g. ${topic}-${timestamp}"));
                    break;
            }
        }
    }

    private static Violation Unknown(DepartmentPolicy d, string typeKey, string what, string type)
        => new($"spec.config[{typeKey}]", ViolationReasons.PolicyViolation,
            $"spec.config[{typeKey}]: {what} type {type} is not one the operator knows, so policy cannot tell whether it changes topics or reaches the network; " +
            $"use a vetted {what} or ask the platform team to name {type} in Department {d.Name} spec.policy.allowedTransforms");

    /// <summary>
    /// A Java replacement (<c>Matcher.replaceFirst</c>): literal text, <c>\x</c> for a literal x, <c>$n</c> / <c>${name}</c>
    /// for groups. Allowed when its literal start carries a prefix, or when it starts with the whole matched topic
    /// (<c>$0</c>), which already carries one.
    /// </summary>
    public static bool ReplacementStaysInPrefixes(string replacement, IReadOnlyList<string> prefixes)
    {
        var literal = new System.Text.StringBuilder();
        for (var i = 0; i < replacement.Length; i++)
        {
            var ch = replacement[i];
            if (ch == '\\' && i + 1 < replacement.Length) { literal.Append(replacement[++i]); continue; }
            if (ch == '$')
            {
                if (literal.Length == 0 && i + 1 < replacement.Length && replacement[i + 1] == '0'
                    && (i + 2 >= replacement.Length || !char.IsAsciiDigit(replacement[i + 2])))
                    return true;
                break;
            }
            literal.Append(ch);
        }
        var text = literal.ToString();
        return prefixes.Any(p => text.StartsWith(p, StringComparison.Ordinal));
    }

    private static void CheckHosts(DepartmentPolicy d, ConnectorCandidate c, CustomPluginPolicy? plugin, List<Violation> violations)
    {
        var table = ConnectorKeyTable.HostKeys(c.ConnectorClass, plugin).ToDictionary(h => h.Key, h => h.Kind, StringComparer.Ordinal);
        var topicKeys = ConnectorKeyTable.TopicKeys(c.ConnectorClass, c.Config.Keys, plugin).Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var (key, value) in c.Config.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (string.IsNullOrWhiteSpace(value)) continue;
            ConnectorKeyTable.HostKeyKind kind;
            if (table.TryGetValue(key, out var k)) kind = k;
            // Keys the table does not list are still checked when their name or their value says "endpoint".
            else if (topicKeys.Contains(key)) continue;
            else if (value.Contains("://", StringComparison.Ordinal)) kind = ConnectorKeyTable.HostKeyKind.UrlList;
            else if (ConnectorKeyTable.GenericHostKind(key) is { } g) kind = g;
            else continue;
            if (kind is ConnectorKeyTable.HostKeyKind.Host or ConnectorKeyTable.HostKeyKind.HostList && value.Contains("://", StringComparison.Ordinal))
                kind = ConnectorKeyTable.HostKeyKind.UrlList;
            foreach (var host in HostsOf(value, kind))
            {
                if (host is null)
                {
                    violations.Add(new Violation($"spec.config[{key}]", ViolationReasons.PolicyViolation,
                        $"spec.config[{key}]: cannot read a host from this value; give a hostname or a URL such as https://host.example.com/path"));
                    continue;
                }
                if (d.AllowedHosts.Any(p => HostMatches(host, p))) continue;
                violations.Add(new Violation($"spec.config[{key}]", ViolationReasons.PolicyViolation,
                    $"spec.config[{key}]: host {host} is not in the allowed hosts of department {d.Name} ({Describe(d.AllowedHosts)}); " +
                    $"use an approved host or ask the platform team to open the network path and add it to Department {d.Name} spec.policy.allowedHosts"));
            }
        }
    }

    private static IEnumerable<string?> HostsOf(string value, ConnectorKeyTable.HostKeyKind kind) => kind switch
    {
        ConnectorKeyTable.HostKeyKind.Url => new[] { HostOfUrl(value.Trim()) },
        ConnectorKeyTable.HostKeyKind.HostList => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(StripPort),
        ConnectorKeyTable.HostKeyKind.UrlList => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(HostOfUrl),
        _ => new[] { StripPort(value.Trim()) },
    };

    /// <summary>The host of an http(s) or JDBC-style URL, or null when the value has none.</summary>
    public static string? HostOfUrl(string url)
    {
        var u = url.StartsWith("jdbc:", StringComparison.OrdinalIgnoreCase) ? url[5..] : url;
        return Uri.TryCreate(u, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host) ? uri.Host.ToLowerInvariant() : null;
    }

    private static string? StripPort(string hostPort)
    {
        if (hostPort.Length == 0 || hostPort.Contains('/') || hostPort.Contains('@')) return null;
        var colon = hostPort.LastIndexOf(':');
        var host = colon > 0 && !hostPort.StartsWith('[') ? hostPort[..colon] : hostPort;
        return host.ToLowerInvariant();
    }

    /// <summary>Exact host, or <c>*.domain</c> for any name below that domain (not the domain itself).</summary>
    public static bool HostMatches(string host, string pattern)
    {
        pattern = pattern.Trim().ToLowerInvariant();
        if (pattern.StartsWith("*.", StringComparison.Ordinal))
            return host.EndsWith(pattern[1..], StringComparison.Ordinal) && host.Length > pattern.Length - 1;
        return string.Equals(host, pattern, StringComparison.Ordinal);
    }

    private static string Describe(IReadOnlyList<string> items) => items.Count == 0 ? "none configured" : string.Join(", ", items);
}
