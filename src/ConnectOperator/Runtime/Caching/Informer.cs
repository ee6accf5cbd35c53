using System.Diagnostics.CodeAnalysis;
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
    /// The first list asks for <c>resourceVersion=0</c>, served from the API server's watch cache instead of a quorum read
    /// from etcd, as client-go's reflector does: at start-up every replica lists every kind at once, and 10,000 objects
    /// from etcd cost the server (and the start-up time) far more than from memory. The cache may be slightly behind; the
    /// watch from its resourceVersion catches up. If that list fails the informer falls back to a quorum list at once.
    /// Relists after 410 or "too large resource version" are always quorum reads: the cache just proved unusable for this
    /// resourceVersion, and reading older data than the informer already had would replay stale states to handlers.
    /// </summary>
    public bool InitialListFromWatchCache { get; set; } = true;

    /// <summary>
    /// Trims an object before it is cached (client-go's TransformFunc), to keep memory flat at scale: e.g. drop
    /// Secret values the operator reads on demand. managedFields are always dropped: the operator never reads them,
    /// and they are often the largest part of an object.
    /// </summary>
    public Action<IKubernetesObject<V1ObjectMeta>>? Transform { get; set; }
}

/// <summary>Handlers run synchronously on the informer loop, in event order; keep them short (enqueue a key). Objects are the cached instances: read-only.</summary>
[SuppressMessage("Naming", "CA1711", Justification = "client-go's ResourceEventHandler, under the name people search for.")]
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

    /// <summary>Time since the last list, watch event or cleanly ended watch; null before <see cref="RunAsync"/>.</summary>
    TimeSpan? SinceProgress => null;

    /// <summary>The longest a healthy watch stays silent: its server-side timeout plus the watchdog's grace.</summary>
    TimeSpan MaxWatchSilence => TimeSpan.FromSeconds(630);
}

/// <summary>An informer, or a set of them, that controllers can watch.</summary>
public interface IEventSource<T> : IInformer where T : class
{
    void AddEventHandler(ResourceEventHandler<T> handler);
}

/// <summary>
/// client-go style shared informer: list (the first one from the watch cache), then watch from the list's resourceVersion
/// (bookmarks only advance the resourceVersion), relist on 410 Gone and on "too large resource version" (HTTP status or watch
/// ERROR event) emitting Add/Update/Delete relative to the cache, reconnect with jittered exponential backoff, periodic
/// resync, thread-safe <see cref="Indexer{T}"/> cache.
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
    private long _progressAt = -1;

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

    public TimeSpan? SinceProgress
    {
        get
        {
            var at = Interlocked.Read(ref _progressAt);
            return at < 0 ? null : _opts.TimeProvider.GetElapsedTime(at);
        }
    }

    public TimeSpan MaxWatchSilence => TimeSpan.FromSeconds((_opts.WatchTimeoutSeconds ?? 600) + WatchdogGraceSeconds);

    private const int WatchdogGraceSeconds = 30;

    private void Progressed() => Interlocked.Exchange(ref _progressAt, _opts.TimeProvider.GetTimestamp());

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
        Progressed();
        var resync = _opts.ResyncPeriod > TimeSpan.Zero ? ResyncLoopAsync(ct) : Task.CompletedTask;
        var backoff = new Backoff(_opts.MinBackoff, _opts.MaxBackoff);
        var needList = true;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (needList)
                {
                    var list = await ListAsync(ct).ConfigureAwait(false);
                    Replace(list.Items, list.ResourceVersion);
                    Progressed();
                    needList = false;
                    _synced.TrySetResult();
                }
                var started = _opts.TimeProvider.GetTimestamp();
                var outcome = await WatchOnceAsync(ct).ConfigureAwait(false);
                if (outcome == WatchOutcome.Ended) Progressed();
                if (outcome == WatchOutcome.Gone) { needList = true; backoff.Reset(); continue; }
                if (outcome == WatchOutcome.TooLarge) { needList = true; await DelayAsync(backoff.Next(), ct).ConfigureAwait(false); continue; }
                // Stream ended (server timeout or connection closed): reconnect from the last RV. A watch that lived
                // a while resets the backoff; one closed at once backs off so a flapping server is not hammered.
                if (_opts.TimeProvider.GetElapsedTime(started) > TimeSpan.FromSeconds(5)) { backoff.Reset(); continue; }
                await DelayAsync(backoff.Next(), ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Gone)
            {
                _log.InformerExpired(Name, LastSyncResourceVersion);
                needList = true;
            }
            catch (HttpOperationException e) when (ResourceVersionErrors.IsTooLarge(e))
            {
                // This API server's watch cache is behind the resourceVersion (e.g. after failing over to a lagging
                // replica). It may stay behind for a while, so back off before the quorum relist, as client-go does.
                var d = backoff.Next();
                _log.InformerTooLarge(Name, LastSyncResourceVersion, d);
                needList = true;
                await DelayAsync(d, ct).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                var d = backoff.Next();
                _log.InformerRetrying(e, Name, needList ? "list" : "watch", d);
                await DelayAsync(d, ct).ConfigureAwait(false);
            }
        }
        try { await resync.ConfigureAwait(false); } catch (OperationCanceledException) { }
    }

    private enum WatchOutcome { Ended, Gone, TooLarge, Silent }

    private async Task<ListResult<T>> ListAsync(CancellationToken ct)
    {
        if (ListCount == 0 && _opts.InitialListFromWatchCache)
        {
            try { return await _lw.ListAsync("0", ct).ConfigureAwait(false); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
            catch (Exception e)
            {
                _log.InformerWatchCacheListFailed(e, Name);
            }
        }
        return await _lw.ListAsync("", ct).ConfigureAwait(false);
    }

    private async Task<WatchOutcome> WatchOnceAsync(CancellationToken ct)
    {
        var timeout = _opts.WatchTimeoutSeconds ?? Random.Shared.Next(300, 600);
        // Client-side watchdog: a silently dead connection must not hang the informer forever.
        using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(ct);
        watchdog.CancelAfter(TimeSpan.FromSeconds(timeout + WatchdogGraceSeconds));
        try
        {
            await foreach (var ev in _lw.WatchAsync(LastSyncResourceVersion, timeout, watchdog.Token).ConfigureAwait(false))
            {
                Progressed();
                switch (ev.Type)
                {
                    case WatchEventType.Error:
                        if (ResourceVersionErrors.IsExpired(ev.Status))
                        {
                            _log.InformerWatchExpired(Name, ev.Status!.Message);
                            return WatchOutcome.Gone;
                        }
                        if (ResourceVersionErrors.IsTooLarge(ev.Status))
                        {
                            _log.InformerWatchTooLarge(Name, ev.Status!.Code, ev.Status.Message);
                            return WatchOutcome.TooLarge;
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
            _log.InformerWatchSilent(Name);
            return WatchOutcome.Silent;
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
        catch (Exception e) { _log.InformerHandlerThrew(e, Name); }
    }

    private async Task DelayAsync(TimeSpan d, CancellationToken ct)
    {
        try { await Task.Delay(d, _opts.TimeProvider, ct).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }
}
