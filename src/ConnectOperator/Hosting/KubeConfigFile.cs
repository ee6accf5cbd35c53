using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Authentication;
using k8s.Exceptions;
using k8s.KubeConfigModels;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Hosting;

/// <summary>
/// Reads a kubeconfig file into the client's <see cref="K8SConfiguration"/> model by walking the YAML tree, then picks
/// the context, cluster and credentials into a <see cref="KubernetesClientConfiguration"/> as kubectl does.
/// <para>
/// Why not the client's own <c>BuildConfigFromConfigFile</c>/<c>BuildConfigFromConfigObject</c>: the first goes through
/// <c>KubernetesYaml</c>, whose static constructor reads <c>PropertyInfo.MetadataToken</c>, which NativeAOT does not
/// have; the second runs exec plugins through <see cref="KubernetesJson"/>, which brings every API type's serializer
/// into the native executable (<see cref="Runtime.KubeJson"/>). This has no reflection at all, so it works the same
/// under JIT and AOT. Credentials: token, basic auth, client certificates (inline or files), exec plugins
/// (<see cref="ExecCredentialProvider"/>) and an OIDC provider's id-token; the removed gcp/azure auth providers get
/// an error that names the exec plugin replacing them, as kubectl since 1.26 does.
/// </para>
/// </summary>
public static class KubeConfigFile
{
    /// <summary>Where the kubelet mounts the pod's ServiceAccount token, CA bundle and namespace.</summary>
    public const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>The in-cluster service account when running in a pod and no file is named; otherwise <see cref="Load"/>.</summary>
    public static KubernetesClientConfiguration InClusterOrLoad(string? path = null)
        => path is null && IsInCluster(ServiceAccountDirectory, Environment.GetEnvironmentVariable) ? InCluster() : Load(path);

    /// <summary>As client-go's rest.InClusterConfig: the service host and port from the environment, the token file and CA.</summary>
    internal static bool IsInCluster(string directory, Func<string, string?> environment)
        => !string.IsNullOrEmpty(environment("KUBERNETES_SERVICE_HOST")) && !string.IsNullOrEmpty(environment("KUBERNETES_SERVICE_PORT"))
            && File.Exists(Path.Combine(directory, "token"));

