using k8s;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.Models;

namespace ConnectOperator.Runtime.Leadership;

/// <summary>
/// KubernetesClient's <c>LeaseLock</c>, over <see cref="KubeApiClient"/>: the same coordination.k8s.io Lease, read,
/// created and replaced with optimistic concurrency, for its <see cref="LeaderElector"/>. The client's own lock calls the
/// generated <c>CoordinationV1</c> operations, which serialise through <see cref="KubernetesJson"/> and so would bring
/// every API type's serializer into the native executable (<see cref="KubeJson"/>).
/// </summary>
public sealed class KubeLeaseLock(KubeApiClient api, string @namespace, string name, string identity) : ILock
{
    private V1Lease? _last;

    public string Identity => identity;

    public string Describe() => $"{@namespace}/{name}";

    /// <summary>The record; a missing Lease throws <see cref="HttpOperationException"/> with 404, which the elector answers by creating it.</summary>
    public async Task<LeaderElectionRecord> GetAsync(CancellationToken cancellationToken = default)
    {
        var lease = await api.GetAsync<V1Lease>(ResourceKind.Lease, @namespace, name, cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _last, lease);
        return ToRecord(lease.Spec);
    }

    public async Task<bool> CreateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default)
    {
        var lease = new V1Lease { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = @namespace }, Spec = ToSpec(record) };
        try
        {
            Interlocked.Exchange(ref _last, await api.CreateAsync(ResourceKind.Lease, @namespace, lease, cancellationToken).ConfigureAwait(false));
            return true;
        }
        catch (HttpOperationException) { return false; }   // another candidate created it first
    }

    /// <summary>Replaces the Lease last read: if another candidate wrote it since, the resourceVersion no longer matches and this fails.</summary>
    public async Task<bool> UpdateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default)
    {
        var last = Volatile.Read(ref _last) ?? throw new InvalidOperationException($"lease {Describe()}: read or create it before updating");
        var lease = new V1Lease { Metadata = last.Metadata, Spec = ToSpec(record) };
        try
        {
            Interlocked.Exchange(ref _last, await api.ReplaceAsync(ResourceKind.Lease, @namespace, name, lease, ct: cancellationToken).ConfigureAwait(false));
            return true;
        }
        catch (HttpOperationException) { return false; }
    }

    /// <summary>
    /// The elector's view of a Lease. A released Lease has an empty holder, which the API server does not return at all
    /// (omitempty); KubernetesClient's elector reads a null holder as "no Lease yet" and tries to create it, which fails
    /// forever on the existing object, so an existing Lease without a holder is reported as "" (free to take).
    /// </summary>
    internal static LeaderElectionRecord ToRecord(V1LeaseSpec? spec) => new()
    {
        HolderIdentity = spec?.HolderIdentity ?? "",
        AcquireTime = spec?.AcquireTime,
        RenewTime = spec?.RenewTime,
        LeaderTransitions = spec?.LeaseTransitions ?? 0,
        LeaseDurationSeconds = spec?.LeaseDurationSeconds ?? 15,   // the API's default
    };

    internal static V1LeaseSpec ToSpec(LeaderElectionRecord record) => new()
    {
        HolderIdentity = record.HolderIdentity,
        AcquireTime = record.AcquireTime,
        RenewTime = record.RenewTime,
        LeaseTransitions = record.LeaderTransitions,
        LeaseDurationSeconds = record.LeaseDurationSeconds,
    };
}
