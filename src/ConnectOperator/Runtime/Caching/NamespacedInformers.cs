using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnectOperator.Runtime.Caching;

/// <summary>
/// One informer per namespace, for a kind the operator may not list cluster-wide (Secrets): a fixed home namespace
/// that is always watched, plus namespaces added and removed at run time (<see cref="SetNamespaces"/>). A namespace's
/// informer starts only once a SelfSubjectAccessReview says list and watch are allowed there, so waiting for a
/// RoleBinding shows up as <see cref="IsVisible"/> being false, not as a stream of 403s in the log.
/// Synced means the home namespace is synced: a department whose RoleBinding is missing must not hold up readiness.
/// </summary>
public sealed class NamespacedInformers<T> : IEventSource<T>, IDisposable where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly KubeApiClient _api;
    private readonly ResourceKind _kind;
    private readonly InformerOptions _options;
    private readonly ILogger _log;
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly List<ResourceEventHandler<T>> _handlers = new();
    private readonly SemaphoreSlim _changed = new(0);
    private HashSet<string> _desired;
    private int _running;

    public NamespacedInformers(KubeApiClient api, ResourceKind kind, string homeNamespace, InformerOptions? options = null, ILogger? logger = null)
    {
        _api = api;
        _kind = kind;
        HomeNamespace = homeNamespace;
        _options = options ?? new InformerOptions();
        _log = logger ?? NullLogger.Instance;
        _desired = new HashSet<string>(StringComparer.Ordinal) { homeNamespace };
        Home = NewInformer(homeNamespace);
    }

    public string Name => _kind.ToString() + " (per namespace)";

    public string HomeNamespace { get; }

    /// <summary>The informer of the home namespace (the operator's own).</summary>
    public Informer<T> Home { get; }

    /// <summary>How often an access review is repeated while a namespace is not readable yet.</summary>
    public TimeSpan AccessRetry { get; init; } = TimeSpan.FromSeconds(1);

    public bool HasSynced => Home.HasSynced;

    public Task WaitForSyncAsync(CancellationToken ct) => Home.WaitForSyncAsync(ct);

    /// <summary>The namespaces watched besides the home namespace; the rest are stopped and forgotten.</summary>
    public void SetNamespaces(IEnumerable<string> namespaces)
    {
        var desired = new HashSet<string>(namespaces, StringComparer.Ordinal) { HomeNamespace };
        lock (_gate)
        {
            if (desired.SetEquals(_desired)) return;
            _desired = desired;
        }
        _changed.Release();
    }

    /// <summary>True once the namespace's informer has listed: its cache can be trusted, absent means absent.</summary>
    public bool IsVisible(string? ns)
    {
        if (ns is null) return false;
        if (ns == HomeNamespace) return Home.HasSynced;
        lock (_gate) return _entries.TryGetValue(ns, out var e) && e.Informer.HasSynced;
    }

    /// <summary>A cached object, or null when it does not exist or its namespace is not watched (check <see cref="IsVisible"/>).</summary>
    public T? Get(string? ns, string name)
    {
        if (ns == HomeNamespace) return Home.Store.Get(ns, name);
        lock (_gate) return ns != null && _entries.TryGetValue(ns, out var e) ? e.Informer.Store.Get(ns, name) : null;
    }

    public void AddEventHandler(ResourceEventHandler<T> handler)
    {
        lock (_gate)
        {
            _handlers.Add(handler);
            Home.AddEventHandler(handler);
            foreach (var e in _entries.Values) e.Informer.AddEventHandler(handler);
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1) throw new InvalidOperationException($"informer {Name} already running");
        var home = Home.RunAsync(ct);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                Converge(ct);
                try { await _changed.WaitAsync(ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
            }
        }
        finally
        {
            List<Entry> all;
            lock (_gate) { all = _entries.Values.ToList(); _entries.Clear(); }
            foreach (var e in all) await e.StopAsync().ConfigureAwait(false);
            await home.ConfigureAwait(false);
        }
    }

    private void Converge(CancellationToken ct)
    {
        List<Entry> stopped = new();
        lock (_gate)
        {
            foreach (var ns in _entries.Keys.Where(ns => !_desired.Contains(ns)).ToList())
            {
                stopped.Add(_entries[ns]);
                _entries.Remove(ns);
            }
            foreach (var ns in _desired.Where(ns => ns != HomeNamespace && !_entries.ContainsKey(ns)))
            {
                var informer = NewInformer(ns);
                foreach (var h in _handlers) informer.AddEventHandler(h);
                var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                _entries[ns] = new Entry(informer, cts, RunWhenAllowedAsync(ns, informer, cts.Token));
            }
        }
        foreach (var e in stopped) _ = e.StopAsync();
    }

    private async Task RunWhenAllowedAsync(string ns, Informer<T> informer, CancellationToken ct)
    {
        var logged = false;
        try
        {
            while (!await AllowedAsync(ns, ct).ConfigureAwait(false))
            {
                if (!logged) _log.NamespaceAccessWaiting(Name, _kind.Plural, ns);
                logged = true;
                await Task.Delay(AccessRetry, ct).ConfigureAwait(false);
            }
            if (logged) _log.NamespaceAccessGranted(Name, ns);
            await informer.RunAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    private async Task<bool> AllowedAsync(string ns, CancellationToken ct)
    {
        foreach (var verb in new[] { "list", "watch" })
        {
            try
            {
                var review = await _api.CreateAsync(ResourceKind.SelfSubjectAccessReview, null, new V1SelfSubjectAccessReview
                {
                    ApiVersion = "authorization.k8s.io/v1",
                    Kind = "SelfSubjectAccessReview",
                    Spec = new V1SelfSubjectAccessReviewSpec
                    {
                        ResourceAttributes = new V1ResourceAttributes { Group = _kind.Group, Resource = _kind.Plural, Verb = verb, NamespaceProperty = ns },
                    },
                }, ct).ConfigureAwait(false);
                if (review.Status?.Allowed != true) return false;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.NamespaceAccessReviewFailed(Name, ns, e.Message);
                return false;
            }
        }
        return true;
    }

    private Informer<T> NewInformer(string ns)
        => new(_api, _kind, _options, _log, ns: ns);

    public void Dispose() => _changed.Dispose();

    private sealed record Entry(Informer<T> Informer, CancellationTokenSource Cancel, Task Run)
    {
        public async Task StopAsync()
        {
            await Cancel.CancelAsync().ConfigureAwait(false);
            try { await Run.ConfigureAwait(false); } catch (OperationCanceledException) { }
            Cancel.Dispose();
        }
    }
}
