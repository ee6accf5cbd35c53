using ConnectOperator.Controllers.ManagedConnectors;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Queues;
using Prometheus;

namespace ConnectOperator.Observability;

/// <summary>What the scrape-time collectors read. The host wires it to its informer caches, controllers and lease.</summary>
public sealed class MetricsSources
{
    public Func<IEnumerable<V1Alpha1ManagedConnector>> Connectors { get; init; } = Array.Empty<V1Alpha1ManagedConnector>;
    public Func<IEnumerable<V1Alpha1ConnectorQuota>> Quotas { get; init; } = Array.Empty<V1Alpha1ConnectorQuota>;
    /// <summary>Department of a namespace, for connectors whose status does not name one yet.</summary>
    public Func<string, string?> DepartmentOfNamespace { get; init; } = _ => null;
    public Func<bool> IsLeader { get; init; } = () => false;
    public Func<IEnumerable<WorkQueue<ReconcileRequest>>> Queues { get; init; } = Array.Empty<WorkQueue<ReconcileRequest>>;
    /// <summary>Throughput of a connector by its Confluent id; null when the feature is off (the throughput families are then not exported).</summary>
    public Func<string, ConnectorThroughput?>? Throughput { get; init; }
}

/// <summary>
/// The operator's Prometheus metrics, in a registry of its own (one per host, so several in-process operators in a
/// test do not share series). Quota, leader and queue gauges are computed from the caches at scrape time; reconcile
/// counters come from <see cref="MeteredReconciler{T}"/>; Confluent and webhook metrics are bridged from their Meters.
/// The per-connector families are not in the registry: <see cref="ExportAsync"/> renders them from the informer cache
/// after the registry's exposition (<see cref="ConnectorFamilies"/>), so nothing per connector lives between scrapes
/// and a deleted connector's series disappear with it from the cache.
/// Labels never carry config values: only object names, departments, fixed enums and route templates.
/// </summary>
public sealed class OperatorMetrics : IDisposable
{
    private readonly MetricsSources _sources;
    private readonly object _scrapeLock = new();
    private readonly Dictionary<string, (WorkQueue<ReconcileRequest> Queue, long Adds, long Retries)> _seenQueues = new();
    private HashSet<(string Department, string Quota, string Resource)> _quotaKeys = new();
    private HashSet<string> _queueNames = new();
    private readonly MeterBridge _bridge;

    /// <summary>The Prometheus text format 0.0.4, what <see cref="ExportAsync"/> writes.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Everything but the per-connector families (those are written by <see cref="ExportAsync"/>).</summary>
    public CollectorRegistry Registry { get; }

    public Counter Reconciles { get; }
    public Counter ReconcileErrors { get; }
    public Histogram ReconcileDuration { get; }
    private readonly Gauge _queueDepth, _queueLongest, _queueUnfinished, _leader;
    private readonly Counter _queueAdds, _queueRetries;
    private readonly Gauge _quotaHard, _quotaUsed;

    private static readonly string[] KindLabel = ["kind"];
    private static readonly double[] ReconcileBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    public OperatorMetrics(MetricsSources sources, TimeSpan? circuitBreakDuration = null, bool withProcessMetrics = true)
    {
        _sources = sources;
        Registry = Metrics.NewCustomRegistry();
        if (withProcessMetrics) DotNetStats.Register(Registry);
        var f = Metrics.WithCustomRegistry(Registry);

        Reconciles = f.CreateCounter(MetricNames.ReconcileTotal, "Reconciles by kind and result (success, requeue, requeue_after, error).", "kind", "result");
        ReconcileErrors = f.CreateCounter(MetricNames.ReconcileErrors, "Reconciles that threw (retried with backoff), by kind.", "kind");
        ReconcileDuration = f.CreateHistogram(MetricNames.ReconcileDuration, "Reconcile duration by kind.", new HistogramConfiguration
        {
            LabelNames = KindLabel,
            Buckets = ReconcileBuckets,
        });
        _queueDepth = f.CreateGauge(MetricNames.QueueDepth, "Items ready in a work queue, by queue (controller).", "queue");
        _queueAdds = f.CreateCounter(MetricNames.QueueAdds, "Items added to a work queue, by queue.", "queue");
        _queueRetries = f.CreateCounter(MetricNames.QueueRetries, "Rate-limited re-adds (retries), by queue.", "queue");
        _queueLongest = f.CreateGauge(MetricNames.QueueLongestRunning, "How long the longest running item of a queue has been processed.", "queue");
        _queueUnfinished = f.CreateGauge(MetricNames.QueueUnfinishedWork, "Sum of processing time of all in-flight items of a queue.", "queue");
        _leader = f.CreateGauge(MetricNames.Leader, "1 if this replica holds the leader lease (runs the controllers), else 0.");

        _quotaHard = f.CreateGauge(MetricNames.QuotaHard, "Hard limit of a ConnectorQuota, by department and resource.", "department", "quota", "resource");
        _quotaUsed = f.CreateGauge(MetricNames.QuotaUsed, "Usage counted against a ConnectorQuota, by department and resource.", "department", "quota", "resource");

        _bridge = new MeterBridge(f, circuitBreakDuration ?? TimeSpan.FromSeconds(15));
        Registry.AddBeforeCollectCallback(Refresh);
    }

