using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ConnectOperator.Webhooks;

/// <summary>PEM material of the webhook's TLS Secret.</summary>
public sealed record TlsMaterial(string CertPem, string KeyPem, string? CaPem, string? CaKeyPem)
{
    public const string CertKey = "tls.crt", KeyKey = "tls.key", CaKey = "ca.crt", CaKeyKey = "ca.key";

    public X509Certificate2 LoadCertificate()
    {
        var cert = X509Certificate2.CreateFromPem(CertPem, KeyPem);
        return cert;
    }

    public static X509Certificate2 ParseCertificate(string pem) => X509Certificate2.CreateFromPem(FirstPem(pem));

    /// <summary>The first PEM block (a bundle may hold the old and the new CA during CA rotation).</summary>
    private static string FirstPem(string pem)
    {
        const string end = "-----END CERTIFICATE-----";
        var i = pem.IndexOf(end, StringComparison.Ordinal);
        return i < 0 ? pem : pem[..(i + end.Length)];
    }
}

/// <summary>Issues the self-managed webhook CA and serving certificates (ECDSA P-256).</summary>
public static class CertificateAuthority
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");

    public static (string CertPem, string KeyPem) CreateCa(string commonName, DateTimeOffset now, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        using var ca = req.CreateSelfSigned(now.AddMinutes(-5), now + validity);
        return (ca.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    public static (string CertPem, string KeyPem) CreateServing(string caCertPem, string caKeyPem, IReadOnlyCollection<string> sans, DateTimeOffset now, TimeSpan validity)
    {
        using var caKey = ECDsa.Create();
        caKey.ImportFromPem(caKeyPem);
        using var caPublic = TlsMaterial.ParseCertificate(caCertPem);
        using var ca = caPublic.CopyWithPrivateKey(caKey);

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var cn = sans.FirstOrDefault(s => !IPAddress.TryParse(s, out _)) ?? "connect-operator-webhook";
        var req = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { ServerAuth }, false));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in sans.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(name, out var ip)) san.AddIpAddress(ip);
            else san.AddDnsName(name);
        }
        req.CertificateExtensions.Add(san.Build());
        var notAfter = now + validity;
        if (notAfter > ca.NotAfter.ToUniversalTime()) notAfter = ca.NotAfter.ToUniversalTime();
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var cert = req.Create(ca, now.AddMinutes(-5), notAfter, serial);
        return (cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>DNS names and IP addresses in the certificate's subjectAltName.</summary>
    public static IReadOnlySet<string> SubjectAltNames(X509Certificate2 cert)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var ext in cert.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            foreach (var dns in ext.EnumerateDnsNames()) names.Add(dns);
            foreach (var ip in ext.EnumerateIPAddresses()) names.Add(ip.ToString());
        }
        return names;
    }
}
