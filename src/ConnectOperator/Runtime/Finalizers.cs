using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConnectOperator.Runtime;

/// <summary>
/// Adds/removes one finalizer with a merge patch that carries metadata.resourceVersion: the server rejects it with 409 if the object
/// changed since it was read, so a concurrent writer's finalizers are never dropped; on 409 the object is re-read and the edit redone.
/// Input objects are not mutated.
/// </summary>
public sealed class Finalizers(KubeApiClient api, int maxAttempts = 5)
{
    public static bool Has(IKubernetesObject<V1ObjectMeta> obj, string finalizer) => obj.Metadata?.Finalizers?.Contains(finalizer) == true;

    /// <summary>Ensures the finalizer is present; returns the current object (unchanged input if it already was).</summary>
    public Task<T> AddAsync<T>(ResourceKind kind, T obj, string finalizer, CancellationToken ct = default) where T : class, IKubernetesObject<V1ObjectMeta>
        => EditAsync(kind, obj, Adding(finalizer), ct);

    /// <summary>Ensures the finalizer is absent, keeping all others in order.</summary>
    public Task<T> RemoveAsync<T>(ResourceKind kind, T obj, string finalizer, CancellationToken ct = default) where T : class, IKubernetesObject<V1ObjectMeta>
        => EditAsync(kind, obj, Removing(finalizer), ct);

    /// <summary>
    /// Adds or removes one finalizer and sets or removes annotations (null value: remove) in ONE write, e.g. a
    /// finalizer with the record of an intent that must be durable before a remote call.
    /// </summary>
    public Task<T> EditAsync<T>(ResourceKind kind, T obj, string finalizer, bool present, IReadOnlyDictionary<string, string?> annotations, CancellationToken ct = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
        => EditAsync(kind, obj, present ? Adding(finalizer) : Removing(finalizer), ct, annotations);

    /// <summary>An edit of the finalizer list: true when it changed the list.</summary>
    private static Func<List<string>, bool> Adding(string finalizer) => list =>
    {
        if (list.Contains(finalizer)) return false;
        list.Add(finalizer);
        return true;
    };

    private static Func<List<string>, bool> Removing(string finalizer) => list => list.RemoveAll(f => f == finalizer) > 0;

    private async Task<T> EditAsync<T>(ResourceKind kind, T obj, Func<List<string>, bool> edit, CancellationToken ct, IReadOnlyDictionary<string, string?>? annotations = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        for (var attempt = 1; ; attempt++)
        {
            var list = obj.Metadata.Finalizers?.ToList() ?? new List<string>();
            var finalizersChanged = edit(list);
            var current = obj.Metadata.Annotations;
            var annotationEdits = (annotations ?? new Dictionary<string, string?>())
                .Where(a => a.Value is null ? current?.ContainsKey(a.Key) == true : current?.TryGetValue(a.Key, out var v) != true || v != a.Value)
                .ToList();
            if (!finalizersChanged && annotationEdits.Count == 0) return obj;
            var metadata = new JsonObject { ["resourceVersion"] = obj.Metadata.ResourceVersion };
            if (finalizersChanged)
                metadata["finalizers"] = list.Count == 0 ? null : new JsonArray(list.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray());
            if (annotationEdits.Count > 0)
            {
                var edits = new JsonObject();
                foreach (var (k, v) in annotationEdits) edits[k] = v is null ? null : JsonValue.Create(v);
                metadata["annotations"] = edits;
            }
            var patch = new JsonObject { ["metadata"] = metadata };
            try
            {
                return await api.PatchAsync<T>(kind, obj.Metadata.NamespaceProperty, obj.Metadata.Name, patch.ToJsonString(), PatchKind.Merge, ct: ct).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Conflict && attempt < maxAttempts)
            {
                obj = await api.GetAsync<T>(kind, obj.Metadata.NamespaceProperty, obj.Metadata.Name, ct).ConfigureAwait(false);
            }
        }
    }
}
