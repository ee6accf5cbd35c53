using System.Text.Json.Nodes;

namespace ConnectOperator.Emulator;

/// <summary>One emulated connector. Config is stored as sent (secrets in clear); reads mask it.</summary>
public sealed class EmulatedConnector
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string EnvironmentId { get; init; }
    public required string ClusterId { get; init; }
    public Dictionary<string, string> Config { get; set; } = new();
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>When PROVISIONING ends.</summary>
    public DateTimeOffset ReadyAt { get; set; }

    /// <summary>The emulator's clock (virtual in tests that move it).</summary>
    internal Func<DateTimeOffset> Clock { get; init; } = () => DateTimeOffset.UtcNow;

    // Pause and resume are asynchronous (202, the state changes later): the connector is paused as before until
    // PauseTargetAt, and as targeted from then on.
    private bool _pausedBefore;
    private bool _pauseTarget;
    private DateTimeOffset _pauseTargetAt = DateTimeOffset.MinValue;

    /// <summary>Paused now. Setting it takes effect at once (an out-of-band change, or a test's arrangement).</summary>
    public bool Paused
    {
        get => PausedAt(Clock());
        set { _pausedBefore = _pauseTarget = value; _pauseTargetAt = DateTimeOffset.MinValue; }
    }

    public bool PausedAt(DateTimeOffset now) => now >= _pauseTargetAt ? _pauseTarget : _pausedBefore;

    /// <summary>
    /// A pause (<paramref name="pause"/>) or resume accepted at <paramref name="now"/>. While provisioning it takes effect
    /// when provisioning ends, or is ignored (the reference: a connector created "paused" is not paused until a later
    /// pause call); otherwise after <paramref name="delay"/>.
    /// </summary>
    internal void RequestPause(bool pause, DateTimeOffset now, TimeSpan delay, bool ignoreWhileProvisioning)
    {
        if (now < ReadyAt)
        {
            if (ignoreWhileProvisioning) return;
            _pausedBefore = PausedAt(now);
            _pauseTarget = pause;
            _pauseTargetAt = ReadyAt;
            return;
        }
        _pausedBefore = PausedAt(now);
        _pauseTarget = pause;
        _pauseTargetAt = now + delay;
    }
    /// <summary>Connector-level failure trace (FAILED) until a restart.</summary>
    public string? FailureTrace { get; set; }
    /// <summary>Task id → (state, trace) of failed tasks until restarted.</summary>
    public Dictionary<int, (string State, string Trace)> TaskFailures { get; } = new();
    public int RestartCount { get; set; }
    /// <summary>The query string of the last restart call, if it had one (Confluent documents none).</summary>
    public string? LastRestartQuery { get; set; }
    /// <summary>Tasks listed STOPPED while the connector is RUNNING (recorded).</summary>
    public HashSet<int> StoppedTasks { get; } = new();
    /// <summary>Items of <c>errors_from_trace</c> (as <c>{"error": …}</c>), <c>validation_errors</c> and <c>override_message</c>.</summary>
    public List<string> ErrorsFromTrace { get; } = new();
    public List<string> ValidationErrors { get; } = new();
    public string? OverrideMessage { get; set; }
    public Dictionary<int, int> TaskRestartCounts { get; } = new();
    public int PauseCount { get; set; }
    public int ResumeCount { get; set; }
    public int ConfigUpdateCount { get; set; }
    public JsonArray Offsets { get; set; } = new();
    public JsonObject? LastAlterRequest { get; set; }
    public JsonArray? PreviousOffsets { get; set; }
    public DateTimeOffset? AlterAppliedAt { get; set; }
    /// <summary>The offsets of the last alter request until it settles (at <see cref="AlterSettlesAt"/>).</summary>
    public JsonArray? PendingOffsets { get; set; }
    public DateTimeOffset? AlterSettlesAt { get; set; }
    /// <summary>Why the last alter request failed (then its phase is FAILED and the offsets are unchanged).</summary>
    public string? AlterFailure { get; set; }
    /// <summary>Set by a test or the admin endpoint: the next alter request fails with this message.</summary>
    public string? FailNextOffsetsRequest { get; set; }

    /// <summary>Applies a due alter request: as recorded, PENDING first, then APPLIED (or FAILED) some time later.</summary>
    internal void SettleOffsets(DateTimeOffset now)
    {
        if (PendingOffsets is null || AlterSettlesAt is not { } at || now < at) return;
        if (AlterFailure is null)
        {
            PreviousOffsets = (JsonArray)Offsets.DeepClone();
            var type = (string?)LastAlterRequest?["type"];
            Offsets = type == "DELETE" ? new JsonArray() : Merge(Offsets, PendingOffsets);
            AlterAppliedAt = at;
        }
        PendingOffsets = null;
    }

    /// <summary>PATCH moves only the partitions it names; the others keep their offsets.</summary>
    private static JsonArray Merge(JsonArray current, JsonArray patch)
    {
        var result = (JsonArray)current.DeepClone();
        foreach (var p in patch)
        {
            var existing = result.FirstOrDefault(e => JsonNode.DeepEquals(e?["partition"], p?["partition"]));
            if (existing != null) result.Remove(existing);
            result.Add(p?.DeepClone());
        }
        return result;
    }

    public string? ConnectorClass => Config.TryGetValue("connector.class", out var c) ? c : null;
    /// <summary>A custom connector (recorded: <c>confluent.connector.type: CUSTOM</c>, ids <c>clcc-…</c>).</summary>
    public bool IsCustom => Config.TryGetValue("confluent.connector.type", out var t) && string.Equals(t, "CUSTOM", StringComparison.OrdinalIgnoreCase);
    public string Type => ConnectorCatalog.TypeOf(ConnectorClass);
    public int TaskCount => Config.TryGetValue("tasks.max", out var t) && int.TryParse(t, out var n) && n > 0 ? n : 1;

    /// <summary>Connector state at <paramref name="now"/>.</summary>
    public string StateAt(DateTimeOffset now)
    {
        if (now < ReadyAt) return "PROVISIONING";
        if (PausedAt(now)) return "PAUSED";
        if (FailureTrace != null) return "FAILED";
        if (TaskFailures.Count >= TaskCount) return "FAILED";
        if (TaskFailures.Count > 0) return "DEGRADED";
        return "RUNNING";
    }
}

