namespace ConnectOperator.Policy;

// The decision code works on these plain views rather than on the CRD entities, so the webhook (reading the informer
// cache), the reconciler and the offline `validate` command (reading files) all feed it the same way.

/// <summary>
/// What a Department allows. Every list allows only what it names: an empty class list allows no class.
/// <paramref name="AllowedTransforms"/> names transform and predicate types beyond the vetted ones (and the
/// record-data topic routers); <paramref name="AllowUnvettedConnectorClasses"/> lets an allowed class that has no key
/// table run, checked only by the common and generic rules.
/// </summary>
public sealed record DepartmentPolicy(
    string Name,
    IReadOnlyList<string> Namespaces,
    IReadOnlyList<string> AllowedConnectorClasses,
    IReadOnlyList<string> TopicPrefixes,
    IReadOnlyList<string> AllowedHosts,
    IReadOnlyList<string>? AllowedTransforms = null,
    bool AllowUnvettedConnectorClasses = false,
    string? ConnectorNamePrefix = null,
    IReadOnlyList<CustomPluginPolicy>? CustomPlugins = null)
{
    public IReadOnlyList<string> Transforms => AllowedTransforms ?? Array.Empty<string>();

    public IReadOnlyList<CustomPluginPolicy> Plugins => CustomPlugins ?? Array.Empty<CustomPluginPolicy>();

    /// <summary>The first part of every Confluent connector name of the department.</summary>
    public string EffectivePrefix => string.IsNullOrEmpty(ConnectorNamePrefix) ? Name : ConnectorNamePrefix;
}

/// <summary>
/// A custom plugin a Department approved, with the key table the platform team wrote for it: the operator cannot know
/// the keys of code someone else uploaded, so policy sees exactly the keys named here (and the generic ones).
/// </summary>
public sealed record CustomPluginPolicy(
    string Id,
    string ConnectorClass,
    IReadOnlyDictionary<string, ConnectorKeyTable.TopicKeyKind> TopicKeys,
    IReadOnlyDictionary<string, ConnectorKeyTable.HostKeyKind> HostKeys);

/// <summary>One ManagedConnector as policy and quota see it. Secret values are never part of it: only the keys.</summary>
public sealed record ConnectorCandidate(
    string Namespace,
    string Name,
    string ConnectorClass,
    int TasksMax,
    IReadOnlyDictionary<string, string> Config,
    IReadOnlyCollection<string> SecretKeys,
    DateTimeOffset? CreationTimestamp = null,
    string? CustomPluginId = null)
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
    public const string NameConflict = "NameConflict";
}
