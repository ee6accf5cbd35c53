namespace ConnectOperator.Runtime.Rate;

/// <summary>Jittered exponential backoff (client-go wait.Backoff): initial × factor^n, capped, plus up to <see cref="Jitter"/> × delay. Not thread-safe.</summary>
public sealed class Backoff(TimeSpan initial, TimeSpan max, double factor = 2.0, double jitter = 0.5)
{
    private int _steps;

    public TimeSpan Initial { get; } = initial;
    public TimeSpan Max { get; } = max;
    public double Factor { get; } = factor;
    public double Jitter { get; } = jitter;

    /// <summary>The next delay; each call grows the base delay until <see cref="Max"/>.</summary>
    public TimeSpan Next()
    {
        var exp = Initial.TotalMilliseconds * Math.Pow(Factor, Math.Min(_steps, 60));
        _steps++;
        var baseMs = Math.Min(exp, Max.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(baseMs + baseMs * Jitter * Random.Shared.NextDouble());
    }

    public void Reset() => _steps = 0;
}
