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
    /// <summary>Throughput of a connector by its Confluent id; null when the feature is off (the gauges are then not registered).</summary>
    public Func<string, ConnectorThroughput?>? Throughput { get; init; }
}

/// <summary>
/// The operator's Prometheus metrics, in a registry of its own (one per host, so several in-process operators in a
/// test do not share series). Connector, quota, leader and queue gauges are computed from the caches at scrape time
/// (a deleted connector's series disappear with it from the cache); reconcile counters come from
/// <see cref="MeteredReconciler{T}"/>; Confluent and webhook metrics are bridged from their Meters.
/// Labels never carry config values: only object names, departments, fixed enums and route templates.
/// </summary>
public sealed class OperatorMetrics : IDisposable
{
    private readonly MetricsSources _sources;
    private readonly object _scrapeLock = new();
    private readonly Dictionary<string, (WorkQueue<ReconcileRequest> Queue, long Adds, long Retries)> _seenQueues = new();
    private HashSet<(string Department, string Namespace, string Name)> _connectorKeys = new();
    private HashSet<(string Department, string Namespace, string Name)> _throughputKeys = new();
    private HashSet<(string Department, string Quota, string Resource)> _quotaKeys = new();
    private HashSet<string> _queueNames = new();
    private readonly MeterBridge _bridge;

    public CollectorRegistry Registry { get; }

    public Counter Reconciles { get; }
    public Counter ReconcileErrors { get; }
    public Histogram ReconcileDuration { get; }
    private readonly Gauge _queueDepth, _queueLongest, _queueUnfinished, _leader;
    private readonly Counter _queueAdds, _queueRetries;
    private readonly Gauge _state, _failedTasks, _autoRestarts, _quotaHard, _quotaUsed;
    private readonly Gauge? _sent, _received, _dlq;

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
            LabelNames = new[] { "kind" },
            Buckets = new[] { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 },
        });
        _queueDepth = f.CreateGauge(MetricNames.QueueDepth, "Items ready in a work queue, by queue (controller).", "queue");
        _queueAdds = f.CreateCounter(MetricNames.QueueAdds, "Items added to a work queue, by queue.", "queue");
        _queueRetries = f.CreateCounter(MetricNames.QueueRetries, "Rate-limited re-adds (retries), by queue.", "queue");
        _queueLongest = f.CreateGauge(MetricNames.QueueLongestRunning, "How long the longest running item of a queue has been processed.", "queue");
        _queueUnfinished = f.CreateGauge(MetricNames.QueueUnfinishedWork, "Sum of processing time of all in-flight items of a queue.", "queue");
        _leader = f.CreateGauge(MetricNames.Leader, "1 if this replica holds the leader lease (runs the controllers), else 0.");

        _state = f.CreateGauge(MetricNames.ConnectorState,
            "1 for the connector's current Confluent state, 0 for the other states of the fixed set (PROVISIONING, RUNNING, PAUSED, DEGRADED, FAILED, UNKNOWN).",
            "department", "namespace", "name", "state");
        _failedTasks = f.CreateGauge(MetricNames.ConnectorFailedTasks, "Tasks of the connector in a failed state.", "department", "namespace", "name");
        _autoRestarts = f.CreateGauge(MetricNames.ConnectorAutoRestarts, "Automatic restarts since the connector was last healthy (status.autoRestart.count).", "department", "namespace", "name");
        _quotaHard = f.CreateGauge(MetricNames.QuotaHard, "Hard limit of a ConnectorQuota, by department and resource.", "department", "quota", "resource");
        _quotaUsed = f.CreateGauge(MetricNames.QuotaUsed, "Usage counted against a ConnectorQuota, by department and resource.", "department", "quota", "resource");

        if (sources.Throughput != null)
        {
            _sent = f.CreateGauge(MetricNames.ConnectorSentRecords, "Records the connector sent in the last complete minute (Confluent Metrics API io.confluent.kafka.connect/sent_records; leader only).", "department", "namespace", "name");
            _received = f.CreateGauge(MetricNames.ConnectorReceivedRecords, "Records the connector received in the last complete minute (io.confluent.kafka.connect/received_records; leader only).", "department", "namespace", "name");
            _dlq = f.CreateGauge(MetricNames.ConnectorDeadLetterQueueRecords, "Records the connector wrote to its dead-letter queue in the last complete minute (io.confluent.kafka.connect/dead_letter_queue_records; leader only).", "department", "namespace", "name");
        }

        _bridge = new MeterBridge(f, circuitBreakDuration ?? TimeSpan.FromSeconds(15));
        Registry.AddBeforeCollectCallback(Refresh);
    }

    /// <summary>Recomputes the scrape-time gauges. Public for tests; the registry calls it before each collect.</summary>
    public void Refresh()
    {
        lock (_scrapeLock)
        {
            _leader.Set(_sources.IsLeader() ? 1 : 0);
            RefreshQueues();
            RefreshConnectors();
            RefreshThroughput();
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

    private void RefreshConnectors()
    {
        var keys = new HashSet<(string, string, string)>();
        foreach (var s in ConnectorSeries.From(_sources.Connectors(), _sources.DepartmentOfNamespace))
        {
            var key = (s.Department, s.Namespace, s.Name);
            if (!keys.Add(key)) continue;
            foreach (var state in MetricNames.ConnectorStates)
                _state.WithLabels(s.Department, s.Namespace, s.Name, state).Set(state == s.State ? 1 : 0);
            _failedTasks.WithLabels(s.Department, s.Namespace, s.Name).Set(s.FailedTasks);
            _autoRestarts.WithLabels(s.Department, s.Namespace, s.Name).Set(s.AutoRestarts);
        }
        foreach (var (d, ns, n) in _connectorKeys.Except(keys)) ForgetConnector(d, ns, n);
        _connectorKeys = keys;
    }

    /// <summary>Throughput series for connectors that have values (the leader's poller); others (deleted, not yet queried) lose theirs.</summary>
    private void RefreshThroughput()
    {
        if (_sources.Throughput is not { } throughput || _sent is null || _received is null || _dlq is null) return;
        var keys = new HashSet<(string, string, string)>();
        foreach (var s in ConnectorSeries.From(_sources.Connectors(), _sources.DepartmentOfNamespace))
        {
            if (s.ConnectorId is not { Length: > 0 } id || throughput(id) is not { } t) continue;
            if (!keys.Add((s.Department, s.Namespace, s.Name))) continue;
            _sent.WithLabels(s.Department, s.Namespace, s.Name).Set(t.Sent);
            _received.WithLabels(s.Department, s.Namespace, s.Name).Set(t.Received);
            _dlq.WithLabels(s.Department, s.Namespace, s.Name).Set(t.DeadLetterQueue);
        }
        foreach (var (d, ns, n) in _throughputKeys.Except(keys))
        {
            _sent.RemoveLabelled(d, ns, n);
            _received.RemoveLabelled(d, ns, n);
            _dlq.RemoveLabelled(d, ns, n);
        }
        _throughputKeys = keys;
    }

    /// <summary>Removes every series of one connector (it was deleted, or moved to another department).</summary>
    private void ForgetConnector(string department, string ns, string name)
    {
        foreach (var state in MetricNames.ConnectorStates) _state.RemoveLabelled(department, ns, name, state);
        _failedTasks.RemoveLabelled(department, ns, name);
        _autoRestarts.RemoveLabelled(department, ns, name);
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
                c.Status?.AutoRestart?.Count ?? 0) { ConnectorId = c.Status?.ConnectorId };
        }
    }
}
