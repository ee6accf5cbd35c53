namespace ConnectOperator.Policy;

/// <summary>
/// The Confluent name of a ManagedConnector, <c>{prefix}.{namespace}.{name}</c>, and the rules that keep it unique
/// across the whole operator. The namespace (a DNS label) and the prefix never contain a dot, so the first two dots
/// split any name back into exactly one (prefix, namespace, name); a namespace belongs to one Department and a prefix
/// to one Department, so two objects can never share a Confluent name, and a remote connector with that name can only
/// ever be adopted by the department that owns it.
/// </summary>
public static class ConnectorNaming
{
    /// <summary>
    /// A Department name is the prefix when <c>spec.connectorNamePrefix</c> is not set. Confluent documents no
    /// connector name limit; 63 keeps the longest name (63 + 1 + 63 + 1 + 63 = 191) well inside status.connectorName's
    /// 256 and inside what the Confluent UI and CLI show.
    /// </summary>
    public const int MaxDepartmentNameLength = 63;

    public static string RemoteName(string effectivePrefix, string @namespace, string name) => $"{effectivePrefix}.{@namespace}.{name}";

    public static string RemoteName(DepartmentPolicy department, string @namespace, string name) => RemoteName(department.EffectivePrefix, @namespace, name);

    /// <summary>The object a Confluent name belongs to, if the name has our shape: the first two dots split it.</summary>
    public static bool TryParse(string remoteName, out string @namespace, out string name)
    {
        (@namespace, name) = ("", "");
        var first = remoteName.IndexOf('.', StringComparison.Ordinal);
        var second = first < 0 ? -1 : remoteName.IndexOf('.', first + 1);
        if (first <= 0 || second <= first + 1 || second == remoteName.Length - 1) return false;
        (@namespace, name) = (remoteName[(first + 1)..second], remoteName[(second + 1)..]);
        return true;
    }

    /// <summary>What is wrong with a Department's own name for naming connectors (the CRD says the same).</summary>
    public static IReadOnlyList<Violation> CheckDepartment(DepartmentPolicy d)
    {
        var violations = new List<Violation>();
        if (d.Name.Contains('.', StringComparison.Ordinal))
            violations.Add(new Violation("metadata.name", ViolationReasons.PolicyViolation,
                $"metadata.name {d.Name} contains a dot; Confluent connector names are <prefix>.<namespace>.<name>, and a dot in the Department name would let two connectors of different departments map to one Confluent name; name the Department without dots (e.g. {d.Name.Replace('.', '-')})"));
        if (d.Name.Length > MaxDepartmentNameLength)
            violations.Add(new Violation("metadata.name", ViolationReasons.PolicyViolation,
                $"metadata.name must be at most {MaxDepartmentNameLength} characters (it can become the first part of every Confluent connector name of the department); choose a shorter name"));
        return violations;
    }

    /// <summary>A Department whose connector name prefix another Department already uses (one prefix, one department).</summary>
    public static Violation? CheckUniquePrefix(DepartmentPolicy d, IEnumerable<DepartmentPolicy> others)
    {
        var clash = others.Where(o => o.Name != d.Name && string.Equals(o.EffectivePrefix, d.EffectivePrefix, StringComparison.Ordinal))
            .Select(o => o.Name).Order(StringComparer.Ordinal).ToList();
        if (clash.Count == 0) return null;
        return new Violation("spec.connectorNamePrefix", ViolationReasons.NameConflict,
            $"spec.connectorNamePrefix: the Confluent connector name prefix {d.EffectivePrefix} is already used by Department {string.Join(", ", clash)}; " +
            "each Department needs its own prefix so that no connector name (and no adoption) crosses departments; set a different spec.connectorNamePrefix");
    }
}
