using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ConnectOperator.Runtime;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConnectOperator.Webhooks;

/// <summary>The serving certificate Kestrel presents right now; swapped in place on rotation, so no restart is needed.</summary>
public sealed class CertificateSlot
{
    private volatile X509Certificate2? _current;
    private volatile string? _caBundle;

    public X509Certificate2? Current => _current;

    /// <summary>PEM of the CA (bundle) clients must trust; null when unknown (cert-manager Secret without ca.crt).</summary>
    public string? CaBundle => _caBundle;

    internal string? CertPem { get; private set; }

    internal void Set(TlsMaterial material)
    {
        if (material.CertPem != CertPem)
        {
            _current = material.LoadCertificate();
            CertPem = material.CertPem;
        }
        _caBundle = material.CaPem;
    }
}

/// <summary>
/// Keeps the webhook's TLS material current. <c>cert-manager</c> mode loads the Secret cert-manager writes (and
/// reloads it when cert-manager renews it). <c>self-managed</c> mode creates a CA and a serving certificate in the
/// Secret when it is absent (create-if-absent: a replica that loses the race gets 409 and reads the winner's), reuses
/// them otherwise, re-issues the certificate before expiry (update with resourceVersion, 409 → re-read), and patches
/// caBundle into every webhook of the ValidatingWebhookConfiguration. With <see cref="WebhookOptions.ManageConfiguration"/>
/// it writes that configuration itself (dev/test).
/// </summary>
public sealed class WebhookCertificateManager : BackgroundService
{
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";

    private static readonly string[] LoopbackNames = ["localhost", "127.0.0.1"];

    private readonly KubeApiClient _api;
    private readonly WebhookOptions _o;
    private readonly string _ns;
    private readonly CertificateSlot _slot;
    private readonly TimeProvider _time;
    private readonly ILogger _log;

    public WebhookCertificateManager(KubeApiClient api, WebhookOptions options, string operatorNamespace, CertificateSlot slot, TimeProvider time, ILogger log)
    {
        _api = api;
        _o = options;
        _ns = operatorNamespace;
        _slot = slot;
        _time = time;
        _log = log;
    }

    public CertificateSlot Slot => _slot;

    private bool SelfManaged => !string.Equals(_o.CertMode, WebhookOptions.CertManagerMode, StringComparison.OrdinalIgnoreCase);

    /// <summary>The first pass runs before Kestrel starts, so the first handshake already has a certificate.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await EnsureAsync(cts.Token).ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OperationCanceledException && attempt < 5)
            {
                _log.CertificateAttemptFailed(e, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                _log.CertificateNotReady(e);
                break;
            }
        }
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var delay = _slot.Current is null ? TimeSpan.FromSeconds(Math.Min(5, _o.CheckInterval.TotalSeconds)) : _o.CheckInterval;
            try { await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
            try { await EnsureAsync(stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e) { _log.CertificateCheckFailed(e, _o.CheckInterval); }
        }
    }

    /// <summary>One pass: load or (self-managed) create/rotate the Secret, publish the certificate, register the CA.</summary>
    public async Task EnsureAsync(CancellationToken ct)
    {
        var material = SelfManaged ? await EnsureSelfManagedAsync(ct).ConfigureAwait(false) : await LoadCertManagerAsync(ct).ConfigureAwait(false);
        var before = _slot.CertPem;
        _slot.Set(material);
        if (before != material.CertPem && _log.IsEnabled(LogLevel.Information))
            _log.CertificateLoaded(_ns, _o.SecretName, _slot.Current!.Subject, _slot.Current.NotAfter.ToUniversalTime());
        if (_o.ManageConfiguration) await EnsureConfigurationAsync(material.CaPem, ct).ConfigureAwait(false);
        else if (SelfManaged && material.CaPem != null) await PatchCaBundleAsync(material.CaPem, ct).ConfigureAwait(false);
    }

