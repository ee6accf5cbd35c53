using System.Collections.Concurrent;
using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime.Caching;

namespace ConnectOperator.Webhooks;

/// <summary>
/// Quota this replica has admitted but its informer has not seen yet. Two creates admitted at the same moment both
/// check and reserve under one lock per department, so a limit with room for one admits one. A reservation stands in
/// for the cached object of the same key until the informer shows the object as admitted (or deleted), or until
/// <see cref="WebhookOptions.ReservationTimeout"/> (the API server may still have refused the request after us).
/// Other replicas do not see these reservations; the reconciler's deterministic over-quota rule is the backstop there.
/// </summary>
public sealed class ReservationLedger
{
    private sealed record Reservation(ConnectorCandidate Candidate, long ExpiresAt);

    private readonly ConcurrentDictionary<string, object> _locks = new(StringComparer.Ordinal);
    private readonly object _sync = new();
    private readonly Dictionary<string, Dictionary<string, Reservation>> _byDepartment = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;

    public ReservationLedger(TimeProvider time, TimeSpan ttl)
    {
        _time = time;
        _ttl = ttl;
    }

    /// <summary>Releases reservations as the informer reports the objects they stand for.</summary>
    public void Attach(Informer<V1Alpha1ManagedConnector> connectors)
        => connectors.AddEventHandler(onAdd: Observed, onUpdate: (_, mc) => Observed(mc), onDelete: mc => Release(Key(mc)));

    /// <summary>The lock under which one department's admission is decided and reserved.</summary>
    public object LockFor(string department) => _locks.GetOrAdd(department, _ => new object());

    public void Reserve(string department, ConnectorCandidate candidate)
    {
        lock (_sync)
        {
            if (!_byDepartment.TryGetValue(department, out var d)) _byDepartment[department] = d = new Dictionary<string, Reservation>(StringComparer.Ordinal);
            d[candidate.Key] = new Reservation(candidate, _time.GetTimestamp() + (long)(_ttl.TotalSeconds * _time.TimestampFrequency));
        }
    }

    /// <summary>Unexpired reservations of a department, by namespace/name.</summary>
    public IReadOnlyDictionary<string, ConnectorCandidate> Active(string department)
    {
        lock (_sync)
        {
            if (!_byDepartment.TryGetValue(department, out var d)) return new Dictionary<string, ConnectorCandidate>();
            var now = _time.GetTimestamp();
            foreach (var expired in d.Where(kv => kv.Value.ExpiresAt <= now).Select(kv => kv.Key).ToList()) d.Remove(expired);
            return d.ToDictionary(kv => kv.Key, kv => kv.Value.Candidate, StringComparer.Ordinal);
        }
    }

    /// <summary>Total unexpired reservations (for tests and diagnostics).</summary>
    public int Count
    {
        get
        {
            lock (_sync) return _byDepartment.Keys.ToList().Sum(d => Active(d).Count);
        }
    }

    public void Release(string key)
    {
        lock (_sync)
            foreach (var d in _byDepartment.Values) d.Remove(key);
    }

    private void Observed(V1Alpha1ManagedConnector mc)
    {
        var key = Key(mc);
        lock (_sync)
            foreach (var d in _byDepartment.Values)
                if (d.TryGetValue(key, out var r) && (mc.Metadata.DeletionTimestamp != null || mc.Spec.TasksMax == r.Candidate.TasksMax))
                    d.Remove(key);
    }

    private static string Key(V1Alpha1ManagedConnector mc) => $"{mc.Metadata.NamespaceProperty}/{mc.Metadata.Name}";
}
