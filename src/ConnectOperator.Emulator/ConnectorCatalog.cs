namespace ConnectOperator.Emulator;

/// <summary>A connector plugin the emulator knows: required keys and PASSWORD-type keys.</summary>
public sealed record PluginDefinition(string Class, string Type, string Version, IReadOnlyList<string> Required, IReadOnlyList<string> PasswordKeys);

/// <summary>
/// The plugins the emulator validates. Unknown classes are accepted with only the generic checks (name,
/// connector.class, Kafka auth, tasks.max) — the real service would reject them, but that keeps the emulator
/// useful for classes it does not model.
/// </summary>
public static class ConnectorCatalog
{
    public const string Masked = "****************";

    public static readonly IReadOnlyDictionary<string, PluginDefinition> Plugins = new[]
    {
        new PluginDefinition("PostgresCdcSource", "source", "0.1.0",
            ["database.hostname", "database.port", "database.user", "database.password", "database.dbname", "database.server.name", "output.data.format"],
            ["database.password"]),
        new PluginDefinition("MySqlCdcSource", "source", "0.1.0",
            ["database.hostname", "database.port", "database.user", "database.password", "database.server.name", "output.data.format"],
            ["database.password"]),
        new PluginDefinition("S3_SINK", "sink", "0.1.0",
            ["topics", "aws.access.key.id", "aws.secret.access.key", "s3.bucket.name", "input.data.format", "output.data.format", "time.interval"],
            ["aws.access.key.id", "aws.secret.access.key"]),
        new PluginDefinition("HttpSink", "sink", "0.1.0",
            ["topics", "http.api.url", "input.data.format"],
            ["connection.password", "auth.password", "bearer.token", "oauth2.client.secret"]),
        new PluginDefinition("DatagenSource", "source", "0.1.0",
            ["kafka.topic", "output.data.format", "quickstart"],
            []),
    }.ToDictionary(p => p.Class, StringComparer.Ordinal);

    /// <summary>Kafka auth keys that are PASSWORD type for every connector.</summary>
    public static readonly IReadOnlyList<string> GenericPasswordKeys = ["kafka.api.key", "kafka.api.secret"];

    private static readonly string[] PasswordPatterns = ["password", "secret", "credentials", "token"];

    /// <summary>PASSWORD-type (masked on read): the class's known password keys, the Kafka keys, and a key pattern.</summary>
    public static bool IsPasswordKey(string? connectorClass, string key)
    {
        if (GenericPasswordKeys.Contains(key)) return true;
        if (connectorClass != null && Plugins.TryGetValue(connectorClass, out var p) && p.PasswordKeys.Contains(key)) return true;
        return PasswordPatterns.Any(s => key.Contains(s, StringComparison.OrdinalIgnoreCase));
    }

    public static string TypeOf(string? connectorClass) =>
        connectorClass != null && Plugins.TryGetValue(connectorClass, out var p) ? p.Type
        : connectorClass != null && connectorClass.Contains("Source", StringComparison.OrdinalIgnoreCase) ? "source" : "sink";

    /// <summary>Validates a config; returns field → errors (empty when valid).</summary>
    public static SortedDictionary<string, List<string>> Validate(IReadOnlyDictionary<string, string> config, string? pluginOverride = null)
    {
        var errors = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string key, string msg)
        {
            if (!errors.TryGetValue(key, out var l)) errors[key] = l = new List<string>();
            l.Add(msg);
        }
        bool Has(string key) => config.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v);
        string Missing(string key) => $"Missing required configuration \"{key}\" which has no default value.";

        if (!Has("name")) Add("name", Missing("name"));
        if (!Has("connector.class")) Add("connector.class", Missing("connector.class"));
        else if (pluginOverride != null && config["connector.class"] != pluginOverride)
            Add("connector.class", $"Connector class \"{config["connector.class"]}\" does not match plugin \"{pluginOverride}\".");

        var mode = config.TryGetValue("kafka.auth.mode", out var m) && !string.IsNullOrWhiteSpace(m) ? m : "KAFKA_API_KEY";
        switch (mode)
        {
            case "SERVICE_ACCOUNT":
                if (!Has("kafka.service.account.id")) Add("kafka.service.account.id", Missing("kafka.service.account.id"));
                else if (!config["kafka.service.account.id"].StartsWith("sa-", StringComparison.Ordinal))
                    Add("kafka.service.account.id", $"Invalid value {config["kafka.service.account.id"]} for configuration kafka.service.account.id: must be a service account id (sa-…).");
                break;
            case "KAFKA_API_KEY":
                if (!Has("kafka.api.key")) Add("kafka.api.key", Missing("kafka.api.key"));
                if (!Has("kafka.api.secret")) Add("kafka.api.secret", Missing("kafka.api.secret"));
                break;
            default:
                Add("kafka.auth.mode", $"Invalid value {mode} for configuration kafka.auth.mode: must be one of SERVICE_ACCOUNT, KAFKA_API_KEY.");
                break;
        }

        if (config.TryGetValue("tasks.max", out var tm) && (!int.TryParse(tm, out var n) || n < 1))
            Add("tasks.max", $"Invalid value {tm} for configuration tasks.max: must be an integer >= 1.");

        var cls = pluginOverride ?? (config.TryGetValue("connector.class", out var c) ? c : null);
        if (cls != null && Plugins.TryGetValue(cls, out var plugin))
            foreach (var key in plugin.Required)
                if (!Has(key) && !(key == "topics" && Has("topics.regex"))) Add(key, Missing(key));

        return errors;
    }

    /// <summary>Kafka Connect's message for an invalid config.</summary>
    public static string InvalidConfigMessage(SortedDictionary<string, List<string>> errors) =>
        $"Connector configuration is invalid and contains the following {errors.Sum(e => e.Value.Count)} error(s):\n" +
        string.Join("\n", errors.SelectMany(e => e.Value.Select(v => $"{e.Key}: {v}"))) +
        "\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`";
}
