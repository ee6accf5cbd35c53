using System.Collections.Concurrent;

namespace ConnectOperator.Runtime.Caching;

/// <summary>
/// Shares equal strings between cached objects. Ten thousand cached connectors repeat the same namespaces, finalizer,
/// condition types, reasons, states and config keys, and the informer cache and the Confluent poll snapshot hold the
/// same config values; deserialisation gives every object its own copies. Unlike <see cref="string.Intern"/> the pool
/// is bounded and private: strings longer than <c>maxLength</c> are not pooled, and when it holds <c>capacity</c>
/// strings it starts over (strings already shared stay shared; only later ones pair up afresh), so unique or
/// hostile values cannot grow it without limit.
/// </summary>
public sealed class StringPool(int capacity = 50_000, int maxLength = 128)
{
    private ConcurrentDictionary<string, string> _strings = new(StringComparer.Ordinal);

    public int Count => _strings.Count;

    /// <summary>The shared instance equal to <paramref name="s"/>, or <paramref name="s"/> itself.</summary>
    public string? Share(string? s)
    {
        if (s is null || s.Length > maxLength) return s;
        if (s.Length == 0) return string.Empty;
        var strings = _strings;
        if (strings.TryGetValue(s, out var shared)) return shared;
        if (strings.Count >= capacity) Interlocked.CompareExchange(ref _strings, new ConcurrentDictionary<string, string>(StringComparer.Ordinal), strings);
        return _strings.GetOrAdd(s, s);
    }

    /// <summary>A right-sized copy of <paramref name="d"/> with shared keys and values (deserialised dictionaries carry spare capacity).</summary>
    public Dictionary<string, string> ShareDictionary(IDictionary<string, string> d)
    {
        var copy = new Dictionary<string, string>(d.Count, StringComparer.Ordinal);
        foreach (var (k, v) in d) copy[Share(k)!] = Share(v)!;
        return copy;
    }

    /// <summary>Shares the strings of a metadata block: namespace, finalizers, label and annotation keys and values.</summary>
    public void ShareMetadata(k8s.Models.V1ObjectMeta? md)
    {
        if (md is null) return;
        md.NamespaceProperty = Share(md.NamespaceProperty);
        if (md.Finalizers is { } f)
            for (var i = 0; i < f.Count; i++) f[i] = Share(f[i])!;
        if (md.Labels is { Count: > 0 } labels) md.Labels = ShareDictionary(labels);
        if (md.Annotations is { Count: > 0 } annotations) md.Annotations = ShareDictionary(annotations);
    }
}
