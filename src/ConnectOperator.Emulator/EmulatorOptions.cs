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
