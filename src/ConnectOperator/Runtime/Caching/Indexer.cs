using System.Diagnostics.CodeAnalysis;
using k8s;
using k8s.Models;

namespace ConnectOperator.Runtime.Caching;

/// <summary>
/// Thread-safe in-memory store keyed by <c>namespace/name</c> (or <c>name</c> for cluster-scoped objects) with secondary
/// indexes, like client-go's cache.Indexer. Holds exactly one reference per object; indexes hold keys only.
/// Objects returned are the cached instances: treat them as read-only (deep-copy before mutating, see <see cref="KubeApiClient.DeepCopy{T}"/>).
/// </summary>
public sealed class Indexer<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    public const string NamespaceIndex = "namespace";

    private readonly object _lock = new();
    private readonly Dictionary<string, T> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<T, IEnumerable<string>>> _indexFuncs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, HashSet<string>>> _indices = new(StringComparer.Ordinal);

    public Indexer()
    {
        AddIndex(NamespaceIndex, o => string.IsNullOrEmpty(o.Metadata?.NamespaceProperty) ? [] : [o.Metadata.NamespaceProperty]);
    }

    [SuppressMessage("Design", "CA1000", Justification = "client-go's MetaNamespaceKeyFunc, named by the store whose keys it makes.")]
    public static string KeyOf(T obj) => KeyOf(obj.Metadata?.NamespaceProperty, obj.Metadata?.Name ?? throw new ArgumentException("object has no name"));

    [SuppressMessage("Design", "CA1000", Justification = "client-go's MetaNamespaceKeyFunc, named by the store whose keys it makes.")]
    public static string KeyOf(string? ns, string name) => string.IsNullOrEmpty(ns) ? name : ns + "/" + name;

    /// <summary>Adds an index; existing objects are indexed immediately. Index values are compared ordinally.</summary>
    public void AddIndex(string name, Func<T, IEnumerable<string>> indexFunc)
    {
        lock (_lock)
        {
            if (!_indexFuncs.TryAdd(name, indexFunc)) throw new InvalidOperationException($"index {name} already exists");
            var idx = _indices[name] = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (var (key, obj) in _items) AddToIndex(idx, indexFunc, key, obj);
        }
    }

    public int Count { get { lock (_lock) return _items.Count; } }

    public T? Get(string key) { lock (_lock) return _items.GetValueOrDefault(key); }

    public T? Get(string? ns, string name) => Get(KeyOf(ns, name));

    public IReadOnlyList<T> List() { lock (_lock) return _items.Values.ToList(); }

    public IReadOnlyList<string> ListKeys() { lock (_lock) return _items.Keys.ToList(); }

    public IReadOnlyList<T> ListByNamespace(string ns) => ByIndex(NamespaceIndex, ns);

    public IReadOnlyList<T> ByIndex(string indexName, string value)
    {
        lock (_lock)
        {
            if (!_indices.TryGetValue(indexName, out var idx)) throw new ArgumentException($"no index {indexName}", nameof(indexName));
            return idx.TryGetValue(value, out var keys) ? keys.Select(k => _items[k]).ToList() : [];
        }
    }

    /// <summary>Adds or replaces; returns the previous object, if any.</summary>
    internal T? Upsert(T obj)
    {
        var key = KeyOf(obj);
        lock (_lock)
        {
            _items.TryGetValue(key, out var old);
            if (old != null) RemoveFromIndices(key, old);
            _items[key] = obj;
            foreach (var (name, fn) in _indexFuncs) AddToIndex(_indices[name], fn, key, obj);
            return old;
        }
    }

    /// <summary>Removes by key; returns the removed object, if any.</summary>
    internal T? Remove(string key)
    {
        lock (_lock)
        {
            if (!_items.Remove(key, out var old)) return null;
            RemoveFromIndices(key, old);
            return old;
        }
    }

    private void RemoveFromIndices(string key, T obj)
    {
        foreach (var (name, fn) in _indexFuncs)
        {
            var idx = _indices[name];
            foreach (var v in SafeIndex(fn, obj))
                if (idx.TryGetValue(v, out var set) && set.Remove(key) && set.Count == 0) idx.Remove(v);
        }
    }

    private static void AddToIndex(Dictionary<string, HashSet<string>> idx, Func<T, IEnumerable<string>> fn, string key, T obj)
    {
        foreach (var v in SafeIndex(fn, obj))
        {
            if (!idx.TryGetValue(v, out var set)) idx[v] = set = new HashSet<string>(StringComparer.Ordinal);
            set.Add(key);
        }
    }

    private static List<string> SafeIndex(Func<T, IEnumerable<string>> fn, T obj) => (fn(obj) ?? []).Distinct(StringComparer.Ordinal).ToList();
}
