using ConnectOperator.Runtime;
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

    /// <summary>
    /// A pause or resume that Confluent accepted (202) but that has not taken effect in a settled state is sent again
    /// after this long. Never while the connector is provisioning: that can take hours, and the request is kept.
    /// </summary>
    public TimeSpan LifecycleRetryAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Port of /metrics, /healthz and /readyz (plain HTTP).</summary>
    public int MetricsPort { get; set; } = 8080;

    /// <summary>Port of the admission webhooks (HTTPS); 0 disables the webhook server.</summary>
    public int WebhookPort { get; set; } = 9443;

    /// <summary>Address the servers bind to.</summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    public LeaderElectionOptions LeaderElection { get; set; } = new();

    /// <summary>How the operator gets to read Secrets in department namespaces (RoleBindings it creates).</summary>
    public SecretAccessOptions SecretAccess { get; set; } = new();

    /// <summary>How far the GC heap may grow past its live size before a full collection is asked for.</summary>
    public HeapGoalOptions HeapGoal { get; set; } = new();

    /// <summary>Connector throughput from the Confluent Metrics API (off by default).</summary>
    public ThroughputOptions Throughput { get; set; } = new();
}

/// <summary>
/// <c>Operator:SecretAccess</c>: the operator may not list Secrets cluster-wide. For each namespace a Department claims
/// it creates a RoleBinding named <see cref="ClusterRole"/> binding that ClusterRole (the chart's secrets reader) to
/// <see cref="ServiceAccount"/> in the operator's namespace. Empty (the default outside the chart): no RoleBindings are
/// managed, and the operator reads what its credentials already allow.
/// </summary>
public sealed class SecretAccessOptions
{
    public string ClusterRole { get; set; } = "";
    public string ServiceAccount { get; set; } = "";
}

/// <summary>
/// <c>Operator:Throughput</c>: the leader queries the Confluent Metrics API v2 for each connector's records in the last
/// complete minute (sent, received, dead-letter queue) and exports them as gauges. Never more often than once a minute.
/// </summary>
public sealed class ThroughputOptions
{
    /// <summary>The Metrics API allows 60 requests per minute and has one-minute buckets: never query more often.</summary>
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(60);

    public bool Enabled { get; set; }

    /// <summary>Metrics API root (the emulator's URL in demos and tests).</summary>
    public string BaseUrl { get; set; } = Confluent.Metrics.MetricsClientOptions.DefaultBaseUrl;

    /// <summary>How often each credential's connectors are queried (3 requests: one per metric); at least 60 s.</summary>
    public TimeSpan Interval { get; set; } = MinimumInterval;

    /// <summary>Tests only: lets <see cref="Interval"/> go below 60 s (down to 1 s). Never set it in production.</summary>
    public bool AllowShortIntervalForTests { get; set; }

    /// <summary>Budget of Metrics API requests per minute for the whole operator (all credentials), 1–60; the
    /// client also limits each API key to 60 a minute. Credentials beyond the budget are queried in later batches.</summary>
    public int MaxRequestsPerMinute { get; set; } = 50;

    /// <summary>The interval actually used: <see cref="Interval"/>, raised to 60 s unless short intervals are allowed for tests.</summary>
    public TimeSpan EffectiveInterval
    {
        get
        {
            var min = AllowShortIntervalForTests ? TimeSpan.FromSeconds(1) : MinimumInterval;
            return Interval < min ? min : Interval;
        }
    }

    /// <summary><see cref="MaxRequestsPerMinute"/> clamped to 1–60.</summary>
    public int EffectiveRequestsPerMinute => Math.Clamp(MaxRequestsPerMinute, 1, 60);
}
