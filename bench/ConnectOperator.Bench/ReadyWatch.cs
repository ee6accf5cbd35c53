using System.Collections.Concurrent;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using k8s;

namespace ConnectOperator.Bench;

/// <summary>
/// Counts ManagedConnectors that are Ready at their generation from one watch, so that measuring convergence does not
/// itself load the API server: listing 10,000 objects every few seconds competed with the operator for the same cores.
/// </summary>
public sealed class ReadyWatch : IAsyncDisposable
{
    private static readonly ResourceKind Mc = ResourceKind.For<V1Alpha1ManagedConnector>();
    /// <summary>Per object: the generation it was last seen Ready at, or -1 while it is not Ready at its generation.</summary>
    private readonly ConcurrentDictionary<string, long> _ready = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ReadyWatch(KubeApiClient api) => _loop = Task.Run(() => RunAsync(api, _stop.Token));

    public int Ready => _ready.Count(kv => kv.Value >= 0);

    /// <summary>Whether the watch has seen <paramref name="ns"/>/<paramref name="name"/> Ready at <paramref name="generation"/> or later.</summary>
    public bool IsReadyAt(string ns, string name, long generation) => _ready.TryGetValue(ns + "/" + name, out var g) && g >= generation;

    private async Task RunAsync(KubeApiClient api, CancellationToken ct)
    {
        var list = await api.ListAsync<V1Alpha1ManagedConnector>(Mc, ct: ct);
        foreach (var m in list.Items) Observe(m);
        var rv = list.ResourceVersion;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in api.WatchAsync<V1Alpha1ManagedConnector>(Mc, null, rv, timeoutSeconds: 300, ct: ct))
                {
                    if (e.Type == WatchEventType.Error) throw new InvalidOperationException("watch error: " + e.Status?.Message);
                    if (e.Object is not { } m) continue;
                    rv = m.Metadata.ResourceVersion;
                    if (e.Type == WatchEventType.Bookmark) continue;
                    if (e.Type == WatchEventType.Deleted) _ready.TryRemove(Key(m), out _);
                    else Observe(m);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        }
    }

    private static string Key(V1Alpha1ManagedConnector m) => m.Metadata.NamespaceProperty + "/" + m.Metadata.Name;

    private void Observe(V1Alpha1ManagedConnector m)
        => _ready[Key(m)] = m.Status?.ObservedGeneration == m.Metadata.Generation
                            && m.Status?.Conditions.Any(c => c.Type == ConditionTypes.Ready && c.Status == ConditionStatus.True) == true
            ? m.Metadata.Generation ?? 0 : -1;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
