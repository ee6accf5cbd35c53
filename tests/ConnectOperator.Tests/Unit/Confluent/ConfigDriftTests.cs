using ConnectOperator.Confluent;

namespace ConnectOperator.Tests.Unit.Confluent;

public class ConfigDriftTests
{
    private static Dictionary<string, string> Desired() => new()
    {
        ["name"] = "c1", ["connector.class"] = "PostgresCdcSource", ["tasks.max"] = "1", ["topic.prefix"] = "p",
    };

    private static readonly string[] Secrets = ["database.password", "kafka.api.secret"];

    private static Dictionary<string, string> Remote() => new()
    {
        ["name"] = "c1", ["connector.class"] = "PostgresCdcSource", ["database.password"] = "****************", ["kafka.api.secret"] = "****************",
        ["tasks.max"] = "1", ["topic.prefix"] = "p",
        ["cloud.environment"] = "prod", ["cloud.provider"] = "aws", ["kafka.endpoint"] = "SASL_SSL://x:9092", ["kafka.region"] = "us-west-2",
        ["kafka.max.partition.validation.disable"] = "false",
    };

    [Test]
    public void Masked_values_and_keys_the_operator_never_sent_are_not_drift()
    {
        var result = ConfigDrift.Compare(Desired(), Remote(), Secrets);
        Assert.That(result.HasDrift, Is.False, result.ToString());
    }

    [Test]
    public void A_key_with_a_name_nobody_can_predict_is_not_drift([Values("x9f.q7", "config.internal.zz", "snapshot.mode", "topic.prefix.extra")] string key)
    {
        var remote = Remote();
        remote[key] = Guid.NewGuid().ToString();
        Assert.That(ConfigDrift.Compare(Desired(), remote, Secrets, previouslyApplied: [.. Desired().Keys, .. Secrets]).HasDrift, Is.False);
    }

    [Test]
    public void Changed_and_added_owned_keys_are_reported()
    {
        var desired = Desired();
        desired["tasks.max"] = "2";          // changed
        desired["poll.interval.ms"] = "100"; // added
        var result = ConfigDrift.Compare(desired, Remote(), Secrets);
        Assert.That(result.Differences.Select(d => (d.Key, d.Kind)), Is.EquivalentTo(new[]
        {
            ("tasks.max", DriftKind.Changed), ("poll.interval.ms", DriftKind.Added),
        }));
        var changed = result.Differences.Single(d => d.Key == "tasks.max");
        Assert.That((changed.DesiredValue, changed.RemoteValue), Is.EqualTo(("2", "1")));
    }

    [Test]
    public void A_key_the_operator_sent_and_stopped_sending_is_removed_but_only_if_it_sent_it()
    {
        var remote = Remote();
        remote["poll.interval.ms"] = "100";
        var before = new[] { "name", "connector.class", "tasks.max", "topic.prefix", "poll.interval.ms" };
        var d = ConfigDrift.Compare(Desired(), remote, Secrets, previouslyApplied: before).Differences.Single();
        Assert.That((d.Key, d.Kind, d.RemoteValue), Is.EqualTo(("poll.interval.ms", DriftKind.Removed, "100")));
        Assert.That(ConfigDrift.Compare(Desired(), remote, Secrets, previouslyApplied: Desired().Keys.ToList()).HasDrift, Is.False);
    }

    [Test]
    public void Sensitive_values_are_withheld_from_differences()
    {
        var desired = Desired();
        desired["auth.token"] = "tok-123";        // added, sensitive
        desired["database.user"] = "u";
        var remote = Remote();
        remote["auth.token.x"] = "plain-remote";
        remote["database.user"] = "****************"; // masked: cannot be compared
        var result = ConfigDrift.Compare(desired, remote, Secrets, previouslyApplied: ["auth.token.x"]);
        Assert.That(result.Keys, Is.EquivalentTo(new[] { "auth.token", "auth.token.x" }));
        Assert.That(result.Differences.All(d => d.DesiredValue == null && d.RemoteValue == null), Is.True);
        Assert.That(result.ToString(), Does.Not.Contain("tok-123").And.Not.Contain("plain-remote"));
    }

    [Test]
    public void Missing_remote_secret_is_drift()
    {
        var remote = Remote();
        remote.Remove("kafka.api.secret");
        var d = ConfigDrift.Compare(Desired(), remote, Secrets).Differences.Single();
        Assert.That((d.Key, d.Kind, d.DesiredValue), Is.EqualTo(("kafka.api.secret", DriftKind.Added, (string?)null)));
    }
}
