using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ConnectOperator.Hosting;
using k8s;
using k8s.Exceptions;

namespace ConnectOperator.Tests.Unit.Hosting;

/// <summary>The kubeconfig reader that replaces the client's (which cannot run under NativeAOT) builds the same configuration.</summary>
public sealed class KubeConfigFileTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "kubeconfig-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static (string CertPem, string KeyPem, string Thumbprint) SelfSigned(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return (cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), cert.Thumbprint);
    }

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void Client_certificate_with_inline_CA_and_namespace()
    {
        var ca = SelfSigned("test-ca");
        var client = SelfSigned("operator");
        var path = Write("config", $$"""
            apiVersion: v1
            kind: Config
            preferences: {}
            current-context: main
            clusters:
            - name: testenv
              cluster:
                server: https://127.0.0.1:6443
                certificate-authority-data: {{B64(ca.CertPem)}}
                tls-server-name: kubernetes.default
                extensions:
                - name: client.authentication.k8s.io/exec
                  extension: {audience: x}
            users:
            - name: admin
              user:
                client-certificate-data: {{B64(client.CertPem)}}
                client-key-data: {{B64(client.KeyPem)}}
            contexts:
            - name: other
              context: {cluster: testenv, user: admin, namespace: elsewhere}
            - name: main
              context:
                cluster: testenv
                user: admin
                namespace: connect-system
            """);

        var config = KubeConfigFile.Load(path);

        Assert.That(config.Host, Is.EqualTo("https://127.0.0.1:6443"));
        Assert.That(config.CurrentContext, Is.EqualTo("main"));
        Assert.That(config.Namespace, Is.EqualTo("connect-system"));
        Assert.That(config.TlsServerName, Is.EqualTo("kubernetes.default"));
        Assert.That(config.SkipTlsVerify, Is.False);
        Assert.That(config.SslCaCerts.Cast<X509Certificate2>().Select(c => c.Thumbprint), Is.EqualTo(new[] { ca.Thumbprint }));
        Assert.That(config.ClientCertificateData, Is.EqualTo(B64(client.CertPem)));
        Assert.That(config.ClientCertificateKeyData, Is.EqualTo(B64(client.KeyPem)));
        Assert.That(config.AccessToken, Is.Null);
        Assert.That(() => new Kubernetes(config).Dispose(), Throws.Nothing, "the client builds its TLS identity from what was read");
        Assert.That(KubeConfigFile.Load(path, currentContext: "other").Namespace, Is.EqualTo("elsewhere"), "an explicit context wins");
    }

    [Test]
    public void Token_with_CA_file_and_client_files_relative_to_the_kubeconfig()
    {
        var ca = SelfSigned("file-ca");
        Write("ca.crt", ca.CertPem);
        var path = Write("config", """
            apiVersion: v1
            kind: Config
            current-context: "token-ctx"
            clusters:
            - name: c
              cluster:
                server: https://api.example.test:443
                certificate-authority: ca.crt
                insecure-skip-tls-verify: true
            users:
            - name: u
              user:
                token: abc.def.ghi
                client-certificate: certs/client.crt
                client-key: /abs/client.key
            contexts:
            - name: token-ctx
              context:
                cluster: c
                user: u
            """);

        var config = KubeConfigFile.Load(path);

        Assert.That(config.Host, Is.EqualTo("https://api.example.test:443"));
        Assert.That(config.AccessToken, Is.EqualTo("abc.def.ghi"));
        Assert.That(config.Namespace, Is.Null);
        Assert.That(config.SkipTlsVerify, Is.True);
        Assert.That(config.SslCaCerts.Cast<X509Certificate2>().Single().Thumbprint, Is.EqualTo(ca.Thumbprint));
        Assert.That(config.ClientCertificateFilePath, Is.EqualTo(Path.Combine(_dir, "certs/client.crt")));
        Assert.That(config.ClientKeyFilePath, Is.EqualTo("/abs/client.key"));
    }

    [Test]
    public void Exec_plugin_and_auth_provider_fields_are_read()
    {
        var parsed = KubeConfigFile.Parse(new StringReader("""
            users:
            - name: eks
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  command: aws
                  args: [eks, get-token, --cluster-name, prod]
                  env:
                  - name: AWS_PROFILE
                    value: ops
                  provideClusterInfo: true
            - name: oidc
              user:
                auth-provider:
                  name: oidc
                  config: {id-token: t, client-id: c}
                as: someone
                as-groups: [a, b]
            """));

        var users = parsed.Users.ToList();
        var exec = users[0].UserCredentials.ExternalExecution;
        Assert.That(exec.ApiVersion, Is.EqualTo("client.authentication.k8s.io/v1beta1"));
        Assert.That(exec.Command, Is.EqualTo("aws"));
        Assert.That(exec.Arguments, Is.EqualTo(new[] { "eks", "get-token", "--cluster-name", "prod" }));
        Assert.That(exec.EnvironmentVariables.Single(), Is.EqualTo(new Dictionary<string, string> { ["name"] = "AWS_PROFILE", ["value"] = "ops" }));
        Assert.That(exec.ProvideClusterInfo, Is.True);
        Assert.That(users[1].UserCredentials.AuthProvider.Name, Is.EqualTo("oidc"));
        Assert.That(users[1].UserCredentials.AuthProvider.Config, Is.EqualTo(new Dictionary<string, string> { ["id-token"] = "t", ["client-id"] = "c" }));
        Assert.That(users[1].UserCredentials.Impersonate, Is.EqualTo("someone"));
        Assert.That(users[1].UserCredentials.ImpersonateGroups, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(parsed.Clusters, Is.Empty);
        Assert.That(parsed.CurrentContext, Is.Null);
    }

    [Test]
    public void The_path_is_the_argument_else_KUBECONFIG_else_the_home_default()
    {
        Assert.That(KubeConfigFile.ResolvePath("/x/config", _ => "/env/config"), Is.EqualTo("/x/config"));
        Assert.That(KubeConfigFile.ResolvePath(null, v => v == "KUBECONFIG" ? "/env/config" : null), Is.EqualTo("/env/config"));
        Assert.That(KubeConfigFile.ResolvePath(null, _ => null), Is.EqualTo(KubernetesClientConfiguration.KubeConfigDefaultLocation));
    }

    [Test]
    public void A_missing_or_malformed_file_is_a_KubeConfigException()
    {
        Assert.That(() => KubeConfigFile.Load(Path.Combine(_dir, "absent")), Throws.TypeOf<KubeConfigException>().With.Message.Contains("not found"));
        Assert.That(() => KubeConfigFile.Load(Write("bad", "clusters: [unclosed")), Throws.TypeOf<KubeConfigException>());
        Assert.That(() => KubeConfigFile.Load(Write("list", "- a\n- b\n")), Throws.TypeOf<KubeConfigException>());
        Assert.That(() => KubeConfigFile.Load(Write("nocontext", "current-context: x\ncontexts: []\n")), Throws.TypeOf<KubeConfigException>().With.Message.Contains("x"));
    }
}
