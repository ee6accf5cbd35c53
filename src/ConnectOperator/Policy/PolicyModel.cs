namespace ConnectOperator.Policy;

// The decision code works on these plain views rather than on the CRD entities, so the webhook (reading the informer
// cache), the reconciler and the offline `validate` command (reading files) all feed it the same way.

/// <summary>What a Department allows. Empty class list means every class is allowed.</summary>
public sealed record DepartmentPolicy(
    string Name,
    IReadOnlyList<string> Namespaces,
    IReadOnlyList<string> AllowedConnectorClasses,
    IReadOnlyList<string> TopicPrefixes,
    IReadOnlyList<string> AllowedHosts);

/// <summary>One ManagedConnector as policy and quota see it. Secret values are never part of it: only the keys.</summary>
public sealed record ConnectorCandidate(
    string Namespace,
    string Name,
    string ConnectorClass,
    int TasksMax,
    IReadOnlyDictionary<string, string> Config,
    IReadOnlyCollection<string> SecretKeys,
    DateTimeOffset? CreationTimestamp = null)
{
    public string Key => $"{Namespace}/{Name}";
}

/// <summary>A ConnectorQuota's hard limits; null means unlimited.</summary>
public sealed record QuotaLimits(string QuotaName, int? Connectors, int? Tasks, int? TasksPerConnector);

/// <summary>What a department uses, the way ResourceQuota reports it.</summary>
public sealed record QuotaUsage(int Connectors, int Tasks, int TasksPerConnector)
{
    public static readonly QuotaUsage Zero = new(0, 0, 0);
}

/// <summary>Why a connector is refused. <see cref="Field"/> is the path a person edits; <see cref="Message"/> says the fix.</summary>
public sealed record Violation(string Field, string Reason, string Message);

public static class ViolationReasons
{
    public const string NoDepartment = "NoDepartment";
    public const string NamespaceConflict = "NamespaceConflict";
    public const string PolicyViolation = "PolicyViolation";
    public const string QuotaExceeded = "QuotaExceeded";
}
