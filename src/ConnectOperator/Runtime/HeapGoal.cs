using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ConnectOperator.Runtime;

/// <summary><c>Operator:HeapGoal</c>: how far the GC heap may grow past what survived the last full collection.</summary>
public sealed class HeapGoalOptions
{
    /// <summary>Growth allowed over the live heap, in percent (Go's GOGC); 0 leaves collections to the GC alone.</summary>
    public int Percent { get; set; } = 25;

    /// <summary>Growth always allowed, so a small heap is not collected over and over for a few megabytes.</summary>
    public int MinimumHeadroomMegabytes { get; set; } = 8;

    /// <summary>How often the heap is looked at; also the least time between two collections this service asks for.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The decision, apart from the clock and the GC so it can be tested: collect when the heap has outgrown the goal.
/// The goal is the live heap (what the last full collection kept) plus <see cref="HeapGoalOptions.Percent"/> of it,
/// and at least <see cref="HeapGoalOptions.MinimumHeadroomMegabytes"/> more.
/// </summary>
public static class HeapGoalPolicy
{
    public static long GoalBytes(long liveBytes, HeapGoalOptions o)
        => liveBytes + Math.Max(liveBytes / 100 * o.Percent, (long)o.MinimumHeadroomMegabytes << 20);

    public static bool ShouldCollect(long heapBytes, long liveBytes, HeapGoalOptions o)
        => o.Percent > 0 && heapBytes > GoalBytes(liveBytes, o);
}

/// <summary>
/// Keeps the GC heap near what the operator really holds. The workstation GC starts a full collection only when gen2's
/// budget runs out, and that budget grows with gen2; an informer cache is the worst case for it: every cached object
/// lives long enough to reach gen2, and each watch event replaces one, so while thousands of connectors converge gen2
/// fills with replaced objects no collection looks at (at 10,000 connectors the heap stood at ~3.5 times its live size,
/// BENCHMARKS.md). An operator mostly waits, so it trades a little CPU for memory, as Go's GOGC does for controllers
/// written in Go: when the heap outgrows the goal, one blocking, compacting full collection.
/// </summary>
public sealed class HeapGoal(HeapGoalOptions options, ILogger<HeapGoal> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Percent <= 0) return;
        using var timer = new PeriodicTimer(options.Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                // What the last full collection kept (the GC's own or one asked for here); before the first, nothing:
                // the minimum headroom alone then sets the goal.
                var lastFull = GC.GetGCMemoryInfo(GCKind.FullBlocking);
                var live = lastFull.Index == 0 ? 0 : lastFull.HeapSizeBytes - lastFull.FragmentedBytes;
                var heap = GC.GetTotalMemory(forceFullCollection: false);
                if (!HeapGoalPolicy.ShouldCollect(heap, live, options)) continue;
                // The large object heap too: the poll's list buffers and the caches' growing tables live there, and a
                // compacting collection leaves it as it is unless asked.
                System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                if (log.IsEnabled(LogLevel.Debug)) log.HeapCollected(heap >> 20, HeapGoalPolicy.GoalBytes(live, options) >> 20);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }
}
