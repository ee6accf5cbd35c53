using ConnectOperator.Confluent;

namespace ConnectOperator.Tests.Unit.Confluent;

public class ConfigDriftTests
{
    private static Dictionary<string, string> Desired() => new()
    {
        ["name"] = "c1", ["connector.class"] = "PostgresCdcSource", ["database.password"] = "pw", ["kafka.api.secret"] = "s",
        ["tasks.max"] = "1", ["topic.prefix"] = "p",
    };

    private static Dictionary<string, string> Remote() => new()
    {
        ["name"] = "c1", ["connector.class"] = "PostgresCdcSource", ["database.password"] = "****************", ["kafka.api.secret"] = "****************",
        ["tasks.max"] = "1", ["topic.prefix"] = "p",
        ["cloud.environment"] = "prod", ["cloud.provider"] = "aws", ["kafka.endpoint"] = "SASL_SSL://x:9092", ["kafka.region"] = "us-west-2",
        ["connector.crn"] = "crn://…", ["kafka.dedicated"] = "false", ["schema.registry.url"] = "https://sr", ["valid.kafka.api.key"] = "true",
        ["config.internal.anything"] = "x",
    };

    [Test]
    public void Masked_and_server_added_keys_are_not_drift()
    {
        var result = ConfigDrift.Compare(Desired(), Remote());
        Assert.That(result.HasDrift, Is.False, result.ToString());
    }

    [Test]
    public void Changed_added_removed_are_reported()
    {
        var desired = Desired();
        desired["tasks.max"] = "2";          // changed
        desired["poll.interval.ms"] = "100"; // added
        var remote = Remote();
        remote["snapshot.mode"] = "never";   // removed (user-level key set out of band)
        var result = ConfigDrift.Compare(desired, remote);
        Assert.That(result.Differences.Select(d => (d.Key, d.Kind)), Is.EquivalentTo(new[]
        {
            ("tasks.max", DriftKind.Changed), ("poll.interval.ms", DriftKind.Added), ("snapshot.mode", DriftKind.Removed),
        }));
        var changed = result.Differences.Single(d => d.Key == "tasks.max");
        Assert.That((changed.DesiredValue, changed.RemoteValue), Is.EqualTo(("2", "1")));
    }

    [Test]
    public void Sensitive_values_are_withheld_from_differences()
    {
        var desired = Desired();
        desired["auth.token"] = "tok-123";        // added, sensitive
        var remote = Remote();
        remote["database.password"] = "plain-remote"; // unmasked but different: changed, values withheld
        var result = ConfigDrift.Compare(desired, remote);
        Assert.That(result.Keys, Is.EquivalentTo(new[] { "auth.token", "database.password" }));
        Assert.That(result.Differences.All(d => d.DesiredValue == null && d.RemoteValue == null), Is.True);
        Assert.That(result.ToString(), Does.Not.Contain("tok-123").And.Not.Contain("plain-remote").And.Not.Contain("pw"));
    }

    [Test]
    public void Extra_ignored_keys_and_prefixes()
    {
        var remote = Remote();
        remote["vendor.added"] = "1";
        remote["vendor.x.y"] = "2";
        Assert.That(ConfigDrift.Compare(Desired(), remote).Keys, Is.EquivalentTo(new[] { "vendor.added", "vendor.x.y" }));
        Assert.That(ConfigDrift.Compare(Desired(), remote, extraIgnoredKeys: ["vendor.added"], extraIgnoredPrefixes: ["vendor.x."]).HasDrift, Is.False);
    }

    [Test]
    public void Missing_remote_secret_is_drift()
    {
        var remote = Remote();
        remote.Remove("kafka.api.secret");
        var d = ConfigDrift.Compare(Desired(), remote).Differences.Single();
        Assert.That((d.Key, d.Kind, d.DesiredValue), Is.EqualTo(("kafka.api.secret", DriftKind.Added, (string?)null)));
    }
}
