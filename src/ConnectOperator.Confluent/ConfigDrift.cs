namespace ConnectOperator.Confluent;

public enum DriftKind
{
    /// <summary>Desired has the key, remote does not.</summary>
    Added,
    /// <summary>Both have it with different values.</summary>
    Changed,
    /// <summary>Remote has a (user-level) key that desired does not.</summary>
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
/// Compares desired config (what the operator would PUT) with the remote config (GET …/config), ignoring what the
/// server changes by itself: masked values (<c>****…</c>) and keys the server adds. Without that every poll would
/// report a change (see Terraform provider issues #307/#944).
/// </summary>
public static class ConfigDrift
{
    /// <summary>Keys the server adds to every connector's config.</summary>
    public static readonly IReadOnlySet<string> ServerManagedKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "cloud.environment", "cloud.provider", "kafka.endpoint", "kafka.region", "connector.crn", "kafka.dedicated",
        "schema.registry.url", "valid.kafka.api.key",
        // Also seen on reads / set by the platform:
        "confluent.connector.type", "kafka.max.partition.validation.disable", "kafka.max.partition.validation.enable",
        "connector.id", "config.action.reload",
    };

    /// <summary>Key prefixes the server adds.</summary>
    public static readonly IReadOnlyList<string> ServerManagedPrefixes = ["config.internal."];

    public static bool IsServerManaged(string key, IEnumerable<string>? extraKeys = null, IEnumerable<string>? extraPrefixes = null) =>
        ServerManagedKeys.Contains(key) || ServerManagedPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal))
        || (extraKeys?.Contains(key) ?? false) || (extraPrefixes?.Any(p => key.StartsWith(p, StringComparison.Ordinal)) ?? false);

    /// <param name="desired">Config as the user wants it.</param>
    /// <param name="remote">Config as read from the API (secrets masked, server keys added).</param>
    /// <param name="redactor">Decides which keys' values are withheld from the result; default <see cref="ConfigRedactor.Default"/>.</param>
    /// <param name="extraIgnoredKeys">More server-managed keys to ignore.</param>
    /// <param name="extraIgnoredPrefixes">More server-managed prefixes to ignore.</param>
    public static ConfigDriftResult Compare(
        IReadOnlyDictionary<string, string> desired,
        IReadOnlyDictionary<string, string> remote,
        ConfigRedactor? redactor = null,
        IEnumerable<string>? extraIgnoredKeys = null,
        IEnumerable<string>? extraIgnoredPrefixes = null)
    {
        redactor ??= ConfigRedactor.Default;
        var extraKeys = extraIgnoredKeys?.ToHashSet(StringComparer.Ordinal);
        var extraPrefixes = extraIgnoredPrefixes?.ToList();
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

        foreach (var (key, have) in remote)
        {
            if (desired.ContainsKey(key)) continue;
            if (IsServerManaged(key, extraKeys, extraPrefixes)) continue;
            if (ConfigRedactor.IsMasked(have)) continue;
            diffs.Add(new ConfigDifference(key, DriftKind.Removed, null, redactor.IsSensitiveKey(key) ? null : have));
        }

        diffs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new ConfigDriftResult(diffs);
    }
}