    /// <summary>
    /// The pod's own configuration. Not the client's <c>InClusterConfig</c>: that keeps a token for a minute before
    /// looking at the file again, where a rotated projected token is picked up at the next request here
    /// (<see cref="ServiceAccountTokenFile"/>), and it formats an IPv6 service host without brackets in some versions.
    /// </summary>
    public static KubernetesClientConfiguration InCluster(string directory = ServiceAccountDirectory, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var host = environment("KUBERNETES_SERVICE_HOST");
        var port = environment("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
            throw new KubeConfigException("not in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
        if (!int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var portNumber))
            throw new KubeConfigException($"KUBERNETES_SERVICE_PORT={port} is not a port number");
        var token = new ServiceAccountTokenFile(Path.Combine(directory, "token"));
        token.Read(); // fail at start-up, naming the file, rather than at the first request
        var result = new KubernetesClientConfiguration
        {
            // UriBuilder brackets an IPv6 literal (KUBERNETES_SERVICE_HOST=fd00::1 on IPv6-only clusters).
            Host = new UriBuilder(Uri.UriSchemeHttps, host, portNumber).Uri.ToString(),
            TokenProvider = token,
        };
        var ca = Path.Combine(directory, "ca.crt");
        if (File.Exists(ca)) result.SslCaCerts = Certificates(File.ReadAllBytes(ca));
        var ns = Path.Combine(directory, "namespace");
        if (File.Exists(ns)) result.Namespace = File.ReadAllText(ns).Trim();
        return result;
    }

    /// <summary>
    /// The client configuration for <paramref name="path"/>, else the file named by <c>KUBECONFIG</c>, else
    /// <c>~/.kube/config</c>; <paramref name="currentContext"/> overrides the file's <c>current-context</c>.
    /// </summary>
    /// <exception cref="KubeConfigException">The file is missing, is not a kubeconfig, or its context is incomplete.</exception>
    public static KubernetesClientConfiguration Load(string? path = null, string? currentContext = null)
        => Build(Read(ResolvePath(path, Environment.GetEnvironmentVariable)), currentContext);

    /// <summary>The configuration of one context of a parsed kubeconfig (its own <c>current-context</c> unless named).</summary>
    internal static KubernetesClientConfiguration Build(K8SConfiguration config, string? currentContext = null)
    {
        var source = config.FileName ?? "the kubeconfig";
        var name = currentContext ?? config.CurrentContext
            ?? throw new KubeConfigException($"{source} has no current-context; set one (kubectl config use-context) or name a context");
        var context = config.Contexts?.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new KubeConfigException($"context {name} not found in {source}");
        var details = context.ContextDetails;
        if (string.IsNullOrEmpty(details?.Cluster)) throw new KubeConfigException($"context {name} in {source} names no cluster");
        var cluster = config.Clusters?.FirstOrDefault(c => string.Equals(c.Name, details.Cluster, StringComparison.OrdinalIgnoreCase))?.ClusterEndpoint
            ?? throw new KubeConfigException($"cluster {details.Cluster} (context {name}) not found in {source}");
        if (string.IsNullOrWhiteSpace(cluster.Server)) throw new KubeConfigException($"cluster {details.Cluster} in {source} has no server");
        if (!Uri.TryCreate(cluster.Server, UriKind.Absolute, out var server))
            throw new KubeConfigException($"cluster {details.Cluster} in {source}: server {cluster.Server} is not an absolute URL");

        var result = new KubernetesClientConfiguration
        {
            Namespace = details.Namespace,
            Host = cluster.Server,
            SkipTlsVerify = cluster.SkipTlsVerify,
            TlsServerName = cluster.TlsServerName,
        };
        SetCurrentContext(result, context.Name);
        // A server bound to all interfaces is reached on loopback (as the client does).
        if (IPAddress.TryParse(server.Host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
            result.Host = new UriBuilder(server) { Host = ip.Equals(IPAddress.Any) ? "127.0.0.1" : "[::1]" }.Uri.ToString();
        if (server.Scheme == Uri.UriSchemeHttps)
        {
            if (!string.IsNullOrEmpty(cluster.CertificateAuthorityData)) result.SslCaCerts = Certificates(Convert.FromBase64String(cluster.CertificateAuthorityData));
            else if (!string.IsNullOrEmpty(cluster.CertificateAuthority)) result.SslCaCerts = Certificates(File.ReadAllBytes(FullPath(config, cluster.CertificateAuthority)));
        }
        if (!string.IsNullOrWhiteSpace(details.User)) SetUser(result, config, details.User, cluster, source);
        return result;
    }

    private static void SetUser(KubernetesClientConfiguration result, K8SConfiguration config, string userName, ClusterEndpoint cluster, string source)
    {
        var user = config.Users?.FirstOrDefault(u => string.Equals(u.Name, userName, StringComparison.OrdinalIgnoreCase))
            ?? throw new KubeConfigException($"user {userName} not found in {source}");
        var c = user.UserCredentials ?? throw new KubeConfigException($"user {userName} in {source} has no credentials");
        var found = false;
        // Bearer token and basic auth exclude each other; either may come with a client certificate.
        if (!string.IsNullOrWhiteSpace(c.Token)) (result.AccessToken, found) = (c.Token, true);
        else if (!string.IsNullOrWhiteSpace(c.UserName) && !string.IsNullOrWhiteSpace(c.Password))
            (result.Username, result.Password, found) = (c.UserName, c.Password, true);
        if (!string.IsNullOrWhiteSpace(c.ClientCertificateData) && !string.IsNullOrWhiteSpace(c.ClientKeyData))
            (result.ClientCertificateData, result.ClientCertificateKeyData, found) = (c.ClientCertificateData, c.ClientKeyData, true);
        if (!string.IsNullOrWhiteSpace(c.ClientCertificate) && !string.IsNullOrWhiteSpace(c.ClientKey))
            (result.ClientCertificateFilePath, result.ClientKeyFilePath, found) = (FullPath(config, c.ClientCertificate), FullPath(config, c.ClientKey), true);
        if (c.AuthProvider is { } provider)
        {
            if (provider.Name == "oidc" && provider.Config?.GetValueOrDefault("id-token") is { Length: > 0 } idToken) (result.AccessToken, found) = (idToken, true);
            else if (provider.Name is "gcp" or "azure")
                throw new KubeConfigException($"user {userName} in {source}: the {provider.Name} auth provider was removed from Kubernetes clients (kubectl 1.26); " +
                    $"use its exec plugin instead ({(provider.Name == "gcp" ? "gke-gcloud-auth-plugin" : "kubelogin")})");
        }
        if (c.ExternalExecution is { } exec)
        {
            if (string.IsNullOrWhiteSpace(exec.Command)) throw new KubeConfigException($"user {userName} in {source}: exec needs a command");
            if (string.IsNullOrWhiteSpace(exec.ApiVersion)) throw new KubeConfigException($"user {userName} in {source}: exec needs an apiVersion");
            // Run once now, as kubectl does: a plugin that cannot log in fails here, naming itself, not at the first request.
            var plugin = new ExecCredentialProvider(exec, cluster);
            var status = plugin.Current();
            if (status.ClientCertificateData is { } certPem && status.ClientKeyData is { } keyPem)
            {
                // The client reads certificate data base64-encoded, as a kubeconfig holds it; plugins return PEM text.
                result.ClientCertificateData = Convert.ToBase64String(Encoding.ASCII.GetBytes(certPem));
                result.ClientCertificateKeyData = Convert.ToBase64String(Encoding.ASCII.GetBytes(keyPem));
            }
            if (status.Token is not null) result.TokenProvider = plugin;
            found = true;
        }
        if (!found) throw new KubeConfigException($"user {userName} in {source} has no credentials this client supports (token, client certificate, username/password, exec)");
    }

    // The client sets it only from its own loader (private setter); an accessor, not reflection, so AOT keeps it.
    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Method, Name = "set_CurrentContext")]
    private static extern void SetCurrentContext(KubernetesClientConfiguration config, string? value);

    /// <summary>A CA bundle: PEM (one or more certificates) or a single DER certificate.</summary>
    private static X509Certificate2Collection Certificates(byte[] data)
    {
        var certs = new X509Certificate2Collection();
        var text = Encoding.ASCII.GetString(data);
        if (text.Contains("-----BEGIN", StringComparison.Ordinal)) certs.ImportFromPem(text);
        else certs.Add(X509CertificateLoader.LoadCertificate(data));
        return certs;
    }

    /// <summary>Relative paths in a kubeconfig are relative to the file.</summary>
    private static string FullPath(K8SConfiguration config, string path)
        => Path.IsPathRooted(path) || config.FileName is null ? path : Path.Combine(Path.GetDirectoryName(config.FileName)!, path);

    /// <summary>Which file <see cref="Load"/> reads (as <c>BuildConfigFromConfigFile(KUBECONFIG)</c> did: one path, not a list).</summary>
    internal static string ResolvePath(string? path, Func<string, string?> environment)
    {
        if (!string.IsNullOrEmpty(path)) return path;
        if (environment("KUBECONFIG") is { Length: > 0 } fromEnv) return fromEnv;
        return KubernetesClientConfiguration.KubeConfigDefaultLocation;
    }

    /// <summary>Parses the file; relative certificate and key paths in it resolve against its directory.</summary>
    internal static K8SConfiguration Read(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists) throw new KubeConfigException($"kubeconfig file not found at {file.FullName}");
        using var reader = file.OpenText();
        var config = Parse(reader, file.FullName);
        config.FileName = file.FullName;
        return config;
    }