/// <summary>One request as seen by the emulator (admin endpoints excluded).</summary>
public sealed record CallRecord(long Seq, DateTimeOffset ReceivedAt, string Method, string Route, string? ApiKey)
{
    /// <summary>The connector the route names (<c>{connector_name}</c>), if any.</summary>
    public string? Connector { get; init; }
    public DateTimeOffset? RespondedAt { get; set; }
    public int Status { get; set; }
    /// <summary>Retry-After (seconds) sent with a 429.</summary>
    public int? RetryAfterSeconds { get; set; }
}

public sealed class ErrorFault
{
    public int Status { get; set; } = 500;
    public int Count { get; set; } = 1;
    /// <summary><c>nested</c> → <c>{"error":{"code","message"}}</c>; <c>flat</c> → <c>{"error_code","message"}</c>.</summary>
    public string Shape { get; set; } = "nested";
    public string? Message { get; set; }
    /// <summary>Append the raw request body to the message (simulates a vendor that echoes config values).</summary>
    public bool EchoRequestBody { get; set; }
    /// <summary>Only requests whose route template contains this.</summary>
    public string? Route { get; set; }
    public string? Method { get; set; }

    internal bool Matches(string method, string route) =>
        (Route == null || route.Contains(Route, StringComparison.Ordinal)) &&
        (Method == null || string.Equals(Method, method, StringComparison.OrdinalIgnoreCase));
}