    /// <summary>
    /// Writes one scrape to <paramref name="to"/> in the text format 0.0.4: the registry's exposition, then the
    /// per-connector families rendered from the informer cache (and the throughput poller's values) as they are now.
    /// </summary>
    public async Task ExportAsync(Stream to, CancellationToken ct = default)
    {
        await Registry.CollectAndExportAsTextAsync(to, ExpositionFormat.PrometheusText, ct);
        var connectors = _sources.Connectors();   // the store's snapshot: one list, read once
        await ConnectorFamilies.WriteAsync(to, ConnectorSeries.From(connectors, _sources.DepartmentOfNamespace), _sources.Throughput,
            connectors.TryGetNonEnumeratedCount(out var n) ? n : 0, ct);
    }

    /// <summary>Recomputes the scrape-time gauges of the registry. Public for tests; the registry calls it before each collect.</summary>
    public void Refresh()
    {
        lock (_scrapeLock)
        {
            _leader.Set(_sources.IsLeader() ? 1 : 0);
            RefreshQueues();
            RefreshQuotas();
            _bridge.Refresh();
        }
    }

    private void RefreshQueues()
    {
        var names = new HashSet<string>();
        foreach (var q in _sources.Queues())
        {
            names.Add(q.Name);
            _queueDepth.WithLabels(q.Name).Set(q.Depth);
            _queueLongest.WithLabels(q.Name).Set(q.LongestRunningProcessor.TotalSeconds);
            _queueUnfinished.WithLabels(q.Name).Set(q.UnfinishedWork.TotalSeconds);
            long adds = q.Adds, retries = q.Retries;
            // A controller gets a fresh queue each time it (re)gains leadership: count the new queue from zero.
            var (prevAdds, prevRetries) = _seenQueues.TryGetValue(q.Name, out var seen) && ReferenceEquals(seen.Queue, q) ? (seen.Adds, seen.Retries) : (0L, 0L);
            if (adds > prevAdds) _queueAdds.WithLabels(q.Name).Inc(adds - prevAdds);
            else _queueAdds.WithLabels(q.Name).Inc(0);
            if (retries > prevRetries) _queueRetries.WithLabels(q.Name).Inc(retries - prevRetries);
            else _queueRetries.WithLabels(q.Name).Inc(0);
            _seenQueues[q.Name] = (q, adds, retries);
        }
        foreach (var gone in _queueNames.Except(names))
        {
            _queueDepth.RemoveLabelled(gone);
            _queueLongest.RemoveLabelled(gone);
            _queueUnfinished.RemoveLabelled(gone);
        }
        _queueNames = names;
    }

    private void RefreshQuotas()
    {
        var keys = new HashSet<(string, string, string)>();
        foreach (var q in _sources.Quotas())
        {
            var department = q.Spec.DepartmentRef.Name;
            var quota = q.Metadata.Name;
            var hard = q.Status?.Hard ?? q.Spec.Hard;
            var used = q.Status?.Used;
            foreach (var resource in MetricNames.QuotaResources)
            {
                var h = Amount(hard, resource);
                if (h is null) continue;   // no limit on this resource: nothing to compare against
                keys.Add((department, quota, resource));
                _quotaHard.WithLabels(department, quota, resource).Set(h.Value);
                _quotaUsed.WithLabels(department, quota, resource).Set(Amount(used, resource) ?? 0);
            }
        }
        foreach (var (d, q, r) in _quotaKeys.Except(keys))
        {
            _quotaHard.RemoveLabelled(d, q, r);
            _quotaUsed.RemoveLabelled(d, q, r);
        }
        _quotaKeys = keys;
    }

    private static int? Amount(V1Alpha1QuotaAmounts? a, string resource) => resource switch
    {
        "connectors" => a?.Connectors,
        "tasks" => a?.Tasks,
        "tasksPerConnector" => a?.TasksPerConnector,
        _ => null,
    };

    /// <summary>Wraps a reconciler so that each pass is counted and timed under <paramref name="kind"/>.</summary>
    public IReconciler<T> Wrap<T>(string kind, IReconciler<T> inner) where T : class, k8s.IKubernetesObject<k8s.Models.V1ObjectMeta>
        => new MeteredReconciler<T>(kind, inner, this);

    public void Dispose() => _bridge.Dispose();
}

/// <summary>The values of one connector's series.</summary>
public sealed record ConnectorSeries(string Department, string Namespace, string Name, string State, int FailedTasks, int AutoRestarts)
{
    /// <summary>The Confluent id (<c>lcc-…</c>) from status, which the throughput values are keyed by; not a label.</summary>
    public string? ConnectorId { get; init; }

    /// <summary>Maps a remote state onto the fixed set; anything else (none yet, NONE, DELETED, unknown) is UNKNOWN.</summary>
    public static string NormalizeState(string? state)
        => state != null && MetricNames.ConnectorStates.Contains(state, StringComparer.Ordinal) ? state : "UNKNOWN";

    public static IEnumerable<ConnectorSeries> From(IEnumerable<V1Alpha1ManagedConnector> connectors, Func<string, string?> departmentOfNamespace)
    {
        foreach (var c in connectors)
        {
            var ns = c.Metadata.NamespaceProperty ?? "";
            var department = c.Status?.Department ?? departmentOfNamespace(ns) ?? "";
            yield return new ConnectorSeries(department, ns, c.Metadata.Name, NormalizeState(c.Status?.ConnectorState),
                c.Status?.Tasks.Count(t => FailedTaskStates.Contains(t.State)) ?? 0,
                c.Status?.AutoRestart?.Count ?? 0)
            { ConnectorId = c.Status?.ConnectorId };
        }
    }
}
