using System.Security.Cryptography;
using System.Text;
using ConnectOperator.Entities;

namespace ConnectOperator.Controllers.ManagedConnectors;

/// <summary>
/// The config the operator sends to Confluent for one ManagedConnector: the user's config and secret values, plus
/// the keys the operator owns (name, class, tasks, Kafka auth from the Department).
/// </summary>
public sealed class EffectiveConfig
{
    public const string AuthModeKey = "kafka.auth.mode";
    public const string ServiceAccountKey = "kafka.service.account.id";
    public const string ServiceAccountMode = "SERVICE_ACCOUNT";

    private EffectiveConfig(string remoteName, IReadOnlyDictionary<string, string> config, IReadOnlyDictionary<string, string> plainConfig, string hash)
    {
        RemoteName = remoteName;
        Config = config;
        PlainConfig = plainConfig;
        Hash = hash;
    }

    /// <summary>The connector's name in Confluent.</summary>
    public string RemoteName { get; }

    /// <summary>Everything sent with PUT config, secret values included. Never log it; use <see cref="PlainConfig"/>.</summary>
    public IReadOnlyDictionary<string, string> Config { get; }

    /// <summary>The part without secret values: what a drift check compares, since Confluent masks secrets on read.</summary>
    public IReadOnlyDictionary<string, string> PlainConfig { get; }

    /// <summary>Changes whenever the config or a referenced Secret changes; holds no secret material.</summary>
    public string Hash { get; }

    /// <summary>
    /// <c>{prefix}.{namespace}.{name}</c>. The prefix (department) and the namespace cannot contain dots, so two
    /// different ManagedConnectors can never map to one remote name, and the name never changes for an object.
    /// </summary>
    public static string RemoteNameFor(V1Alpha1Department department, string @namespace, string name)
        => $"{(string.IsNullOrEmpty(department.Spec.ConnectorNamePrefix) ? department.Metadata.Name : department.Spec.ConnectorNamePrefix)}.{@namespace}.{name}";

    /// <param name="secrets">The value of each secretConfig key, and a version of its source Secret (e.g. uid and resourceVersion).</param>
    public static EffectiveConfig Build(V1Alpha1ManagedConnector connector, V1Alpha1Department department,
        IReadOnlyDictionary<string, (string Value, string SourceVersion)> secrets)
    {
        var name = RemoteNameFor(department, connector.Metadata.NamespaceProperty, connector.Metadata.Name);
        var plain = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in connector.Spec.Config)
            if (!ConnectApi.ReservedConfigKeys.Contains(k)) plain[k] = v;   // the CRD rejects these; never trust one layer alone
        plain["name"] = name;
        plain["connector.class"] = connector.Spec.ConnectorClass;
        plain["tasks.max"] = connector.Spec.TasksMax.ToString(System.Globalization.CultureInfo.InvariantCulture);
        plain[AuthModeKey] = ServiceAccountMode;
        plain[ServiceAccountKey] = department.Spec.Confluent.ServiceAccountId;

        var all = new SortedDictionary<string, string>(plain, StringComparer.Ordinal);
        var hash = new StringBuilder();
        foreach (var (k, v) in plain) hash.Append(k).Append('=').Append(v).Append('\n');
        foreach (var (k, (value, version)) in secrets.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (ConnectApi.ReservedConfigKeys.Contains(k)) continue;
            all[k] = value;
            // The version of the Secret, not its value: the hash must not let anyone brute-force a short password.
            hash.Append("secret:").Append(k).Append('@').Append(version).Append('\n');
        }
        var digest = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(hash.ToString()))).ToLowerInvariant();
        return new EffectiveConfig(name, all, plain, "sha256:" + digest[..32]);
    }
}
