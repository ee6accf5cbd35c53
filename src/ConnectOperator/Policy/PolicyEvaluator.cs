using System.Text;

namespace ConnectOperator.Policy;

/// <summary>
/// Decides whether a connector fits its department's policy. The admission webhook, the reconciler and the
/// offline <c>validate</c> command all call this, so a rule cannot differ between apply time and reconcile time.
/// Empty <c>topicPrefixes</c> or <c>allowedHosts</c> allow nothing: a department reaches only what the platform
/// team has opened for it.
/// </summary>
public static class PolicyEvaluator
{
    /// <summary>Finds the single department that owns a namespace, or says why there is none.</summary>
    public static (DepartmentPolicy? Department, Violation? Violation) ResolveDepartment(string @namespace, IEnumerable<DepartmentPolicy> departments)
    {
        var owners = departments.Where(d => d.Namespaces.Contains(@namespace, StringComparer.Ordinal)).ToList();
        return owners.Count switch
        {
            1 => (owners[0], null),
            0 => (null, new Violation("metadata.namespace", ViolationReasons.NoDepartment,
                $"namespace {@namespace} is not assigned to any Department; ask the platform team to add it to a Department's spec.namespaces")),
            _ => (null, new Violation("metadata.namespace", ViolationReasons.NamespaceConflict,
                $"namespace {@namespace} is claimed by more than one Department ({string.Join(", ", owners.Select(o => o.Name).Order(StringComparer.Ordinal))}); ask the platform team to keep it in exactly one Department's spec.namespaces")),
        };
    }

    /// <summary>Every policy violation of <paramref name="connector"/>; empty when it complies.</summary>
    public static IReadOnlyList<Violation> Evaluate(DepartmentPolicy department, ConnectorCandidate connector)
    {
        var violations = new List<Violation>();
        CheckClass(department, connector, violations);
        CheckPolicyKeysArePlain(connector, violations);
        CheckTopics(department, connector, violations);
        CheckHosts(department, connector, violations);
        return violations;
    }

    private static void CheckClass(DepartmentPolicy d, ConnectorCandidate c, List<Violation> violations)
    {
        if (d.AllowedConnectorClasses.Count == 0 || d.AllowedConnectorClasses.Contains(c.ConnectorClass, StringComparer.Ordinal)) return;
        violations.Add(new Violation("spec.connectorClass", ViolationReasons.PolicyViolation,
            $"spec.connectorClass {c.ConnectorClass} is not allowed for department {d.Name} (allowed: {string.Join(", ", d.AllowedConnectorClasses)}); " +
            $"use an allowed class or ask the platform team to add it to Department {d.Name} spec.policy.allowedConnectorClasses"));
    }

    // Policy can only check what it can read: a topic or host hidden in a Secret would bypass it.
    private static void CheckPolicyKeysArePlain(ConnectorCandidate c, List<Violation> violations)
    {
        foreach (var key in c.SecretKeys.Where(k => ConnectorKeyTable.IsPolicyKey(c.ConnectorClass, k)).Order(StringComparer.Ordinal))
            violations.Add(new Violation($"spec.secretConfig[{key}]", ViolationReasons.PolicyViolation,
                $"spec.secretConfig key {key} names a topic or network endpoint that policy must check; move it to spec.config"));
    }

    private static void CheckTopics(DepartmentPolicy d, ConnectorCandidate c, List<Violation> violations)
    {
        foreach (var (key, kind) in ConnectorKeyTable.TopicKeys(c.ConnectorClass, c.Config.Keys))
        {
            if (!c.Config.TryGetValue(key, out var value) || string.IsNullOrWhiteSpace(value)) continue;
            var topics = kind == ConnectorKeyTable.TopicKeyKind.List
                ? value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : new[] { value.Trim() };
            foreach (var topic in topics)
            {
                var literal = kind == ConnectorKeyTable.TopicKeyKind.Regex ? LiteralPrefixOfRegex(topic) : topic;
                if (d.TopicPrefixes.Any(p => TopicMatches(literal, p, kind))) continue;
                var what = kind switch
                {
                    ConnectorKeyTable.TopicKeyKind.Regex => $"topic pattern {topic} does not start with",
                    ConnectorKeyTable.TopicKeyKind.Prefix => $"topic prefix {topic} does not start with",
                    _ => $"topic {topic} does not start with",
                };
                violations.Add(new Violation($"spec.config[{key}]", ViolationReasons.PolicyViolation,
                    $"spec.config[{key}]: {what} an allowed prefix of department {d.Name} ({Describe(d.TopicPrefixes)}); " +
                    $"rename it or ask the platform team to add a prefix to Department {d.Name} spec.policy.topicPrefixes"));
            }
        }
    }

    private static bool TopicMatches(string topicOrLiteral, string prefix, ConnectorKeyTable.TopicKeyKind kind)
    {
        if (topicOrLiteral.StartsWith(prefix, StringComparison.Ordinal)) return true;
        // A CDC topic.prefix "finance" yields topics "finance.<schema>.<table>", which do start with "finance.".
        return kind == ConnectorKeyTable.TopicKeyKind.Prefix && (topicOrLiteral + ".").StartsWith(prefix, StringComparison.Ordinal);
    }

    /// <summary>The literal text every match of a topic regex starts with, e.g. <c>^finance\.orders.*</c> gives <c>finance.orders</c>.</summary>
    public static string LiteralPrefixOfRegex(string regex)
    {
        var sb = new StringBuilder();
        var i = regex.StartsWith('^') ? 1 : 0;
        for (; i < regex.Length; i++)
        {
            var ch = regex[i];
            if (ch == '\\' && i + 1 < regex.Length && !char.IsLetterOrDigit(regex[i + 1])) { sb.Append(regex[++i]); continue; }
            if ("\\.[](){}*+?|^$".Contains(ch)) break;
            sb.Append(ch);
        }
        // A quantifier makes the character before it optional, so it is not part of the guaranteed prefix.
        if (i < regex.Length && "*?{".Contains(regex[i]) && sb.Length > 0) sb.Length--;
        return sb.ToString();
    }

    private static void CheckHosts(DepartmentPolicy d, ConnectorCandidate c, List<Violation> violations)
    {
        foreach (var (key, kind) in ConnectorKeyTable.HostKeys(c.ConnectorClass))
        {
            if (!c.Config.TryGetValue(key, out var value) || string.IsNullOrWhiteSpace(value)) continue;
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
