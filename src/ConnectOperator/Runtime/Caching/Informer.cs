using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using ConnectOperator.Runtime.Rate;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnectOperator.Runtime.Caching;

public sealed class InformerOptions
{
    /// <summary>Re-deliver every cached object as OnUpdate(obj, obj) this often; <see cref="TimeSpan.Zero"/> disables.</summary>
    public TimeSpan ResyncPeriod { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Backoff after a failed list/watch.</summary>
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromMilliseconds(800);
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Server-side watch timeout; null = random 5-10 minutes (client-go). The stream then ends and is re-opened from the last resourceVersion.</summary>
    public int? WatchTimeoutSeconds { get; set; }

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Trims an object before it is cached (client-go's TransformFunc), to keep memory flat at scale: e.g. drop
    /// Secret values the operator reads on demand. managedFields are always dropped: the operator never reads them,
    /// and they are often the largest part of an object.
    /// </summary>
    public Action<IKubernetesObject<V1ObjectMeta>>? Transform { get; set; }
}

/// <summary>Handlers run synchronously on the informer loop, in event order; keep them short (enqueue a key). Objects are the cached instances: read-only.</summary>
public sealed class ResourceEventHandler<T>
{
    public Action<T>? OnAdd { get; init; }
    public Action<T, T>? OnUpdate { get; init; }
    public Action<T>? OnDelete { get; init; }
}

/// <summary>Non-generic view of an informer, for hosts that start and wait for many kinds.</summary>
public interface IInformer
{
    string Name { get; }
    bool HasSynced { get; }
    Task WaitForSyncAsync(CancellationToken ct);
    Task RunAsync(CancellationToken ct);
}

/// <summary>An informer, or a set of them, that controllers can watch.</summary>
public interface IEventSource<T> : IInformer where T : class
{
    void AddEventHandler(ResourceEventHandler<T> handler);
}

/// <summary>
/// client-go style shared informer: list, then watch from the list's resourceVersion (bookmarks only advance the
/// resourceVersion), relist on 410 Gone (HTTP status or watch ERROR event) emitting Add/Update/Delete relative to the cache,
/// reconnect with jittered exponential backoff, periodic resync, thread-safe <see cref="Indexer{T}"/> cache.
/// </summary>
public sealed class Informer<T> : IEventSource<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly IListerWatcher<T> _lw;
    private readonly InformerOptions _opts;
    private readonly ILogger _log;
    private readonly List<ResourceEventHandler<T>> _handlers = new();
    private readonly object _dispatch = new();   // serialises store mutation + handler calls (watch and resync)
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string _rv = "";
    private int _running;

    public Informer(KubeApiClient api, ResourceKind kind, InformerOptions? options = null, ILogger? logger = null,
        string? ns = null, string? labelSelector = null, string? fieldSelector = null)
        : this(new KubeListerWatcher<T>(api, kind, ns, labelSelector, fieldSelector), options, logger, kind.ToString())
    {
    }

    public Informer(IListerWatcher<T> listerWatcher, InformerOptions? options = null, ILogger? logger = null, string? name = null)
    {
        _lw = listerWatcher;
        _opts = options ?? new InformerOptions();
        _log = logger ?? NullLogger.Instance;
        Name = name ?? typeof(T).Name;
    }

    public string Name { get; }

    public Indexer<T> Store { get; } = new();

    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>The resourceVersion the next watch would start from.</summary>
    public string LastSyncResourceVersion { get { lock (_dispatch) return _rv; } }

    /// <summary>Number of (re)lists done; 1 after the initial list. For tests and metrics.</summary>
    public int ListCount { get; private set; }

    public Task WaitForSyncAsync(CancellationToken ct) => _synced.Task.WaitAsync(ct);

    /// <summary>Adds a handler. Added after sync, it first receives OnAdd for every cached object (as client-go does).</summary>
    public void AddEventHandler(ResourceEventHandler<T> handler)
    {
        lock (_dispatch)
        {
            _handlers.Add(handler);
            if (handler.OnAdd != null) foreach (var o in Store.List()) Safe(() => handler.OnAdd(o));
        }
    }

    public void AddEventHandler(Action<T>? onAdd = null, Action<T, T>? onUpdate = null, Action<T>? onDelete = null)
        => AddEventHandler(new ResourceEventHandler<T> { OnAdd = onAdd, OnUpdate = onUpdate, OnDelete = onDelete });

    /// <summary>Runs until cancelled. May be called once.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1) throw new InvalidOperationException($"informer {Name} already running");
        var resync = _opts.ResyncPeriod > TimeSpan.Zero ? ResyncLoopAsync(ct) : Task.CompletedTask;
        var backoff = new Backoff(_opts.MinBackoff, _opts.MaxBackoff);
        var needList = true;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (needList)
                {
                    var list = await _lw.ListAsync(ct).ConfigureAwait(false);
                    Replace(list.Items, list.ResourceVersion);
                    needList = false;
                    _synced.TrySetResult();
                }
                var started = _opts.TimeProvider.GetTimestamp();
                var outcome = await WatchOnceAsync(ct).ConfigureAwait(false);
                if (outcome == WatchOutcome.Gone) { needList = true; backoff.Reset(); continue; }
                // Stream ended (server timeout or connection closed): reconnect from the last RV. A watch that lived
                // a while resets the backoff; one closed at once backs off so a flapping server is not hammered.
                if (_opts.TimeProvider.GetElapsedTime(started) > TimeSpan.FromSeconds(5)) { backoff.Reset(); continue; }
                await DelayAsync(backoff.Next(), ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Gone)
            {
                _log.LogInformation("informer {Name}: resourceVersion {Rv} expired (410), relisting", Name, LastSyncResourceVersion);
                needList = true;
            }
            catch (Exception e)
            {
                var d = backoff.Next();
                _log.LogWarning(e, "informer {Name}: {Op} failed, retrying in {Delay}", Name, needList ? "list" : "watch", d);
                await DelayAsync(d, ct).ConfigureAwait(false);
            }
        }
        try { await resync.ConfigureAwait(false); } catch (OperationCanceledException) { }
    }

    private enum WatchOutcome { Ended, Gone }

    private async Task<WatchOutcome> WatchOnceAsync(CancellationToken ct)
    {
        var timeout = _opts.WatchTimeoutSeconds ?? Random.Shared.Next(300, 600);
        // Client-side watchdog: a silently dead connection must not hang the informer forever.
        using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(ct);
        watchdog.CancelAfter(TimeSpan.FromSeconds(timeout + 30));
        try
        {
            await foreach (var ev in _lw.WatchAsync(LastSyncResourceVersion, timeout, watchdog.Token).ConfigureAwait(false))
            {
                switch (ev.Type)
                {
                    case WatchEventType.Error:
                        if (ev.Status?.Code == 410)
                        {
                            _log.LogInformation("informer {Name}: watch ERROR 410 ({Msg}), relisting", Name, ev.Status.Message);
                            return WatchOutcome.Gone;
                        }
                        throw new InvalidOperationException($"watch error {ev.Status?.Code}: {ev.Status?.Message}");
                    case WatchEventType.Bookmark:
                        lock (_dispatch) _rv = ev.Object?.Metadata?.ResourceVersion ?? _rv;
                        break;
                    default:
                        Apply(ev.Type, ev.Object!);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested && watchdog.IsCancellationRequested)
        {
            _log.LogWarning("informer {Name}: watch silent for longer than its timeout, reconnecting", Name);
        }
        return WatchOutcome.Ended;
    }

    private T Trim(T obj)
    {
        if (obj.Metadata != null) obj.Metadata.ManagedFields = null;
        _opts.Transform?.Invoke(obj);
        return obj;
    }

    private void Apply(WatchEventType type, T obj)
    {
        Trim(obj);
        lock (_dispatch)
        {
            if (type == WatchEventType.Deleted)
            {
                Store.Remove(Indexer<T>.KeyOf(obj));
                Emit(h => h.OnDelete?.Invoke(obj));   // the event carries the final state
            }
            else
            {
                var old = Store.Upsert(obj);
                if (old == null) Emit(h => h.OnAdd?.Invoke(obj));
                else Emit(h => h.OnUpdate?.Invoke(old, obj));
            }
            _rv = obj.Metadata?.ResourceVersion ?? _rv;
        }
    }

    /// <summary>Replaces the cache with a fresh list, emitting Add for new keys, Update for changed resourceVersions and Delete for vanished keys.</summary>
    private void Replace(IReadOnlyList<T> items, string rv)
    {
        lock (_dispatch)
        {
            ListCount++;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var obj in items)
            {
                Trim(obj);
                seen.Add(Indexer<T>.KeyOf(obj));
                var old = Store.Upsert(obj);
                if (old == null) Emit(h => h.OnAdd?.Invoke(obj));
                else if (old.Metadata?.ResourceVersion != obj.Metadata?.ResourceVersion) Emit(h => h.OnUpdate?.Invoke(old, obj));
            }
            foreach (var key in Store.ListKeys())
            {
                if (seen.Contains(key)) continue;
                var gone = Store.Remove(key);
                if (gone != null) Emit(h => h.OnDelete?.Invoke(gone));
            }
            _rv = rv;
        }
    }

    /// <summary>Re-delivers every cached object as OnUpdate(obj, obj) now (also done every <see cref="InformerOptions.ResyncPeriod"/>).</summary>
    public void Resync()
    {
        lock (_dispatch)
            foreach (var o in Store.List()) Emit(h => h.OnUpdate?.Invoke(o, o));
    }

    private async Task ResyncLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_opts.ResyncPeriod, _opts.TimeProvider);
        while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            if (HasSynced) Resync();
    }

    private void Emit(Action<ResourceEventHandler<T>> call)
    {
        foreach (var h in _handlers) Safe(() => call(h));
    }

    private void Safe(Action a)
    {
        try { a(); }
        catch (Exception e) { _log.LogError(e, "informer {Name}: event handler threw", Name); }
    }

    private async Task DelayAsync(TimeSpan d, CancellationToken ct)
    {
        try { await Task.Delay(d, _opts.TimeProvider, ct).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }
}
