using ConnectOperator.Confluent;
using ConnectOperator.Controllers;
using ConnectOperator.Controllers.Departments;
using ConnectOperator.Controllers.ManagedConnectors;
using ConnectOperator.Controllers.Quotas;
using ConnectOperator.Entities;
using ConnectOperator.Observability;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Status;
using k8s.Models;

namespace ConnectOperator.Hosting;

/// <summary>
/// The three controllers and the poller, and which events wake which objects. Read this file to learn why a
/// ManagedConnector is reconciled: its own spec or annotations; its Department, quota or Secrets changing; a
/// sibling freeing quota; or the poll seeing its remote connector change.
/// </summary>
public sealed class ControllerSet
{
    private const string BySecretIndex = "secret";
    private const string ByRemoteNameIndex = "remoteName";
    private const string ByCredentialsIndex = "credentials";

    public Controller<V1Alpha1ManagedConnector> Connectors { get; }
    public Controller<V1Alpha1Department> Departments { get; }
    public Controller<V1Alpha1ConnectorQuota> Quotas { get; }
    /// <summary>connect.ebs.io/offsets: list, alter, reset (its own controller, so the main reconcile never waits on it).</summary>
    public Controller<V1Alpha1ManagedConnector> Offsets { get; }
    public RemoteConnectorPoller Poller { get; }
    /// <summary>The throughput poller (leader only), or null when <c>Operator:Throughput:Enabled</c> is false.</summary>
    public ThroughputPoller? Throughput { get; }
    public IReadOnlyList<IInformer> Informers { get; }
    public IReadOnlyList<IController> Controllers { get; }

