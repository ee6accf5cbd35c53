using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Polly;

namespace ConnectOperator.Confluent;

/// <summary>Connect v1 client for one credential. Create through <see cref="ConnectClientFactory"/>.</summary>
public sealed class ConnectClient : IConnectClient
{
    internal static readonly ResiliencePropertyKey<bool> IdempotentKey = new("connect.idempotent");
    internal static readonly ResiliencePropertyKey<string> RouteKey = new("connect.route");
    internal static readonly ResiliencePropertyKey<string> MethodKey = new("connect.method");
    internal static readonly ResiliencePropertyKey<TimeSpan> MaxRetryAfterKey = new("connect.maxRetryAfter");

    /// <summary>Metadata from <see cref="ConnectJsonContext"/> (web defaults, source-generated so it works under NativeAOT).</summary>
    private static JsonTypeInfo<T> Info<T>() => ConnectJsonContext.Default.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>
        ?? throw new NotSupportedException($"{typeof(T)} is missing from ConnectJsonContext");

    private const int MaxErrorBodyChars = 64 * 1024;
    private const int MaxVendorMessageChars = 2000;

    private readonly HttpClient _http;
    private readonly ConnectClientOptions _options;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly ILogger _logger;
    private readonly AuthenticationHeaderValue _auth;
    private readonly string _baseUrl;
    private readonly RetryAfterGate? _gate;

    internal ConnectClient(HttpClient http, ConnectClientOptions options, ConnectCredentials credentials, ResiliencePipeline<HttpResponseMessage> pipeline, ILogger logger,
        RetryAfterGate? gate = null)
    {
        _gate = gate;
        _http = http;
        _options = options;
        _pipeline = pipeline;
        _logger = logger;
        ApiKey = credentials.ApiKey;
        _auth = credentials.BasicAuthHeader();
        _baseUrl = options.BaseUrl.TrimEnd('/');
    }

    public string ApiKey { get; }

    /// <summary>Redaction policy used for logs and vendor-message scrubbing.</summary>
    public ConfigRedactor Redactor { get; init; } = ConfigRedactor.Default;

    public async Task<IReadOnlyList<string>> ListConnectorNamesAsync(ClusterRef cluster, CancellationToken ct = default)
        => await SendAsync<List<string>>(new Call(HttpMethod.Get, "connectors", cluster, "connectors"), ct) ?? [];

    public async Task<ConnectorListReader> OpenConnectorListAsync(ClusterRef cluster, CancellationToken ct = default)
        => (await SendAsync<ConnectorListReader>(new Call(HttpMethod.Get, ExpandedListRoute, cluster, ExpandedListRoute) { Streamed = true }, ct))!;

    /// <summary>One connector of the expanded list (its JSON).</summary>
    public static ConnectorExpansion ReadExpansion(ReadOnlySpan<byte> entry)
    {
        try
        {
            return JsonSerializer.Deserialize(entry, ConnectJsonContext.Default.ConnectorExpansion) ?? throw new JsonException("null connector");
        }
        catch (JsonException e)
        {
            // Not the body itself (it may hold config): the path is enough to debug.
            throw new ConfluentApiException(HttpStatusCode.OK, $"GET {ExpandedListRoute}", $"unexpected response body ({e.Path})", null, null);
        }
    }

    private const string ExpandedListRoute = "connectors?expand=id,info,status";

    public async Task<ConnectorInfo?> CreateConnectorAsync(ClusterRef cluster, string name, IReadOnlyDictionary<string, string> config,
        IReadOnlyCollection<string>? secretKeys = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        // Key names only: a value can be a secret whatever its key is called, and however short it is.
        if (_logger.IsEnabled(LogLevel.Information)) _logger.CreatingConnector(name, cluster, string.Join(",", config.Keys.Order(StringComparer.Ordinal)));
        var call = new Call(HttpMethod.Post, "connectors", cluster, "connectors") { Idempotent = false, Body = JsonSerializer.SerializeToUtf8Bytes(new CreateBody(name, config), ConnectJsonContext.Default.CreateBody), Config = config, SecretKeys = secretKeys };
        return await SendAsync<ConnectorInfo>(call, ct);
    }