    internal static K8SConfiguration Parse(TextReader reader, string source = "kubeconfig")
    {
        var yaml = new YamlStream();
        try
        {
            yaml.Load(reader);
        }
        catch (YamlException e)
        {
            throw new KubeConfigException($"{source} is not valid YAML: {e.Message}");
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new KubeConfigException($"{source} is not a kubeconfig (expected a mapping at the top)");

        return new K8SConfiguration
        {
            ApiVersion = Str(root, "apiVersion"),
            Kind = Str(root, "kind"),
            CurrentContext = Str(root, "current-context"),
            Clusters = Named(root, "clusters", "cluster", (name, c) => new Cluster
            {
                Name = name,
                ClusterEndpoint = c is null ? null : new ClusterEndpoint
                {
                    Server = Str(c, "server"),
                    CertificateAuthority = Str(c, "certificate-authority"),
                    CertificateAuthorityData = Str(c, "certificate-authority-data"),
                    TlsServerName = Str(c, "tls-server-name"),
                    SkipTlsVerify = Bool(c, "insecure-skip-tls-verify"),
                },
            }),
            Users = Named(root, "users", "user", (name, u) => new User { Name = name, UserCredentials = u is null ? null : Credentials(u) }),
            Contexts = Named(root, "contexts", "context", (name, c) => new Context
            {
                Name = name,
                ContextDetails = c is null ? null : new ContextDetails
                {
                    Cluster = Str(c, "cluster"),
                    User = Str(c, "user"),
                    Namespace = Str(c, "namespace"),
                },
            }),
        };
    }

    private static UserCredentials Credentials(YamlMappingNode u) => new()
    {
        ClientCertificateData = Str(u, "client-certificate-data"),
        ClientCertificate = Str(u, "client-certificate"),
        ClientKeyData = Str(u, "client-key-data"),
        ClientKey = Str(u, "client-key"),
        Token = Str(u, "token"),
        Impersonate = Str(u, "as"),
        ImpersonateGroups = Strings(u, "as-groups") ?? [],
        ImpersonateUserExtra = StringMap(u, "as-user-extra") ?? [],
        UserName = Str(u, "username"),
        Password = Str(u, "password"),
        AuthProvider = Child(u, "auth-provider") is { } a ? new AuthProvider { Name = Str(a, "name"), Config = StringMap(a, "config") } : null,
        ExternalExecution = Child(u, "exec") is { } x
            ? new ExternalExecution
            {
                ApiVersion = Str(x, "apiVersion"),
                Command = Str(x, "command"),
                Arguments = Strings(x, "args"),
                EnvironmentVariables = Items(x, "env").OfType<YamlMappingNode>().Select(e => ToStringMap(e)).ToList(),
                InstallHint = Str(x, "installHint"),
                ProvideClusterInfo = Bool(x, "provideClusterInfo"),
            }
            : null,
    };

    /// <summary>A kubeconfig list of <c>{name: ..., &lt;field&gt;: {...}}</c> entries.</summary>
    private static List<T> Named<T>(YamlMappingNode root, string list, string field, Func<string?, YamlMappingNode?, T> build)
        => Items(root, list).OfType<YamlMappingNode>().Select(e => build(Str(e, "name"), Child(e, field))).ToList();

    private static IEnumerable<YamlNode> Items(YamlMappingNode map, string key)
        => map.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlSequenceNode seq ? seq.Children : [];

    private static YamlMappingNode? Child(YamlMappingNode map, string key)
        => map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node as YamlMappingNode : null;

    private static string? Str(YamlMappingNode map, string key)
        => map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? Scalar(node) : null;

    /// <summary>A scalar's text; YAML's null (<c>~</c>, <c>null</c>, nothing) is null.</summary>
    private static string? Scalar(YamlNode node) => node is YamlScalarNode s
        && !(s.Style == ScalarStyle.Plain && (string.IsNullOrEmpty(s.Value) || s.Value is "~" or "null" or "Null" or "NULL"))
        ? s.Value
        : null;

    private static bool Bool(YamlMappingNode map, string key) => bool.TryParse(Str(map, key), out var b) && b;

    private static List<string>? Strings(YamlMappingNode map, string key)
        => map.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlSequenceNode seq
            ? seq.Children.Select(Scalar).OfType<string>().ToList()
            : null;

    private static Dictionary<string, string>? StringMap(YamlMappingNode map, string key)
        => Child(map, key) is { } m ? ToStringMap(m) : null;

    private static Dictionary<string, string> ToStringMap(YamlMappingNode map)
    {
        var result = new Dictionary<string, string>();
        foreach (var (k, v) in map.Children)
            if (Scalar(k) is { } name) result[name] = Scalar(v)!;
        return result;
    }
}

/// <summary>
/// A client-go exec credential plugin (<c>users[].user.exec</c>): runs the command with <c>KUBERNETES_EXEC_INFO</c>,
/// reads the <c>ExecCredential</c> it prints, and serves its token until <c>expirationTimestamp</c>, then runs it again.
/// A credential without an expiry is kept for the life of the process, as client-go does.
/// </summary>
public sealed class ExecCredentialProvider(ExternalExecution exec, ClusterEndpoint? cluster = null, TimeProvider? time = null) : ITokenProvider, IDisposable
{
    /// <summary>A plugin that has not answered by then is stuck (waiting for input nobody will type, or the network).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ExecCredentialStatus? _status;

