using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ConnectOperator.Runtime;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ConnectOperator.Tests.Unit.Runtime;

/// <summary>
/// The operator's connection to the API server, against a local HTTPS server with certificates made here: a certificate
/// must chain to the cluster CA and carry the server's name. KubernetesClient's own callback, which this client used
/// before, accepted any name whenever the chain needed the custom CA (that is, always in a pod).
/// </summary>
[NonParallelizable]
public sealed class KubeApiClientTlsTests
{
    private static readonly X509Certificate2 ClusterCa = Ca("cluster-ca");
    private static readonly X509Certificate2 OtherCa = Ca("other-ca");

    private static X509Certificate2 Ca(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        return req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>A serving certificate for <paramref name="dnsName"/> and/or <paramref name="ip"/>, signed by <paramref name="ca"/>.</summary>
    private static X509Certificate2 Serving(X509Certificate2 ca, string? dnsName, IPAddress? ip)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=kube-apiserver", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        if (dnsName != null) san.AddDnsName(dnsName);
        if (ip != null) san.AddIpAddress(ip);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new("1.3.6.1.5.5.7.3.1") }, false));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var serial = RandomNumberGenerator.GetBytes(16);
        using var signed = req.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
        return signed.CopyWithPrivateKey(key);
    }

    private static async Task<(WebApplication App, Uri Url)> ServeAsync(X509Certificate2 certificate, TimeSpan? delay = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();
        app.MapGet("/api/v1/namespaces/{name}", async (string name) =>
        {
            if (delay is { } d) await Task.Delay(d);
            return Results.Text("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + name + "\"}}", "application/json");
        });
        await app.StartAsync();
        return (app, new Uri(app.Urls.First()));
    }

    private static KubeApiClient Client(Uri url, X509Certificate2 ca, string? tlsServerName = null)
        => new(new KubernetesClientConfiguration
        {
            Host = url.ToString(), SslCaCerts = new X509Certificate2Collection(ca), TlsServerName = tlsServerName, AccessToken = "t",
        });

    private static async Task<Exception?> GetNamespaceAsync(KubeApiClient client)
    {
        try
        {
            var ns = await client.GetAsync<V1Namespace>(ResourceKind.Namespace, null, "default");
            Assert.That(ns.Metadata.Name, Is.EqualTo("default"));
            return null;
        }
        catch (HttpRequestException e) { return e; }
    }

    [Test]
    public async Task A_certificate_for_the_servers_address_signed_by_the_cluster_CA_is_accepted()
    {
        var (app, url) = await ServeAsync(Serving(ClusterCa, "localhost", IPAddress.Loopback));
        await using var _ = app;
        using var client = Client(url, ClusterCa);
        Assert.That(await GetNamespaceAsync(client), Is.Null);
    }

    [Test]
    public async Task A_certificate_signed_by_the_cluster_CA_for_another_name_is_refused()
    {
        // Any certificate the cluster CA signed (a kubelet's, a webhook's) must not pass for the API server.
        var (app, url) = await ServeAsync(Serving(ClusterCa, "some-kubelet.example", null));
        await using var _ = app;
        using var client = Client(url, ClusterCa);
        var error = await GetNamespaceAsync(client);
        Assert.That(error, Is.Not.Null, "a name mismatch must fail the handshake");
        Assert.That(error!.InnerException, Is.InstanceOf<AuthenticationException>(), error.ToString());
    }

    [Test]
    public async Task A_certificate_for_the_right_name_from_another_CA_is_refused()
    {
        var (app, url) = await ServeAsync(Serving(OtherCa, "localhost", IPAddress.Loopback));
        await using var _ = app;
        using var client = Client(url, ClusterCa);
        var error = await GetNamespaceAsync(client);
        Assert.That(error?.InnerException, Is.InstanceOf<AuthenticationException>(), error?.ToString() ?? "accepted");
    }

    [Test]
    public async Task Tls_server_name_checks_the_certificate_against_that_name_instead_of_the_address()
    {
        var (app, url) = await ServeAsync(Serving(ClusterCa, "kubernetes.default.svc", null));
        await using var _ = app;
        using (var named = Client(url, ClusterCa, tlsServerName: "kubernetes.default.svc"))
            Assert.That(await GetNamespaceAsync(named), Is.Null);
        using var other = Client(url, ClusterCa, tlsServerName: "elsewhere.example");
        Assert.That(await GetNamespaceAsync(other), Is.Not.Null);
    }

    [Test]
    public void The_decision_itself_refuses_a_name_mismatch_whatever_the_chain()
    {
        using var cert = Serving(ClusterCa, "localhost", null);
        var ca = new X509Certificate2Collection(ClusterCa);
        Assert.Multiple(() =>
        {
            Assert.That(KubeApiClient.ValidateServerCertificate(ca, cert, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors), Is.True);
            Assert.That(KubeApiClient.ValidateServerCertificate(ca, cert,
                System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors | System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch), Is.False);
            Assert.That(KubeApiClient.ValidateServerCertificate(ca, cert, System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch), Is.False);
            Assert.That(KubeApiClient.ValidateServerCertificate(ca, null, System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable), Is.False);
            Assert.That(KubeApiClient.ValidateServerCertificate(new X509Certificate2Collection(OtherCa), cert,
                System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors), Is.False);
        });
    }

    [Test]
    public async Task A_request_the_server_does_not_answer_times_out()
    {
        var (app, url) = await ServeAsync(Serving(ClusterCa, "localhost", IPAddress.Loopback), delay: TimeSpan.FromSeconds(20));
        await using var _ = app;
        using var client = new KubeApiClient(new KubernetesClientConfiguration
        {
            Host = url.ToString(), SslCaCerts = new X509Certificate2Collection(ClusterCa), AccessToken = "t",
        })
        { RequestTimeout = TimeSpan.FromSeconds(1) };
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsAsync<TimeoutException>(() => client.GetAsync<V1Namespace>(ResourceKind.Namespace, null, "default"));
        Assert.That(started.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
    }
}
