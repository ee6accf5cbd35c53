using ConnectOperator.Entities;

namespace ConnectOperator.Policy;

public enum NamespaceOwnershipKind
{
    /// <summary>Exactly one Department claims the namespace.</summary>
    Owned,
    /// <summary>No Department claims the namespace.</summary>
    Unassigned,
    /// <summary>Two or more Departments claim the namespace.</summary>
    Conflict,
}

/// <summary>The Departments that claim one namespace, by name in ordinal order, and what people are told about it.</summary>
public sealed record NamespaceClaim(string Namespace, IReadOnlyList<string> Claimants)
{
    public NamespaceOwnershipKind Kind => Claimants.Count switch
    {
        0 => NamespaceOwnershipKind.Unassigned,
        1 => NamespaceOwnershipKind.Owned,
        _ => NamespaceOwnershipKind.Conflict,
    };

    /// <summary>The one Department that owns the namespace; null when none or several claim it.</summary>
    public string? Owner => Kind == NamespaceOwnershipKind.Owned ? Claimants[0] : null;

    /// <summary>The claimants besides <paramref name="department"/>: the Departments it conflicts with over this namespace.</summary>
    public IReadOnlyList<string> ClaimantsOtherThan(string department)
        => Claimants.Where(c => !string.Equals(c, department, StringComparison.Ordinal)).ToList();

    /// <summary>Why a connector in this namespace has no Department to run under; null when it has one.</summary>
    public Violation? Violation => Kind switch
    {
        NamespaceOwnershipKind.Unassigned => new Violation("metadata.namespace", ViolationReasons.NoDepartment,
            $"namespace {Namespace} is not assigned to any Department; ask the platform team to add it to a Department's spec.namespaces"),
        NamespaceOwnershipKind.Conflict => new Violation("metadata.namespace", ViolationReasons.NamespaceConflict,
            $"namespace {Namespace} is claimed by more than one Department ({string.Join(", ", Claimants)}); ask the platform team to keep it in exactly one Department's spec.namespaces"),
        _ => null,
    };
}

/// <summary>
/// The one rule for who owns a namespace: it belongs to exactly one Department; none is NoDepartment, two or more is
/// NamespaceConflict. <c>validate</c>, the admission webhook, the Department reconciler and every connector reconcile
/// decide with it, so they cannot disagree. Callers choose the Departments that count (the webhook and the cache
/// leave out ones being deleted); this only applies the rule and words the answer.
/// </summary>
public static class NamespaceOwnership
{
    public static NamespaceClaim Resolve(string @namespace, IEnumerable<DepartmentPolicy> departments)
        => Resolve(@namespace, departments.Select(d => (d.Name, (IEnumerable<string>)d.Namespaces)));

    public static NamespaceClaim Resolve(string @namespace, IEnumerable<V1Alpha1Department> departments)
        => Resolve(@namespace, departments.Select(d => (d.Metadata.Name, (IEnumerable<string>)d.Spec.Namespaces)));

    public static NamespaceClaim Resolve(string @namespace, IEnumerable<(string Name, IEnumerable<string> Namespaces)> departments)
        => new(@namespace, departments.Where(d => d.Namespaces.Contains(@namespace, StringComparer.Ordinal))
            .Select(d => d.Name).Order(StringComparer.Ordinal).ToList());

    /// <summary>
    /// The admission refusal for <paramref name="department"/> adding a namespace that others already claim; null when
    /// no other Department claims it.
    /// </summary>
    public static string? RefuseClaim(NamespaceClaim claim, string department)
        => claim.ClaimantsOtherThan(department) is { Count: > 0 } others
            ? $"spec.namespaces: namespace {claim.Namespace} is already claimed by Department {string.Join(", ", others)}; a namespace belongs to exactly one Department, so remove it there first"
            : null;

    /// <summary>
    /// The Department's own view of its conflicts: its namespaces that other Departments claim too, as the Stalled
    /// condition's message; null when it has none.
    /// </summary>
    public static string? DescribeConflicts(string department, IEnumerable<NamespaceClaim> claims)
    {
        var conflicts = claims.Select(c => (c.Namespace, Others: c.ClaimantsOtherThan(department))).Where(c => c.Others.Count > 0).ToList();
        return conflicts.Count == 0
            ? null
            : "namespaces claimed by another Department: " + string.Join(", ", conflicts.Select(c => $"{c.Namespace} (also {string.Join(", ", c.Others)})")) +
              "; keep each namespace in exactly one Department's spec.namespaces";
    }
}
