namespace ConnectOperator.Confluent;

public enum DriftKind
{
    /// <summary>Desired has the key, remote does not.</summary>
    Added,
    /// <summary>Both have it with different values.</summary>
    Changed,
    /// <summary>Remote still has a key the operator sent before and no longer sends.</summary>
    Removed,
}

/// <summary>One differing key. Values are null for sensitive keys (see <see cref="ConfigRedactor"/>).</summary>
public sealed record ConfigDifference(string Key, DriftKind Kind, string? DesiredValue, string? RemoteValue)
{
    public override string ToString() => Kind switch
    {
        DriftKind.Added => $"+{Key}",
        DriftKind.Removed => $"-{Key}",
        _ => $"~{Key}",
    };
}

public sealed record ConfigDriftResult(IReadOnlyList<ConfigDifference> Differences)
{
    public bool HasDrift => Differences.Count > 0;
    public IEnumerable<string> Keys => Differences.Select(d => d.Key);
    public override string ToString() => HasDrift ? string.Join(", ", Differences) : "no drift";
}

/// <summary>
/// Compares the config the operator owns with the remote config (from the poll). Ownership, not a list of names, decides
/// what is compared: Confluent adds keys to every connector's config that nobody sent, the set differs by class and
/// grows without notice (Terraform provider issues #307 and #944 are drift loops from exactly that), so a key the
/// operator never sent is never drift, whatever it is called. Owned keys are the ones it sends now (plain and secret)
/// and the ones it sent before (<c>previouslyApplied</c>, kept in status so a restart does not forget them): a key
/// it stopped sending but that is still there remotely is drift, and the next full-config PUT removes it.
/// </summary>
/// <remarks>
/// Secret values cannot be compared (reads mask them, and the operator must not keep them): a secret key is drift
/// only when it is missing remotely; a change of its source is seen by version (the config hash), not here.
/// </remarks>
public static class ConfigDrift
{
    /// <summary>
    /// Documentation only, never the decision: keys Confluent was seen adding to connector configs (recorded responses,
    /// the Terraform provider's server-managed list, provider issues). Used to explain a difference in messages.
    /// </summary>
    public static readonly IReadOnlySet<string> KnownServerKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "cloud.environment", "cloud.provider", "kafka.endpoint", "kafka.region", "kafka.max.partition.validation.disable",
        "confluent.custom.plugin.type", "confluent.resource.connector.tier", "connector.crn", "kafka.dedicated",
        "schema.registry.url", "valid.kafka.api.key",
    };

    /// <param name="desired">The plain (non-secret) config the operator sends now.</param>
    /// <param name="remote">Config as read from the API (secrets masked, server keys added).</param>
    /// <param name="secretKeys">Keys the operator sends with values from Secrets: owned, but only their presence is compared.</param>
    /// <param name="previouslyApplied">Keys the operator sent with its last write (status), so that one it stopped sending is removed.</param>
    /// <param name="redactor">Decides which keys' values are withheld from the result; default <see cref="ConfigRedactor.Default"/>.</param>
    public static ConfigDriftResult Compare(
        IReadOnlyDictionary<string, string> desired,
        IReadOnlyDictionary<string, string> remote,
        IReadOnlyCollection<string>? secretKeys = null,
        IReadOnlyCollection<string>? previouslyApplied = null,
        ConfigRedactor? redactor = null)
    {
        redactor ??= ConfigRedactor.Default;
        var secrets = secretKeys ?? [];
        var diffs = new List<ConfigDifference>();

        foreach (var (key, want) in desired)
        {
            var sensitive = redactor.IsSensitiveKey(key);
            if (!remote.TryGetValue(key, out var have))
            {
                diffs.Add(new ConfigDifference(key, DriftKind.Added, sensitive ? null : want, null));
                continue;
            }
            if (ConfigRedactor.IsMasked(have)) continue; // cannot compare a masked value
            if (!string.Equals(want, have, StringComparison.Ordinal))
                diffs.Add(new ConfigDifference(key, DriftKind.Changed, sensitive ? null : want, sensitive ? null : have));
        }

        foreach (var key in secrets)
            if (!desired.ContainsKey(key) && !remote.ContainsKey(key))
                diffs.Add(new ConfigDifference(key, DriftKind.Added, null, null));

        if (previouslyApplied != null)
            foreach (var key in previouslyApplied)
            {
                if (desired.ContainsKey(key) || secrets.Contains(key) || !remote.TryGetValue(key, out var have)) continue;
                diffs.Add(new ConfigDifference(key, DriftKind.Removed, null, redactor.IsSensitiveKey(key) || ConfigRedactor.IsMasked(have) ? null : have));
            }

        diffs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new ConfigDriftResult(diffs);
    }
}
