using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConnectOperator.Runtime;

/// <summary>Content types of the three patch flavours the API server accepts.</summary>
public enum PatchKind { Merge, Json, StrategicMerge }

/// <summary>One decoded watch event. For <see cref="WatchEventType.Error"/> <see cref="Status"/> is set instead of <see cref="Object"/>.</summary>
public sealed record WatchEvent<T>(WatchEventType Type, T? Object, V1Status? Status);

/// <summary>One complete (all pages) list and the resourceVersion to start watching from.</summary>
public sealed record ListResult<T>(IReadOnlyList<T> Items, string ResourceVersion);

/// <summary>
/// A thin REST client over the official <see cref="Kubernetes"/> client's own HTTP pipeline (its HttpClient, TLS setup
/// and credentials), driven by a <see cref="ResourceKind"/>, so one code path serves core kinds and custom resources alike.
/// The generated <c>CustomObjects</c>/<c>GenericClient</c> APIs cannot address the core group and do not expose
/// <c>resourceVersion</c>/<c>allowWatchBookmarks</c> on watches, hence this class. Errors are thrown as KubernetesClient's
/// <see cref="HttpOperationException"/> (same as generated calls), so callers need one catch shape.
/// </summary>
public sealed class KubeApiClient
{
    private readonly Kubernetes _k;

    public KubeApiClient(IKubernetes client)
    {
        _k = client as Kubernetes ?? throw new ArgumentException("KubeApiClient needs the concrete k8s.Kubernetes client", nameof(client));
    }

    public IKubernetes Client => _k;

    public static bool IsStatus(Exception e, HttpStatusCode code) => e is HttpOperationException h && h.Response?.StatusCode == code;

    public async Task<T> GetAsync<T>(ResourceKind kind, string? ns, string name, CancellationToken ct = default)
    {
        using var resp = await SendAsync(HttpMethod.Get, kind.ItemPath(ns, name), null, null, ct).ConfigureAwait(false);
        return await ReadAsync<T>(resp, ct).ConfigureAwait(false);
    }

