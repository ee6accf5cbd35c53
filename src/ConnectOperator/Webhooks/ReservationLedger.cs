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
/// <para>
/// Anyone who can reach the webhook port can POST an AdmissionReview, so reservations must not let a forged review
/// spend a department's quota:
/// a reservation is keyed by the object (namespace/name, never the request or object uid), so repeated reviews for one
/// name hold one reservation; reservations are kept per caller address and count only for requests from the same
/// address (the API server's genuine concurrent creates all come from it, a forger's pod never does), so forged
/// reviews can only ever refuse the forger's own forged reviews; and each department holds at most
/// <see cref="WebhookOptions.MaxReservationsPerDepartment"/> per caller, so memory stays bounded however many names
/// are sent. Past the bound a request is still decided, only not reserved: the reconciler's over-quota rule keeps the
/// remote count within quota either way.
/// </para>
/// </summary>
public sealed class ReservationLedger
{
    private sealed record Reservation(ConnectorCandidate Candidate, long ExpiresAt);

    private readonly ConcurrentDictionary<string, object> _locks = new(StringComparer.Ordinal);
    private readonly object _sync = new();
    // department -> caller -> namespace/name -> reservation
    private readonly Dictionary<string, Dictionary<string, Dictionary<string, Reservation>>> _byDepartment = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;
    private readonly int _maxPerDepartment;
    private readonly int _maxTotal;

    public ReservationLedger(TimeProvider time, TimeSpan ttl, int maxPerDepartment = WebhookOptions.DefaultMaxReservationsPerDepartment,
        int maxTotal = WebhookOptions.DefaultMaxReservations)
    {
        _time = time;
        _ttl = ttl;
        _maxPerDepartment = Math.Max(1, maxPerDepartment);
        _maxTotal = Math.Max(1, maxTotal);
    }

    /// <summary>Releases reservations as the informer reports the objects they stand for.</summary>
    public void Attach(Informer<V1Alpha1ManagedConnector> connectors)
        => connectors.AddEventHandler(onAdd: Observed, onUpdate: (_, mc) => Observed(mc), onDelete: mc => Release(Key(mc)));

    /// <summary>The lock under which one department's admission is decided and reserved.</summary>
    public object LockFor(string department) => _locks.GetOrAdd(department, _ => new object());

    /// <summary>
    /// Reserves quota for <paramref name="candidate"/> on behalf of <paramref name="caller"/> (the address the review
    /// came from). False when the bound is reached: the request is decided without a reservation.
    /// </summary>
    public bool Reserve(string department, ConnectorCandidate candidate, string caller = "")
    {
        lock (_sync)
        {
            if (!_byDepartment.TryGetValue(department, out var d)) _byDepartment[department] = d = new(StringComparer.Ordinal);
            if (!d.TryGetValue(caller, out var c)) d[caller] = c = new(StringComparer.Ordinal);
            Purge(c);
            if (!c.ContainsKey(candidate.Key) && c.Count < _maxPerDepartment && CountLocked() >= _maxTotal) PurgeAll();
            if (!c.ContainsKey(candidate.Key) && (c.Count >= _maxPerDepartment || CountLocked() >= _maxTotal))
            {
                if (c.Count == 0) d.Remove(caller);
                return false;
            }
            c[candidate.Key] = new Reservation(candidate, _time.GetTimestamp() + (long)(_ttl.TotalSeconds * _time.TimestampFrequency));
            return true;
        }
    }

    /// <summary>Unexpired reservations of a department made for <paramref name="caller"/>, by namespace/name.</summary>
    public IReadOnlyDictionary<string, ConnectorCandidate> Active(string department, string caller = "")
    {
        lock (_sync)
        {
            if (!_byDepartment.TryGetValue(department, out var d) || !d.TryGetValue(caller, out var c)) return new Dictionary<string, ConnectorCandidate>();
            Purge(c);
            if (c.Count == 0) d.Remove(caller);
            return c.ToDictionary(kv => kv.Key, kv => kv.Value.Candidate, StringComparer.Ordinal);
        }
    }

    /// <summary>Total unexpired reservations (for tests and diagnostics).</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                PurgeAll();
                return CountLocked();
            }
        }
    }

    /// <summary>Unexpired reservations of one department, over all callers.</summary>
    public int CountOf(string department)
    {
        lock (_sync)
        {
            if (!_byDepartment.TryGetValue(department, out var d)) return 0;
            foreach (var c in d.Values) Purge(c);
            return d.Values.Sum(c => c.Count);
        }
    }

    public void Release(string key)
    {
        lock (_sync)
            foreach (var d in _byDepartment.Values)
                foreach (var c in d.Values) c.Remove(key);
    }

    private int CountLocked() => _byDepartment.Values.Sum(d => d.Values.Sum(c => c.Count));

    // Callers that stopped sending leave expired entries behind; only the total bound needs them gone.
    private void PurgeAll()
    {
        foreach (var d in _byDepartment.Values)
        {
            foreach (var c in d.Values) Purge(c);
            foreach (var empty in d.Where(kv => kv.Value.Count == 0).Select(kv => kv.Key).ToList()) d.Remove(empty);
        }
    }

    private void Purge(Dictionary<string, Reservation> c)
    {
        var now = _time.GetTimestamp();
        foreach (var expired in c.Where(kv => kv.Value.ExpiresAt <= now).Select(kv => kv.Key).ToList()) c.Remove(expired);
    }

    private void Observed(V1Alpha1ManagedConnector mc)
    {
        var key = Key(mc);
        lock (_sync)
            foreach (var d in _byDepartment.Values)
                foreach (var c in d.Values)
                    if (c.TryGetValue(key, out var r) && (mc.Metadata.DeletionTimestamp != null || mc.Spec.TasksMax == r.Candidate.TasksMax))
                        c.Remove(key);
    }

    private static string Key(V1Alpha1ManagedConnector mc) => $"{mc.Metadata.NamespaceProperty}/{mc.Metadata.Name}";
}