public sealed class RateLimitFault
{
    /// <summary>429 for the next N requests (null: not count-limited).</summary>
    public int? Count { get; set; }
    /// <summary>429 for this many seconds from injection (null: not time-limited).</summary>
    public double? Seconds { get; set; }
    public int RetryAfterSeconds { get; set; } = 1;
    internal DateTimeOffset? Until { get; set; }
}

public sealed class LatencyFault
{
    public int Milliseconds { get; set; }
    /// <summary>Only the next N requests (null: all).</summary>
    public int? Count { get; set; }
    public string? Route { get; set; }
}

/// <summary>
/// The emulator's in-memory state: connectors keyed by (environment, cluster, name), injected faults and the call
/// log. Tests reach it with <c>app.Services.GetRequiredService&lt;EmulatorState&gt;()</c>. Thread-safe (one lock).
/// </summary>
public sealed class EmulatorState
{
    private readonly object _lock = new();
    private readonly Dictionary<(string Env, string Cluster, string Name), EmulatedConnector> _connectors = new();
    private readonly List<CallRecord> _calls = new();
    private readonly Dictionary<string, long> _callCounts = new(StringComparer.Ordinal);
    private readonly List<ErrorFault> _errorFaults = new();
    private RateLimitFault? _rateLimit;
    private LatencyFault? _latency;
    private double _errorRate;
    private int _errorRateStatus = 500;
    private long _seq;
    private Random _random;

    public EmulatorState(EmulatorOptions options)
    {
        Options = options;
        ProvisioningDelay = options.ProvisioningDelay;
        PauseResumeDelay = options.PauseResumeDelay;
        IgnorePauseWhileProvisioning = options.IgnorePauseWhileProvisioning;
        EmptyWriteBodies = options.EmptyWriteBodies;
        _random = new Random(options.RandomSeed);
        // Names nobody can predict, different on every run: a drift check that depends on names fails against them.
        var run = Guid.NewGuid().ToString("N");
        UnpredictableKeyPrefix = $"x{run[..6]}.";
    }

    /// <summary>How long an accepted pause or resume of a provisioned connector takes to show in its state.</summary>
    public TimeSpan PauseResumeDelay { get; set; }

    /// <summary>A pause sent while PROVISIONING is ignored (true) or applied when provisioning ends (false).</summary>
    public bool IgnorePauseWhileProvisioning { get; set; }

    /// <summary>Writes (create, PUT config, pause, resume, restart, delete) answer 2xx with an empty body.</summary>
    public bool EmptyWriteBodies { get; set; }

    /// <summary>Per-run random prefix of the server keys <see cref="EmulatorOptions.UnpredictableServerKeys"/> adds.</summary>
    public string UnpredictableKeyPrefix { get; }

    private long _reads;

    /// <summary>Counts config reads, so one unpredictable key can change its name on every read.</summary>
    internal long NextRead() => Interlocked.Increment(ref _reads);

    public EmulatorOptions Options { get; }
    public TimeProvider Time { get; set; } = TimeProvider.System;
    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>Provisioning delay applied to connectors created from now on.</summary>
    public TimeSpan ProvisioningDelay { get; set; }

    /// <summary>How long an offsets alter request stays PENDING before it is APPLIED or FAILED.</summary>
    public TimeSpan OffsetsApplyDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    internal object Lock => _lock;

    // ------------------------------------------------------------------ connectors

    public IReadOnlyList<EmulatedConnector> Connectors { get { lock (_lock) return _connectors.Values.ToList(); } }

    public EmulatedConnector? Find(string env, string cluster, string name)
    {
        lock (_lock) return _connectors.GetValueOrDefault((env, cluster, name));
    }

    internal IEnumerable<EmulatedConnector> InCluster(string env, string cluster) =>
        _connectors.Values.Where(c => c.EnvironmentId == env && c.ClusterId == cluster).OrderBy(c => c.Name, StringComparer.Ordinal);

