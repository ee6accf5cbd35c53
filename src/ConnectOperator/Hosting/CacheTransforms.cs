using ConnectOperator.Entities;
using ConnectOperator.Runtime.Caching;
using k8s;
using k8s.Models;

namespace ConnectOperator.Hosting;

/// <summary>
/// What the informer caches keep of each object (client-go's TransformFunc), in one place. The operator caches every
/// ManagedConnector of the cluster, so at 10,000 connectors each byte per object counts: nothing is kept that no reader
/// needs, and the strings thousands of objects repeat are shared (<see cref="StringPool"/>).
/// managedFields are already dropped by the informer itself.
/// </summary>
public static class CacheTransforms
{
    /// <summary>kubectl's and Argo CD's client-side apply copy of the whole object: a second copy nobody here reads.</summary>
    public const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    /// <summary>For the Department and ConnectorQuota caches: drop the last-applied copy.</summary>
    public static void DropLastApplied(IKubernetesObject<V1ObjectMeta> o)
    {
        if (o.Metadata?.Annotations is { } a && a.Remove(LastAppliedAnnotation) && a.Count == 0) o.Metadata.Annotations = null;
    }

    /// <summary>For the ManagedConnector cache: drop the last-applied copy and share repeated strings.</summary>
    public static Action<IKubernetesObject<V1ObjectMeta>> ManagedConnectors(StringPool pool) => o =>
    {
        if (o is V1Alpha1ManagedConnector mc) Compact(mc, pool);
    };

    public static void Compact(V1Alpha1ManagedConnector mc, StringPool pool)
    {
        DropLastApplied(mc);
        mc.ApiVersion = pool.Share(mc.ApiVersion)!;
        mc.Kind = pool.Share(mc.Kind)!;
        pool.ShareMetadata(mc.Metadata);
        var spec = mc.Spec;
        spec.ConnectorClass = pool.Share(spec.ConnectorClass)!;
        spec.Config = pool.ShareDictionary(spec.Config);
        foreach (var s in spec.SecretConfig)
        {
            s.Key = pool.Share(s.Key)!;
            s.SecretKeyRef.Name = pool.Share(s.SecretKeyRef.Name)!;
            s.SecretKeyRef.Key = pool.Share(s.SecretKeyRef.Key)!;
        }
        spec.State = pool.Share(spec.State)!;
        spec.DeletionPolicy = pool.Share(spec.DeletionPolicy)!;
        spec.RestartPolicy.Type = pool.Share(spec.RestartPolicy.Type)!;
        if (mc.Status is not { } status) return;
        status.Department = pool.Share(status.Department);
        status.ConnectorState = pool.Share(status.ConnectorState);
        status.EnvironmentId = pool.Share(status.EnvironmentId);
        status.KafkaClusterId = pool.Share(status.KafkaClusterId);
        foreach (var c in status.Conditions)
        {
            c.Type = pool.Share(c.Type)!;
            c.Status = pool.Share(c.Status)!;
            c.Reason = pool.Share(c.Reason)!;
            // Most messages name the connector, but the common ones ("Confluent Cloud is provisioning the
            // connector…") repeat thousands of times; the pool's length cap and bound keep the rest from costing much.
            c.Message = pool.Share(c.Message)!;
        }
        foreach (var t in status.Tasks) t.State = pool.Share(t.State);
    }

    /// <summary>
    /// For the Secret cache: values are kept only in the operator's namespace (Department credentials). Elsewhere the
    /// cache keeps names, keys and versions, enough to notice a rotation; values are read when a write needs them. This
    /// keeps memory flat on clusters full of unrelated Secrets, and keeps other teams' secrets out of the process.
    /// </summary>
    public static Action<IKubernetesObject<V1ObjectMeta>> Secrets(string operatorNamespace) => o =>
    {
        if (o is not V1Secret secret || secret.Metadata.NamespaceProperty == operatorNamespace) return;
        secret.Data = secret.Data?.ToDictionary(kv => kv.Key, _ => Array.Empty<byte>());
        secret.StringData = null;
        secret.Metadata.Annotations = null;   // kubectl's last-applied copy holds the values too
    };
}
