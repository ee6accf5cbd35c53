using System.Security.Cryptography.X509Certificates;
using ConnectOperator.Webhooks;

namespace ConnectOperator.Tests.Unit.Webhooks;

public class CertificateAuthorityTests
{
    [Test]
    public void Serving_certificate_chains_to_the_CA_and_carries_the_SANs()
    {
        var now = DateTimeOffset.UtcNow;
        var (caPem, caKey) = CertificateAuthority.CreateCa("test-ca", now, TimeSpan.FromDays(10));
        var sans = new[] { "svc.ns.svc", "svc.ns.svc.cluster.local", "127.0.0.1", "localhost" };
        var (certPem, keyPem) = CertificateAuthority.CreateServing(caPem, caKey, sans, now, TimeSpan.FromDays(1));
        using var cert = new TlsMaterial(certPem, keyPem, caPem, caKey).LoadCertificate();
        using var ca = TlsMaterial.ParseCertificate(caPem);
        Assert.That(cert.HasPrivateKey, Is.True);
        Assert.That(CertificateAuthority.SubjectAltNames(cert), Is.EquivalentTo(sans));
        Assert.That(cert.NotAfter.ToUniversalTime(), Is.EqualTo((now + TimeSpan.FromDays(1)).UtcDateTime).Within(TimeSpan.FromSeconds(2)));

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1"));
        Assert.That(chain.Build(cert), Is.True, string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));

        var (otherCa, _) = CertificateAuthority.CreateCa("other", now, TimeSpan.FromDays(10));
        using var chain2 = new X509Chain();
        chain2.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain2.ChainPolicy.CustomTrustStore.Add(TlsMaterial.ParseCertificate(otherCa));
        chain2.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.That(chain2.Build(cert), Is.False);
    }

    [Test]
    public void Serving_certificate_never_outlives_its_CA()
    {
        var now = DateTimeOffset.UtcNow;
        var (caPem, caKey) = CertificateAuthority.CreateCa("test-ca", now, TimeSpan.FromHours(1));
        var (certPem, _) = CertificateAuthority.CreateServing(caPem, caKey, new[] { "a" }, now, TimeSpan.FromDays(30));
        using var cert = TlsMaterial.ParseCertificate(certPem);
        using var ca = TlsMaterial.ParseCertificate(caPem);
        Assert.That(cert.NotAfter, Is.LessThanOrEqualTo(ca.NotAfter));
    }
}