    /// <summary>Like <see cref="GetAsync{T}"/> but null on 404.</summary>
    public async Task<T?> TryGetAsync<T>(ResourceKind kind, string? ns, string name, CancellationToken ct = default) where T : class
    {
        try { return await GetAsync<T>(kind, ns, name, ct).ConfigureAwait(false); }
        catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound) { return null; }
    }

    public async Task<T> CreateAsync<T>(ResourceKind kind, string? ns, T obj, CancellationToken ct = default)
    {
        using var resp = await SendAsync(HttpMethod.Post, kind.CollectionPath(ns), KubernetesJson.Serialize(obj!), "application/json", ct).ConfigureAwait(false);
        return await ReadAsync<T>(resp, ct).ConfigureAwait(false);
    }

    /// <summary>PUT of the whole object (or of a subresource, e.g. "status"); optimistic concurrency via metadata.resourceVersion.</summary>
    public async Task<T> ReplaceAsync<T>(ResourceKind kind, string? ns, string name, T obj, string? subresource = null, CancellationToken ct = default)
    {
        using var resp = await SendAsync(HttpMethod.Put, kind.ItemPath(ns, name, subresource), KubernetesJson.Serialize(obj!), "application/json", ct).ConfigureAwait(false);
        return await ReadAsync<T>(resp, ct).ConfigureAwait(false);
    }

    public async Task<T> PatchAsync<T>(ResourceKind kind, string? ns, string name, string patch, PatchKind patchKind, string? subresource = null, CancellationToken ct = default)
    {
        var ctype = patchKind switch
        {
            PatchKind.Merge => "application/merge-patch+json",
            PatchKind.Json => "application/json-patch+json",
            _ => "application/strategic-merge-patch+json",
        };
        using var resp = await SendAsync(HttpMethod.Patch, kind.ItemPath(ns, name, subresource), patch, ctype, ct).ConfigureAwait(false);
        return await ReadAsync<T>(resp, ct).ConfigureAwait(false);
    }

    public async Task DeleteAsync(ResourceKind kind, string? ns, string name, CancellationToken ct = default)
    {
        using var resp = await SendAsync(HttpMethod.Delete, kind.ItemPath(ns, name), null, null, ct).ConfigureAwait(false);
    }

    /// <summary>Lists every page (limit 500) and returns the items and the list's resourceVersion.</summary>
    public async Task<ListResult<T>> ListAsync<T>(ResourceKind kind, string? ns = null, string? labelSelector = null, string? fieldSelector = null, CancellationToken ct = default)
    {
        var items = new List<T>();
        string? cont = null, rv = "";
        do
        {
            var q = Query(("labelSelector", labelSelector), ("fieldSelector", fieldSelector), ("limit", "500"), ("continue", cont));
            using var resp = await SendAsync(HttpMethod.Get, kind.CollectionPath(ns) + q, null, null, ct).ConfigureAwait(false);
            await using var stream = await resp.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: ct).ConfigureAwait(false);
            var root = doc.RootElement;
            cont = null;
            if (root.TryGetProperty("metadata", out var md))
            {
                if (md.TryGetProperty("resourceVersion", out var r)) rv = r.GetString();
                if (md.TryGetProperty("continue", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() is { Length: > 0 } cs) cont = cs;
            }
            if (root.TryGetProperty("items", out var arr) && arr.ValueKind == JsonValueKind.Array)
                foreach (var e in arr.EnumerateArray()) items.Add(KubernetesJson.Deserialize<T>(e));
        } while (cont != null);
        return new ListResult<T>(items, rv ?? "");
    }

    /// <summary>
    /// Opens a watch (<c>allowWatchBookmarks=true</c>) from <paramref name="resourceVersion"/> and yields decoded events until
    /// the server closes the stream. A 410 on open surfaces as <see cref="HttpOperationException"/>; a 410 mid-stream as an ERROR event.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceKind kind, string? ns, string? resourceVersion, string? labelSelector = null,
        string? fieldSelector = null, int? timeoutSeconds = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var q = Query(("watch", "true"), ("allowWatchBookmarks", "true"), ("resourceVersion", resourceVersion), ("labelSelector", labelSelector),
            ("fieldSelector", fieldSelector), ("timeoutSeconds", timeoutSeconds?.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var resp = await SendAsync(HttpMethod.Get, kind.CollectionPath(ns) + q, null, null, ct).ConfigureAwait(false);
        await using var stream = await resp.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (true)
        {
            var line = await reader.ReadLineAsync(ct).ConfigureAwait(false);
            if (line == null) yield break;
            if (line.Length == 0) continue;
            yield return ParseWatchLine<T>(line);
        }
    }

    internal static WatchEvent<T> ParseWatchLine<T>(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var type = doc.RootElement.GetProperty("type").GetString() switch
        {
            "ADDED" => WatchEventType.Added,
            "MODIFIED" => WatchEventType.Modified,
            "DELETED" => WatchEventType.Deleted,
            "BOOKMARK" => WatchEventType.Bookmark,
            "ERROR" => WatchEventType.Error,
            var other => throw new JsonException("unknown watch event type " + other),
        };
        var obj = doc.RootElement.GetProperty("object");
        return type == WatchEventType.Error
            ? new WatchEvent<T>(type, default, KubernetesJson.Deserialize<V1Status>(obj))
            : new WatchEvent<T>(type, KubernetesJson.Deserialize<T>(obj), null);
    }

    private static string Query(params (string Key, string? Value)[] ps)
    {
        var sb = new StringBuilder();
        foreach (var (k, v) in ps)
        {
            if (string.IsNullOrEmpty(v)) continue;
            sb.Append(sb.Length == 0 ? '?' : '&').Append(k).Append('=').Append(Uri.EscapeDataString(v));
        }
        return sb.ToString();
    }

    /// <summary>Sends through the client's pipeline; non-2xx becomes <see cref="HttpOperationException"/> (response body included).</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string relative, string? body, string? contentType, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(method, new Uri(_k.BaseUri, relative)) { Version = HttpVersion.Version20 };
        if (body != null)
        {
            req.Content = new StringContent(body, Encoding.UTF8);
            req.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/json") { CharSet = "utf-8" };
        }
        if (_k.Credentials != null) await _k.Credentials.ProcessHttpRequestAsync(req, ct).ConfigureAwait(false);
        var resp = await _k.HttpClient.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (resp.IsSuccessStatusCode) return resp;
        var content = await resp.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        var ex = new HttpOperationException($"{method} {relative} returned {(int)resp.StatusCode} {resp.StatusCode}")
        {
            Request = new HttpRequestMessageWrapper(req, body ?? ""),
            Response = new HttpResponseMessageWrapper(resp, content),
        };
        resp.Dispose();
        throw ex;
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage resp, CancellationToken ct)
    {
        await using var s = await resp.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return KubernetesJson.Deserialize<T>(s);
    }

    /// <summary>A deep copy through JSON (KubernetesClient models have no Clone); use before mutating a cached object.</summary>
    public static T DeepCopy<T>(T obj) => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(obj!));
}
