namespace ConnectOperator.Webhooks;

/// <summary>
/// Settings of the admission webhooks, bound from the <c>Webhook</c> section (the chart sets <c>Webhook__CertMode</c>,
/// <c>Webhook__SecretName</c>, <c>Webhook__ConfigurationName</c>, <c>Webhook__ServiceName</c>). The port is
/// <see cref="Hosting.OperatorOptions.WebhookPort"/>.
/// </summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhook";
    public const string CertManagerMode = "cert-manager";
    public const string SelfManagedMode = "self-managed";

    /// <summary><c>cert-manager</c> (load the TLS Secret cert-manager writes) or <c>self-managed</c> (the operator keeps its own CA and serving certificate).</summary>
    public string CertMode { get; set; } = SelfManagedMode;

    /// <summary>TLS Secret in the operator's namespace (tls.crt, tls.key, ca.crt; self-managed mode adds ca.key).</summary>
    public string SecretName { get; set; } = "connect-operator-webhook-tls";

    /// <summary>The ValidatingWebhookConfiguration whose caBundle the operator patches (self-managed) or which it manages (<see cref="ManageConfiguration"/>).</summary>
    public string ConfigurationName { get; set; } = "connect-operator";

    /// <summary>Service in front of the webhook port; the serving certificate is issued for <c>&lt;service&gt;.&lt;ns&gt;.svc</c>.</summary>
    public string ServiceName { get; set; } = "connect-operator-webhook";

    /// <summary>Port of the Service (clientConfig.service.port) when the operator writes the configuration itself.</summary>
    public int ServicePort { get; set; } = 443;

    /// <summary>
    /// Dev/test: base URL (https) the API server calls, e.g. <c>https://127.0.0.1:9443</c>. Used for clientConfig.url
    /// when <see cref="ManageConfiguration"/> is on; its host is added to the certificate's SANs.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>Dev/test: the operator creates or updates the ValidatingWebhookConfiguration itself (the chart ships one in production).</summary>
    public bool ManageConfiguration { get; set; }

    /// <summary>Extra namespaceSelector matchLabels for the ManagedConnector webhook when the operator writes the configuration.</summary>
    public Dictionary<string, string> NamespaceSelector { get; set; } = new();

    /// <summary>objectSelector matchLabels for the Department and ConnectorQuota webhooks when the operator writes the configuration.</summary>
    public Dictionary<string, string> ObjectSelector { get; set; } = new();

    /// <summary>failurePolicy of the webhooks the operator writes.</summary>
    public string FailurePolicy { get; set; } = "Fail";

    /// <summary>timeoutSeconds of the webhooks the operator writes.</summary>
    public int TimeoutSeconds { get; set; } = 5;

    /// <summary>Self-managed: lifetime of the serving certificate.</summary>
    public TimeSpan CertificateValidity { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Self-managed: lifetime of the CA.</summary>
    public TimeSpan CaValidity { get; set; } = TimeSpan.FromDays(3650);

    /// <summary>Self-managed: a certificate (or CA) this close to expiry is replaced.</summary>
    public TimeSpan RotateBefore { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the Secret is re-read (another replica or cert-manager may have rotated it) and expiry checked.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Extra DNS names and IP addresses for the serving certificate (self-managed).</summary>
    public List<string> ExtraSans { get; set; } = new();

    /// <summary>An admitted create/increase counts against quota until the informer sees the object, at most this long.</summary>
    public TimeSpan ReservationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public const int DefaultMaxReservationsPerDepartment = 32;
    public const int DefaultMaxReservations = 10_000;

    /// <summary>
    /// Outstanding reservations one caller (address) may hold for one department. Reviews past it are decided but not
    /// reserved (<see cref="ReservationLedger"/>), so forged reviews cannot grow memory or hold a department's quota.
    /// </summary>
    public int MaxReservationsPerDepartment { get; set; } = DefaultMaxReservationsPerDepartment;

    /// <summary>Outstanding reservations over all departments and callers.</summary>
    public int MaxReservations { get; set; } = DefaultMaxReservations;

    /// <summary>Maximum number of ManagedConnectors listed in a Department namespace-removal or deletion denial.</summary>
    public int MaxListed { get; set; } = 10;
}
