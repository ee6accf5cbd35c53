using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnectOperator.Runtime;

/// <param name="Object">the object as stored after the call (the fresh server copy if written, else the input)</param>
/// <param name="Written">false when the mutation left the status unchanged (no API call was made)</param>
/// <param name="Attempts">PUTs sent (more than 1 after 409 conflicts)</param>
[SuppressMessage("Naming", "CA1720", Justification = "The object as the API server returned it, as in a watch event.")]
public sealed record StatusWriteResult<T>(T Object, bool Written, int Attempts);

/// <summary>
/// Writes status through the <c>/status</c> subresource with a PUT carrying metadata.resourceVersion (optimistic concurrency).
/// On 409 it re-reads the object and re-applies the mutation; if the mutation leaves the serialized status unchanged nothing is sent.
/// The input object is never mutated (it is usually the informer's cached instance): the mutation runs on a deep copy.
/// </summary>
public sealed class StatusWriter(KubeApiClient api, ILogger<StatusWriter>? logger = null, int maxAttempts = 5)
{
    private readonly ILogger _log = (ILogger?)logger ?? NullLogger.Instance;

    public async Task<StatusWriteResult<T>> UpdateStatusAsync<T>(ResourceKind kind, T current, Action<T> mutate, CancellationToken ct = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var attempts = 0;
        while (true)
        {
            var copy = KubeApiClient.DeepCopy(current);
            mutate(copy);
            if (JsonNode.DeepEquals(StatusOf(current), StatusOf(copy))) return new StatusWriteResult<T>(current, attempts > 0, attempts);
            attempts++;
            try
            {
                var written = await api.ReplaceAsync(kind, current.Metadata.NamespaceProperty, current.Metadata.Name, copy, "status", ct).ConfigureAwait(false);
                return new StatusWriteResult<T>(written, true, attempts);
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Conflict && attempts < maxAttempts)
            {
                _log.StatusConflict(kind.Kind, current.Metadata.NamespaceProperty, current.Metadata.Name, current.Metadata.ResourceVersion);
                current = await api.GetAsync<T>(kind, current.Metadata.NamespaceProperty, current.Metadata.Name, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The serialized <c>status</c> of an object (as on the wire: property names and omitted nulls).</summary>
    public static JsonNode? StatusOf<T>(T obj) => JsonNode.Parse(KubeJson.Serialize(obj))?["status"];
}
