using ConnectOperator.Confluent;
using System.Security.Cryptography;
using System.Text;
using ConnectOperator.Entities;

namespace ConnectOperator.Controllers.ManagedConnectors;

/// <summary>
/// The config the operator sends to Confluent for one ManagedConnector: the user's config and secret values, plus
/// the keys the operator owns (name, class, tasks, Kafka auth from the Department, the custom plugin keys). Built from Secret versions only:
/// the values are read when a write needs them (<see cref="WithSecretValues"/>), so the cache never holds them.
/// </summary>
public sealed class EffectiveConfig
{
    public const string AuthModeKey = "kafka.auth.mode";
    public const string ServiceAccountKey = "kafka.service.account.id";
    public const string ServiceAccountMode = "SERVICE_ACCOUNT";

    private EffectiveConfig(string remoteName, IReadOnlyDictionary<string, string> plainConfig, IReadOnlyCollection<string> secretKeys, string hash)
    {
        RemoteName = remoteName;
        PlainConfig = plainConfig;
        SecretKeys = secretKeys;
        Hash = hash;
    }

    /// <summary>The connector's name in Confluent.</summary>
    public string RemoteName { get; }

    /// <summary>The part without secret values: what a drift check compares, since Confluent masks secrets on read.</summary>
    public IReadOnlyDictionary<string, string> PlainConfig { get; }

    /// <summary>The spec.secretConfig keys (reserved keys excluded), whose values come from Secrets.</summary>
    public IReadOnlyCollection<string> SecretKeys { get; }

    /// <summary>Every key a write sends (plain and secret), sorted: what status records as applied.</summary>
    public IReadOnlyList<string> AppliedKeys => PlainConfig.Keys.Concat(SecretKeys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Changes whenever the config or a referenced Secret changes; holds no secret material.</summary>
    public string Hash { get; }

    /// <summary><c>{prefix}.{namespace}.{name}</c>; why it is unique: <see cref="Policy.ConnectorNaming"/>.</summary>
    public static string RemoteNameFor(V1Alpha1Department department, string @namespace, string name)
        => Policy.ConnectorNaming.RemoteName(string.IsNullOrEmpty(department.Spec.ConnectorNamePrefix) ? department.Metadata.Name : department.Spec.ConnectorNamePrefix, @namespace, name);

    /// <param name="secretVersions">Per secretConfig key, a version of its source Secret (e.g. uid and resourceVersion).</param>
    public static EffectiveConfig Build(V1Alpha1ManagedConnector connector, V1Alpha1Department department, IReadOnlyDictionary<string, string> secretVersions)
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
        if (connector.Spec.CustomPlugin is { Id: { Length: > 0 } pluginId })
        {
            plain[ConnectApi.CustomConnectorTypeKey] = ConnectApi.CustomConnectorType;
            plain[ConnectApi.CustomPluginIdKey] = pluginId;
        }

        var hash = new StringBuilder();
        foreach (var (k, v) in plain) hash.Append(k).Append('=').Append(v).Append('\n');
        var secretKeys = new List<string>();
        foreach (var (k, version) in secretVersions.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (ConnectApi.ReservedConfigKeys.Contains(k)) continue;
            secretKeys.Add(k);
            // The version of the Secret, not its value: the hash must not let anyone brute-force a short password.
            hash.Append("secret:").Append(k).Append('@').Append(version).Append('\n');
        }
        var digest = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(hash.ToString()))).ToLowerInvariant();
        return new EffectiveConfig(name, plain, secretKeys, "sha256:" + digest[..32]);
    }

    /// <summary>
    /// The config as Confluent will read it back after a write: plain values, and secret keys masked as it masks them.
    /// What the poll snapshot records for a write, so the next pass sees every key it sent.
    /// </summary>
    public IReadOnlyDictionary<string, string> AsReadBack()
    {
        var all = new Dictionary<string, string>(PlainConfig, StringComparer.Ordinal);
        foreach (var k in SecretKeys) all[k] = ConfigRedactor.Masked;
        return all;
    }

    /// <summary>Everything sent with a create or PUT config, secret values included. Never log it.</summary>
    public IReadOnlyDictionary<string, string> WithSecretValues(IReadOnlyDictionary<string, string> secretValues)
    {
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in PlainConfig) all[k] = v;
        foreach (var k in SecretKeys)
            all[k] = secretValues.TryGetValue(k, out var v) ? v : throw new InvalidOperationException($"no value for spec.secretConfig[{k}]");
        return all;
    }
}
