using System.Text.Json.Serialization;
using k8s;
using k8s.Exceptions;
using k8s.KubeConfigModels;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Hosting;

/// <summary>
/// Reads a kubeconfig file into the client's <see cref="K8SConfiguration"/> model by walking the YAML tree, then lets
/// <see cref="KubernetesClientConfiguration.BuildConfigFromConfigObject"/> pick the context, cluster and credentials.
/// The client's own <c>BuildConfigFromConfigFile</c> goes through <c>KubernetesYaml</c>, whose static constructor reads
/// <c>PropertyInfo.MetadataToken</c>: NativeAOT has no metadata tokens, so it throws before reading a byte. This has no
/// reflection at all, so it works the same under JIT and AOT.
/// </summary>
public static class KubeConfigFile
{
    /// <summary>The in-cluster service account when running in a pod and no file is named; otherwise <see cref="Load"/>.</summary>
    public static KubernetesClientConfiguration InClusterOrLoad(string? path = null)
        => path is null && KubernetesClientConfiguration.IsInCluster() ? KubernetesClientConfiguration.InClusterConfig() : Load(path);

    /// <summary>
    /// The client configuration for <paramref name="path"/>, else the file named by <c>KUBECONFIG</c>, else
    /// <c>~/.kube/config</c>; <paramref name="currentContext"/> overrides the file's <c>current-context</c>.
    /// </summary>
    /// <exception cref="KubeConfigException">The file is missing, is not a kubeconfig, or its context is incomplete.</exception>
    public static KubernetesClientConfiguration Load(string? path = null, string? currentContext = null)
    {
        var config = Read(ResolvePath(path, Environment.GetEnvironmentVariable));
        if (config.Users.Any(u => u.UserCredentials?.ExternalExecution is not null)) _ = ExecInfoJsonContext.Default.DictionaryStringBoolean;
        return KubernetesClientConfiguration.BuildConfigFromConfigObject(config, currentContext);
    }

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
/// For exec credential plugins, KubernetesClient passes <c>KUBERNETES_EXEC_INFO</c> to the plugin: a
/// <c>Dictionary&lt;string, object&gt;</c> holding a <c>Dictionary&lt;string, bool&gt;</c>, serialized with reflection-based
/// System.Text.Json. Under NativeAOT that needs the dictionary converter instantiated over <c>bool</c> compiled ahead of
/// time, and nothing in the client makes the compiler emit it; this context's metadata does (<see cref="KubeConfigFile.Load"/>
/// touches it whenever a user has an exec plugin).
/// </summary>
[JsonSerializable(typeof(Dictionary<string, bool>))]
[JsonSerializable(typeof(Dictionary<string, object>))]
internal sealed partial class ExecInfoJsonContext : JsonSerializerContext;
