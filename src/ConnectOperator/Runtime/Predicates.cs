using k8s;
using k8s.Models;

namespace ConnectOperator.Runtime;

/// <summary>
/// Update predicates, as controller-runtime's: which changes of an object are worth a reconcile of that object.
/// </summary>
public static class Predicates
{
    /// <summary>
    /// Everything but status: generation (the spec), annotations (restart, adopt), labels, finalizers, deletion. A
    /// controller's own status write comes back as an update too; without this filter each one ran a whole pass again,
    /// so a status text that changed on every attempt was a hot loop. Changes the reconciler must see that are not on
    /// the object itself (Confluent's state, Secrets, the Department) arrive through their own watches and the poll.
    /// </summary>
    public static bool SpecOrMetadataChanged(IKubernetesObject<V1ObjectMeta> old, IKubernetesObject<V1ObjectMeta> @new)
    {
        var (o, n) = (old.Metadata, @new.Metadata);
        if (o.ResourceVersion == n.ResourceVersion) return true;   // a resync: the safety net must reach the reconciler
        return o.Generation != n.Generation
               || o.Uid != n.Uid
               || o.DeletionTimestamp != n.DeletionTimestamp
               || !SameSet(o.Finalizers, n.Finalizers)
               || !SameMap(o.Annotations, n.Annotations)
               || !SameMap(o.Labels, n.Labels);
    }

    private static bool SameSet(IList<string>? a, IList<string>? b)
        => (a?.Count ?? 0) == (b?.Count ?? 0) && (a is null || b is null || a.Order(StringComparer.Ordinal).SequenceEqual(b.Order(StringComparer.Ordinal)));

    private static bool SameMap(IDictionary<string, string>? a, IDictionary<string, string>? b)
    {
        if ((a?.Count ?? 0) != (b?.Count ?? 0)) return false;
        if (a is null || b is null) return true;
        foreach (var (k, v) in a)
            if (!b.TryGetValue(k, out var w) || !string.Equals(v, w, StringComparison.Ordinal)) return false;
        return true;
    }
}
