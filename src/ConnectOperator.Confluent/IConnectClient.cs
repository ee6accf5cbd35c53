namespace ConnectOperator.Confluent;

/// <summary>
/// Typed client for the Confluent Cloud Connect v1 API, bound to one credential (API key/secret) and one base URL.
/// Obtain instances from <see cref="ConnectClientFactory"/> so that every client using the same API key shares one
/// rate limiter and one circuit breaker.
/// </summary>
/// <remarks>
/// Error model: non-success responses throw <see cref="ConfluentApiException"/> (or a subclass per status);
/// transport failures (timeouts, open circuit, network) throw <see cref="ConfluentTransportException"/>.
/// A 404 from a read or a delete is a normal outcome (null / false).
/// Retries: 429 is retried for every operation (the server did not process the request) after <c>Retry-After</c>;
/// 5xx / timeouts / network errors are retried only for idempotent operations (GET, PUT, DELETE). POST operations
/// (create, restart) are not retried on those, because a POST that timed out may have succeeded: use
/// <see cref="PutConfigAsync"/> (create-or-update, idempotent) as the main write path.
/// </remarks>
public interface IConnectClient
{
    /// <summary>The API key this client authenticates with (never the secret).</summary>
    string ApiKey { get; }

    /// <summary><c>GET …/connectors</c>: names only.</summary>
    Task<IReadOnlyList<string>> ListConnectorNamesAsync(ClusterRef cluster, CancellationToken ct = default);

    /// <summary>
    /// <c>GET …/connectors?expand=id,info,status</c>: every connector of the cluster with id, config and status, in one
    /// call, read one connector at a time from the response stream, for a caller that keeps most connectors from an
    /// earlier list: it must not hold, or turn into objects, 10,000 of them on every poll. The caller disposes the
    /// reader (it owns the response).
    /// </summary>
    Task<ConnectorListReader> OpenConnectorListAsync(ClusterRef cluster, CancellationToken ct = default);

    /// <summary>
    /// <c>POST …/connectors</c>. Not retried on 5xx/timeout (may have succeeded). Duplicate name → <see cref="ConfluentConflictException"/>.
    /// Null when Confluent answered 2xx with an empty body.
    /// </summary>
    /// <param name="secretKeys">Keys whose values are secret whatever their names say: scrubbed, however short, from any vendor message.</param>
    Task<ConnectorInfo?> CreateConnectorAsync(ClusterRef cluster, string name, IReadOnlyDictionary<string, string> config,
        IReadOnlyCollection<string>? secretKeys = null, CancellationToken ct = default);

    /// <summary><c>PUT …/connectors/{name}/config</c>: create or update, idempotent; the preferred write path. Null on an empty 2xx body.</summary>
    Task<ConnectorInfo?> PutConfigAsync(ClusterRef cluster, string name, IReadOnlyDictionary<string, string> config,
        IReadOnlyCollection<string>? secretKeys = null, CancellationToken ct = default);

    /// <summary><c>PUT …/connectors/{name}/pause</c> (asynchronous, 202).</summary>
    Task PauseAsync(ClusterRef cluster, string name, CancellationToken ct = default);

    /// <summary><c>PUT …/connectors/{name}/resume</c> (asynchronous, 202).</summary>
    Task ResumeAsync(ClusterRef cluster, string name, CancellationToken ct = default);

    /// <summary>
    /// <c>POST …/connectors/{name}/restart</c>: "restart the connector and its tasks", asynchronous, 202 with no body. Not in
    /// the OpenAPI spec; the vendor's API reference documents it with no request body and no query parameters, so none
    /// are sent (Kafka Connect's <c>includeTasks</c>/<c>onlyFailed</c> are not Confluent Cloud's).
    /// </summary>
    Task RestartAsync(ClusterRef cluster, string name, CancellationToken ct = default);

    /// <summary><c>POST …/connectors/{name}/tasks/{taskId}/restart</c> (Kafka Connect route; not in the spec).</summary>
    Task RestartTaskAsync(ClusterRef cluster, string name, int taskId, CancellationToken ct = default);

    /// <summary><c>DELETE …/connectors/{name}</c>; false when it did not exist (also after a retried delete that had succeeded).</summary>
    Task<bool> DeleteAsync(ClusterRef cluster, string name, CancellationToken ct = default);

    /// <summary><c>PUT …/connector-plugins/{pluginClass}/config/validate</c>. Invalid config is a normal result (ErrorCount &gt; 0).</summary>
    Task<ConfigValidationResult> ValidateConfigAsync(ClusterRef cluster, string pluginClass, IReadOnlyDictionary<string, string> config, CancellationToken ct = default);

    /// <summary><c>GET …/connectors/{name}/offsets</c> (preview API); null when the connector does not exist.</summary>
    Task<ConnectorOffsets?> GetOffsetsAsync(ClusterRef cluster, string name, CancellationToken ct = default);

    /// <summary>POST …/offsets/request (preview): asks Confluent to PATCH or DELETE the offsets; it applies them asynchronously.</summary>
    Task<AlterOffsetsRequestInfo> RequestOffsetsAsync(ClusterRef cluster, string name, AlterOffsetsRequest request, CancellationToken ct = default);

    /// <summary>GET …/offsets/request/status: the last alter request and its phase; null when there was none (404).</summary>
    Task<AlterOffsetsStatus?> GetOffsetsRequestStatusAsync(ClusterRef cluster, string name, CancellationToken ct = default);
}
