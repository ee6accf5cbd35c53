using ConnectOperator.Entities;
using ConnectOperator.Policy;
using k8s.Models;
using static ConnectOperator.Policy.ConnectorKeyTable;

namespace ConnectOperator.Tests.Unit.Policy;

/// <summary>Custom plugins through the one decision code: the Department's plugin entry is both the allowance and the key table.</summary>
public class CustomPluginPolicyTests
{
    private const string Ledger = "ccp-ledger01";
    private const string LedgerClass = "com.example.ledger.LedgerSourceConnector";

    private static readonly CustomPluginPolicy LedgerPlugin = new(Ledger, LedgerClass,
        new Dictionary<string, TopicKeyKind> { ["ledger.topic"] = TopicKeyKind.Name, ["ledger.audit.topics"] = TopicKeyKind.List, ["ledger.topic.format"] = TopicKeyKind.Unsupported },
        new Dictionary<string, HostKeyKind> { ["ledger.server"] = HostKeyKind.Host, ["ledger.mirrors"] = HostKeyKind.HostList });

    // The plugin's class is deliberately absent from the class list: the plugin entry is the allowance.
    private static readonly DepartmentPolicy Finance = new("finance", new[] { "finance" }, new[] { "DatagenSource" },
        new[] { "finance." }, new[] { "*.finance.internal" }, CustomPlugins: new[] { LedgerPlugin });

    private static ConnectorCandidate Custom(string? plugin, string cls, params (string Key, string Value)[] config)
        => new("finance", "ledger", cls, 1, config.ToDictionary(c => c.Key, c => c.Value), Array.Empty<string>(), CustomPluginId: plugin);

    private static IReadOnlyList<Violation> Evaluate(ConnectorCandidate c, DepartmentPolicy? d = null) => PolicyEvaluator.Evaluate(d ?? Finance, c);

    [Test]
    public void An_approved_plugin_with_its_class_and_keys_in_bounds_complies()
        => Assert.That(Evaluate(Custom(Ledger, LedgerClass, ("ledger.topic", "finance.ledger"), ("ledger.audit.topics", "finance.a, finance.b"),
            ("ledger.server", "ledger.finance.internal:9000"), ("ledger.batch.size", "100"))), Is.Empty);

    [Test]
    public void A_plugin_the_department_did_not_approve_is_refused_naming_the_field_and_the_fix()
    {
        var v = Evaluate(Custom("ccp-other", LedgerClass, ("ledger.topic", "finance.ledger"))).Single();
        Assert.That(v.Field, Is.EqualTo("spec.customPlugin.id"));
        Assert.That(v.Message, Does.Contain("spec.customPlugin.id ccp-other").And.Contain("approved: " + Ledger)
            .And.Contain("Department finance spec.policy.customPlugins"));
    }

    [Test]
    public void An_empty_plugin_list_allows_no_plugin()
    {
        var none = Finance with { CustomPlugins = null };
        var v = Evaluate(Custom(Ledger, LedgerClass), none).Single();
        Assert.That(v.Message, Does.Contain("approved: none configured"));
    }

    [Test]
    public void The_class_must_be_the_plugins_class()
    {
        var v = Evaluate(Custom(Ledger, "DatagenSource", ("ledger.topic", "finance.ledger"))).Single();
        Assert.That(v.Field, Is.EqualTo("spec.connectorClass"));
        Assert.That(v.Message, Does.Contain($"set spec.connectorClass: {LedgerClass}"));
    }

    [Test]
    public void The_plugins_class_without_customPlugin_is_still_an_unlisted_class()
        => Assert.That(Evaluate(Custom(null, LedgerClass)).Select(v => v.Field), Is.EqualTo(new[] { "spec.connectorClass" }));

    [TestCase("ledger.topic", "hr.salaries", "topic hr.salaries does not start with an allowed prefix")]
    [TestCase("ledger.audit.topics", "finance.a,hr.b", "topic hr.b")]
    [TestCase("ledger.topic.format", "{\"a\":\"b\"}", "cannot check")]
    [TestCase("ledger.server", "db.hr.internal", "host db.hr.internal")]
    [TestCase("ledger.mirrors", "a.finance.internal:1,b.other.net:2", "host b.other.net")]
    [TestCase("topics", "hr.x", "topic hr.x")]
    [TestCase("callback.url", "https://evil.example.net/x", "host evil.example.net")]
    [TestCase("errors.deadletterqueue.topic.name", "dlq", "topic dlq")]
    public void The_plugins_key_table_and_the_generic_checks_drive_topics_and_hosts(string key, string value, string fragment)
    {
        var v = Evaluate(Custom(Ledger, LedgerClass, (key, value))).Single();
        Assert.That(v.Field, Is.EqualTo($"spec.config[{key}]"));
        Assert.That(v.Message, Does.Contain(fragment));
    }

