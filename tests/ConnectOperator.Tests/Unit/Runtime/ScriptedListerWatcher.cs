using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Runtime;

/// <summary>
/// An in-memory lister-watcher that records every list's resourceVersion and every watch's starting resourceVersion, and
/// plays scripted watch sessions (events, then end or hold open; or an exception on open). Without a script a watch holds
/// open until cancelled.
/// </summary>
internal sealed class ScriptedListerWatcher : IListerWatcher<V1ConfigMap>
{
    private sealed record Session(Exception? OnOpen, WatchEvent<V1ConfigMap>[] Events, bool HoldOpen);

    private readonly ConcurrentQueue<Session> _sessions = new();

    public ConcurrentQueue<string> Lists { get; } = new();
    public ConcurrentQueue<string> Watches { get; } = new();

    /// <summary>Answers a list at the given resourceVersion; may throw.</summary>
    public Func<string, ListResult<V1ConfigMap>> OnList { get; set; } = _ => new ListResult<V1ConfigMap>([], "1");

    public void ScriptWatch(bool holdOpen, params WatchEvent<V1ConfigMap>[] events) => _sessions.Enqueue(new Session(null, events, holdOpen));

    public void ScriptWatchFailure(Exception onOpen) => _sessions.Enqueue(new Session(onOpen, [], false));

    public Task<ListResult<V1ConfigMap>> ListAsync(CancellationToken ct) => ListAsync("", ct);

    public async Task<ListResult<V1ConfigMap>> ListAsync(string resourceVersion, CancellationToken ct)
    {
        await Task.Yield();
        Lists.Enqueue(resourceVersion);
        return OnList(resourceVersion);
    }

    public async IAsyncEnumerable<WatchEvent<V1ConfigMap>> WatchAsync(string resourceVersion, int timeoutSeconds, [EnumeratorCancellation] CancellationToken ct)
    {
        await Task.Yield();
        Watches.Enqueue(resourceVersion);
        var hold = true;
        if (_sessions.TryDequeue(out var s))
        {
            if (s.OnOpen != null) throw s.OnOpen;
            foreach (var e in s.Events) yield return e;
            hold = s.HoldOpen;
        }
        if (hold) await Task.Delay(Timeout.Infinite, ct);
    }

    public static V1ConfigMap Cm(string name, string rv) => new()
    {
        ApiVersion = "v1", Kind = "ConfigMap",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "ns", ResourceVersion = rv },
    };

    public static ListResult<V1ConfigMap> ListOf(string rv, params V1ConfigMap[] items) => new(items, rv);
}
