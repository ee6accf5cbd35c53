using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using ConnectOperator.Runtime.Rate;

namespace ConnectOperator.Runtime.Queues;

/// <summary>
/// client-go's rate-limiting work queue in one class:
/// <list type="bullet">
/// <item>dedup: adding an item already waiting is a no-op;</item>
/// <item>one worker per item: an item re-added while processing is marked dirty and queued again only at <see cref="Done"/>;</item>
/// <item><see cref="AddAfter"/>: delayed add; a pending delayed add is superseded by an earlier one (only the earliest is kept)
/// and dropped by an immediate <see cref="Add"/>, so an item is never delivered twice for one intent;</item>
/// <item><see cref="AddRateLimited"/>: AddAfter(item, limiter.When(item)); <see cref="Forget"/> resets the item's backoff;</item>
/// <item><see cref="ShutDown"/>: no new adds; queued items are still handed out (drain), then <see cref="GetAsync"/> reports shutdown.</item>
/// <item>fairness (optional, not in client-go): with a fairness key function, ready items wait in one FIFO per key and
/// <see cref="GetAsync"/> takes one item from each key with ready items in turn (round-robin, like API Priority and
/// Fairness over flows, or DRR with equal weights and unit cost). One tenant adding thousands of items then delays another
/// tenant's items by at most one item per active key, instead of by the whole burst. Within a key, order stays FIFO.</item>
/// </list>
/// </summary>
[SuppressMessage("Naming", "CA1711", Justification = "client-go's workqueue, under the name people search for.")]
public sealed class WorkQueue<T> : IQueueMetrics, IDisposable where T : notnull
{
    private readonly object _lock = new();
    // Ready items: one FIFO per fairness key, and the keys that have ready items in round-robin order. Invariant: a key is in
    // _turns exactly once iff it is in _ready, and its FIFO is never empty (empty FIFOs are dropped, so memory follows the
    // keys with ready items, not every key ever seen). Without a key function every item has the key "": one FIFO, i.e.
    // plain client-go order.
    private readonly Dictionary<string, Queue<T>> _ready = new(StringComparer.Ordinal);
    private readonly Queue<string> _turns = new();
    private readonly Func<T, string>? _fairnessKey;
    private int _depth;
    private readonly HashSet<T> _dirty = new();
    private readonly Dictionary<T, long> _processing = new();      // item -> start timestamp
    private readonly Dictionary<T, long> _enqueuedAt = new();      // item -> timestamp it became dirty (latency metric)
    // Delayed adds, as client-go's delaying_queue: _waiting holds each item's one current ready time, _heap orders them
    // by ready time so promoting and re-arming the timer cost O(log n), not a scan of every waiting item (at 10,000
    // connectors with RequeueAfter that scan ran on every AddAfter and every timer tick). PriorityQueue cannot change a
    // priority, so a superseded or cancelled entry stays in the heap and is skipped when it surfaces: an entry is live
    // only while _waiting still maps its item to its ready time.
    private readonly Dictionary<T, DateTimeOffset> _waiting = new();
    private readonly PriorityQueue<T, DateTimeOffset> _heap = new();
    private readonly List<TaskCompletionSource> _getters = new();
    private readonly TimeProvider _time;
    private readonly IRateLimiter<T> _limiter;
    private readonly ITimer _timer;
    private readonly KeyValuePair<string, object?> _tag;
    private bool _shuttingDown;
    private long _adds, _retries;
    private long _progressAt;

