using ConnectOperator.Controllers.ManagedConnectors;
using ConnectOperator.Entities;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Controllers;

public class EffectiveConfigTests
{
    private static V1Alpha1Department Dept(string? prefix = "fin") => new()
    {
        Metadata = new V1ObjectMeta { Name = "finance" },
        Spec = new V1Alpha1DepartmentSpec { ConnectorNamePrefix = prefix, Confluent = new V1Alpha1DepartmentConfluent { ServiceAccountId = "sa-123" } },
    };

    private static V1Alpha1ManagedConnector Mc(string ns = "payments", string name = "orders", params (string, string)[] config) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1Alpha1ManagedConnectorSpec { ConnectorClass = "DatagenSource", TasksMax = 3, Config = config.ToDictionary(c => c.Item1, c => c.Item2) },
    };

    private static readonly IReadOnlyDictionary<string, string> NoSecrets = new Dictionary<string, string>();

    [Test]
    public void Injects_the_keys_the_operator_owns()
    {
        var ec = EffectiveConfig.Build(Mc(config: ("kafka.topic", "finance.orders")), Dept(), NoSecrets);
        Assert.That(ec.RemoteName, Is.EqualTo("fin.payments.orders"));
        Assert.That(ec.PlainConfig, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["kafka.topic"] = "finance.orders", ["name"] = "fin.payments.orders", ["connector.class"] = "DatagenSource", ["tasks.max"] = "3",
            ["kafka.auth.mode"] = "SERVICE_ACCOUNT", ["kafka.service.account.id"] = "sa-123",
        }));
    }

    [Test]
    public void Reserved_keys_from_the_user_never_override_injected_ones()
    {
        var ec = EffectiveConfig.Build(Mc("payments", "orders", ("kafka.service.account.id", "sa-other"), ("kafka.api.key", "x")), Dept(),
            new Dictionary<string, string> { ["kafka.api.secret"] = "v1" });
        var sent = ec.WithSecretValues(new Dictionary<string, string> { ["kafka.api.secret"] = "s" });
        Assert.That(sent["kafka.service.account.id"], Is.EqualTo("sa-123"));
        Assert.That(sent.ContainsKey("kafka.api.key") || sent.ContainsKey("kafka.api.secret"), Is.False);
    }

    [Test]
    public void A_custom_plugin_adds_the_two_confluent_keys_and_config_cannot_override_them()
    {
        var mc = Mc(config: ("confluent.custom.plugin.id", "ccp-evil"));
        mc.Spec.CustomPlugin = new V1Alpha1CustomPluginRef { Id = "ccp-ledger01" };
        var ec = EffectiveConfig.Build(mc, Dept(), new Dictionary<string, string> { ["CONFLUENT.CONNECTOR.TYPE"] = "v1" });
        Assert.That(ec.PlainConfig["confluent.connector.type"], Is.EqualTo("CUSTOM"));
        Assert.That(ec.PlainConfig["confluent.custom.plugin.id"], Is.EqualTo("ccp-ledger01"));
        Assert.That(ec.SecretKeys, Is.Empty);
        Assert.That(EffectiveConfig.Build(Mc(), Dept(), NoSecrets).PlainConfig.Keys, Has.None.StartsWith("confluent."));
    }

    [Test]
    public void Department_name_is_the_prefix_when_none_is_set()
        => Assert.That(EffectiveConfig.RemoteNameFor(Dept(prefix: null), "ns", "c"), Is.EqualTo("finance.ns.c"));

    [Test]
    public void Different_objects_never_share_a_remote_name()
        => Assert.That(EffectiveConfig.RemoteNameFor(Dept(), "finance-dev", "x"), Is.Not.EqualTo(EffectiveConfig.RemoteNameFor(Dept(), "finance", "dev-x")));

    [Test]
    public void Secrets_are_in_the_config_but_not_in_the_plain_config_or_the_hash()
    {
        const string canary = "canary-P@ssw0rd-7731";
        var ec = EffectiveConfig.Build(Mc(), Dept(), new Dictionary<string, string> { ["database.password"] = "uid1/42" });
        Assert.That(ec.WithSecretValues(new Dictionary<string, string> { ["database.password"] = canary })["database.password"], Is.EqualTo(canary));
        Assert.That(ec.PlainConfig.ContainsKey("database.password"), Is.False);
        Assert.That(ec.SecretKeys, Is.EqualTo(new[] { "database.password" }));
        Assert.That(ec.Hash, Does.Not.Contain(canary));
        Assert.Throws<InvalidOperationException>(() => ec.WithSecretValues(new Dictionary<string, string>()), "a write never goes out with a secret missing");
        var sameValueOtherVersion = EffectiveConfig.Build(Mc(), Dept(), new Dictionary<string, string> { ["database.password"] = "uid1/43" });
        Assert.That(sameValueOtherVersion.Hash, Is.Not.EqualTo(ec.Hash), "a rotated Secret must change the hash");
    }

    [Test]
    public void Hash_is_stable_and_follows_config_changes()
    {
        var a = EffectiveConfig.Build(Mc(config: ("a", "1")), Dept(), NoSecrets);
        Assert.That(EffectiveConfig.Build(Mc(config: ("a", "1")), Dept(), NoSecrets).Hash, Is.EqualTo(a.Hash));
        Assert.That(EffectiveConfig.Build(Mc(config: ("a", "2")), Dept(), NoSecrets).Hash, Is.Not.EqualTo(a.Hash));
    }
}