    public ControllerSet(TenantDirectory tenants, KubeApiClient api, NamespacedInformers<V1Secret> secrets, CredentialsResolver credentials, ConnectClientFactory clients,
        StatusWriter status, Finalizers finalizers, EventRecorder events, OperatorOptions options, ILoggerFactory logs,
        OperatorMetrics? metrics = null, Confluent.Metrics.MetricsClientFactory? metricsClients = null, StringPool? strings = null)
    {
        var connectors = tenants.Connectors;
        connectors.Store.AddIndex(BySecretIndex, c => c.Spec.SecretConfig.Select(s => $"{c.Metadata.NamespaceProperty}/{s.SecretKeyRef.Name}").Distinct());
        // By the name in status and by the intent recorded before a create: the poll's news of a connector just created
        // must find its object even if the status write after the create is not in the cache yet.
        connectors.Store.AddIndex(ByRemoteNameIndex, c => new[] { c.Status?.ConnectorName, c.Metadata.Annotations?.TryGetValue(ConnectApi.IntentAnnotation, out var i) == true ? i : null }
            .OfType<string>().Distinct(StringComparer.Ordinal));
        tenants.Departments.Store.AddIndex(ByCredentialsIndex, d => new[] { $"{credentials.OperatorNamespace}/{d.Spec.Confluent.CredentialsSecretRef.Name}" });

        Poller = new RemoteConnectorPoller(clients, () => PollTargets(tenants, credentials), OnRemoteChanged, options.PollInterval, logs.CreateLogger<RemoteConnectorPoller>(),
            strings: strings);

        var mcReconciler = new ManagedConnectorReconciler(tenants, api, secrets, credentials, clients, Poller, status, finalizers, events, options,
            logs.CreateLogger<ManagedConnectorReconciler>());
        Connectors = new Controller<V1Alpha1ManagedConnector>("managedconnector", connectors, Metered(metrics, "ManagedConnector", mcReconciler),
            // Round-robin across departments, so one department's burst of thousands of connectors does not hold up the others.
            new ControllerOptions
            {
                Workers = options.Workers, FairnessKey = r => tenants.FairnessKeyOf(r.Namespace ?? ""),
                // Its own writes do not start another pass (no echo passes): status writes by what changed, metadata
                // writes (finalizer, intent) by the version it wrote.
                UpdateFilter = (old, @new) => Predicates.SpecOrMetadataChanged(old, @new) && !mcReconciler.Expectations.IsOwnEcho((V1Alpha1ManagedConnector)@new),
            }, logs.CreateLogger("controller.managedconnector"));
        Departments = new Controller<V1Alpha1Department>("department", tenants.Departments,
            Metered(metrics, "Department", new DepartmentReconciler(tenants, credentials, clients, status, events, logs.CreateLogger<DepartmentReconciler>(),
                secretAccess: new SecretAccessGrants(api, options.SecretAccess, options.Namespace, logs.CreateLogger<SecretAccessGrants>()))),
            new ControllerOptions { Workers = 1 }, logs.CreateLogger("controller.department"));
        Quotas = new Controller<V1Alpha1ConnectorQuota>("connectorquota", tenants.Quotas, Metered(metrics, "ConnectorQuota", new ConnectorQuotaReconciler(tenants, status)),
            new ControllerOptions { Workers = 1 }, logs.CreateLogger("controller.connectorquota"));

        Offsets = new Controller<V1Alpha1ManagedConnector>("offsets", connectors,
            new ConnectOperator.Controllers.ManagedConnectors.Offsets.OffsetsReconciler(tenants, api, credentials, clients, status, events,
                logs.CreateLogger<ConnectOperator.Controllers.ManagedConnectors.Offsets.OffsetsReconciler>()),
            new ControllerOptions { Workers = 1 }, logs.CreateLogger("controller.offsets"));
        // Secrets are watched per namespace: the operator's own and each one a Department claims (every replica, so a
        // new leader starts with warm caches).
        tenants.Departments.AddEventHandler(
            onAdd: _ => TrackNamespaces(), onUpdate: (_, _) => TrackNamespaces(), onDelete: _ => TrackNamespaces());
        void TrackNamespaces() => secrets.SetNamespaces(tenants.Departments.Store.List().SelectMany(d => d.Spec.Namespaces));

        // ManagedConnector: Department changes (policy, suspend, prefix, cluster) touch all of its connectors.
        Connectors.Watch(tenants.Departments, d => ConnectorsOf(tenants, d));
        Connectors.Watch(tenants.Quotas, q => tenants.Departments.Store.Get(null, q.Spec.DepartmentRef.Name) is { } d ? ConnectorsOf(tenants, d) : Array.Empty<ReconcileRequest>());
        // A rotated password reaches Confluent without anyone touching the ManagedConnector.
        Connectors.Watch(secrets, s =>
        {
            var key = $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}";
            var direct = connectors.Store.ByIndex(BySecretIndex, key).Select(ReconcileRequest.For);
            var viaCredentials = tenants.Departments.Store.ByIndex(ByCredentialsIndex, key).SelectMany(d => ConnectorsOf(tenants, d));
            return direct.Concat(viaCredentials);
        });
        // A deleted or shrunk connector may free quota for a sibling that was held back.
        Connectors.Watch(connectors, c => tenants.ResolveDepartment(c.Metadata.NamespaceProperty).Department is { } d
            ? tenants.ConnectorsOf(d).Where(IsHeldByQuota).Select(ReconcileRequest.For)
            : Array.Empty<ReconcileRequest>());