    public async Task<ConnectorInfo?> PutConfigAsync(ClusterRef cluster, string name, IReadOnlyDictionary<string, string> config,
        IReadOnlyCollection<string>? secretKeys = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_logger.IsEnabled(LogLevel.Information)) _logger.PuttingConfig(name, cluster, string.Join(",", config.Keys.Order(StringComparer.Ordinal)));
        var call = new Call(HttpMethod.Put, "connectors/{name}/config", cluster, $"connectors/{Esc(name)}/config") { Body = ConfigBody(config), Config = config, Connector = name, SecretKeys = secretKeys };
        return await SendAsync<ConnectorInfo>(call, ct);
    }

    public Task PauseAsync(ClusterRef cluster, string name, CancellationToken ct = default)
        => SendAsync<object>(new Call(HttpMethod.Put, "connectors/{name}/pause", cluster, $"connectors/{Esc(name)}/pause") { Connector = name, NoContent = true }, ct);

    public Task ResumeAsync(ClusterRef cluster, string name, CancellationToken ct = default)
        => SendAsync<object>(new Call(HttpMethod.Put, "connectors/{name}/resume", cluster, $"connectors/{Esc(name)}/resume") { Connector = name, NoContent = true }, ct);

    public Task RestartAsync(ClusterRef cluster, string name, CancellationToken ct = default)
        => SendAsync<object>(new Call(HttpMethod.Post, "connectors/{name}/restart", cluster, $"connectors/{Esc(name)}/restart")
        { Idempotent = false, Connector = name, NoContent = true }, ct);

    public Task RestartTaskAsync(ClusterRef cluster, string name, int taskId, CancellationToken ct = default)
        => SendAsync<object>(new Call(HttpMethod.Post, "connectors/{name}/tasks/{id}/restart", cluster, $"connectors/{Esc(name)}/tasks/{taskId}/restart")
        { Idempotent = false, Connector = name, NoContent = true }, ct);

    public async Task<bool> DeleteAsync(ClusterRef cluster, string name, CancellationToken ct = default)
    {
        var found = true;
        await SendAsync<object>(new Call(HttpMethod.Delete, "connectors/{name}", cluster, $"connectors/{Esc(name)}")
        { Connector = name, NoContent = true, OnNotFound = () => found = false }, ct);
        return found;
    }

    public async Task<ConfigValidationResult> ValidateConfigAsync(ClusterRef cluster, string pluginClass, IReadOnlyDictionary<string, string> config, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pluginClass);
        var call = new Call(HttpMethod.Put, "connector-plugins/{plugin}/config/validate", cluster, $"connector-plugins/{Esc(pluginClass)}/config/validate")
        { Body = ConfigBody(config), Config = config };
        return (await SendAsync<ConfigValidationResult>(call, ct))!;
    }

    public Task<ConnectorOffsets?> GetOffsetsAsync(ClusterRef cluster, string name, CancellationToken ct = default)
        => SendAsync<ConnectorOffsets>(new Call(HttpMethod.Get, "connectors/{name}/offsets", cluster, $"connectors/{Esc(name)}/offsets") { NotFoundIsNull = true, Connector = name }, ct);

    public async Task<AlterOffsetsRequestInfo> RequestOffsetsAsync(ClusterRef cluster, string name, AlterOffsetsRequest request, CancellationToken ct = default)
    {
        // Not idempotent: Confluent takes one alter request at a time, and a retried PATCH after a lost reply would be refused.
        var call = new Call(HttpMethod.Post, "connectors/{name}/offsets/request", cluster, $"connectors/{Esc(name)}/offsets/request")
        { Idempotent = false, Connector = name, Body = JsonSerializer.SerializeToUtf8Bytes(request, ConnectJsonContext.Default.AlterOffsetsRequest) };
        return await SendAsync<AlterOffsetsRequestInfo>(call, ct) ?? new AlterOffsetsRequestInfo { Name = name, Type = request.Type };
    }

    public Task<AlterOffsetsStatus?> GetOffsetsRequestStatusAsync(ClusterRef cluster, string name, CancellationToken ct = default)
        => SendAsync<AlterOffsetsStatus>(new Call(HttpMethod.Get, "connectors/{name}/offsets/request/status", cluster, $"connectors/{Esc(name)}/offsets/request/status")
        { NotFoundIsNull = true, Connector = name }, ct);

    // ---------------------------------------------------------------------------------------------------------

    private static string Esc(string segment) => Uri.EscapeDataString(segment);

    internal sealed record CreateBody(string name, IReadOnlyDictionary<string, string> config);

    private static byte[] ConfigBody(IReadOnlyDictionary<string, string> config)
        => JsonSerializer.SerializeToUtf8Bytes(config, ConnectJsonContext.Default.IReadOnlyDictionaryStringString);

    private sealed class Call(HttpMethod method, string route, ClusterRef cluster, string relative)
    {
        public HttpMethod Method { get; } = method;
        /// <summary>Route template (metrics label, exception text): never contains a raw connector name.</summary>
        public string Route { get; } = route;
        public ClusterRef Cluster { get; } = cluster;
        public string Relative { get; } = relative;
        public bool Idempotent { get; init; } = method != HttpMethod.Post;
        /// <summary>The request body, already serialized.</summary>
        public byte[]? Body { get; init; }
        /// <summary>The config the caller passed, used to scrub vendor messages.</summary>
        public IReadOnlyDictionary<string, string>? Config { get; init; }
        /// <summary>Keys of <see cref="Config"/> whose values are secret whatever their names say (spec.secretConfig).</summary>
        public IReadOnlyCollection<string>? SecretKeys { get; init; }
        public string? Connector { get; init; }
        public bool NotFoundIsNull { get; init; }
        public bool NoContent { get; init; }
        /// <summary>The body is handed over as a stream (<see cref="ConnectorListReader"/>) instead of being buffered.</summary>
        public bool Streamed { get; init; }
        public Action? OnNotFound { get; init; }
        public string Operation => $"{Method.Method} {Route}";
    }

    private async Task<T?> SendAsync<T>(Call call, CancellationToken ct) where T : class
    {
        var url = $"{_baseUrl}/connect/v1/environments/{Esc(call.Cluster.EnvironmentId)}/clusters/{Esc(call.Cluster.KafkaClusterId)}/{call.Relative}";
        var body = call.Body;

        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(IdempotentKey, call.Idempotent);
        context.Properties.Set(RouteKey, call.Route);
        context.Properties.Set(MethodKey, call.Method.Method);
        context.Properties.Set(MaxRetryAfterKey, _options.MaxRetryAfter);
        var total = Stopwatch.StartNew();
        HttpResponseMessage response;
        try
        {
            response = await _pipeline.ExecuteAsync(static async (ctx, s) =>
            {
                var (self, call, url, body) = s;
                using var request = new HttpRequestMessage(call.Method, url);
                request.Headers.Authorization = self._auth;
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                request.Headers.UserAgent.ParseAdd(self._options.UserAgent);
                if (body != null) request.Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
                var sw = Stopwatch.StartNew();
                string status = "exception";
                try
                {
                    var r = await self._http.SendAsync(request, call.Streamed ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, ctx.CancellationToken);
                    status = ((int)r.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    // A 429's Retry-After holds for the whole API key: close the key's gate so no other call
                    // (other workers, the poller) is sent before that time (see RetryAfterGate). A Retry-After beyond
                    // MaxRetryAfter is not retried here but handed to the caller (requeue), so it does not block the key.
                    if (r.StatusCode == HttpStatusCode.TooManyRequests
                        && (ConnectClientFactory.RetryAfterOf(r) ?? self._options.RateLimitedDefaultDelay) is var ra && ra <= self._options.MaxRetryAfter)
                        self._gate?.Close(ra + self._options.RetryAfterMargin);
                    return r;
                }
                catch (OperationCanceledException) { status = "timeout"; throw; }
                catch (HttpRequestException) { status = "network"; throw; }
                finally
                {
                    KeyValuePair<string, object?>[] tags = [new("route", call.Route), new("method", call.Method.Method), new("status_code", status)];
                    ConnectClientMetrics.Requests.Add(1, tags);
                    ConnectClientMetrics.Duration.Record(sw.Elapsed.TotalSeconds, tags);
                }
            }, context, (this, call, url, body));
        }
        catch (Exception e) when (PipelineExceptions.Classify(e) is { } failure && !ct.IsCancellationRequested)
        {
            if (failure == TransportFailure.CircuitOpen)
                ConnectClientMetrics.Requests.Add(1, new("route", call.Route), new("method", call.Method.Method), new("status_code", "circuit_open"));
            _logger.ConnectTransportFailed(call.Operation, call.Connector, call.Cluster, failure);
            throw new ConfluentTransportException(call.Operation, failure, e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        var handedOver = false;
        try
        {
            if (_logger.IsEnabled(LogLevel.Debug))
                _logger.ConnectAnswered(call.Operation, call.Connector, call.Cluster, (int)response.StatusCode, total.ElapsedMilliseconds);

            if (response.IsSuccessStatusCode)
            {
                if (call.NoContent) return null;
                var stream = await response.Content.ReadAsStreamAsync(ct);
                if (typeof(T) == typeof(ConnectorListReader))
                {
                    handedOver = true;
                    return (T)(object)new ConnectorListReader(stream, response, _options.AttemptTimeout, call.Operation);
                }
                // A 2xx with an empty body is a success (Confluent answers some writes so): the caller gets null and, where
                // it needs what the body would have said, reads it from the next poll.
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, ct);
                if (IsBlank(buffer.GetBuffer().AsSpan(0, (int)buffer.Length))) return null;
                buffer.Position = 0;
                try
                {
                    return await JsonSerializer.DeserializeAsync(buffer, Info<T>(), ct);
                }
                catch (JsonException e)
                {
                    // Do not include the body (it may hold config); the path/line is enough to debug.
                    throw new ConfluentApiException(response.StatusCode, call.Operation, $"unexpected response body ({e.Path}, line {e.LineNumber})", null, RequestIdOf(response, null));
                }
            }

            if (response.StatusCode == HttpStatusCode.NotFound && (call.NotFoundIsNull || call.OnNotFound != null))
            {
                call.OnNotFound?.Invoke();
                return null;
            }

            throw await ToExceptionAsync(response, call, ct);
        }
        finally
        {
            if (!handedOver) response.Dispose();
        }
    }

    private async Task<ConfluentApiException> ToExceptionAsync(HttpResponseMessage response, Call call, CancellationToken ct)
    {
        string text;
        try
        {
            text = await response.Content.ReadAsStringAsync(ct);
            if (text.Length > MaxErrorBodyChars) text = text[..MaxErrorBodyChars];
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            text = "";
        }
        var (message, code, bodyRequestId) = ParseErrorBody(text);
        message = Redactor.Scrub(message, call.Config, call.SecretKeys);
        if (message is { Length: > MaxVendorMessageChars }) message = message[..MaxVendorMessageChars] + "…";
        var retryAfter = response.StatusCode == HttpStatusCode.TooManyRequests ? ConnectClientFactory.RetryAfterOf(response) : null;
        var ex = ConfluentApiException.Create(response.StatusCode, call.Operation, message, code, RequestIdOf(response, bodyRequestId), retryAfter);
        _logger.ConnectFailed(call.Operation, call.Connector, call.Cluster, (int)response.StatusCode, code, message, ex.RequestId);
        return ex;
    }

    private static bool IsBlank(ReadOnlySpan<byte> body)
    {
        foreach (var b in body)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return false;
        return true;
    }

    private static string? RequestIdOf(HttpResponseMessage r, string? fromBody) =>
        r.Headers.TryGetValues("X-Request-Id", out var v) ? v.FirstOrDefault() : fromBody;

    /// <summary>
    /// Parses the vendor error shapes: <c>{"error":{"code":N,"message":"…"}}</c>, Kafka Connect's
    /// <c>{"error_code":N,"message":"…"}</c>, the spec's <c>{"code":N,"message":"…"}</c> and Confluent's
    /// <c>{"errors":[{"status":"…","detail":"…","id":"…"}]}</c>. Non-JSON bodies give a short scrubbed excerpt.
    /// </summary>
    internal static (string? Message, int? Code, string? RequestId) ParseErrorBody(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return (null, null, null);
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (Excerpt(text), null, null);
            string? requestId = Str(root, "request_id");
            if (root.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.Object)
                return (Str(err, "message"), Int(err, "code"), Str(err, "request_id") ?? requestId);
            if (root.TryGetProperty("error_code", out _))
                return (Str(root, "message"), Int(root, "error_code"), requestId);
            if (root.TryGetProperty("errors", out var errs) && errs.ValueKind == JsonValueKind.Array && errs.GetArrayLength() > 0)
            {
                var first = errs[0];
                return (Str(first, "detail") ?? Str(first, "title"), Int(first, "status") ?? Int(first, "code"), Str(first, "id") ?? requestId);
            }
            if (root.TryGetProperty("message", out _) || root.TryGetProperty("code", out _))
                return (Str(root, "message"), Int(root, "code"), requestId);
            return (null, null, requestId);
        }
        catch (JsonException)
        {
            return (Excerpt(text), null, null);
        }
    }

    private static string Excerpt(string text) => text.Length > 200 ? text[..200] + "…" : text;

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => v.GetRawText(),
        } : null;

    private static int? Int(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i;
        if (v.ValueKind == JsonValueKind.String && int.TryParse(v.GetString(), out i)) return i;
        return null;
    }
}
