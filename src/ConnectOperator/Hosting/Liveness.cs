using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Runtime.Queues;

namespace ConnectOperator.Hosting;

/// <summary><c>Operator:Liveness</c>: when /healthz calls the process wedged, so the kubelet restarts it.</summary>
public sealed class LivenessOptions
{
    /// <summary>
    /// An informer that has neither listed, received a watch event nor seen a watch end cleanly for this many times
    /// its longest healthy silence is stuck. Three, so one failed reconnect (with backoff) is not enough.
    /// </summary>
    public double WatchStallFactor { get; set; } = 3;

    /// <summary>
    /// A running controller whose queue holds work but whose workers have neither taken nor finished an item for this
    /// long, or whose oldest reconcile has run this long, is stuck. Every call a reconcile makes has its own timeout
    /// (Kubernetes 70 s, Confluent a few attempts), so a healthy reconcile ends well within it.
    /// </summary>
    public TimeSpan QueueStall { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>The /healthz decision, apart from the endpoint so that it can be tested with made-up states.</summary>
public static class Liveness
{
    public readonly record struct InformerState(string Name, TimeSpan? SinceProgress, TimeSpan MaxWatchSilence);

    public readonly record struct QueueState(string Name, QueueProgress? Progress);

    /// <summary>Null when healthy; otherwise why not, one clause per stuck part.</summary>
    public static string? Problem(IEnumerable<InformerState> informers, IEnumerable<QueueState> queues, LivenessOptions options)
    {
        var problems = new List<string>();
        foreach (var i in informers)
        {
            // Not started yet: readiness, not liveness, covers a process that never syncs.
            if (i.SinceProgress is not { } since) continue;
            var limit = i.MaxWatchSilence * options.WatchStallFactor;
            if (since > limit) problems.Add($"informer {i.Name}: no list or watch progress for {Seconds(since)} (limit {Seconds(limit)})");
        }
        foreach (var q in queues)
        {
            if (q.Progress is not { } p) continue;
            if (p.LongestRunning > options.QueueStall)
                problems.Add($"controller {q.Name}: one reconcile running for {Seconds(p.LongestRunning)} (limit {Seconds(options.QueueStall)})");
            else if (p.Depth + p.Processing > 0 && p.SinceProgress > options.QueueStall)
                problems.Add($"controller {q.Name}: {p.Depth} queued, {p.Processing} in progress, no worker progress for {Seconds(p.SinceProgress)} (limit {Seconds(options.QueueStall)})");
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    public static string? Problem(IEnumerable<IInformer> informers, IEnumerable<IController> controllers, LivenessOptions options)
        => Problem(informers.Select(i => new InformerState(i.Name, i.SinceProgress, i.MaxWatchSilence)),
            controllers.Select(c => new QueueState(c.Name, c.Progress)), options);

    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0} s";
}
