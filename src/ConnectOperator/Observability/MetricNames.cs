namespace ConnectOperator.Observability;

/// <summary>
/// Every metric the operator exports on /metrics, in one place: the code creates its collectors from these constants,
/// docs/metrics.md describes them, and tests check that alerts and dashboards use only these names.
/// </summary>
public static class MetricNames
{
    public const string Prefix = "connect_operator_";

    // Reconciles and work queues (per operator host).
    public const string ReconcileTotal = Prefix + "reconcile_total";
    public const string ReconcileErrors = Prefix + "reconcile_errors_total";
    public const string ReconcileDuration = Prefix + "reconcile_duration_seconds";
    public const string QueueDepth = Prefix + "workqueue_depth";
    public const string QueueAdds = Prefix + "workqueue_adds_total";
    public const string QueueRetries = Prefix + "workqueue_retries_total";
    public const string QueueLongestRunning = Prefix + "workqueue_longest_running_processor_seconds";
    public const string QueueUnfinishedWork = Prefix + "workqueue_unfinished_work_seconds";
    public const string Leader = Prefix + "leader";

    // Kubernetes API (bridged from Meter "ConnectOperator.Runtime").
    public const string KubeApiRequests = Prefix + "kube_api_requests_total";

    // Confluent Cloud API (bridged from Meter "ConnectOperator.Confluent").
    public const string ConfluentRequests = Prefix + "confluent_requests_total";
    public const string ConfluentDuration = Prefix + "confluent_request_duration_seconds";
    public const string ConfluentRateLimitWaits = Prefix + "confluent_rate_limit_waits_total";
    public const string ConfluentRateLimitWaitSeconds = Prefix + "confluent_rate_limit_wait_seconds";
    public const string ConfluentRetries = Prefix + "confluent_retries_total";
    public const string ConfluentCircuitOpen = Prefix + "confluent_circuit_open";

    // Connectors and quotas (from the informer caches, at scrape time).
    public const string ConnectorState = Prefix + "connector_state";
    public const string ConnectorFailedTasks = Prefix + "connector_failed_tasks";
    public const string ConnectorAutoRestarts = Prefix + "connector_auto_restarts";
    public const string QuotaHard = Prefix + "quota_hard";
    public const string QuotaUsed = Prefix + "quota_used";

    // Connector throughput (Confluent Metrics API, leader only, Operator:Throughput:Enabled).
    public const string ConnectorSentRecords = Prefix + "connector_sent_records";
    public const string ConnectorReceivedRecords = Prefix + "connector_received_records";
    public const string ConnectorDeadLetterQueueRecords = Prefix + "connector_dead_letter_queue_records";

    // Admission webhooks (bridged from Meter "ConnectOperator.Webhooks").
    public const string AdmissionTotal = Prefix + "admission_total";
    public const string AdmissionDuration = Prefix + "admission_duration_seconds";

    /// <summary>Histograms: exported as <c>_bucket</c>, <c>_sum</c> and <c>_count</c> series.</summary>
    public static readonly IReadOnlySet<string> Histograms = new HashSet<string>(StringComparer.Ordinal)
    {
        ReconcileDuration, ConfluentDuration, ConfluentRateLimitWaitSeconds, AdmissionDuration,
    };

    /// <summary>Families exported only under a feature switch: the throughput gauges (<c>Operator:Throughput:Enabled</c>).</summary>
    public static readonly IReadOnlySet<string> Optional = new HashSet<string>(StringComparer.Ordinal)
    {
        ConnectorSentRecords, ConnectorReceivedRecords, ConnectorDeadLetterQueueRecords,
    };

    /// <summary>Metric families (as in <c># TYPE</c> lines).</summary>
    public static readonly IReadOnlyList<string> All = typeof(MetricNames).GetFields()
        .Where(f => f.IsLiteral && f.Name != nameof(Prefix)).Select(f => (string)f.GetRawConstantValue()!).ToList();

    /// <summary>Every series name a query may use: families, plus _bucket/_sum/_count of histograms.</summary>
    public static IEnumerable<string> SeriesNames()
        => All.SelectMany(n => Histograms.Contains(n) ? new[] { n + "_bucket", n + "_sum", n + "_count" } : new[] { n });

    /// <summary>The fixed state set of <see cref="ConnectorState"/>: exactly one is 1 per connector.</summary>
    public static readonly IReadOnlyList<string> ConnectorStates = new[] { "PROVISIONING", "RUNNING", "PAUSED", "DEGRADED", "FAILED", "UNKNOWN" };

    /// <summary>Quota resources (the keys of spec.hard).</summary>
    public static readonly IReadOnlyList<string> QuotaResources = new[] { "connectors", "tasks", "tasksPerConnector" };
}