    public async Task<AuthenticationHeaderValue> GetAuthenticationHeaderAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { return new AuthenticationHeaderValue("Bearer", Current().Token); }
        finally { _gate.Release(); }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>The credential, running the plugin when there is none yet or it expires within 10 s.</summary>
    internal ExecCredentialStatus Current()
    {
        if (_status is { } s && (s.ExpirationTimestamp is not { } expires || expires - _time.GetUtcNow() > TimeSpan.FromSeconds(10))) return s;
        return _status = Run();
    }

    private ExecCredentialStatus Run()
    {
        var psi = new ProcessStartInfo(exec.Command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in exec.Arguments ?? []) psi.ArgumentList.Add(a);
        foreach (var e in exec.EnvironmentVariables ?? [])
            if (e.TryGetValue("name", out var n) && !string.IsNullOrEmpty(n)) psi.Environment[n] = e.GetValueOrDefault("value") ?? "";
        psi.Environment["KUBERNETES_EXEC_INFO"] = ExecInfo();
        Process process;
        try { process = Process.Start(psi) ?? throw new InvalidOperationException("no process"); }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new KubeConfigException($"exec plugin {exec.Command} could not be started ({e.Message}){(string.IsNullOrEmpty(exec.InstallHint) ? "" : ": " + exec.InstallHint)}");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                throw new KubeConfigException($"exec plugin {exec.Command} did not answer within {Timeout.TotalSeconds:0} s");
            }
            if (process.ExitCode != 0)
                throw new KubeConfigException($"exec plugin {exec.Command} exited with {process.ExitCode}: {Shorten(stderr.Result)}");
            ExecCredential? credential;
            try { credential = JsonSerializer.Deserialize(stdout.Result, ExecCredentialJsonContext.Default.ExecCredential); }
            catch (JsonException e) { throw new KubeConfigException($"exec plugin {exec.Command} printed no ExecCredential: {e.Message}"); }
            if (credential?.Status is not { } status || (status.Token is null && status.ClientCertificateData is null))
                throw new KubeConfigException($"exec plugin {exec.Command} printed an ExecCredential without status.token or status.clientCertificateData");
            if (credential.ApiVersion != exec.ApiVersion)
                throw new KubeConfigException($"exec plugin {exec.Command} answered in {credential.ApiVersion}, not {exec.ApiVersion} as the kubeconfig asks");
            return status;
        }
    }

    /// <summary>What the plugin is told: never interactive (an operator has no terminal), and the cluster when asked for.</summary>
    private string ExecInfo()
    {
        var info = new ExecCredential
        {
            ApiVersion = exec.ApiVersion,
            Kind = "ExecCredential",
            Spec = new ExecCredentialSpec
            {
                Interactive = false,
                Cluster = exec.ProvideClusterInfo && cluster is not null
                    ? new ExecClusterInfo
                    {
                        Server = cluster.Server, TlsServerName = cluster.TlsServerName, InsecureSkipTlsVerify = cluster.SkipTlsVerify,
                        CertificateAuthorityData = cluster.CertificateAuthorityData,
                    }
                    : null,
            },
        };
        return JsonSerializer.Serialize(info, ExecCredentialJsonContext.Default.ExecCredential);
    }

    private static string Shorten(string s) => s.Length <= 500 ? s.Trim() : s[..500].Trim() + "…";
}