        // Department: counts follow its connectors; readiness follows its credentials Secret.
        Departments.Watch(connectors, c => tenants.ResolveDepartment(c.Metadata.NamespaceProperty).Department is { } d
            ? new[] { ReconcileRequest.For(d) } : Array.Empty<ReconcileRequest>());
        Departments.Watch(secrets, s => tenants.Departments.Store.ByIndex(ByCredentialsIndex, $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}").Select(ReconcileRequest.For));
        // A namespace conflict involves two Departments: wake them all (few objects).
        Departments.Watch(tenants.Departments, _ => tenants.Departments.Store.List().Select(ReconcileRequest.For));

        // ConnectorQuota: used follows the department's connectors.
        Quotas.Watch(connectors, c => tenants.ResolveDepartment(c.Metadata.NamespaceProperty).Department is { } d
            ? tenants.QuotasOf(d.Metadata.Name).Select(ReconcileRequest.For) : Array.Empty<ReconcileRequest>());
        Quotas.Watch(tenants.Departments, d => tenants.QuotasOf(d.Metadata.Name).Select(ReconcileRequest.For));

        Informers = new IInformer[] { tenants.Departments, tenants.Quotas, connectors, secrets };
        var controllers = new List<IController> { Connectors, Departments, Quotas, Offsets, new PollerController(Poller) };
        if (options.Throughput.Enabled && metricsClients != null)
        {
            Throughput = new ThroughputPoller(metricsClients, () => ThroughputTargets(tenants, credentials), options.Throughput.EffectiveInterval,
                options.Throughput.EffectiveRequestsPerMinute, logs.CreateLogger<ThroughputPoller>());
            controllers.Add(new ThroughputPoller.AsController(Throughput));
        }
        Controllers = controllers;

        void OnRemoteChanged(PollTarget target, IReadOnlyCollection<string> names)
        {
            foreach (var name in names)
            {
                var found = false;
                foreach (var c in connectors.Store.ByIndex(ByRemoteNameIndex, name))
                {
                    Connectors!.Enqueue(ReconcileRequest.For(c));
                    found = true;
                }
                // The cache can lag behind the intent written just before a create, and a connector's first listing
                // is news only once: the name itself says which object it is (a name of no object costs one empty pass).
                if (!found && ConnectorNaming.TryParse(name, out var ns, out var objectName)) Connectors!.Enqueue(new ReconcileRequest(ns, objectName));
            }
        }
    }

    private static IReconciler<T> Metered<T>(OperatorMetrics? metrics, string kind, IReconciler<T> reconciler) where T : class, k8s.IKubernetesObject<V1ObjectMeta>
        => metrics is null ? reconciler : metrics.Wrap(kind, reconciler);

    private static bool IsHeldByQuota(V1Alpha1ManagedConnector c)
        => ConditionSetExtensions.IsStalledFor(c, ViolationReasons.QuotaExceeded);

    private static IEnumerable<ReconcileRequest> ConnectorsOf(TenantDirectory tenants, V1Alpha1Department d)
        => d.Spec.Namespaces.SelectMany(ns => tenants.Connectors.Store.ListByNamespace(ns)).Select(ReconcileRequest.For);

    /// <summary>
    /// One poll per cluster and credential that some Department uses. Suspended ones too: suspension stops changes, not
    /// observation, so status and metrics stay true while it lasts.
    /// </summary>
    private static List<PollTarget> PollTargets(TenantDirectory tenants, CredentialsResolver credentials)
        => tenants.Departments.Store.List()
            .Where(d => d.Metadata.DeletionTimestamp == null)
            .Select(d => (d, credentials.Resolve(d).Credentials))
            .Where(x => x.Credentials != null)
            .Select(x => new PollTarget(new ClusterRef(x.d.Spec.Confluent.EnvironmentId, x.d.Spec.Confluent.KafkaClusterId), x.Credentials!))
            .DistinctBy(t => t.Id)
            .ToList();

    /// <summary>Connectors that have a Confluent id, grouped by the API key of their Department (suspended ones are still observed).</summary>
    private static List<ThroughputTarget> ThroughputTargets(TenantDirectory tenants, CredentialsResolver credentials)
        => tenants.Departments.Store.List()
            .Where(d => d.Metadata.DeletionTimestamp == null)
            .Select(d => (Department: d, credentials.Resolve(d).Credentials))
            .Where(x => x.Credentials != null)
            .SelectMany(x => tenants.ConnectorsOf(x.Department).Select(c => (Credentials: x.Credentials!, Id: c.Status?.ConnectorId)))
            .Where(x => !string.IsNullOrEmpty(x.Id))
            .GroupBy(x => x.Credentials.ApiKey, StringComparer.Ordinal)
            .Select(g => new ThroughputTarget(g.First().Credentials, g.Select(x => x.Id!).Distinct(StringComparer.Ordinal).ToList()))
            .ToList();

    /// <summary>Runs the poller as a leader-only "controller", so it starts and stops with leadership.</summary>
    private sealed class PollerController(RemoteConnectorPoller poller) : IController
    {
        public string Name => "confluent-poller";
        public IReadOnlyList<IInformer> Informers => Array.Empty<IInformer>();
        public Task RunAsync(CancellationToken ct) => poller.RunAsync(ct);
    }
}