    private async Task<TlsMaterial> LoadCertManagerAsync(CancellationToken ct)
    {
        var secret = await TryReadSecretAsync(ct).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"webhook TLS Secret {_ns}/{_o.SecretName} not found; is cert-manager's Certificate Ready?");
        return FromSecret(secret) ?? throw new InvalidOperationException($"webhook TLS Secret {_ns}/{_o.SecretName} has no tls.crt/tls.key");
    }

    private async Task<TlsMaterial> EnsureSelfManagedAsync(CancellationToken ct)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var secret = await TryReadSecretAsync(ct).ConfigureAwait(false);
            var now = _time.GetUtcNow();
            if (secret is null)
            {
                var fresh = Issue(null, now);
                try
                {
                    await _api.CreateAsync(ResourceKind.Secret, _ns, ToSecret(fresh, null), ct).ConfigureAwait(false);
                    _log.CertificateCreated(_ns, _o.SecretName);
                    return fresh;
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
                {
                    continue;   // another replica created it first: use theirs
                }
            }
            var existing = FromSecret(secret);
            var why = existing is null ? "incomplete Secret" : RenewalReason(existing, now);
            if (why is null) return existing!;
            var renewed = Issue(existing, now);
            try
            {
                await _api.ReplaceAsync(ResourceKind.Secret, _ns, _o.SecretName, ToSecret(renewed, secret), ct: ct).ConfigureAwait(false);
                _log.CertificateReissued(_ns, _o.SecretName, why);
                return renewed;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                continue;   // another replica rotated it: re-read
            }
        }
        throw new InvalidOperationException($"webhook TLS Secret {_ns}/{_o.SecretName}: too many conflicts");
    }

    /// <summary>Names the serving certificate must carry.</summary>
    public IReadOnlyList<string> RequiredSans()
    {
        var sans = new List<string>
        {
            $"{_o.ServiceName}.{_ns}.svc", $"{_o.ServiceName}.{_ns}.svc.cluster.local", $"{_o.ServiceName}.{_ns}", _o.ServiceName,
        };
        if (!string.IsNullOrEmpty(_o.Url) && Uri.TryCreate(_o.Url, UriKind.Absolute, out var u))
        {
            sans.Add(u.Host.Trim('[', ']'));
            if (u.IsLoopback) sans.AddRange(LoopbackNames);
        }
        sans.AddRange(_o.ExtraSans.Where(s => !string.IsNullOrWhiteSpace(s)));
        return sans.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    private string? RenewalReason(TlsMaterial m, DateTimeOffset now)
    {
        if (m.CaPem is null || m.CaKeyPem is null) return "no CA";
        using var ca = TlsMaterial.ParseCertificate(m.CaPem);
        if (new DateTimeOffset(ca.NotAfter.ToUniversalTime()) - now <= _o.RotateBefore) return "CA expires " + ca.NotAfter.ToUniversalTime().ToString("o");
        using var cert = TlsMaterial.ParseCertificate(m.CertPem);
        if (new DateTimeOffset(cert.NotAfter.ToUniversalTime()) - now <= _o.RotateBefore) return "certificate expires " + cert.NotAfter.ToUniversalTime().ToString("o");
        var have = CertificateAuthority.SubjectAltNames(cert);
        var missing = RequiredSans().Where(s => !have.Contains(s)).ToList();
        return missing.Count > 0 ? "missing SANs " + string.Join(", ", missing) : null;
    }

    private TlsMaterial Issue(TlsMaterial? existing, DateTimeOffset now)
    {
        string caPem, caKeyPem, bundle;
        var reuseCa = existing is { CaPem: not null, CaKeyPem: not null } &&
                      new DateTimeOffset(TlsMaterial.ParseCertificate(existing.CaPem).NotAfter.ToUniversalTime()) - now > _o.RotateBefore;
        if (reuseCa)
        {
            caPem = existing!.CaPem!;
            caKeyPem = existing.CaKeyPem!;
            bundle = caPem;
        }
        else
        {
            (caPem, caKeyPem) = CertificateAuthority.CreateCa($"connect-operator-webhook-ca.{_ns}", now, _o.CaValidity);
            // Keep trusting the old CA until every replica serves a certificate of the new one.
            bundle = existing?.CaPem is { } oldCa && TlsMaterial.ParseCertificate(oldCa).NotAfter.ToUniversalTime() > now.UtcDateTime
                ? caPem + FirstBlock(oldCa)
                : caPem;
        }
        var (certPem, keyPem) = CertificateAuthority.CreateServing(caPem, caKeyPem, RequiredSans(), now, _o.CertificateValidity);
        return new TlsMaterial(certPem, keyPem, bundle, caKeyPem);
    }

    private static string FirstBlock(string pem)
    {
        const string end = "-----END CERTIFICATE-----";
        var i = pem.IndexOf(end, StringComparison.Ordinal);
        return (i < 0 ? pem : pem[..(i + end.Length)]) + "\n";
    }

    private Task<V1Secret?> TryReadSecretAsync(CancellationToken ct)
        => _api.TryGetAsync<V1Secret>(ResourceKind.Secret, _ns, _o.SecretName, ct);

    private static TlsMaterial? FromSecret(V1Secret? s)
    {
        string? Get(string k) => s?.Data != null && s.Data.TryGetValue(k, out var v) && v.Length > 0 ? Encoding.UTF8.GetString(v) : null;
        var cert = Get(TlsMaterial.CertKey);
        var key = Get(TlsMaterial.KeyKey);
        return cert is null || key is null ? null : new TlsMaterial(cert, key, Get(TlsMaterial.CaKey), Get(TlsMaterial.CaKeyKey));
    }

    private V1Secret ToSecret(TlsMaterial m, V1Secret? existing)
    {
        var data = new Dictionary<string, byte[]>
        {
            [TlsMaterial.CertKey] = Encoding.UTF8.GetBytes(m.CertPem),
            [TlsMaterial.KeyKey] = Encoding.UTF8.GetBytes(m.KeyPem),
            [TlsMaterial.CaKey] = Encoding.UTF8.GetBytes(m.CaPem ?? ""),
            [TlsMaterial.CaKeyKey] = Encoding.UTF8.GetBytes(m.CaKeyPem ?? ""),
        };
        if (existing != null)
        {
            existing.Data = data;
            return existing;   // carries resourceVersion: a concurrent rotation by another replica yields 409
        }
        return new V1Secret
        {
            Metadata = new V1ObjectMeta
            {
                Name = _o.SecretName,
                NamespaceProperty = _ns,
                Labels = new Dictionary<string, string> { [ManagedByLabel] = "connect-operator" },
            },
            Type = "kubernetes.io/tls",
            Data = data,
        };
    }

    private async Task PatchCaBundleAsync(string caPem, CancellationToken ct)
    {
        var bundle = Encoding.UTF8.GetBytes(caPem);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await _api.TryGetAsync<V1ValidatingWebhookConfiguration>(ResourceKind.ValidatingWebhookConfiguration, null, _o.ConfigurationName, ct).ConfigureAwait(false) is not { } vwc)
            {
                _log.ConfigurationMissing(_o.ConfigurationName);
                return;
            }
            var changed = false;
            foreach (var w in vwc.Webhooks ?? new List<V1ValidatingWebhook>())
            {
                w.ClientConfig ??= new Admissionregistrationv1WebhookClientConfig();
                if (w.ClientConfig.CaBundle is { } have && have.AsSpan().SequenceEqual(bundle)) continue;
                w.ClientConfig.CaBundle = bundle;
                changed = true;
            }
            if (!changed) return;
            try
            {
                await _api.ReplaceAsync(ResourceKind.ValidatingWebhookConfiguration, null, _o.ConfigurationName, vwc, ct: ct).ConfigureAwait(false);
                _log.CaBundlePatched(_o.ConfigurationName);
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict) { }
        }
    }

    /// <summary>The configuration the operator writes in dev/test mode (<see cref="WebhookOptions.ManageConfiguration"/>).</summary>
    public V1ValidatingWebhookConfiguration DesiredConfiguration(string? caPem)
    {
        var bundle = caPem is null ? null : Encoding.UTF8.GetBytes(caPem);
        Admissionregistrationv1WebhookClientConfig Client(string path) => string.IsNullOrEmpty(_o.Url)
            ? new Admissionregistrationv1WebhookClientConfig
            {
                CaBundle = bundle,
                Service = new Admissionregistrationv1ServiceReference { Name = _o.ServiceName, NamespaceProperty = _ns, Path = path, Port = _o.ServicePort },
            }
            : new Admissionregistrationv1WebhookClientConfig { CaBundle = bundle, Url = _o.Url.TrimEnd('/') + path };
        // Only requests that can change a decision reach the webhook: creates, and updates that change spec.
        var conditions = new List<V1MatchCondition>
        {
            new() { Name = "create-or-spec-change", Expression = "request.operation == 'CREATE' || !has(object.spec) || !has(oldObject.spec) || object.spec != oldObject.spec" },
        };
        V1ValidatingWebhook Hook(string resource, string scope, V1LabelSelector? nsSel, V1LabelSelector? objSel) => new()
        {
            Name = $"{resource}.validate.connect.ebs.io",
            AdmissionReviewVersions = new List<string> { "v1" },
            SideEffects = "None",
            FailurePolicy = _o.FailurePolicy,
            TimeoutSeconds = _o.TimeoutSeconds,
            MatchPolicy = "Equivalent",
            ClientConfig = Client(WebhookRoutes.PathFor(resource)),
            Rules = new List<V1RuleWithOperations>
            {
                new()
                {
                    ApiGroups = new List<string> { Entities.ConnectApi.Group }, ApiVersions = new List<string> { Entities.ConnectApi.Version },
                    Operations = resource == AdmissionDecider.Departments ? new List<string> { "CREATE", "UPDATE", "DELETE" } : new List<string> { "CREATE", "UPDATE" },
                    Resources = new List<string> { resource }, Scope = scope,
                },
            },
            NamespaceSelector = nsSel,
            ObjectSelector = objSel,
            MatchConditions = conditions,
        };
        var namespaceSelector = new V1LabelSelector
        {
            MatchExpressions = new List<V1LabelSelectorRequirement>
            {
                new() { Key = "kubernetes.io/metadata.name", OperatorProperty = "NotIn", Values = new List<string> { _ns } },
            },
            MatchLabels = _o.NamespaceSelector.Count > 0 ? new Dictionary<string, string>(_o.NamespaceSelector) : null,
        };
        var objectSelector = _o.ObjectSelector.Count > 0 ? new V1LabelSelector { MatchLabels = new Dictionary<string, string>(_o.ObjectSelector) } : null;
        return new V1ValidatingWebhookConfiguration
        {
            Metadata = new V1ObjectMeta { Name = _o.ConfigurationName, Labels = new Dictionary<string, string> { [ManagedByLabel] = "connect-operator" } },
            Webhooks = new List<V1ValidatingWebhook>
            {
                Hook(AdmissionDecider.ManagedConnectors, "Namespaced", namespaceSelector, null),
                Hook(AdmissionDecider.Departments, "Cluster", null, objectSelector),
                Hook(AdmissionDecider.ConnectorQuotas, "Cluster", null, objectSelector),
            },
        };
    }

    private async Task EnsureConfigurationAsync(string? caPem, CancellationToken ct)
    {
        var desired = DesiredConfiguration(caPem);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var existing = await _api.TryGetAsync<V1ValidatingWebhookConfiguration>(ResourceKind.ValidatingWebhookConfiguration, null, _o.ConfigurationName, ct).ConfigureAwait(false);
            try
            {
                if (existing is null)
                {
                    await _api.CreateAsync(ResourceKind.ValidatingWebhookConfiguration, null, desired, ct).ConfigureAwait(false);
                    _log.ConfigurationCreated(_o.ConfigurationName);
                    return;
                }
                if ((existing.Webhooks ?? []).Select(Comparable).SequenceEqual(desired.Webhooks.Select(Comparable))) return;
                existing.Webhooks = desired.Webhooks;
                await _api.ReplaceAsync(ResourceKind.ValidatingWebhookConfiguration, null, _o.ConfigurationName, existing, ct: ct).ConfigureAwait(false);
                _log.ConfigurationUpdated(_o.ConfigurationName);
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict) { }
        }
    }

    // The fields the operator sets; the server adds defaults that must not count as drift.
    private static string Comparable(V1ValidatingWebhook w) => string.Join("\n",
        w.Name, w.ClientConfig?.Url, w.ClientConfig?.Service?.Name, w.ClientConfig?.CaBundle is { } b ? Convert.ToBase64String(b) : null,
        Labels(w.NamespaceSelector?.MatchLabels), Labels(w.ObjectSelector?.MatchLabels), w.FailurePolicy, w.TimeoutSeconds,
        string.Join("\t", w.MatchConditions?.Select(m => m.Expression) ?? []));

    private static string? Labels(IDictionary<string, string>? labels)
        => labels is null ? null : string.Join(",", labels.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
}
