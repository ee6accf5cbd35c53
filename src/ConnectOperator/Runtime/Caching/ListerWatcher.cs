using k8s;
using k8s.Models;

namespace ConnectOperator.Runtime.Caching;

/// <summary>List + watch of one resource type (client-go's ListerWatcher). The seam tests use to inject 410s and broken streams.</summary>
public interface IListerWatcher<T>
{
    Task<ListResult<T>> ListAsync(CancellationToken ct);

    /// <summary>
    /// A list at <paramref name="resourceVersion"/> with the API's semantics: "0" = any state the server has cached (its watch
    /// cache), "" = a quorum read. A lister that cannot choose answers every list as a quorum read, which is always correct.
    /// </summary>
    Task<ListResult<T>> ListAsync(string resourceVersion, CancellationToken ct) => ListAsync(ct);

    IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, int timeoutSeconds, CancellationToken ct);
}

/// <summary>The real <see cref="IListerWatcher{T}"/> over <see cref="KubeApiClient"/>, with optional namespace and selectors.</summary>
public sealed class KubeListerWatcher<T>(KubeApiClient api, ResourceKind kind, string? ns = null, string? labelSelector = null, string? fieldSelector = null)
    : IListerWatcher<T> where T : IKubernetesObject<V1ObjectMeta>
{
    public ResourceKind Kind => kind;

    public Task<ListResult<T>> ListAsync(CancellationToken ct) => ListAsync("", ct);

    public async Task<ListResult<T>> ListAsync(string resourceVersion, CancellationToken ct)
    {
        var r = await api.ListAsync<T>(kind, ns, labelSelector, fieldSelector, resourceVersion, ct).ConfigureAwait(false);
        foreach (var o in r.Items) FillTypeMeta(o);   // list items carry no apiVersion/kind on the wire
        return r;
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, int timeoutSeconds, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var e in api.WatchAsync<T>(kind, ns, resourceVersion, labelSelector, fieldSelector, timeoutSeconds, ct).ConfigureAwait(false))
        {
            if (e.Object != null) FillTypeMeta(e.Object);
            yield return e;
        }
    }

    private void FillTypeMeta(T o)
    {
        o.ApiVersion ??= kind.ApiVersion;
        o.Kind ??= kind.Kind;
    }
}
