using ConnectOperator.Runtime.Caching;
using ConnectOperator.Runtime.Queues;
using ConnectOperator.Runtime.Rate;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnectOperator.Runtime;

/// <summary>What to reconcile: the object's namespace (null for cluster-scoped) and name.</summary>
public readonly record struct ReconcileRequest(string? Namespace, string Name)
{
    public static ReconcileRequest For(IKubernetesObject<V1ObjectMeta> obj) => new(obj.Metadata.NamespaceProperty, obj.Metadata.Name);

    public override string ToString() => string.IsNullOrEmpty(Namespace) ? Name : $"{Namespace}/{Name}";
}

/// <summary>controller-runtime's reconcile.Result. Throwing from a reconciler means "error": rate-limited retry.</summary>
public sealed record ReconcileResult
{
    public static readonly ReconcileResult Done = new();

    /// <summary>Re-queue with the per-item rate limit (backoff), without logging an error.</summary>
    public bool Requeue { get; init; }

    /// <summary>Re-queue after this delay (backoff is reset). Wins over <see cref="Requeue"/>.</summary>
    public TimeSpan? RequeueAfter { get; init; }

    public static ReconcileResult After(TimeSpan delay) => new() { RequeueAfter = delay };

    public static ReconcileResult RequeueRateLimited() => new() { Requeue = true };
}

public interface IReconciler<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    /// <summary>Level-based: read the object (e.g. from the informer cache), make the world match it. Exceptions = retry with backoff.</summary>
    Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct);
}

public sealed class ControllerOptions
{
    public int Workers { get; set; } = 2;

    /// <summary>Default: <see cref="RateLimiters.DefaultController{T}"/> (5 ms..1000 s per item, 10 qps / 100 burst overall).</summary>
    public Func<IRateLimiter<ReconcileRequest>>? RateLimiterFactory { get; set; }

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Ready requests are handed out round-robin across these keys (see <see cref="WorkQueue{T}"/>); null = one FIFO.
    /// Default <see cref="ByNamespace"/>: a namespace is the tenant boundary (it belongs to exactly one Department), so one
    /// department applying thousands of objects cannot make the others wait behind its burst. Requests of cluster-scoped
    /// kinds have no namespace and all share one key, i.e. plain FIFO.
    /// </summary>
    public Func<ReconcileRequest, string>? FairnessKey { get; set; } = ByNamespace;

    public static string ByNamespace(ReconcileRequest request) => request.Namespace ?? string.Empty;

    /// <summary>
    /// Which updates of the primary kind start a pass (controller-runtime's update predicates); null = every update.
    /// Resyncs (the same object delivered again) always pass.
    /// </summary>
    public Func<k8s.IKubernetesObject<k8s.Models.V1ObjectMeta>, k8s.IKubernetesObject<k8s.Models.V1ObjectMeta>, bool>? UpdateFilter { get; set; }
}

/// <summary>Non-generic view for hosts.</summary>
public interface IController
{
    string Name { get; }
    IReadOnlyList<IInformer> Informers { get; }
    Task RunAsync(CancellationToken ct);

    /// <summary>The work queue's progress while workers run; null when they do not (a standby replica) or there is no queue.</summary>
    QueueProgress? Progress => null;
}

