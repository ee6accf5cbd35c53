namespace ConnectOperator.Emulator;

/// <summary>Start-up options of the emulator. Bound from configuration section <c>Emulator</c> (env: <c>Emulator__Keys__0__Key</c>, command line: <c>--Emulator:Keys:0:Key=…</c>).</summary>
public sealed class EmulatorOptions
{
    /// <summary>API keys accepted (HTTP Basic). No keys → every Connect call gets 401.</summary>
    public List<EmulatorApiKey> Keys { get; set; } = new();

    /// <summary>Enables the <c>/emulator/…</c> admin endpoints (fault injection, state, calls). Off by default.</summary>
    public bool EnableAdmin { get; set; }

    /// <summary>How long a new connector stays PROVISIONING before it is RUNNING.</summary>
    public TimeSpan ProvisioningDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How long an accepted pause or resume of a provisioned connector takes to show in its state (they are asynchronous,
    /// 202, in the spec and in Kafka Connect). Default 1 s, so a client that re-sends until it sees the state is caught.
    /// </summary>
    public TimeSpan PauseResumeDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A pause sent while the connector is PROVISIONING is accepted (202) and then ignored (true), or applied when
    /// provisioning ends (false, the default). The reference records both.
    /// </summary>
    public bool IgnorePauseWhileProvisioning { get; set; }

    /// <summary>
    /// Adds server keys whose names nobody can predict to every config read: two with a per-run random prefix, and one
    /// whose name changes on every read. Confluent's set of added keys is open-ended; tests use this to prove that drift
    /// detection does not depend on key names.
    /// </summary>
    public bool UnpredictableServerKeys { get; set; }

    /// <summary>Writes answer 2xx with an empty body (create 201, PUT config 200, delete 204), which clients must accept.</summary>
    public bool EmptyWriteBodies { get; set; }

    /// <summary>Listen URLs (e.g. <c>http://127.0.0.1:0</c>); null → ASP.NET Core defaults / <c>--urls</c>.</summary>
    public string? Urls { get; set; }

    public string CloudEnvironment { get; set; } = "prod";
    public string CloudProvider { get; set; } = "aws";
    public string KafkaRegion { get; set; } = "us-west-2";
    public string KafkaEndpoint { get; set; } = "SASL_SSL://pkc-emu01.us-west-2.aws.confluent.cloud:9092";
    public string OrganizationId { get; set; } = "00000000-0000-0000-0000-000000000000";

    /// <summary>How many call records are kept (counts are kept for all calls).</summary>
    public int MaxRecordedCalls { get; set; } = 10_000;

    /// <summary>Seed for the random 5xx rate fault.</summary>
    public int RandomSeed { get; set; } = 42;
}

/// <summary>An API key accepted by the emulator, optionally scoped to environments / clusters (empty = all).</summary>
public sealed class EmulatorApiKey
{
    public string Key { get; set; } = "";
    public string Secret { get; set; } = "";
    public List<string> Environments { get; set; } = new();
    public List<string> Clusters { get; set; } = new();

    public EmulatorApiKey() { }
    public EmulatorApiKey(string key, string secret, IEnumerable<string>? environments = null, IEnumerable<string>? clusters = null)
    {
        Key = key;
        Secret = secret;
        Environments = environments?.ToList() ?? new();
        Clusters = clusters?.ToList() ?? new();
    }

    public bool Allows(string? environment, string? cluster) =>
        (Environments.Count == 0 || environment == null || Environments.Contains(environment)) &&
        (Clusters.Count == 0 || cluster == null || Clusters.Contains(cluster));
}
