using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using ConnectOperator.Hosting;
using ConnectOperator.Tests.Unit.Runtime;
using k8s;
using k8s.Exceptions;
using k8s.KubeConfigModels;

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
        using (var identity = ConnectOperator.Runtime.KubeApiClient.ClientCertificate(config))
            Assert.That((identity?.Thumbprint, identity?.HasPrivateKey), Is.EqualTo((client.Thumbprint, (bool?)true)), "the operator's own pipeline presents the same certificate, with its key");
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

    /// <summary>A plugin that counts its runs, keeps what it was told, and answers with a token valid for <paramref name="validSeconds"/>.</summary>
    private ExternalExecution Plugin(int validSeconds, string apiVersion = "client.authentication.k8s.io/v1", string? failWith = null)
    {
        var script = Write("plugin.sh", $$$"""
            #!/bin/sh
            n=$(cat "{{{_dir}}}/runs" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "{{{_dir}}}/runs"
            printf '%s' "$KUBERNETES_EXEC_INFO" > "{{{_dir}}}/info.json"
            {{{(failWith is null ? "" : $"echo '{failWith}' >&2; exit 3")}}}
            exp=$(date -u -d "@$(( $(date +%s) + {{{validSeconds}}} ))" +%Y-%m-%dT%H:%M:%SZ)
            printf '{"apiVersion":"{{{apiVersion}}}","kind":"ExecCredential","status":{"token":"tok-%s-%s","expirationTimestamp":"%s"}}' "$1" "$n" "$exp"
            """.Replace("\r", ""));
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new ExternalExecution
        {
            ApiVersion = "client.authentication.k8s.io/v1", Command = script, Arguments = ["prod"],
            EnvironmentVariables = [new Dictionary<string, string> { ["name"] = "PROFILE", ["value"] = "ops" }],
            ProvideClusterInfo = true,
        };
    }

    private int Runs => File.Exists(Path.Combine(_dir, "runs")) ? int.Parse(File.ReadAllText(Path.Combine(_dir, "runs")).Trim()) : 0;

    [Test]
    public async Task An_exec_plugin_runs_at_load_and_again_only_when_its_token_expires()
    {
        var path = Write("config", $$"""
            current-context: eks
            clusters:
            - name: prod
              cluster: {server: "https://api.example.test", tls-server-name: api.internal}
            users:
            - name: eks
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: {{Plugin(validSeconds: 3600).Command}}
                  args: [prod]
                  provideClusterInfo: true
            contexts:
            - name: eks
              context: {cluster: prod, user: eks}
            """);

        var config = KubeConfigFile.Load(path);

        Assert.That(Runs, Is.EqualTo(1), "run once at load, so a plugin that cannot log in fails there");
        Assert.That(config.TokenProvider, Is.TypeOf<ExecCredentialProvider>());
        var header = await config.TokenProvider.GetAuthenticationHeaderAsync(CancellationToken.None);
        Assert.That((header.Scheme, header.Parameter), Is.EqualTo(("Bearer", "tok-prod-1")), "the token from the run at load, not a second run");
        using var info = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "info.json")));
        Assert.That(info.RootElement.GetProperty("kind").GetString(), Is.EqualTo("ExecCredential"));
        Assert.That(info.RootElement.GetProperty("spec").GetProperty("interactive").GetBoolean(), Is.False);
        Assert.That(info.RootElement.GetProperty("spec").GetProperty("cluster").GetProperty("server").GetString(), Is.EqualTo("https://api.example.test"));

        // Expiry: the provider's clock passes the token's expiry and the plugin runs again.
        var time = new ManualTimeProvider();
        time.Advance(DateTimeOffset.UtcNow - time.GetUtcNow());
        var provider = new ExecCredentialProvider(Plugin(validSeconds: 60), time: time);
        Assert.That((await provider.GetAuthenticationHeaderAsync(CancellationToken.None)).Parameter, Is.EqualTo("tok-prod-2"));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.That((await provider.GetAuthenticationHeaderAsync(CancellationToken.None)).Parameter, Is.EqualTo("tok-prod-2"), "still valid: no run");
        time.Advance(TimeSpan.FromSeconds(25));
        Assert.That((await provider.GetAuthenticationHeaderAsync(CancellationToken.None)).Parameter, Is.EqualTo("tok-prod-3"), "expires within 10 s: run again");
        Assert.That(Runs, Is.EqualTo(3));
    }

    [Test]
    public void A_failing_or_mismatched_exec_plugin_is_a_KubeConfigException_naming_it()
    {
        var failing = new ExecCredentialProvider(Plugin(60, failWith: "token expired, run aws sso login"));
        Assert.That(() => failing.GetAuthenticationHeaderAsync(CancellationToken.None), Throws.TypeOf<KubeConfigException>()
            .With.Message.Contains("exited with 3").And.Message.Contains("aws sso login"));
        var wrongVersion = new ExecCredentialProvider(Plugin(60, apiVersion: "client.authentication.k8s.io/v1beta1"));
        Assert.That(() => wrongVersion.GetAuthenticationHeaderAsync(CancellationToken.None), Throws.TypeOf<KubeConfigException>()
            .With.Message.Contains("v1beta1").And.Message.Contains("not client.authentication.k8s.io/v1"));
        var missing = new ExecCredentialProvider(new ExternalExecution { ApiVersion = "client.authentication.k8s.io/v1", Command = "/nonexistent/gke-gcloud-auth-plugin", InstallHint = "install it with gcloud components install" });
        Assert.That(() => missing.GetAuthenticationHeaderAsync(CancellationToken.None), Throws.TypeOf<KubeConfigException>()
            .With.Message.Contains("could not be started").And.Message.Contains("gcloud components install"));
    }

    [Test]
    public void Auth_providers_an_oidc_id_token_is_used_and_the_removed_gcp_and_azure_name_their_exec_plugins()
    {
        static string Config(string provider, string config) => $$$"""
            current-context: c
            clusters: [{name: k, cluster: {server: "https://k.test"}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users:
            - name: u
              user:
                auth-provider: {name: {{{provider}}}, config: {{{config}}}}
            """;
        Assert.That(KubeConfigFile.Load(Write("oidc", Config("oidc", "{id-token: the.id.token, client-id: c}"))).AccessToken, Is.EqualTo("the.id.token"));
        Assert.That(() => KubeConfigFile.Load(Write("gcp", Config("gcp", "{access-token: x}"))),
            Throws.TypeOf<KubeConfigException>().With.Message.Contains("gke-gcloud-auth-plugin"));
        Assert.That(() => KubeConfigFile.Load(Write("azure", Config("azure", "{access-token: x}"))),
            Throws.TypeOf<KubeConfigException>().With.Message.Contains("kubelogin"));
        Assert.That(() => KubeConfigFile.Load(Write("none", Config("custom", "{}"))),
            Throws.TypeOf<KubeConfigException>().With.Message.Contains("no credentials this client supports"));
    }

    [Test]
    public void A_server_on_all_interfaces_is_reached_on_loopback_and_a_missing_cluster_is_named()
    {
        var config = KubeConfigFile.Load(Write("any", """
            current-context: c
            clusters: [{name: k, cluster: {server: "http://0.0.0.0:8080"}}]
            contexts: [{name: c, context: {cluster: k}}]
            """));
        Assert.That(config.Host, Is.EqualTo("http://127.0.0.1:8080/"));
        Assert.That(() => KubeConfigFile.Load(Write("nocluster", "current-context: c\ncontexts: [{name: c, context: {cluster: gone}}]\n")),
            Throws.TypeOf<KubeConfigException>().With.Message.Contains("cluster gone"));
    }
}