    /// <param name="fairnessKey">
    /// Optional: the tenant an item belongs to (e.g. its namespace); ready items are handed out round-robin across keys.
    /// Called under the queue's lock, so it must be cheap, must not throw, and must return the same key for equal items.
    /// Null = one FIFO for all items.
    /// </param>
    public WorkQueue(string name, IRateLimiter<T>? rateLimiter = null, TimeProvider? time = null, Func<T, string>? fairnessKey = null)
    {
        Name = name;
        _fairnessKey = fairnessKey;
        _time = time ?? TimeProvider.System;
        _limiter = rateLimiter ?? RateLimiters.DefaultController<T>(_time);
        _timer = _time.CreateTimer(_ => PromoteReady(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _tag = new KeyValuePair<string, object?>("name", name);
        _progressAt = _time.GetTimestamp();
        RuntimeMetrics.Register(this);
    }

    public string Name { get; }

    /// <summary>What a liveness check needs to tell a busy queue from a stuck one, read under one lock.</summary>
    public QueueProgress Progress
    {
        get
        {
            lock (_lock)
            {
                var longest = _processing.Count == 0 ? TimeSpan.Zero : _time.GetElapsedTime(_processing.Values.Min());
                return new QueueProgress(_depth, _processing.Count, _time.GetElapsedTime(_progressAt), longest);
            }
        }
    }

    /// <summary>Items ready to be handed out, across all fairness keys (not counting processing or delayed items).</summary>
    public int Depth { get { lock (_lock) return _depth; } }

    /// <summary>Fairness keys that have ready items (one FIFO each); 0 when nothing is ready.</summary>
    public int ActiveFairnessKeys { get { lock (_lock) return _ready.Count; } }

    /// <summary>Items waiting for their delay (AddAfter / AddRateLimited).</summary>
    public int DelayedCount { get { lock (_lock) return _waiting.Count; } }

    public int ProcessingCount { get { lock (_lock) return _processing.Count; } }

    public long Adds => Interlocked.Read(ref _adds);

    public long Retries => Interlocked.Read(ref _retries);

    public bool ShuttingDown { get { lock (_lock) return _shuttingDown; } }

    public TimeSpan LongestRunningProcessor
    {
        get
        {
            lock (_lock)
            {
                if (_processing.Count == 0) return TimeSpan.Zero;
                return _time.GetElapsedTime(_processing.Values.Min());
            }
        }
    }

    public TimeSpan UnfinishedWork
    {
        get
        {
            lock (_lock)
            {
                var now = _time.GetTimestamp();
                return _processing.Values.Aggregate(TimeSpan.Zero, (s, t) => s + _time.GetElapsedTime(t, now));
            }
        }
    }

    public void Add(T item)
    {
        lock (_lock)
        {
            if (_shuttingDown) return;
            if (_waiting.Remove(item)) CompactHeapLocked();   // an immediate add supersedes a pending delayed one
            AddLocked(item);
        }
    }

    private void AddLocked(T item)
    {
        if (!_dirty.Add(item)) return;
        Interlocked.Increment(ref _adds);
        RuntimeMetrics.QueueAdds.Add(1, _tag);
        _enqueuedAt[item] = _time.GetTimestamp();
        if (_processing.ContainsKey(item)) return;   // re-queued by Done
        EnqueueReadyLocked(item);
    }

    private void EnqueueReadyLocked(T item)
    {
        var key = _fairnessKey?.Invoke(item) ?? string.Empty;
        if (!_ready.TryGetValue(key, out var fifo))
        {
            // A key that had nothing ready joins at the back of the rotation: it waits at most one item per active key.
            _ready[key] = fifo = new Queue<T>();
            _turns.Enqueue(key);
        }
        fifo.Enqueue(item);
        _depth++;
        WakeGetters();
    }

    private T DequeueReadyLocked()
    {
        var key = _turns.Dequeue();
        var fifo = _ready[key];
        var item = fifo.Dequeue();
        _depth--;
        if (fifo.Count > 0) _turns.Enqueue(key);   // one item per key per round
        else _ready.Remove(key);
        return item;
    }

    /// <summary>Adds the item after <paramref name="delay"/>; if it is already waiting with an earlier ready time, nothing changes.</summary>
    public void AddAfter(T item, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero) { Add(item); return; }
        lock (_lock)
        {
            if (_shuttingDown) return;
            if (_dirty.Contains(item)) return;   // already queued (or re-queued after Done): it will run sooner anyway
            var ready = _time.GetUtcNow() + delay;
            if (_waiting.TryGetValue(item, out var existing) && existing <= ready) return;
            _waiting[item] = ready;
            _heap.Enqueue(item, ready);
            CompactHeapLocked();
            RescheduleTimerLocked();
        }
    }

    public void AddRateLimited(T item)
    {
        Interlocked.Increment(ref _retries);
        RuntimeMetrics.QueueRetries.Add(1, _tag);
        AddAfter(item, _limiter.When(item));
    }

    public void Forget(T item) => _limiter.Forget(item);

    public int NumRequeues(T item) => _limiter.NumRequeues(item);

    /// <summary>Waits for the next item. Returns (false, default) once shut down and drained. Call <see cref="Done"/> after processing.</summary>
    public async ValueTask<(bool Ok, T Item)> GetAsync(CancellationToken ct = default)
    {
        while (true)
        {
            TaskCompletionSource tcs;
            lock (_lock)
            {
                if (_depth > 0)
                {
                    var item = DequeueReadyLocked();
                    var now = _time.GetTimestamp();
                    _processing[item] = now;
                    _progressAt = now;
                    _dirty.Remove(item);
                    if (_enqueuedAt.Remove(item, out var at)) RuntimeMetrics.QueueLatency.Record(_time.GetElapsedTime(at, now).TotalSeconds, _tag);
                    return (true, item);
                }
                if (_shuttingDown) return (false, default!);
                tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _getters.Add(tcs);
            }
            try { await tcs.Task.WaitAsync(ct).ConfigureAwait(false); }
            finally { lock (_lock) _getters.Remove(tcs); }
        }
    }

    /// <summary>Marks processing finished; if the item was re-added meanwhile it is queued again now.</summary>
    public void Done(T item)
    {
        lock (_lock)
        {
            if (_processing.Remove(item, out var start)) RuntimeMetrics.WorkDuration.Record(_time.GetElapsedTime(start).TotalSeconds, _tag);
            _progressAt = _time.GetTimestamp();
            if (_dirty.Contains(item)) EnqueueReadyLocked(item);
            else if (_shuttingDown && _processing.Count == 0) WakeGetters();
        }
    }

    /// <summary>Stops accepting adds (delayed ones are dropped); getters drain what is queued, then see shutdown.</summary>
    public void ShutDown()
    {
        lock (_lock)
        {
            _shuttingDown = true;
            _waiting.Clear();
            _heap.Clear();
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            WakeGetters();
        }
    }

    private void WakeGetters()
    {
        foreach (var g in _getters) g.TrySetResult();
        _getters.Clear();
    }

    private void PromoteReady()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            while (_heap.TryPeek(out var item, out var ready) && ready <= now)
            {
                _heap.Dequeue();
                if (!IsLive(item, ready)) continue;
                _waiting.Remove(item);
                AddLocked(item);
            }
            RescheduleTimerLocked();
        }
    }

    private bool IsLive(T item, DateTimeOffset ready) => _waiting.TryGetValue(item, out var current) && current == ready;

    private void RescheduleTimerLocked()
    {
        while (_heap.TryPeek(out var item, out var ready) && !IsLive(item, ready)) _heap.Dequeue();
        if (!_heap.TryPeek(out _, out var next)) { _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan); return; }
        var due = next - _time.GetUtcNow();
        _timer.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Rebuilds the heap from the live entries once dead ones dominate: items re-added at once (Add drops their delayed
    /// entry) or superseded by earlier AddAfters would otherwise keep dead entries until their original ready time.
    /// </summary>
    private void CompactHeapLocked()
    {
        if (_heap.Count <= 2 * _waiting.Count + 64) return;
        _heap.Clear();
        foreach (var (item, ready) in _waiting) _heap.Enqueue(item, ready);
    }

    public void Dispose()
    {
        ShutDown();
        _timer.Dispose();
    }
}

/// <summary>A snapshot of a <see cref="WorkQueue{T}"/> for liveness checks.</summary>
/// <param name="Depth">Items ready to be handed out.</param>
/// <param name="Processing">Items a worker holds.</param>
/// <param name="SinceProgress">Time since a worker last took or finished an item (since creation when none has).</param>
/// <param name="LongestRunning">How long the oldest item a worker holds has been held.</param>
public readonly record struct QueueProgress(int Depth, int Processing, TimeSpan SinceProgress, TimeSpan LongestRunning);
