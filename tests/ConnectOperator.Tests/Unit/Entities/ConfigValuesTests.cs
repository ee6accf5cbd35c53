using System.Text.Json;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Unit.Cli;

namespace ConnectOperator.Tests.Unit.Entities;

/// <summary>spec.config as people write it: unquoted numbers and booleans read as their text; lists and maps refused naming the key.</summary>
public class ConfigValuesTests
{
    private static V1Alpha1ManagedConnector Read(string configJson)
        => KubeJson.Deserialize<V1Alpha1ManagedConnector>(
            """{"apiVersion":"connect.ebs.io/v1alpha1","kind":"ManagedConnector","metadata":{"name":"c","namespace":"hr"},"spec":{"connectorClass":"DatagenSource","config":""" + configJson + "}}");

    [Test]
    public void Numbers_and_booleans_are_read_as_the_text_written()
    {
        var mc = Read("""{"poll.interval.ms":1000,"enabled":true,"off":false,"ratio":0.50,"big":12345678901234567890,"topics":"hr.a"}""");
        Assert.That(mc.Spec.Config, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["poll.interval.ms"] = "1000", ["enabled"] = "true", ["off"] = "false", ["ratio"] = "0.50", ["big"] = "12345678901234567890", ["topics"] = "hr.a",
        }));
    }

    [Test]
    public void Written_back_config_is_strings()
    {
        var json = KubeJson.Serialize(Read("""{"n":1000,"b":true}"""));
        Assert.That(json, Does.Contain("\"config\":{\"n\":\"1000\",\"b\":\"true\"}"));
    }

    [TestCase("""{"topics":["a","b"]}""", "spec.config[topics]: a list is not allowed")]
    [TestCase("""{"quickstart":{"name":"ORDERS"}}""", "spec.config[quickstart]: a map is not allowed")]
    public void Lists_and_maps_are_refused_naming_the_key(string config, string expected)
    {
        var e = Assert.Throws<ConfigValueException>(() => Read(config))!;
        Assert.That(e.Message, Does.StartWith(expected).And.Contain("strings, numbers or booleans"));
    }

    [Test]
    public void Key_rules_name_the_key_with_the_former_CEL_wording()
    {
        var v = ConfigRules.Check(
            new Dictionary<string, ConfigValueKind> { ["kafka topic"] = ConfigValueKind.Scalar, ["tasks.max"] = ConfigValueKind.Scalar, ["db.password"] = ConfigValueKind.Scalar, ["ok.key"] = ConfigValueKind.Scalar },
            new[] { "db.password" });
        Assert.That(v.Select(x => x.Message), Is.EqualTo(new[]
        {
            "spec.config[kafka topic]: " + ConfigRules.KeyFormatMessage,
            "spec.config[tasks.max]: " + ConfigRules.ReservedMessage,
            "spec.secretConfig[db.password]: " + ConfigRules.DisjointMessage,
        }));
    }

    private const string Head = "apiVersion: connect.ebs.io/v1alpha1\nkind: ManagedConnector\nmetadata:\n  name: c\n  namespace: hr\nspec:\n  connectorClass: DatagenSource\n";

    [Test]
    public async Task Validate_accepts_unquoted_numbers_and_booleans()
    {
        using var dir = new ValidateCli.TempDir(("x.yaml", Head + "  config:\n    poll.interval.ms: 1000\n    enabled: true\n    ratio: 0.5\n    quickstart: on\n"));
        var r = await ValidateCli.RunAsync("-f", dir.File("x.yaml"), "-o", "json");
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
    }

    [Test]
    public async Task Validate_refuses_a_list_naming_the_key_and_says_what_to_write()
    {
        using var dir = new ValidateCli.TempDir(("x.yaml", Head + "  config:\n    topics:\n      - hr.a\n      - hr.b\n"));
        var r = await ValidateCli.RunAsync("-f", dir.File("x.yaml"), "-o", "json");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var config = r.Findings.Single(f => f.GetProperty("rule").GetString() == "config");
        Assert.That(config.GetProperty("message").GetString(), Does.StartWith("spec.config[topics]: a list is not allowed").And.Contain("comma-separated"));
        Assert.That(config.GetProperty("line").GetInt32(), Is.EqualTo(9));
        // The API server's own line is there too, so validate never reports less than kubectl apply would.
        Assert.That(r.Findings.Any(f => f.GetProperty("message").GetString()!.Contains("Too many: 2: must have at most 0 items")), r.ToString());
    }
}

/// <summary>The webhook gives the config rules' wording: unquoted values pass, a list or a bad key is refused naming the key.</summary>
public class ConfigValuesWebhookTests
{
    private static ConnectOperator.Webhooks.AdmissionRequest Request(string config)
    {
        var json = """{"apiVersion":"connect.ebs.io/v1alpha1","kind":"ManagedConnector","metadata":{"name":"c","namespace":"fin-a"},"spec":{"connectorClass":"DatagenSource","tasksMax":1,"config":""" + config + "}}";
        return new() { Uid = "u1", Operation = "CREATE", Namespace = "fin-a", Object = JsonDocument.Parse(json).RootElement.Clone() };
    }

    [Test]
    public void Unquoted_numbers_and_booleans_are_admitted()
    {
        var world = Webhooks.AdmissionWorld.Standard();
        var r = world.Decide(ConnectOperator.Webhooks.AdmissionDecider.ManagedConnectors, Request("""{"kafka.topic":"finance.orders","quickstart":"ORDERS","max.interval":1000,"enabled":true}"""));
        Assert.That(r.Allowed, Is.True, r.Status?.Message);
    }

    [TestCase("""{"kafka.topic":"finance.orders","topics":["a","b"]}""", "spec.config[topics]: a list is not allowed")]
    [TestCase("""{"kafka.topic":"finance.orders","kafka topic":"x"}""", "spec.config[kafka topic]: spec.config keys must be 1-255 characters")]
    [TestCase("""{"kafka.topic":"finance.orders","tasks.max":2}""", "spec.config[tasks.max]: spec.config must not set reserved key(s)")]
    public void Lists_and_bad_keys_are_refused_naming_the_key(string config, string expected)
    {
        var world = Webhooks.AdmissionWorld.Standard();
        var r = world.Decide(ConnectOperator.Webhooks.AdmissionDecider.ManagedConnectors, Request(config));
        Assert.That(r.Allowed, Is.False);
        Assert.That(r.Status!.Message, Does.StartWith(expected));
        Assert.That(r.Status.Code, Is.EqualTo(422));
    }
}
