using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using ConnectOperator.Confluent;
using ConnectOperator.Runtime.Caching;
using Microsoft.Extensions.Logging;

namespace ConnectOperator.Controllers.ManagedConnectors;

/// <summary>Where connectors live and whose key reads them. Departments that share both share one poll.</summary>
public sealed record PollTarget(ClusterRef Cluster, ConnectCredentials Credentials)
{
    public string Id => $"{Cluster}/{Credentials.ApiKey}";
}

/// <summary>
/// Every connector one credential sees on one cluster, as Confluent listed it. <see cref="At"/> is when the list call
/// was sent: a write answered before it is in the list. Immutable, and only ever what Confluent said: a reconciler
/// keeps what it expects after its own writes itself (<see cref="WriteExpectations"/>).
/// </summary>
public sealed record RemoteSnapshot(DateTimeOffset At, ImmutableDictionary<string, ConnectorExpansion> Connectors);

/// <summary>
/// Connector health at scale: ONE <c>GET …/connectors?expand=id,info,status</c> per cluster and credential per
/// interval, shared by every ManagedConnector on that cluster, never one call per connector. Reconcilers read the
/// snapshot; after a write they ask for an early refresh, so the result is seen without waiting a whole interval.
/// Connectors whose listing changed since the last poll are reported to <c>onChanged</c>, which wakes their reconcilers.
/// </summary>
public sealed class RemoteConnectorPoller : IDisposable
{
    private readonly ConnectClientFactory _clients;
    private readonly Func<IReadOnlyCollection<PollTarget>> _targets;
    private readonly Action<PollTarget, IReadOnlyCollection<string>> _onChanged;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _minRefreshGap;
    private readonly ILogger _logger;
    private readonly StringPool _strings;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);

    private sealed class Entry : IDisposable
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public RemoteSnapshot? Snapshot;
        /// <summary>What the last poll saw of each connector. Replaced by each poll, never changed in place: a poll reads it while it streams.</summary>
        public Dictionary<string, ulong> Fingerprints = new(StringComparer.Ordinal);
        /// <summary>The one before, refilled by the next poll: a new table per poll is a large array at 5,000 connectors.</summary>
        public Dictionary<string, ulong> Spare = new(StringComparer.Ordinal);
        public DateTimeOffset NextPoll = DateTimeOffset.MinValue;
        public bool RefreshRequested;

        public void Dispose() => Gate.Dispose();
    }

    public RemoteConnectorPoller(ConnectClientFactory clients, Func<IReadOnlyCollection<PollTarget>> targets,
        Action<PollTarget, IReadOnlyCollection<string>> onChanged, TimeSpan interval, ILogger<RemoteConnectorPoller> logger, TimeSpan? minRefreshGap = null,
        StringPool? strings = null)
    {
        _strings = strings ?? new StringPool();
        _clients = clients;
        _targets = targets;
        _onChanged = onChanged;
        _interval = interval;
        _minRefreshGap = minRefreshGap ?? TimeSpan.FromMilliseconds(250);
        _logger = logger;
    }

    /// <summary>Total list calls made, for tests and metrics.</summary>
    public long Polls => Interlocked.Read(ref _polls);
    private long _polls;

    /// <summary>The snapshot for a target, polling now if there is none yet.</summary>
    public async Task<RemoteSnapshot> GetAsync(PollTarget target, CancellationToken ct)
    {
        var entry = _entries.GetOrAdd(target.Id, _ => new Entry());
        var snap = Volatile.Read(ref entry.Snapshot);
        return snap ?? await PollAsync(target, entry, ct);
    }

    /// <summary>Asks for a poll soon (coalesced), e.g. after a write.</summary>
    public void RequestRefresh(PollTarget target)
    {
        var entry = _entries.GetOrAdd(target.Id, _ => new Entry());
        entry.RefreshRequested = true;
        _wake.Release();
    }

    /// <summary>The polling loop; runs on the leader only.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var now = DateTimeOffset.UtcNow;
            var targets = _targets();
            var next = now + _interval;
            foreach (var target in targets)
            {
                var entry = _entries.GetOrAdd(target.Id, _ => new Entry());
                var due = entry.NextPoll <= now || (entry.RefreshRequested && now - (entry.Snapshot?.At ?? DateTimeOffset.MinValue) >= _minRefreshGap);
                if (due)
                {
                    try { await PollAsync(target, entry, ct); }
                    catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
                    catch (Exception e)
                    {
                        // The reconcilers surface per-connector errors; here a failed poll only delays health updates.
                        _logger.PollFailed(target.Cluster, e.Message);
                        entry.NextPoll = DateTimeOffset.UtcNow + Jitter(_interval / 2);
                    }
                }
                var entryNext = entry.RefreshRequested ? (entry.Snapshot?.At ?? now) + _minRefreshGap : entry.NextPoll;
                if (entryNext < next) next = entryNext;
            }
            var delay = next - DateTimeOffset.UtcNow;
            if (delay < TimeSpan.FromMilliseconds(10)) delay = TimeSpan.FromMilliseconds(10);
            try { await _wake.WaitAsync(delay, ct); }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task<RemoteSnapshot> PollAsync(PollTarget target, Entry entry, CancellationToken ct)
    {
        await entry.Gate.WaitAsync(ct);
        try
        {
            entry.RefreshRequested = false;
            var client = _clients.Create(target.Credentials);
            Interlocked.Increment(ref _polls);
            // The list is read one connector at a time: a connector whose bytes hash as in the last poll keeps its
            // object, and only the changed ones become objects. At 10,000 connectors, materialising every one on every
            // poll was a steady stream of objects that lived just long enough to be promoted and die in the oldest
            // generation, and buffering the whole list put megabytes of large arrays on every poll.
            // Only the poll that holds the gate touches the fingerprint tables and replaces the snapshot; readers
            // take the snapshot as a whole (it is immutable), so no lock is needed.
            var (old, previous) = (entry.Fingerprints, entry.Snapshot);
            var fingerprints = entry.Spare;
            fingerprints.Clear();
            var kept = ImmutableDictionary.CreateBuilder<string, ConnectorExpansion>(StringComparer.Ordinal);
            var changed = new List<string>();
            var at = DateTimeOffset.UtcNow;
            using (var list = await client.OpenConnectorListAsync(target.Cluster, ct))
            {
                while (await list.ReadAsync(ct))
                {
                    var name = list.Name;
                    // A 64-bit hash of the connector's JSON, not the JSON itself: at 10,000 connectors the difference is megabytes.
                    var fingerprint = System.IO.Hashing.XxHash64.HashToUInt64(list.Raw);
                    fingerprints[name] = fingerprint;
                    var unchanged = old.TryGetValue(name, out var before) && before == fingerprint;
                    kept[name] = unchanged && previous != null && previous.Connectors.TryGetValue(name, out var same)
                        ? same
                        : Compact(list.ReadExpansion(), _strings);
                    if (!unchanged) changed.Add(name);
                }
            }
            changed.AddRange(old.Keys.Where(k => !fingerprints.ContainsKey(k)));
            var snapshot = new RemoteSnapshot(at, kept.ToImmutable());
            (entry.Fingerprints, entry.Spare) = (fingerprints, old);
            Volatile.Write(ref entry.Snapshot, snapshot);
            entry.NextPoll = snapshot.At + Jitter(_interval);
            if (changed.Count > 0) _onChanged(target, changed);
            return snapshot;
        }
        finally { entry.Gate.Release(); }
    }

    /// <summary>
    /// A changed connector as the snapshot keeps it until the next poll: right-sized config, and the strings it shares
    /// with others (config keys, states, and the values the informer cache holds too) taken from the <see cref="StringPool"/>.
    /// </summary>
    public static ConnectorExpansion Compact(ConnectorExpansion c, StringPool strings)
    {
        if (c.Info is { } info)
        {
            info.Config = strings.ShareDictionary(info.Config);
            info.Type = strings.Share(info.Type);
        }
        if (c.Status is { } status)
        {
            status.Type = strings.Share(status.Type);
            status.Connector.State = strings.Share(status.Connector.State)!;
            status.Connector.WorkerId = strings.Share(status.Connector.WorkerId);
            // Nearly always empty in real bodies: an empty list per connector is memory for nothing at 10,000.
            if (status.ErrorsFromTrace is { Count: 0 }) status.ErrorsFromTrace = null;
            if (status.ValidationErrors is { Count: 0 }) status.ValidationErrors = null;
            if (status.OverrideMessage is { Length: 0 }) status.OverrideMessage = null;
            if (status.Connector.Trace is { Length: 0 }) status.Connector.Trace = null;
            if (status.Tasks is { } tasks)
                foreach (var t in tasks)
                {
                    t.State = strings.Share(t.State)!;
                    t.WorkerId = strings.Share(t.WorkerId);
                }
        }
        if (c.Id is { } id) id.IdType = strings.Share(id.IdType);
        return c;
    }

    public void Dispose()
    {
        _wake.Dispose();
        foreach (var entry in _entries.Values) entry.Dispose();
    }

    /// <summary>±10 % so that many clusters do not poll in lockstep.</summary>
    private static TimeSpan Jitter(TimeSpan t) => t * (0.9 + Random.Shared.NextDouble() * 0.2);
}