/// <summary>
/// A projected ServiceAccount token: the kubelet replaces the file (an atomic symlink swap) well before the old token
/// expires, and a bound token may be revoked, so it is read again when it changes. Checking the file costs one read
/// of a small file, at most every <see cref="RecheckAfter"/>.
/// </summary>
public sealed class ServiceAccountTokenFile(string path, TimeProvider? time = null) : ITokenProvider
{
    public static readonly TimeSpan RecheckAfter = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private string? _token;
    private long _readAt;

    public string Path { get; } = path;

    public Task<AuthenticationHeaderValue> GetAuthenticationHeaderAsync(CancellationToken cancellationToken)
        => Task.FromResult(new AuthenticationHeaderValue("Bearer", Current()));

    internal string Current()
    {
        lock (_gate)
        {
            if (_token is null || _time.GetElapsedTime(_readAt) >= RecheckAfter)
            {
                // A read that fails mid-swap keeps the last token rather than sending none.
                try { _token = Read(); }
                catch (Exception e) when (_token is not null && e is IOException or UnauthorizedAccessException or KubeConfigException) { }
                _readAt = _time.GetTimestamp();
            }
            return _token!;
        }
    }

    internal string Read()
    {
        string text;
        try { text = File.ReadAllText(Path).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException($"cannot read the ServiceAccount token {Path}: {e.Message}");
        }
        if (text.Length == 0) throw new KubeConfigException($"the ServiceAccount token {Path} is empty");
        return text;
    }
}

/// <summary>The client.authentication.k8s.io ExecCredential, as much of it as the exchange uses.</summary>
public sealed class ExecCredential
{
    public string? ApiVersion { get; set; }
    public string? Kind { get; set; }
    public ExecCredentialSpec? Spec { get; set; }
    public ExecCredentialStatus? Status { get; set; }
}

public sealed class ExecCredentialSpec
{
    public bool Interactive { get; set; }
    public ExecClusterInfo? Cluster { get; set; }
}

public sealed class ExecClusterInfo
{
    public string? Server { get; set; }
    public string? TlsServerName { get; set; }
    public bool InsecureSkipTlsVerify { get; set; }
    /// <summary>Base64, as in the kubeconfig.</summary>
    public string? CertificateAuthorityData { get; set; }
}

public sealed class ExecCredentialStatus
{
    public string? Token { get; set; }
    public DateTimeOffset? ExpirationTimestamp { get; set; }
    /// <summary>PEM text (not base64).</summary>
    public string? ClientCertificateData { get; set; }
    public string? ClientKeyData { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ExecCredential))]
internal sealed partial class ExecCredentialJsonContext : JsonSerializerContext;
