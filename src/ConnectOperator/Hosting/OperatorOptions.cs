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

    /// <summary>Confluent Cloud API root; the emulator's URL in demos and tests. Must be https (<see cref="AllowInsecureConfluentUrl"/>).</summary>
    public string ConfluentBaseUrl { get; set; } = Confluent.ConnectClientOptions.DefaultBaseUrl;

    /// <summary>
    /// Tests and demos only: lets <see cref="ConfluentBaseUrl"/> and the Metrics API URL be plain http (the emulator).
    /// Every department's Cloud API key travels in each request's Authorization header, so it never goes unencrypted
    /// unless someone turned this on.
    /// </summary>
    public bool AllowInsecureConfluentUrl { get; set; }

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

    /// <summary>
    /// Client-side limit on API-server requests (watches exempt): <c>Operator:KubeApiRateLimit:Qps</c> / <c>:Burst</c>,
    /// 500 / 1,000 by default, 0 to leave it to the server's API Priority and Fairness (docs/runtime.md says why).
    /// </summary>
    public Runtime.Rate.ApiServerRateLimit KubeApiRateLimit { get; set; } = new();

    /// <summary>Port of /metrics, /healthz and /readyz (plain HTTP).</summary>
    public int MetricsPort { get; set; } = 8080;

    /// <summary>Port of the admission webhooks (HTTPS); 0 disables the webhook server.</summary>
    public int WebhookPort { get; set; } = 9443;

    /// <summary>
    /// Addresses the servers listen on: <c>*</c> (the default) is every address, IPv6 and IPv4 (one dual-stack
    /// socket on <c>[::]</c>; <c>0.0.0.0</c> where the kernel has no IPv6), so the pod answers on IPv6-only,
    /// IPv4-only and dual-stack clusters alike; otherwise one or more addresses separated by commas.
    /// </summary>
    public string BindAddress { get; set; } = AnyAddress;

    public const string AnyAddress = "*";

    /// <summary>Listens on <see cref="BindAddress"/> at <paramref name="port"/>.</summary>
    public void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, int port,
        Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions>? configure = null)
    {
        configure ??= _ => { };
        foreach (var address in BindAddresses(BindAddress))
        {
            if (address is null) kestrel.ListenAnyIP(port, configure);
            else kestrel.Listen(address, port, configure);
        }
    }

    /// <summary>The addresses of a <see cref="BindAddress"/> value; null is "every address".</summary>
    internal static IReadOnlyList<System.Net.IPAddress?> BindAddresses(string? value)
    {
        var parts = (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // "::" alone would be IPv6-only where the kernel sets bindv6only; "0.0.0.0" alone would miss IPv6-only pods.
        if (parts.Length == 0 || parts.Any(p => p is "*" or "::" or "[::]" or "0.0.0.0")) return [null];
        return parts.Select(p => System.Net.IPAddress.TryParse(p.Trim('[', ']'), out var a) ? a
            : throw new FormatException($"Operator:BindAddress: {p} is not an IP address (use * for every address)")).Cast<System.Net.IPAddress?>().ToList();
    }

    public LeaderElectionOptions LeaderElection { get; set; } = new();

    /// <summary>When /healthz reports the process wedged.</summary>
    public LivenessOptions Liveness { get; set; } = new();

    /// <summary>How the operator gets to read Secrets in department namespaces (RoleBindings it creates).</summary>
    public SecretAccessOptions SecretAccess { get; set; } = new();

    /// <summary>How far the GC heap may grow past its live size before a full collection is asked for.</summary>
    public HeapGoalOptions HeapGoal { get; set; } = new();

    /// <summary>Connector throughput from the Confluent Metrics API (off by default).</summary>
    public ThroughputOptions Throughput { get; set; } = new();

    /// <summary>Why these settings cannot be used, or null. The operator refuses to start with any.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (ConfluentUrlProblem("Operator:ConfluentBaseUrl", ConfluentBaseUrl, AllowInsecureConfluentUrl) is { } p) problems.Add(p);
        if (Throughput.Enabled && ConfluentUrlProblem("Operator:Throughput:BaseUrl", Throughput.BaseUrl, AllowInsecureConfluentUrl) is { } t) problems.Add(t);
        return problems;
    }

    /// <summary>A Confluent URL must be absolute https unless insecure URLs are explicitly allowed (tests, demos).</summary>
    public static string? ConfluentUrlProblem(string setting, string url, bool allowInsecure)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || string.IsNullOrEmpty(uri.Host))
            return $"{setting} {url} is not an absolute https URL such as https://api.confluent.cloud";
        if (uri.Scheme == "https" || allowInsecure) return null;
        return $"{setting} {url} is not https: the operator sends every department's Confluent Cloud API key with each request, so it only talks to Confluent over TLS; " +
               "use https, or for tests and demos against the emulator set Operator:AllowInsecureConfluentUrl=true (Operator__AllowInsecureConfluentUrl)";
    }
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
