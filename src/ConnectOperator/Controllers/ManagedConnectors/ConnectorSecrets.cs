using System.Collections.Concurrent;
using ConnectOperator.Confluent;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using k8s.Models;

namespace ConnectOperator.Controllers.ManagedConnectors;

/// <summary>
/// The Secrets behind spec.secretConfig. Only Secrets in the connector's own namespace are ever read, so a connector
/// can never reach another department's. The cache keeps their keys and versions, never values; values are read from
/// the API server when a write needs them, and kept (by config hash) only to remove them from text Confluent sends
/// back (traces, task messages, error messages that echo the config) before that text reaches status, an Event or a
/// log line. By value, not by key name: a secret under a plain name, or a three-character one, is still a secret.
/// </summary>
public sealed class ConnectorSecrets(KubeApiClient api, NamespacedInformers<V1Secret> secrets)
{
    private readonly ConcurrentDictionary<string, (string Hash, string[] Values)> _values = new(StringComparer.Ordinal);

    /// <summary>Whether the operator may read Secrets in the namespace yet (its RoleBinding there is in place).</summary>
    public bool IsReadable(string @namespace) => secrets.IsVisible(@namespace);

    /// <summary>Per secretConfig key, the version of its Secret (uid/resourceVersion), from the cache; or what is missing.</summary>
    public (IReadOnlyDictionary<string, string>? Versions, string? Error) Versions(V1Alpha1ManagedConnector mc)
    {
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in mc.Spec.SecretConfig)
        {
            var secret = secrets.Get(mc.Metadata.NamespaceProperty, entry.SecretKeyRef.Name);
            if (secret is null) return (null, SecretMissing(mc, entry));
            if (secret.Data?.ContainsKey(entry.SecretKeyRef.Key) != true && secret.StringData?.ContainsKey(entry.SecretKeyRef.Key) != true)
                return (null, KeyMissing(mc, entry));
            versions[entry.Key] = $"{secret.Metadata.Uid}/{secret.Metadata.ResourceVersion}";
        }
        return (versions, null);
    }

    /// <summary>The config to send, with secret values read from the API server now. Never log it.</summary>
    /// <exception cref="SecretUnavailableException">A Secret or key vanished since the cache was read.</exception>
    public async Task<IReadOnlyDictionary<string, string>> RequestConfigAsync(V1Alpha1ManagedConnector mc, EffectiveConfig config, CancellationToken ct)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var read = new Dictionary<string, V1Secret?>(StringComparer.Ordinal);
        foreach (var entry in mc.Spec.SecretConfig.Where(e => config.SecretKeys.Contains(e.Key)))
        {
            if (!read.TryGetValue(entry.SecretKeyRef.Name, out var secret))
                read[entry.SecretKeyRef.Name] = secret = await api.TryGetAsync<V1Secret>(ResourceKind.Secret, mc.Metadata.NamespaceProperty, entry.SecretKeyRef.Name, ct).ConfigureAwait(false);
            if (secret is null) throw new SecretUnavailableException(SecretMissing(mc, entry));
            values[entry.Key] = CredentialsResolver.Value(secret, entry.SecretKeyRef.Key) ?? throw new SecretUnavailableException(KeyMissing(mc, entry));
        }
        _values[WriteExpectations.KeyOf(mc)] = (config.Hash, values.Values.ToArray());
        return config.WithSecretValues(values);
    }

    /// <summary>A scrubber for text from Confluent: the connector's secret values (read now if not yet known) and the API secret.</summary>
    public async Task<Func<string?, string?>> ScrubberAsync(V1Alpha1ManagedConnector mc, EffectiveConfig? config, ConnectCredentials credentials, CancellationToken ct)
    {
        var key = WriteExpectations.KeyOf(mc);
        if (config is { SecretKeys.Count: > 0 } && (!_values.TryGetValue(key, out var known) || known.Hash != config.Hash))
        {
            // After an operator restart, before any write: read them now, they are needed to scrub.
            try { await RequestConfigAsync(mc, config, ct).ConfigureAwait(false); }
            catch (SecretUnavailableException) { /* nothing readable, nothing to scrub beyond what is known */ }
        }
        return text => ScrubKnown(mc, text, credentials);
    }

    /// <summary>The same, with only the values already known (no reads): for error paths and suspended connectors.</summary>
    public string? ScrubKnown(V1Alpha1ManagedConnector mc, string? text, ConnectCredentials? credentials)
    {
        if (string.IsNullOrEmpty(text)) return text;
        var values = _values.TryGetValue(WriteExpectations.KeyOf(mc), out var v) ? v.Values : [];
        return ConfigRedactor.ScrubValues(text, credentials is null ? values : values.Append(credentials.ApiSecret));
    }

    public void Forget(string key) => _values.TryRemove(key, out _);

    private static string SecretMissing(V1Alpha1ManagedConnector mc, V1Alpha1SecretConfigEntry entry)
        => $"spec.secretConfig[{entry.Key}]: Secret {mc.Metadata.NamespaceProperty}/{entry.SecretKeyRef.Name} does not exist; create it in the connector's namespace";

    private static string KeyMissing(V1Alpha1ManagedConnector mc, V1Alpha1SecretConfigEntry entry)
        => $"spec.secretConfig[{entry.Key}]: Secret {mc.Metadata.NamespaceProperty}/{entry.SecretKeyRef.Name} has no key {entry.SecretKeyRef.Key}; add it or fix secretKeyRef.key";
}

/// <summary>A referenced Secret or key vanished between the cache check and the read: a person must fix it.</summary>
public sealed class SecretUnavailableException(string message) : Exception(message);