    /// <summary>Creates or replaces the config of a connector (no validation). New connectors start PROVISIONING.</summary>
    public EmulatedConnector Upsert(string env, string cluster, string name, IDictionary<string, string> config, out bool created)
    {
        lock (_lock)
        {
            if (_connectors.TryGetValue((env, cluster, name), out var existing))
            {
                existing.Config = new Dictionary<string, string>(config);
                existing.ConfigUpdateCount++;
                created = false;
                return existing;
            }
            var now = Now;
            var c = new EmulatedConnector
            {
                Id = NewConnectorId(config.TryGetValue("confluent.connector.type", out var type) && string.Equals(type, "CUSTOM", StringComparison.OrdinalIgnoreCase) ? "clcc-" : "lcc-"),
                Clock = () => Now,
                Name = name,
                EnvironmentId = env,
                ClusterId = cluster,
                Config = new Dictionary<string, string>(config),
                CreatedAt = now,
                ReadyAt = now + ProvisioningDelay,
            };
            _connectors[(env, cluster, name)] = c;
            created = true;
            return c;
        }
    }

    public bool Remove(string env, string cluster, string name)
    {
        lock (_lock) return _connectors.Remove((env, cluster, name));
    }

    /// <summary>Marks the connector FAILED with a trace (cleared by a restart).</summary>
    public bool FailConnector(string env, string cluster, string name, string trace = "org.apache.kafka.connect.errors.ConnectException: injected failure")
    {
        lock (_lock)
        {
            if (!_connectors.TryGetValue((env, cluster, name), out var c)) return false;
            c.ReadyAt = c.ReadyAt > Now ? Now : c.ReadyAt;
            c.FailureTrace = trace;
            return true;
        }
    }

    /// <summary>Fails one task (cleared by a task restart or a restart with includeTasks).</summary>
    public bool FailTask(string env, string cluster, string name, int taskId, string trace = "org.apache.kafka.connect.errors.ConnectException: injected task failure", string state = "FAILED")
    {
        lock (_lock)
        {
            if (!_connectors.TryGetValue((env, cluster, name), out var c) || taskId < 0 || taskId >= c.TaskCount) return false;
            c.ReadyAt = c.ReadyAt > Now ? Now : c.ReadyAt;
            c.TaskFailures[taskId] = (state, trace);
            return true;
        }
    }

