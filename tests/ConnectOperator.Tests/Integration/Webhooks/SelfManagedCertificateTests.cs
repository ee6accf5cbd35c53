using System.Text;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Webhooks;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnectOperator.Tests.Integration.Webhooks;

/// <summary>The self-managed certificate against the real API server: create once, reuse, patch caBundle, rotate.</summary>
[NonParallelizable]
public class SelfManagedCertificateTests
{
    private TestCluster _kube = null!;
    private string _ns = "";
    private string _config = "";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _kube = await TestCluster.GetAsync();
        _ns = await _kube.CreateNamespaceAsync("whcert");
        _config = "whcert-" + Guid.NewGuid().ToString("N")[..8];
        // A configuration that matches nothing (objectSelector on a label no object carries), as the chart would install it.
        var never = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["connect.ebs.io/never"] = _config } };
        await _kube.Client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(new V1ValidatingWebhookConfiguration
        {
            Metadata = new V1ObjectMeta { Name = _config },
            Webhooks = new[] { "managedconnectors", "departments" }.Select(r => new V1ValidatingWebhook
            {
                Name = $"{r}.validate.connect.ebs.io", SideEffects = "None", AdmissionReviewVersions = new List<string> { "v1" },
                ClientConfig = new Admissionregistrationv1WebhookClientConfig { Url = $"https://127.0.0.1:1/validate/{r}" },
                ObjectSelector = never, NamespaceSelector = never,
                Rules = new List<V1RuleWithOperations> { new() { ApiGroups = new List<string> { "connect.ebs.io" }, ApiVersions = new List<string> { "v1alpha1" },
                    Operations = new List<string> { "CREATE" }, Resources = new List<string> { r } } },
            }).ToList(),
        });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        try { await _kube.Client.AdmissionregistrationV1.DeleteValidatingWebhookConfigurationAsync(_config); } catch (Exception) { }
        try { await _kube.Client.CoreV1.DeleteNamespaceAsync(_ns); } catch (Exception) { }
    }

    private WebhookCertificateManager Manager(string secret, Action<WebhookOptions>? tune = null)
    {
        var o = new WebhookOptions { SecretName = secret, ConfigurationName = _config, ServiceName = "connect-operator-webhook", Url = "https://127.0.0.1:9443" };
        tune?.Invoke(o);
        return new WebhookCertificateManager(new KubeApiClient(_kube.Client), o, _ns, new CertificateSlot(), TimeProvider.System, NullLogger.Instance);
    }

    private async Task<V1Secret> SecretAsync(string name) => await _kube.Client.CoreV1.ReadNamespacedSecretAsync(name, _ns);

    [Test]
    public async Task The_Secret_is_created_once_reused_by_a_second_instance_and_the_CA_is_patched_into_every_webhook()
    {
        var a = Manager("tls-reuse");
        await a.EnsureAsync(CancellationToken.None);
        var secret = await SecretAsync("tls-reuse");
        Assert.That(secret.Type, Is.EqualTo("kubernetes.io/tls"));
        Assert.That(secret.Data.Keys, Is.SupersetOf(new[] { "tls.crt", "tls.key", "ca.crt", "ca.key" }));
        Assert.That(a.Slot.Current, Is.Not.Null);
        var sans = CertificateAuthority.SubjectAltNames(a.Slot.Current!);
        Assert.That(sans, Is.SupersetOf(new[] { $"connect-operator-webhook.{_ns}.svc", $"connect-operator-webhook.{_ns}.svc.cluster.local", "127.0.0.1", "localhost" }));

        var b = Manager("tls-reuse");
        await b.EnsureAsync(CancellationToken.None);
        Assert.That(b.Slot.Current!.GetCertHashString(), Is.EqualTo(a.Slot.Current!.GetCertHashString()));
        Assert.That((await SecretAsync("tls-reuse")).Metadata.ResourceVersion, Is.EqualTo(secret.Metadata.ResourceVersion), "the second instance must not rewrite the Secret");

        var vwc = await _kube.Client.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync(_config);
        Assert.That(vwc.Webhooks.Select(w => Encoding.UTF8.GetString(w.ClientConfig.CaBundle ?? Array.Empty<byte>())),
            Has.All.EqualTo(Encoding.UTF8.GetString(secret.Data["ca.crt"])));
    }

    [Test]
    public async Task Replicas_starting_together_end_up_with_one_certificate()
    {
        var managers = Enumerable.Range(0, 4).Select(_ => Manager("tls-race")).ToList();
        await Task.WhenAll(managers.Select(m => m.EnsureAsync(CancellationToken.None)));
        var secret = await SecretAsync("tls-race");
        var inSecret = TlsMaterial.ParseCertificate(Encoding.UTF8.GetString(secret.Data["tls.crt"])).GetCertHashString();
        Assert.That(managers.Select(m => m.Slot.Current!.GetCertHashString()), Has.All.EqualTo(inSecret));
    }

    [Test]
    public async Task A_certificate_within_RotateBefore_is_reissued_with_the_same_CA_and_other_replicas_pick_it_up()
    {
        void Short(WebhookOptions o)
        {
            o.CertificateValidity = TimeSpan.FromSeconds(8);
            o.RotateBefore = TimeSpan.FromSeconds(5);
        }
        var a = Manager("tls-rotate", Short);
        var b = Manager("tls-rotate", Short);
        await a.EnsureAsync(CancellationToken.None);
        await b.EnsureAsync(CancellationToken.None);
        var first = a.Slot.Current!.GetCertHashString();
        var ca = Encoding.UTF8.GetString((await SecretAsync("tls-rotate")).Data["ca.crt"]);
        Assert.That(b.Slot.Current!.GetCertHashString(), Is.EqualTo(first));

        await a.EnsureAsync(CancellationToken.None);
        Assert.That(a.Slot.Current!.GetCertHashString(), Is.EqualTo(first), "not yet within RotateBefore");

        await Task.Delay(TimeSpan.FromSeconds(3.5));
        await a.EnsureAsync(CancellationToken.None);
        var second = a.Slot.Current!.GetCertHashString();
        Assert.That(second, Is.Not.EqualTo(first), "rotated");
        var secret = await SecretAsync("tls-rotate");
        Assert.That(TlsMaterial.ParseCertificate(Encoding.UTF8.GetString(secret.Data["tls.crt"])).GetCertHashString(), Is.EqualTo(second));
        Assert.That(Encoding.UTF8.GetString(secret.Data["ca.crt"]), Is.EqualTo(ca), "the CA is kept, so caBundle stays valid");

        await b.EnsureAsync(CancellationToken.None);
        Assert.That(b.Slot.Current!.GetCertHashString(), Is.EqualTo(second), "another replica reloads the rotated certificate instead of rotating again");
    }

    [Test]
    public async Task Cert_manager_mode_loads_the_Secret_and_never_writes_it()
    {
        var now = DateTimeOffset.UtcNow;
        var (caPem, caKey) = CertificateAuthority.CreateCa("cm-ca", now, TimeSpan.FromDays(1));
        var (certPem, keyPem) = CertificateAuthority.CreateServing(caPem, caKey, new[] { "x.svc" }, now, TimeSpan.FromHours(1));
        await _kube.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "tls-cm" }, Type = "kubernetes.io/tls",
            Data = new Dictionary<string, byte[]> { ["tls.crt"] = Encoding.UTF8.GetBytes(certPem), ["tls.key"] = Encoding.UTF8.GetBytes(keyPem), ["ca.crt"] = Encoding.UTF8.GetBytes(caPem) },
        }, _ns);
        var rv = (await SecretAsync("tls-cm")).Metadata.ResourceVersion;
        var m = Manager("tls-cm", o => o.CertMode = WebhookOptions.CertManagerMode);
        await m.EnsureAsync(CancellationToken.None);
        Assert.That(m.Slot.Current!.GetCertHashString(), Is.EqualTo(TlsMaterial.ParseCertificate(certPem).GetCertHashString()));
        Assert.That((await SecretAsync("tls-cm")).Metadata.ResourceVersion, Is.EqualTo(rv));

        var missing = Manager("tls-absent", o => o.CertMode = WebhookOptions.CertManagerMode);
        var e = Assert.ThrowsAsync<InvalidOperationException>(() => missing.EnsureAsync(CancellationToken.None));
        Assert.That(e!.Message, Does.Contain("not found"));
    }
}