    [Test]
    public void Transforms_and_predicates_are_checked_for_a_plugin_too()
    {
        var v = Evaluate(Custom(Ledger, LedgerClass, ("transforms", "r"), ("transforms.r.type", "org.apache.kafka.connect.transforms.RegexRouter"),
            ("transforms.r.regex", ".*"), ("transforms.r.replacement", "hr.$0")));
        Assert.That(v.Select(x => x.Field), Is.EqualTo(new[] { "spec.config[transforms.r.replacement]" }));
    }

    [Test]
    public void A_plugin_key_that_names_a_topic_must_not_hide_in_a_secret()
    {
        var c = Custom(Ledger, LedgerClass) with { SecretKeys = new[] { "ledger.topic", "ledger.password" } };
        Assert.That(Evaluate(c).Select(v => v.Field), Is.EqualTo(new[] { "spec.secretConfig[ledger.topic]" }));
    }

    [TestCase("confluent.connector.type")]
    [TestCase("Confluent.Custom.Plugin.Id")]
    public void The_custom_plugin_keys_are_reserved_in_any_case(string key)
    {
        Assert.That(PolicyEvaluator.IsReservedKey(key));
        var v = Evaluate(Custom(Ledger, LedgerClass, (key, "x"))).Single();
        Assert.That(v.Message, Does.Contain("spec.customPlugin"));
    }

    [Test]
    public void A_plugin_named_like_a_vetted_class_does_not_borrow_its_table()
    {
        // Postgres CDC's table says database.hostname is a host and topic.prefix a prefix; the plugin's table says nothing
        // of signal.kafka.topic, which the vetted class would check.
        var lookalike = new CustomPluginPolicy("ccp-pg", "PostgresCdcSource", new Dictionary<string, TopicKeyKind>(), new Dictionary<string, HostKeyKind>());
        var d = Finance with { CustomPlugins = new[] { lookalike } };
        Assert.That(Evaluate(Custom("ccp-pg", "PostgresCdcSource", ("signal.kafka.topic", "hr.signal")) with { Name = "pg" }, d), Is.Empty);
        Assert.That(Evaluate(Custom(null, "PostgresCdcSource", ("signal.kafka.topic", "hr.signal")), d with { AllowedConnectorClasses = new[] { "PostgresCdcSource" } })
            .Select(v => v.Field), Does.Contain("spec.config[signal.kafka.topic]"));
    }

    [Test]
    public void TenantDirectory_converts_the_entities_with_kinds_spelled_as_the_json_table_or_in_lower_case()
    {
        var dept = new V1Alpha1Department
        {
            Metadata = new V1ObjectMeta { Name = "finance" },
            Spec =
            {
                Namespaces = { "finance" },
                Policy =
                {
                    TopicPrefixes = { "finance." },
                    CustomPlugins =
                    {
                        new V1Alpha1CustomPlugin
                        {
                            Id = Ledger, ConnectorClass = LedgerClass,
                            TopicKeys = { new V1Alpha1PluginKey { Key = "a", Kind = "regexList" }, new V1Alpha1PluginKey { Key = "b", Kind = "regexlist" }, new V1Alpha1PluginKey { Key = "c", Kind = "bogus" } },
                            HostKeys = { new V1Alpha1PluginKey { Key = "h", Kind = "urlList" }, new V1Alpha1PluginKey { Key = "i", Kind = "7" } },
                        },
                    },
                },
            },
        };
        var p = TenantDirectory.ToPolicy(dept).Plugins.Single();
        Assert.That(p.TopicKeys, Is.EquivalentTo(new Dictionary<string, TopicKeyKind> { ["a"] = TopicKeyKind.RegexList, ["b"] = TopicKeyKind.RegexList, ["c"] = TopicKeyKind.Unsupported }));
        Assert.That(p.HostKeys, Is.EquivalentTo(new Dictionary<string, HostKeyKind> { ["h"] = HostKeyKind.UrlList, ["i"] = HostKeyKind.Host }));

        var mc = new V1Alpha1ManagedConnector { Metadata = new V1ObjectMeta { Name = "l", NamespaceProperty = "finance" }, Spec = { ConnectorClass = LedgerClass, CustomPlugin = new V1Alpha1CustomPluginRef { Id = Ledger } } };
        Assert.That(TenantDirectory.ToCandidate(mc).CustomPluginId, Is.EqualTo(Ledger));
    }
}
