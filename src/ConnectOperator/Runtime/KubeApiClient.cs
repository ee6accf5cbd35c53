using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Authentication;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.Models;

namespace ConnectOperator.Runtime;

/// <summary>Content types of the three patch flavours the API server accepts.</summary>
public enum PatchKind { Merge, Json, StrategicMerge }

/// <summary>One decoded watch event. For <see cref="WatchEventType.Error"/> <see cref="Status"/> is set instead of <see cref="Object"/>.</summary>
[SuppressMessage("Naming", "CA1720", Justification = "The watch event's wire field is \"object\".")]
public sealed record WatchEvent<T>(WatchEventType Type, T? Object, V1Status? Status);

/// <summary>One complete (all pages) list and the resourceVersion to start watching from.</summary>
public sealed record ListResult<T>(IReadOnlyList<T> Items, string ResourceVersion);

/// <summary>
/// A thin REST client over KubernetesClient's HTTP pipeline pieces (its TLS verification, client certificates and
/// credentials), driven by a <see cref="ResourceKind"/>, so one code path serves core kinds and custom resources alike.
/// The generated <c>CustomObjects</c>/<c>GenericClient</c> APIs cannot address the core group and do not expose
/// <c>resourceVersion</c>/<c>allowWatchBookmarks</c> on watches, hence this class. Errors are thrown as KubernetesClient's
/// <see cref="HttpOperationException"/> (same as generated calls), so callers need one catch shape.
/// <para>
/// The operator builds it from a <see cref="KubernetesClientConfiguration"/>, not from a <see cref="Kubernetes"/>
/// client: that client's constructor configures <see cref="KubernetesJson"/>, and with it every API type's serializer
/// would be compiled into the native executable (<see cref="KubeJson"/>).
/// </para>
/// </summary>
public sealed class KubeApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _baseUri;
    private readonly ServiceClientCredentials? _credentials;
    private readonly bool _ownsHttp;

    /// <summary>Over an existing client's pipeline (tests and tools that already hold one).</summary>
    public KubeApiClient(IKubernetes client)
    {
        var k = client as Kubernetes ?? throw new ArgumentException("KubeApiClient needs the concrete k8s.Kubernetes client", nameof(client));
        (_http, _baseUri, _credentials) = (k.HttpClient, k.BaseUri, k.Credentials);
    }

    /// <summary>Its own pipeline, set up as KubernetesClient's: CA bundle or skip-verify, client certificate, token or basic credentials.</summary>
    /// <param name="rateLimit">Client-side limit on non-watch requests; null = <see cref="Rate.ApiServerRateLimit.Default"/>.</param>
    /// <param name="observer">
    /// Sits in front of the socket handler, so it sees every request, watches included. Tests use it to record what
    /// the operator asks of the API server and compare that with the RBAC the chart grants; production passes none.
    /// </param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5359:Do not disable certificate validation",
        Justification = "only for a kubeconfig that sets insecure-skip-tls-verify, as kubectl and client-go do")]
    public KubeApiClient(KubernetesClientConfiguration config, Rate.ApiServerRateLimit? rateLimit = null, DelegatingHandler? observer = null)
    {
        if (string.IsNullOrWhiteSpace(config.Host) || !Uri.TryCreate(config.Host, UriKind.Absolute, out var baseUri))
            throw new KubeConfigException($"the Kubernetes API server URL '{config.Host}' is not an absolute URL");
        _baseUri = baseUri;
        var handler = new SocketsHttpHandler
        {
            // As KubernetesClient: keep long watches alive through idle proxies.
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            KeepAlivePingDelay = TimeSpan.FromMinutes(3),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
        };
        if (baseUri.Scheme == Uri.UriSchemeHttps)
        {
            if (config.SkipTlsVerify) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            else if (config.SslCaCerts is { } ca)
                handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, errors) => ValidateServerCertificate(ca, cert, errors, config.TlsServerName);
            // The handler takes the name to check from the request's URL whatever SslOptions.TargetHost says, so a
            // kubeconfig's tls-server-name is checked here instead.
            else if (!string.IsNullOrEmpty(config.TlsServerName))
                handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, errors) => ValidateServerCertificate(null, cert, errors, config.TlsServerName);
            // No CA in the configuration: the system's trust store decides, as for any HTTPS client.
            if (ClientCertificate(config) is { } clientCert) handler.SslOptions.ClientCertificates = new X509CertificateCollection { clientCert };
        }
        HttpMessageHandler pipeline = handler;
        if (observer != null) { observer.InnerHandler = handler; pipeline = observer; }
        _http = new HttpClient(Rate.ApiServerRateLimitHandler.Wrap(pipeline, rateLimit), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _ownsHttp = true;
        _credentials = Kubernetes.CreateCredentials(config);
    }

    /// <summary>
    /// Trusts a server certificate that chains to <paramref name="ca"/> (and only to it: the cluster CA is not added to
    /// the system's roots) and whose name matches the host. KubernetesClient's own callback drops the name check whenever
    /// the chain needed the custom CA, which is always the case in a cluster, so any certificate the cluster CA ever
    /// signed (a kubelet's, a webhook's) would be accepted for the API server.
    /// </summary>
    /// <param name="ca">The cluster CA; null: the system's trust store.</param>
    /// <param name="serverName">The name to check instead of the URL's host (kubeconfig <c>tls-server-name</c>).</param>
    internal static bool ValidateServerCertificate(X509Certificate2Collection? ca, X509Certificate? certificate, System.Net.Security.SslPolicyErrors errors,
        string? serverName = null)
    {
        if (!string.IsNullOrEmpty(serverName) && certificate is not null)
        {
            using var named = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            // As Go's crypto/tls: names from the subjectAltName only, never the subject's CN.
            if (!named.MatchesHostname(serverName, allowWildcards: true, allowCommonName: false)) return false;
            errors &= ~System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch;
        }
        if (certificate is null || (errors & (System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch | System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            return false;
        if (errors == System.Net.Security.SslPolicyErrors.None) return true;
        if (ca is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ca);
        // Cluster CAs publish no revocation lists; client-go does not check revocation either.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        try { return chain.Build(leaf); }
        finally
        {
            if (!ReferenceEquals(leaf, certificate)) leaf.Dispose();
            foreach (var element in chain.ChainElements) element.Certificate.Dispose();
        }
    }

    /// <summary>The client certificate, inline (base64 PEM, as a kubeconfig holds it) or from files; null when there is none.</summary>
    internal static X509Certificate2? ClientCertificate(KubernetesClientConfiguration config)
    {
        string certPem, keyPem;
        if (!string.IsNullOrWhiteSpace(config.ClientCertificateData) && !string.IsNullOrWhiteSpace(config.ClientCertificateKeyData))
            (certPem, keyPem) = (Encoding.UTF8.GetString(Convert.FromBase64String(config.ClientCertificateData)), Encoding.UTF8.GetString(Convert.FromBase64String(config.ClientCertificateKeyData)));
        else if (!string.IsNullOrWhiteSpace(config.ClientCertificateFilePath) && !string.IsNullOrWhiteSpace(config.ClientKeyFilePath))
            (certPem, keyPem) = (File.ReadAllText(config.ClientCertificateFilePath), File.ReadAllText(config.ClientKeyFilePath));
        else return null;
        var cert = X509Certificate2.CreateFromPem(certPem, keyPem);
        if (OperatingSystem.IsLinux()) return cert;
        // Elsewhere TLS needs the key in a key store, not an ephemeral one: round-trip through PKCS#12.
        using (cert) return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    /// <summary>
    /// Bound on every request but watches, body included. Longer than the API server's own limit on a request
    /// (--request-timeout, 60 s), so a slow but live server answers with its own 504 first; what this catches is a
    /// connection that went silent (a dead node, a dropped NAT entry). Watches end by their own timeoutSeconds and
    /// the informer's watchdog.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(70);

    public static bool IsStatus(Exception e, HttpStatusCode code) => e is HttpOperationException h && h.Response?.StatusCode == code;

    public async Task<T> GetAsync<T>(ResourceKind kind, string? ns, string name, CancellationToken ct = default)
    {
        using var resp = await SendAsync("get", kind, null, HttpMethod.Get, kind.ItemPath(ns, name), null, null, ct).ConfigureAwait(false);
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
        using var resp = await SendAsync("create", kind, null, HttpMethod.Post, kind.CollectionPath(ns), KubeJson.Serialize(obj), "application/json", ct).ConfigureAwait(false);
        return await ReadAsync<T>(resp, ct).ConfigureAwait(false);
    }

    /// <summary>PUT of the whole object (or of a subresource, e.g. "status"); optimistic concurrency via metadata.resourceVersion.</summary>
    public async Task<T> ReplaceAsync<T>(ResourceKind kind, string? ns, string name, T obj, string? subresource = null, CancellationToken ct = default)
    {
        using var resp = await SendAsync("update", kind, subresource, HttpMethod.Put, kind.ItemPath(ns, name, subresource), KubeJson.Serialize(obj), "application/json", ct).ConfigureAwait(false);
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
        using var resp = await SendAsync("patch", kind, subresource, HttpMethod.Patch, kind.ItemPath(ns, name, subresource), patch, ctype, ct).ConfigureAwait(false);
        return await ReadAsync<T>(resp, ct).ConfigureAwait(false);
    }

    public async Task DeleteAsync(ResourceKind kind, string? ns, string name, CancellationToken ct = default)
    {
        using var resp = await SendAsync("delete", kind, null, HttpMethod.Delete, kind.ItemPath(ns, name), null, null, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Lists every page (limit 500) and returns the items and the list's resourceVersion. <paramref name="resourceVersion"/>
    /// "0" lets the server answer from its watch cache; null or "" is a quorum read. It applies to the first page only: the
    /// API rejects a resourceVersion next to a continue token, which already pins the snapshot.
    /// </summary>
    public async Task<ListResult<T>> ListAsync<T>(ResourceKind kind, string? ns = null, string? labelSelector = null, string? fieldSelector = null,
        string? resourceVersion = null, CancellationToken ct = default)
    {
        var items = new List<T>();
        string? cont = null, rv = "";
        do
        {
            var q = Query(("labelSelector", labelSelector), ("fieldSelector", fieldSelector), ("limit", "500"), ("continue", cont),
                ("resourceVersion", cont == null ? resourceVersion : null));
            // Streamed, not buffered (Caching/KubeListReader), inside the same bound as any other request.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(RequestTimeout);
            try
            {
                using var resp = await SendAsync("list", kind, null, HttpMethod.Get, kind.CollectionPath(ns) + q, null, null, timeout.Token, streamed: true).ConfigureAwait(false);
                await using var stream = await resp.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                using var page = new Caching.KubeListReader<T>();
                await page.ReadAsync(stream, items, timeout.Token).ConfigureAwait(false);
                (rv, cont) = (page.ResourceVersion ?? rv, page.Continue);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"list {kind.Plural}: no complete answer from the Kubernetes API server within {RequestTimeout.TotalSeconds:0} s");
            }
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
        using var resp = await SendAsync("watch", kind, null, HttpMethod.Get, kind.CollectionPath(ns) + q, null, null, ct, streamed: true).ConfigureAwait(false);
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
            ? new WatchEvent<T>(type, default, KubeJson.Deserialize<V1Status>(obj))
            : new WatchEvent<T>(type, KubeJson.Deserialize<T>(obj), null);
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

    /// <summary>
    /// Sends through the client's pipeline; non-2xx becomes <see cref="HttpOperationException"/> (response body included).
    /// Each request is counted on <see cref="RuntimeMetrics.KubeApiRequests"/> by verb, resource, subresource and outcome
    /// (<c>connect_operator_kube_api_requests_total</c>).
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(string verb, ResourceKind kind, string? subresource, HttpMethod method, string relative, string? body,
        string? contentType, CancellationToken ct, bool streamed = false)
    {
        var code = "exception";
        try
        {
            var resp = await SendTimedAsync(method, relative, body, contentType, streamed, ct).ConfigureAwait(false);
            code = StatusLabel(resp.StatusCode);
            return resp;
        }
        catch (HttpOperationException e)
        {
            code = e.Response is { } r ? StatusLabel(r.StatusCode) : "exception";
            throw;
        }
        catch (TimeoutException) { code = "timeout"; throw; }
        catch (OperationCanceledException) { code = "cancelled"; throw; }
        catch (HttpRequestException) { code = "network"; throw; }
        finally
        {
            RuntimeMetrics.KubeApiRequests.Add(1, new TagList
            {
                { "verb", verb }, { "resource", kind.Plural }, { "subresource", subresource ?? "" }, { "code", code },
            });
        }
    }

    private static string StatusLabel(HttpStatusCode status) => ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task<HttpResponseMessage> SendTimedAsync(HttpMethod method, string relative, string? body, string? contentType, bool streamed, CancellationToken ct)
    {
        // A watch or a streamed list: the caller reads the body as it comes (and bounds it).
        if (streamed) return await SendOnceAsync(method, relative, body, contentType, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            // The body is buffered inside the bound: a server that sends headers and then stalls is caught too.
            return await SendOnceAsync(method, relative, body, contentType, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{method} {relative}: no answer from the Kubernetes API server within {RequestTimeout.TotalSeconds:0} s");
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, string relative, string? body, string? contentType, HttpCompletionOption completion, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(method, new Uri(_baseUri, relative)) { Version = HttpVersion.Version20 };
        if (body != null)
        {
            req.Content = new StringContent(body, Encoding.UTF8);
            req.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/json") { CharSet = "utf-8" };
        }
        if (_credentials != null) await _credentials.ProcessHttpRequestAsync(req, ct).ConfigureAwait(false);
        var resp = await _http.SendAsync(req, completion, ct).ConfigureAwait(false);
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
        return KubeJson.Deserialize<T>(s);
    }

    /// <summary>A deep copy through JSON (KubernetesClient models have no Clone); use before mutating a cached object.</summary>
    public static T DeepCopy<T>(T obj) => KubeJson.Deserialize<T>(KubeJson.Serialize(obj));
}
