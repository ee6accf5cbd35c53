using System.Diagnostics.Metrics;

namespace ConnectOperator.Runtime;

/// <summary>
/// The runtime's instruments, on Meter "ConnectOperator.Runtime" (export with OpenTelemetry or prometheus-net's meter adapter).
/// Reconciles are not counted here: the documented <c>connect_operator_reconcile_total</c> comes from
/// Observability's MeteredReconciler, and a second counter here counted every pass twice under another name.
/// </summary>
public static class RuntimeMetrics
{
    public const string MeterName = "ConnectOperator.Runtime";

    public static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> QueueAdds = Meter.CreateCounter<long>("workqueue_adds_total", description: "Items added to a work queue");
    public static readonly Counter<long> QueueRetries = Meter.CreateCounter<long>("workqueue_retries_total", description: "Rate-limited re-adds");
    public static readonly Histogram<double> QueueLatency = Meter.CreateHistogram<double>("workqueue_queue_duration_seconds", "s", "Time an item waits before processing");
    public static readonly Histogram<double> WorkDuration = Meter.CreateHistogram<double>("workqueue_work_duration_seconds", "s", "Processing time per item");
    /// <summary>
    /// Kubernetes API requests of every <see cref="KubeApiClient"/> in the process, tagged <c>verb</c> (get, list, watch,
    /// create, update, patch, delete), <c>resource</c> (plural), <c>subresource</c> ("" or e.g. status) and <c>code</c>
    /// (HTTP status, or timeout, network, cancelled, exception). Bridged as <c>connect_operator_kube_api_requests_total</c>.
    /// </summary>
    public static readonly Counter<long> KubeApiRequests = Meter.CreateCounter<long>("kube_api_requests_total", description: "Kubernetes API requests");
    public static readonly Counter<long> EventsDropped = Meter.CreateCounter<long>("events_dropped_total", description: "Kubernetes Events dropped by the spam filter");

    private static readonly object Lock = new();
    private static readonly List<WeakReference<IQueueMetrics>> Queues = new();

    static RuntimeMetrics()
    {
        Meter.CreateObservableGauge("workqueue_depth", () => Observe(q => q.Depth), description: "Current depth of a work queue");
        Meter.CreateObservableGauge("workqueue_longest_running_processor_seconds", () => Observe(q => q.LongestRunningProcessor.TotalSeconds), "s",
            "How long the longest running item has been processed");
        Meter.CreateObservableGauge("workqueue_unfinished_work_seconds", () => Observe(q => q.UnfinishedWork.TotalSeconds), "s",
            "Sum of processing time of all in-flight items");
    }

    internal static void Register(IQueueMetrics q) { lock (Lock) Queues.Add(new WeakReference<IQueueMetrics>(q)); }

    private static List<Measurement<double>> Observe(Func<IQueueMetrics, double> f)
    {
        List<IQueueMetrics> live = new();
        lock (Lock)
        {
            Queues.RemoveAll(w => !w.TryGetTarget(out _));
            foreach (var w in Queues) if (w.TryGetTarget(out var q)) live.Add(q);
        }
        return live.Select(q => new Measurement<double>(f(q), new KeyValuePair<string, object?>("name", q.Name))).ToList();
    }
}

internal interface IQueueMetrics
{
    string Name { get; }
    int Depth { get; }
    TimeSpan LongestRunningProcessor { get; }
    TimeSpan UnfinishedWork { get; }
}
