using ConnectOperator.Entities;
using ConnectOperator.Runtime.Caching;

namespace ConnectOperator.Policy;

/// <summary>
/// Answers "which department, which quotas, which connectors" from the informer caches, for the reconcilers and the
/// webhooks alike. It never calls the API server: admission must stay fast and must decide as the reconciler does.
/// </summary>
public sealed class TenantDirectory
{
    public const string ByDepartmentIndex = "department";
    public const string ByClaimedNamespaceIndex = "claimed-namespace";

    private readonly Informer<V1Alpha1Department> _departments;
    private readonly Informer<V1Alpha1ConnectorQuota> _quotas;
    private readonly Informer<V1Alpha1ManagedConnector> _connectors;

    public TenantDirectory(Informer<V1Alpha1Department> departments, Informer<V1Alpha1ConnectorQuota> quotas, Informer<V1Alpha1ManagedConnector> connectors)
    {
        _departments = departments;
        _quotas = quotas;
        _connectors = connectors;
        _quotas.Store.AddIndex(ByDepartmentIndex, q => new[] { q.Spec.DepartmentRef.Name });
        _departments.Store.AddIndex(ByClaimedNamespaceIndex, d => d.Spec.Namespaces);
    }

    /// <summary>
    /// Whose turn a namespace's work is (the work queue's fairness key): the Department that claims it, else the namespace
    /// itself (unassigned, or claimed twice, which the webhook refuses).
    /// </summary>
    public string FairnessKeyOf(string @namespace)
        => ResolveDepartment(@namespace).Department is { } d ? "department/" + d.Metadata.Name : "namespace/" + @namespace;

    public Informer<V1Alpha1Department> Departments => _departments;
    public Informer<V1Alpha1ConnectorQuota> Quotas => _quotas;
    public Informer<V1Alpha1ManagedConnector> Connectors => _connectors;

    /// <summary>
    /// The Department that claims <paramref name="namespace"/>, or why there is none. Every reconcile, admission request
    /// and metrics scrape asks this, so only the Departments that claim the namespace are read (an index of the cache),
    /// and the rule itself is the one everything else uses (<see cref="NamespaceOwnership"/>).
    /// </summary>
    public (V1Alpha1Department? Department, Violation? Violation) ResolveDepartment(string @namespace)
    {
        var claiming = _departments.Store.ByIndex(ByClaimedNamespaceIndex, @namespace).Where(d => d.Metadata.DeletionTimestamp == null).ToList();
        var claim = NamespaceOwnership.Resolve(@namespace, claiming);
        return (claim.Owner is { } owner ? claiming.First(d => d.Metadata.Name == owner) : null, claim.Violation);
    }

    /// <summary>
    /// The policy decision for one connector of <paramref name="department"/>, with the other Departments of the cache
    /// (connector name prefixes must be unique). The webhook and the reconciler both ask this.
    /// </summary>
    public IReadOnlyList<Violation> Evaluate(V1Alpha1Department department, ConnectorCandidate connector)
        => PolicyEvaluator.Evaluate(ToPolicy(department), connector,
            _departments.Store.List().Where(d => d.Metadata.Name != department.Metadata.Name && d.Metadata.DeletionTimestamp == null).Select(ToPolicy));

    public IReadOnlyList<V1Alpha1ConnectorQuota> QuotasOf(string department) => _quotas.Store.ByIndex(ByDepartmentIndex, department);

    public IReadOnlyList<QuotaLimits> LimitsOf(string department) => QuotasOf(department).Select(ToLimits).ToList();

    /// <summary>The department's live connectors (ones being deleted no longer count, as with ResourceQuota).</summary>
    public IReadOnlyList<V1Alpha1ManagedConnector> ConnectorsOf(V1Alpha1Department department)
        => department.Spec.Namespaces.SelectMany(ns => _connectors.Store.ListByNamespace(ns)).Where(c => c.Metadata.DeletionTimestamp == null).ToList();

    public static DepartmentPolicy ToPolicy(V1Alpha1Department d) => new(d.Metadata.Name, d.Spec.Namespaces.ToList(),
        (d.Spec.Policy?.AllowedConnectorClasses ?? []).ToList(), (d.Spec.Policy?.TopicPrefixes ?? []).ToList(), (d.Spec.Policy?.AllowedHosts ?? []).ToList(),
        (d.Spec.Policy?.AllowedTransforms ?? []).ToList(), d.Spec.Policy?.AllowUnvettedConnectorClasses ?? false, d.Spec.ConnectorNamePrefix,
        (d.Spec.Policy?.CustomPlugins ?? []).Select(ToPlugin).ToList());

    // A kind the CRD's enum would refuse (only an object that skipped the schema has one) fails closed: an unknown topic
    // kind refuses the key when set, an unknown host kind is read as a single host, which a list or a URL does not pass.
    private static CustomPluginPolicy ToPlugin(V1Alpha1CustomPlugin p) => new(p.Id, p.ConnectorClass,
        (p.TopicKeys ?? []).Where(k => !string.IsNullOrEmpty(k.Key)).GroupBy(k => k.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => ConnectorKeyTable.ParseTopicKind(g.Last().Kind ?? "") ?? ConnectorKeyTable.TopicKeyKind.Unsupported, StringComparer.Ordinal),
        (p.HostKeys ?? []).Where(k => !string.IsNullOrEmpty(k.Key)).GroupBy(k => k.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => ConnectorKeyTable.ParseHostKind(g.Last().Kind ?? "") ?? ConnectorKeyTable.HostKeyKind.Host, StringComparer.Ordinal));

    /// <summary>
    /// The decision input for one connector. The config is the object's own dictionary, not a copy: admission builds a
    /// candidate for every connector of the department on each request, and copying their configs was most of what a
    /// request allocated. Candidates are read-only, like the cached objects they come from.
    /// </summary>
    public static ConnectorCandidate ToCandidate(V1Alpha1ManagedConnector c) => new(c.Metadata.NamespaceProperty ?? "", c.Metadata.Name,
        c.Spec.ConnectorClass, c.Spec.TasksMax, c.Spec.Config as IReadOnlyDictionary<string, string> ?? new Dictionary<string, string>(c.Spec.Config),
        c.Spec.SecretConfig.Count == 0 ? Array.Empty<string>() : c.Spec.SecretConfig.Select(s => s.Key).ToList(),
        c.Metadata.CreationTimestamp is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null,
        c.Spec.CustomPlugin?.Id);

    public static QuotaLimits ToLimits(V1Alpha1ConnectorQuota q) => new(q.Metadata.Name, q.Spec.Hard.Connectors, q.Spec.Hard.Tasks, q.Spec.Hard.TasksPerConnector);
}
