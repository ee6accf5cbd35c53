using ConnectOperator.Runtime.Leadership;

namespace ConnectOperator.Hosting;

/// <summary>
/// Settings of the operator process, bound from the <c>Operator</c> section of appsettings.json and the environment
/// (<c>Operator__PollInterval=00:00:30</c>). The Helm chart sets them through environment variables.
/// </summary>
public sealed class OperatorOptions
{
    public const string Section = "Operator";

    /// <summary>The operator's own namespace: credentials Secrets, the leader Lease and the webhook certificate live here.</summary>
    public string Namespace { get; set; } = "connect-operator-system";

    /// <summary>How often each cluster's connectors are listed (one call per cluster and credential), jittered ±10 %.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Concurrent ManagedConnector reconciles.</summary>
    public int Workers { get; set; } = 4;

    /// <summary>Confluent Cloud API root; the emulator's URL in demos and tests.</summary>
    public string ConfluentBaseUrl { get; set; } = Confluent.ConnectClientOptions.DefaultBaseUrl;

    /// <summary>Informer resync: every cached object is reconciled again this often, as a safety net.</summary>
    public TimeSpan ResyncPeriod { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Time unit of the auto-restart backoff min(n²+n, 60) (Strimzi uses minutes; tests shrink it).</summary>
    public TimeSpan AutoRestartBackoffUnit { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A connector running this long without failure gets its auto-restart count reset.</summary>
    public TimeSpan AutoRestartResetAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Port of /metrics, /healthz and /readyz (plain HTTP).</summary>
    public int MetricsPort { get; set; } = 8080;

    /// <summary>Port of the admission webhooks (HTTPS); 0 disables the webhook server.</summary>
    public int WebhookPort { get; set; } = 9443;

    /// <summary>Address the servers bind to.</summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    public LeaderElectionOptions LeaderElection { get; set; } = new();
}
