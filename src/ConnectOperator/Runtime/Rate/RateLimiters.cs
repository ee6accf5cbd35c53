using System.Diagnostics.CodeAnalysis;

namespace ConnectOperator.Runtime.Rate;

/// <summary>client-go's workqueue.RateLimiter: how long to wait before (re)processing an item.</summary>
public interface IRateLimiter<in T>
{
    /// <summary>The delay for the item's next attempt; records the attempt.</summary>
    [SuppressMessage("Naming", "CA1716", Justification = "client-go's RateLimiter.When; no VB implementers.")]
    TimeSpan When(T item);

    /// <summary>Stops tracking the item (its failures are reset).</summary>
    void Forget(T item);

    int NumRequeues(T item);
}

/// <summary>Per-item exponential backoff: baseDelay × 2^failures, capped at maxDelay (client-go ItemExponentialFailureRateLimiter).</summary>
public sealed class ItemExponentialFailureRateLimiter<T>(TimeSpan baseDelay, TimeSpan maxDelay) : IRateLimiter<T> where T : notnull
{
    private readonly object _lock = new();
    private readonly Dictionary<T, int> _failures = new();

    public TimeSpan BaseDelay => baseDelay;
    public TimeSpan MaxDelay => maxDelay;

    public TimeSpan When(T item)
    {
        int exp;
        lock (_lock)
        {
            _failures.TryGetValue(item, out exp);
            _failures[item] = exp + 1;
        }
        var ticks = baseDelay.Ticks * Math.Pow(2, exp);
        return ticks >= maxDelay.Ticks ? maxDelay : TimeSpan.FromTicks((long)ticks);
    }

    public void Forget(T item) { lock (_lock) _failures.Remove(item); }

    public int NumRequeues(T item) { lock (_lock) return _failures.GetValueOrDefault(item); }
}

/// <summary>
/// Overall token bucket (client-go BucketRateLimiter over golang.org/x/time/rate): <paramref name="qps"/> refill, <paramref name="burst"/>
/// capacity. Each call reserves a token; if none is available the returned delay is when the reserved token will exist.
/// </summary>
public sealed class BucketRateLimiter<T>(double qps, int burst, TimeProvider? time = null) : IRateLimiter<T>
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly object _lock = new();
    private double _tokens = burst;
    private long _last = -1;

    public double Qps => qps;
    public int Burst => burst;

    public TimeSpan When(T item)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (_last >= 0) _tokens = Math.Min(burst, _tokens + _time.GetElapsedTime(_last, now).TotalSeconds * qps);
            _last = now;
            _tokens -= 1;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / qps);
        }
    }

    /// <summary>Takes a token if one is available now (no reservation); false = over the limit.</summary>
    public bool TryTake()
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (_last >= 0) _tokens = Math.Min(burst, _tokens + _time.GetElapsedTime(_last, now).TotalSeconds * qps);
            _last = now;
            if (_tokens < 1) return false;
            _tokens -= 1;
            return true;
        }
    }

    public void Forget(T item) { }

    public int NumRequeues(T item) => 0;
}

/// <summary>The longest delay of all limiters (client-go MaxOfRateLimiter); every limiter records every attempt.</summary>
public sealed class MaxOfRateLimiter<T>(params IRateLimiter<T>[] limiters) : IRateLimiter<T>
{
    public TimeSpan When(T item)
    {
        var max = TimeSpan.Zero;
        foreach (var l in limiters) { var d = l.When(item); if (d > max) max = d; }
        return max;
    }

    public void Forget(T item) { foreach (var l in limiters) l.Forget(item); }

    public int NumRequeues(T item) => limiters.Max(l => l.NumRequeues(item));
}

public static class RateLimiters
{
    /// <summary>client-go DefaultControllerRateLimiter: max(per-item 5 ms·2^n capped at 1000 s, overall 10 qps / 100 burst).</summary>
    public static IRateLimiter<T> DefaultController<T>(TimeProvider? time = null,
        TimeSpan? baseDelay = null, TimeSpan? maxDelay = null, double qps = 10, int burst = 100) where T : notnull
        => new MaxOfRateLimiter<T>(
            new ItemExponentialFailureRateLimiter<T>(baseDelay ?? TimeSpan.FromMilliseconds(5), maxDelay ?? TimeSpan.FromSeconds(1000)),
            new BucketRateLimiter<T>(qps, burst, time));
}
