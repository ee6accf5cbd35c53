using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ConnectOperator.Hosting;
using ConnectOperator.Tests.Unit.Runtime;
using k8s.Exceptions;

namespace ConnectOperator.Tests.Unit.Hosting;

/// <summary>The operator in its pod: the ServiceAccount files and service environment, a token replaced while it runs, its listening addresses.</summary>
public sealed class InClusterConfigTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("sa-").FullName;
        File.WriteAllText(Path.Combine(_dir, "token"), "first-token\n");
        File.WriteAllText(Path.Combine(_dir, "namespace"), "connect-operator-system");
        using var key = ECDsa.Create();
        using var ca = new CertificateRequest("CN=cluster-ca", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(_dir, "ca.crt"), ca.ExportCertificatePem());
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static Func<string, string?> Env(string? host, string? port) => name => name switch
    {
        "KUBERNETES_SERVICE_HOST" => host,
        "KUBERNETES_SERVICE_PORT" => port,
        _ => null,
    };

    [Test]
    public async Task The_service_environment_and_the_mounted_files_make_the_configuration()
    {
        var config = KubeConfigFile.InCluster(_dir, Env("10.96.0.1", "443"));
        Assert.That(config.Host, Is.EqualTo("https://10.96.0.1/"));
        Assert.That(config.Namespace, Is.EqualTo("connect-operator-system"));
        Assert.That(config.SslCaCerts!.Single().Subject, Is.EqualTo("CN=cluster-ca"));
        var header = await config.TokenProvider!.GetAuthenticationHeaderAsync(CancellationToken.None);
        Assert.That(header.ToString(), Is.EqualTo("Bearer first-token"));
        Assert.That(KubeConfigFile.IsInCluster(_dir, Env("10.96.0.1", "443")), Is.True);
        Assert.That(KubeConfigFile.IsInCluster(_dir, Env(null, "443")), Is.False);
    }

    [Test]
    public void An_IPv6_service_host_is_bracketed()
    {
        Assert.That(KubeConfigFile.InCluster(_dir, Env("fd00:10:96::1", "6443")).Host, Is.EqualTo("https://[fd00:10:96::1]:6443/"));
    }

    [Test]
    public void A_missing_or_empty_token_fails_at_start_naming_the_file()
    {
        File.WriteAllText(Path.Combine(_dir, "token"), "  ");
        Assert.That(() => KubeConfigFile.InCluster(_dir, Env("10.96.0.1", "443")), Throws.InstanceOf<KubeConfigException>().With.Message.Contains("token"));
        Assert.That(() => KubeConfigFile.InCluster(_dir, Env("10.96.0.1", "x")), Throws.InstanceOf<KubeConfigException>());
    }

    [Test]
    public async Task A_replaced_token_is_sent_from_the_next_check_on()
    {
        var time = new ManualTimeProvider();
        var token = new ServiceAccountTokenFile(Path.Combine(_dir, "token"), time);
        async Task<string> Sent() => (await token.GetAuthenticationHeaderAsync(CancellationToken.None)).Parameter!;
        Assert.That(await Sent(), Is.EqualTo("first-token"));

        // As the kubelet does: the new file is written aside and swapped in.
        File.WriteAllText(Path.Combine(_dir, "token.new"), "second-token");
        File.Move(Path.Combine(_dir, "token.new"), Path.Combine(_dir, "token"), overwrite: true);
        Assert.That(await Sent(), Is.EqualTo("first-token"), "read at most every few seconds");
        time.Advance(ServiceAccountTokenFile.RecheckAfter);
        Assert.That(await Sent(), Is.EqualTo("second-token"));

        File.Delete(Path.Combine(_dir, "token"));
        time.Advance(ServiceAccountTokenFile.RecheckAfter);
        Assert.That(await Sent(), Is.EqualTo("second-token"), "a file missing mid-swap keeps the last token");
    }

    [Test]
    public void The_servers_listen_on_IPv6_and_IPv4_unless_told_otherwise()
    {
        Assert.That(new OperatorOptions().BindAddress, Is.EqualTo("*"));
        foreach (var any in new[] { "*", "", "::", "0.0.0.0", "0.0.0.0,::" })
            Assert.That(OperatorOptions.BindAddresses(any), Is.EqualTo(new IPAddress?[] { null }), any);
        Assert.That(OperatorOptions.BindAddresses("127.0.0.1, ::1"), Is.EqualTo(new[] { IPAddress.Loopback, IPAddress.IPv6Loopback }));
        Assert.That(OperatorOptions.BindAddresses("[::1]"), Is.EqualTo(new[] { IPAddress.IPv6Loopback }));
        Assert.That(() => OperatorOptions.BindAddresses("localhost"), Throws.InstanceOf<FormatException>());
    }
}

