using System.Collections.Concurrent;
using ConnectOperator.Controllers.ManagedConnectors.Planning;
using ConnectOperator.Entities;

namespace ConnectOperator.Controllers.ManagedConnectors;

/// <summary>
/// What this reconciler wrote and has not seen come back yet, in both places it writes (client-go's ReplicaSet
/// controller calls these "expectations"). Both caches it reads lag behind its own writes: the informer behind a
/// status or metadata write by a few milliseconds, the poll snapshot behind a Confluent write by up to a poll interval.
/// A pass that read either too early would repeat the write. Entries live only until the cache shows the write, so
/// the memory is bounded by writes in flight, and only the shared poll's snapshot says what Confluent said.
/// </summary>
public sealed class WriteExpectations
{
    private readonly ConcurrentDictionary<string, ObjectWrite> _objects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RemoteExpectation> _remote = new(StringComparer.Ordinal);

    /// <summary>The versions of this reconciler's last two writes of one object (a pass writes metadata, then status).</summary>
    private sealed record ObjectWrite(string? Uid, ulong Latest, ulong Previous);

    public static string KeyOf(V1Alpha1ManagedConnector mc) => $"{mc.Metadata.NamespaceProperty}/{mc.Metadata.Name}";

    /// <summary>Records an object as the API server returned it from this reconciler's write.</summary>
    public void Wrote(V1Alpha1ManagedConnector written)
    {
        // resourceVersions are etcd revisions in every Kubernetes we know; if one is not a number, trust the cache.
        if (!ulong.TryParse(written.Metadata.ResourceVersion, out var version)) return;
        // The write that released the last finalizer of a deleted object ends it, and the API server may answer with
        // the version the object had before (observed): every cached copy of it is then behind, until it is gone.
        if (written.Metadata.DeletionTimestamp != null && (written.Metadata.Finalizers?.Count ?? 0) == 0) version = ulong.MaxValue;
        _objects.AddOrUpdate(KeyOf(written), new ObjectWrite(written.Metadata.Uid, version, 0),
            (_, before) => new ObjectWrite(written.Metadata.Uid, version, before.Uid == written.Metadata.Uid ? before.Latest : 0));
    }

    /// <summary>
    /// Whether the cached object is older than this reconciler's last write of it. Such a pass waits for the cache
    /// instead of acting on a state it already changed (a second DELETE after the finalizer was released, a restart
    /// done twice). Once the cache has caught up, the entry is dropped.
    /// </summary>
    public bool IsBehind(V1Alpha1ManagedConnector cached)
    {
        var key = KeyOf(cached);
        if (!_objects.TryGetValue(key, out var mine)) return false;
        if (mine.Uid == cached.Metadata.Uid && ulong.TryParse(cached.Metadata.ResourceVersion, out var seen) && mine.Latest > seen) return true;
        _objects.TryRemove(new KeyValuePair<string, ObjectWrite>(key, mine));
        return false;
    }

    /// <summary>
    /// Whether an update event only brings back one of this reconciler's own writes. Every resourceVersion has its own
    /// event, so nothing anyone else changed is hidden by skipping it: their change arrives as its own update.
    /// </summary>
    public bool IsOwnEcho(V1Alpha1ManagedConnector updated)
        => _objects.TryGetValue(KeyOf(updated), out var mine) && mine.Uid == updated.Metadata.Uid
           && ulong.TryParse(updated.Metadata.ResourceVersion, out var v) && (v == mine.Latest || v == mine.Previous);

    /// <summary>Records what a Confluent write leaves, until a poll that started after it.</summary>
    public void Expect(string key, RemoteExpectation expectation) => _remote[key] = expectation;

    /// <summary>The connector as this pass should see it: the poll's view, or this reconciler's own write if the poll is older.</summary>
    public RemoteConnector? Overlay(string key, RemoteConnector? polled, DateTimeOffset pollStartedAt)
    {
        if (!_remote.TryGetValue(key, out var expected)) return polled;
        var seen = RemoteExpectation.Apply(polled, pollStartedAt, expected, out var stillPending);
        if (!stillPending) _remote.TryRemove(new KeyValuePair<string, RemoteExpectation>(key, expected));
        return seen;
    }

    /// <summary>The object is gone: nothing of it is expected any more.</summary>
    public void Forget(string key)
    {
        _objects.TryRemove(key, out _);
        _remote.TryRemove(key, out _);
    }

    /// <summary>How many writes are still unseen (for tests and the memory bench).</summary>
    public int Pending => _objects.Count + _remote.Count;
}

/// <summary>What one Confluent write leaves: the config sent (as Confluent reads it back), a state, or absence.</summary>
/// <param name="WrittenAt">When the write's answer came; a poll that started later includes it.</param>
/// <param name="Config">The config sent, secret values masked as Confluent masks them; null: unchanged.</param>
/// <param name="State">The state the write leaves (PROVISIONING after a create); null: what the poll says.</param>
public sealed record RemoteExpectation(DateTimeOffset WrittenAt, bool Deleted = false, IReadOnlyDictionary<string, string>? Config = null, string? State = null)
{
    /// <summary>Pure: the poll's view of a connector with a write laid over it while the poll is older than the write.</summary>
    public static RemoteConnector? Apply(RemoteConnector? polled, DateTimeOffset pollStartedAt, RemoteExpectation expected, out bool stillPending)
    {
        // A list sent before the write's answer came may still include it (Confluent did the write first). Then the poll
        // is Confluent's word, state included: kept any longer, the expectation would hide a RUNNING that no later
        // poll reports as a change.
        stillPending = pollStartedAt < expected.WrittenAt && !Shows(polled, expected);
        if (!stillPending) return polled;
        if (expected.Deleted) return null;
        if (polled is null) return RemoteConnector.Created(expected.Config ?? new Dictionary<string, string>()) with { State = expected.State ?? Confluent.ConnectorStates.Provisioning };
        return polled with { Config = expected.Config ?? polled.Config, State = expected.State ?? polled.State };
    }

    private static bool Shows(RemoteConnector? polled, RemoteExpectation expected)
        => expected.Deleted
            ? polled is null
            : polled != null && (expected.Config ?? new Dictionary<string, string>()).All(kv => polled.Config.TryGetValue(kv.Key, out var v) && v == kv.Value);
}