    private string NewConnectorId(string prefix)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        while (true)
        {
            var id = prefix + new string(Enumerable.Range(0, 5).Select(_ => alphabet[_random.Next(alphabet.Length)]).ToArray());
            if (_connectors.Values.All(c => c.Id != id)) return id;
        }
    }

    // ------------------------------------------------------------------ faults

    /// <summary>The next <see cref="ErrorFault.Count"/> matching requests fail with the given status/body shape.</summary>
    public void InjectErrors(ErrorFault fault) { lock (_lock) _errorFaults.Add(fault); }

    /// <summary>A random fraction (0..1) of requests fails with <paramref name="status"/>.</summary>
    public void SetErrorRate(double rate, int status = 500) { lock (_lock) { _errorRate = rate; _errorRateStatus = status; } }

    /// <summary>A 429 storm with Retry-After, for the next N requests and/or T seconds.</summary>
    public void InjectRateLimit(RateLimitFault fault)
    {
        lock (_lock)
        {
            if (fault.Seconds is { } s) fault.Until = Now + TimeSpan.FromSeconds(s);
            if (fault.Count == null && fault.Seconds == null) fault.Count = 1;
            _rateLimit = fault;
        }
    }

    /// <summary>Adds latency before handling requests.</summary>
    public void SetLatency(LatencyFault? fault) { lock (_lock) _latency = fault; }

    public void ClearFaults()
    {
        lock (_lock)
        {
            _errorFaults.Clear();
            _rateLimit = null;
            _latency = null;
            _errorRate = 0;
        }
    }

    /// <summary>Clears connectors, faults and call records; restores the start-up provisioning delay.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            ClearFaults();
            _connectors.Clear();
            _calls.Clear();
            _callCounts.Clear();
            ProvisioningDelay = Options.ProvisioningDelay;
            PauseResumeDelay = Options.PauseResumeDelay;
            IgnorePauseWhileProvisioning = Options.IgnorePauseWhileProvisioning;
            EmptyWriteBodies = Options.EmptyWriteBodies;
            _random = new Random(Options.RandomSeed);
        }
    }

    internal TimeSpan? TakeLatency(string route)
    {
        lock (_lock)
        {
            if (_latency is not { } l || (l.Route != null && !route.Contains(l.Route, StringComparison.Ordinal))) return null;
            if (l.Count is { } n)
            {
                if (n <= 0) { _latency = null; return null; }
                l.Count = n - 1;
            }
            return TimeSpan.FromMilliseconds(l.Milliseconds);
        }
    }

    internal int? TakeRateLimit()
    {
        lock (_lock)
        {
            if (_rateLimit is not { } r) return null;
            var byTime = r.Until is { } until && Now < until;
            var byCount = r.Count is > 0;
            if (!byTime && !byCount) { _rateLimit = null; return null; }
            if (byCount) r.Count--;
            return r.RetryAfterSeconds;
        }
    }

    internal ErrorFault? TakeError(string method, string route)
    {
        lock (_lock)
        {
            var f = _errorFaults.FirstOrDefault(e => e.Count > 0 && e.Matches(method, route));
            if (f != null)
            {
                f.Count--;
                if (f.Count <= 0) _errorFaults.Remove(f);
                return f;
            }
            if (_errorRate > 0 && _random.NextDouble() < _errorRate)
                return new ErrorFault { Status = _errorRateStatus, Message = "Oops, something went wrong" };
            return null;
        }
    }

    // ------------------------------------------------------------------ calls

    /// <summary>
    /// Raised for each recorded call as it arrives, before it is served (on the request's thread, outside the state's
    /// lock): a benchmark times a change from its write to the call it causes without reading <see cref="Calls"/> in a loop.
    /// </summary>
    public event Action<CallRecord>? CallReceived;

    internal CallRecord BeginCall(string method, string route, string? apiKey, string? connector = null)
    {
        CallRecord r;
        lock (_lock)
        {
            r = new CallRecord(++_seq, Now, method, route, apiKey) { Connector = connector };
            _calls.Add(r);
            if (_calls.Count > Options.MaxRecordedCalls) _calls.RemoveRange(0, _calls.Count - Options.MaxRecordedCalls);
        }
        CallReceived?.Invoke(r);
        return r;
    }

    internal void EndCall(CallRecord r, int status, int? retryAfter)
    {
        lock (_lock)
        {
            r.Status = status;
            r.RetryAfterSeconds = retryAfter;
            r.RespondedAt = Now;
            var key = $"{r.Method} {r.Route} {status}";
            _callCounts[key] = _callCounts.GetValueOrDefault(key) + 1;
        }
    }

    /// <summary>Recorded calls, oldest first (admin endpoints are not recorded).</summary>
    public IReadOnlyList<CallRecord> Calls { get { lock (_lock) return _calls.ToList(); } }

    /// <summary>Counts by <c>"METHOD route status"</c>, route being the template relative to the cluster, e.g. <c>GET connectors/{connector_name}/config 200</c>.</summary>
    public IReadOnlyDictionary<string, long> CallCounts { get { lock (_lock) return new SortedDictionary<string, long>(_callCounts, StringComparer.Ordinal); } }

    /// <summary>Number of recorded calls matching method / route template (exact, relative) / status; nulls match anything.</summary>
    public int CountCalls(string? method = null, string? route = null, int? status = null)
    {
        lock (_lock)
            return _calls.Count(c => (method == null || string.Equals(c.Method, method, StringComparison.OrdinalIgnoreCase))
                                     && (route == null || c.Route == route) && (status == null || c.Status == status));
    }
}