/// <summary>
/// Hosts one reconciler: informer events (of the primary kind, and of watched kinds mapped to primary keys) are enqueued;
/// <see cref="ControllerOptions.Workers"/> workers take keys off the <see cref="WorkQueue{T}"/> and call the reconciler with
/// controller-runtime semantics: exception → AddRateLimited; Requeue → AddRateLimited; RequeueAfter → Forget + AddAfter;
/// success → Forget. <see cref="RunAsync"/> can be run again after it ended (e.g. on re-gaining leadership): each run starts
/// with a fresh queue seeded with every cached primary object. Events arriving while not running are kept in the queue.
/// </summary>
public sealed class Controller<T> : IController where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Informer<T> _informer;
    private readonly IReconciler<T> _reconciler;
    private readonly ControllerOptions _opts;
    private readonly ILogger _log;
    private readonly List<IInformer> _informers = new();
    private volatile WorkQueue<ReconcileRequest> _queue;
    private int _running;

    public Controller(string name, Informer<T> informer, IReconciler<T> reconciler, ControllerOptions? options = null, ILogger? logger = null)
    {
        Name = name;
        _informer = informer;
        _reconciler = reconciler;
        _opts = options ?? new ControllerOptions();
        _log = logger ?? NullLogger.Instance;
        _queue = NewQueue();
        _informers.Add(informer);
        informer.AddEventHandler(
            onAdd: o => Enqueue(ReconcileRequest.For(o)),
            onUpdate: (o, n) =>
            {
                if (_opts.UpdateFilter is null || ReferenceEquals(o, n) || _opts.UpdateFilter(o, n)) Enqueue(ReconcileRequest.For(n));
            },
            onDelete: o => Enqueue(ReconcileRequest.For(o)));
    }

    public string Name { get; }

    public IReadOnlyList<IInformer> Informers => _informers;

    /// <summary>The current queue (replaced after each run).</summary>
    public WorkQueue<ReconcileRequest> Queue => _queue;

    // Events received while not running wait in the queue with nobody to take them: not a stall.
    public QueueProgress? Progress => Volatile.Read(ref _running) == 1 ? _queue.Progress : null;

    public void Enqueue(ReconcileRequest request) => _queue.Add(request);

    /// <summary>
    /// Watches another kind and maps its events to primary requests, e.g. a Secret change to the connectors that reference it
    /// (use an index on the primary informer's <see cref="Informer{T}.Store"/> for the lookup). Map is called for both old and new on update.
    /// </summary>
    public void Watch<TOther>(IEventSource<TOther> other, Func<TOther, IEnumerable<ReconcileRequest>> map) where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        if (!_informers.Contains(other)) _informers.Add(other);
        void EnqueueAll(TOther o) { foreach (var r in map(o)) Enqueue(r); }
        other.AddEventHandler(new ResourceEventHandler<TOther>
        {
            OnAdd = EnqueueAll,
            OnUpdate = (o, n) => { EnqueueAll(n); if (!ReferenceEquals(o, n)) EnqueueAll(o); },
            OnDelete = EnqueueAll,
        });
    }

    /// <summary>Waits for all informers to sync (they must be run by the host), then runs the workers until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1) throw new InvalidOperationException($"controller {Name} already running");
        var queue = _queue;
        try
        {
            foreach (var i in _informers) await i.WaitForSyncAsync(ct).ConfigureAwait(false);
            foreach (var o in _informer.Store.List()) queue.Add(ReconcileRequest.For(o));
            _log.ControllerStarting(Name, _opts.Workers);
            var workers = Enumerable.Range(0, Math.Max(1, _opts.Workers)).Select(_ => Task.Run(() => WorkerAsync(queue, ct), CancellationToken.None)).ToList();
            try { await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            queue.ShutDown();
            await Task.WhenAll(workers).ConfigureAwait(false);
            _log.ControllerStopped(Name);
        }
        finally
        {
            queue.Dispose();
            _queue = NewQueue();
            Volatile.Write(ref _running, 0);
        }
    }

    private async Task WorkerAsync(WorkQueue<ReconcileRequest> queue, CancellationToken ct)
    {
        while (true)
        {
            var (ok, req) = await queue.GetAsync(CancellationToken.None).ConfigureAwait(false);
            if (!ok) return;
            try
            {
                if (ct.IsCancellationRequested) continue;   // stopping: drain without reconciling
                await ProcessAsync(queue, req, ct).ConfigureAwait(false);
            }
            finally { queue.Done(req); }
        }
    }

    /// <summary>One reconcile with the controller-runtime result contract. Internal for tests.</summary>
    internal async Task ProcessAsync(WorkQueue<ReconcileRequest> queue, ReconcileRequest req, CancellationToken ct)
    {
        // Every log line of one reconcile (reconciler, Confluent client, status writer) carries the same id.
        using var scope = _log.BeginScope(new Dictionary<string, object?> { ["controller"] = Name, ["reconcileId"] = Guid.NewGuid().ToString("N")[..12] });
        ReconcileResult result;
        try
        {
            result = await _reconciler.ReconcileAsync(req, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            _log.ReconcileFailed(e, Name, req, queue.NumRequeues(req) + 1);
            queue.AddRateLimited(req);
            return;
        }
        if (result.RequeueAfter is { } after && after > TimeSpan.Zero)
        {
            queue.Forget(req);
            queue.AddAfter(req, after);
        }
        else if (result.Requeue)
        {
            queue.AddRateLimited(req);
        }
        else
        {
            queue.Forget(req);
        }
    }

    private WorkQueue<ReconcileRequest> NewQueue()
        => new(Name, _opts.RateLimiterFactory?.Invoke() ?? RateLimiters.DefaultController<ReconcileRequest>(_opts.TimeProvider), _opts.TimeProvider,
            _opts.FairnessKey);
}
