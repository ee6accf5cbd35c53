using ConnectOperator.Policy;

namespace ConnectOperator.Tests.Unit.Policy;

public class PolicyEvaluatorTests
{
    private static readonly DepartmentPolicy Finance = new("finance", new[] { "finance", "finance-dev" },
        new[] { "PostgresCdcSource", "S3_SINK", "HttpSink", "DatagenSource" },
        new[] { "finance." }, new[] { "*.finance.internal", "api.partner.example.com" });

    private static ConnectorCandidate Connector(string cls, params (string Key, string Value)[] config)
        => new("finance", "c1", cls, 1, config.ToDictionary(c => c.Key, c => c.Value), Array.Empty<string>());

    // Each row: class, config, expected violation fields (empty: complies), and a fragment of the first message.
    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.orders") }, Array.Empty<string>(), "").SetName("datagen topic with prefix complies");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "hr.salaries") }, new[] { "spec.config[kafka.topic]" }, "topic hr.salaries does not start with an allowed prefix of department finance (finance.)").SetName("datagen topic of another department");
        yield return new TestCaseData("S3_SINK", new[] { ("topics", "finance.a, finance.b") }, Array.Empty<string>(), "").SetName("sink topic list complies");
        yield return new TestCaseData("S3_SINK", new[] { ("topics", "finance.a,orders") }, new[] { "spec.config[topics]" }, "topic orders").SetName("one bad topic in a list");
        yield return new TestCaseData("S3_SINK", new[] { ("topics.regex", "^finance\\.orders\\..*") }, Array.Empty<string>(), "").SetName("topic regex with literal prefix");
        yield return new TestCaseData("S3_SINK", new[] { ("topics.regex", "fin.*") }, new[] { "spec.config[topics.regex]" }, "topic pattern fin.*").SetName("topic regex that escapes the prefix");
        yield return new TestCaseData("S3_SINK", new[] { ("topics.regex", ".*") }, new[] { "spec.config[topics.regex]" }, "topic pattern .*").SetName("match-all regex");
        yield return new TestCaseData("PostgresCdcSource", new[] { ("topic.prefix", "finance"), ("database.hostname", "pg.finance.internal") }, Array.Empty<string>(), "").SetName("cdc prefix without trailing dot");
        yield return new TestCaseData("PostgresCdcSource", new[] { ("topic.prefix", "hr"), ("database.hostname", "pg.finance.internal") }, new[] { "spec.config[topic.prefix]" }, "topic prefix hr").SetName("cdc prefix of another department");
        yield return new TestCaseData("PostgresCdcSource", new[] { ("topic.prefix", "finance"), ("database.hostname", "pg.hr.internal") }, new[] { "spec.config[database.hostname]" }, "host pg.hr.internal is not in the allowed hosts of department finance").SetName("database host outside allowlist");
        yield return new TestCaseData("PostgresCdcSource", new[] { ("topic.prefix", "finance"), ("database.hostname", "finance.internal") }, new[] { "spec.config[database.hostname]" }, "host finance.internal").SetName("wildcard does not match the bare domain");
        yield return new TestCaseData("PostgresCdcSource", new[] { ("topic.prefix", "finance"), ("database.hostname", "PG.Finance.Internal") }, Array.Empty<string>(), "").SetName("host match ignores case");
        yield return new TestCaseData("PostgresCdcSource", new[] { ("topic.prefix", "finance"), ("database.hostname", "evilfinance.internal") }, new[] { "spec.config[database.hostname]" }, "evilfinance.internal").SetName("suffix without dot is not a subdomain");
        yield return new TestCaseData("HttpSink", new[] { ("topics", "finance.x"), ("http.api.url", "https://api.partner.example.com/v1/ingest") }, Array.Empty<string>(), "").SetName("http url exact host");
        yield return new TestCaseData("HttpSink", new[] { ("topics", "finance.x"), ("http.api.url", "https://attacker.example.net/") }, new[] { "spec.config[http.api.url]" }, "host attacker.example.net").SetName("http url outside allowlist");
        yield return new TestCaseData("HttpSink", new[] { ("topics", "finance.x"), ("http.api.url", "not a url") }, new[] { "spec.config[http.api.url]" }, "cannot read a host").SetName("unparseable url");
        yield return new TestCaseData("ElasticsearchSink", new[] { ("topics", "finance.x") }, new[] { "spec.connectorClass" }, "spec.connectorClass ElasticsearchSink is not allowed for department finance").SetName("class not allowed");
        yield return new TestCaseData("S3_SINK", new[] { ("topics", "finance.x"), ("errors.deadletterqueue.topic.name", "dlq") }, new[] { "spec.config[errors.deadletterqueue.topic.name]" }, "topic dlq").SetName("dead letter topic is checked");
        yield return new TestCaseData("S3_SINK", new[] { ("topics", "finance.x"), ("topic.creation.default.include", "hr\\..*") }, new[] { "spec.config[topic.creation.default.include]" }, "topic pattern").SetName("topic creation include is checked");
        yield return new TestCaseData("S3_SINK", new[] { ("topics", "finance.x"), ("s3.bucket.name", "any-bucket") }, Array.Empty<string>(), "").SetName("bucket name is not a host");
        yield return new TestCaseData("S3_SINK", new[] { ("topics", "finance.x"), ("connection.host", "db.finance.internal:3306") }, Array.Empty<string>(), "").SetName("host with port");
        yield return new TestCaseData("ElasticsearchSink", new[] { ("topics", "finance.x"), ("connection.url", "jdbc:postgresql://db.other.net:5432/x") }, new[] { "spec.connectorClass", "spec.config[connection.url]" }, "").SetName("jdbc url host and class both reported");
    }

    [TestCaseSource(nameof(Cases))]
    public void Evaluates(string cls, (string, string)[] config, string[] expectedFields, string messageFragment)
    {
        var violations = PolicyEvaluator.Evaluate(Finance, Connector(cls, config));
        Assert.That(violations.Select(v => v.Field), Is.EquivalentTo(expectedFields));
        if (messageFragment.Length > 0) Assert.That(violations[0].Message, Does.Contain(messageFragment));
        Assert.That(violations.All(v => v.Reason == ViolationReasons.PolicyViolation));
    }

    [Test]
    public void Messages_name_the_field_to_change_and_who_to_ask()
    {
        var v = PolicyEvaluator.Evaluate(Finance, Connector("DatagenSource", ("kafka.topic", "hr.x"))).Single();
        Assert.That(v.Message, Does.Contain("spec.policy.topicPrefixes").And.Contain("platform team"));
    }

    [Test]
    public void Empty_allowlists_allow_nothing_but_empty_class_list_allows_all()
    {
        var locked = new DepartmentPolicy("locked", new[] { "ns" }, Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>());
        var violations = PolicyEvaluator.Evaluate(locked, Connector("AnyClass", ("kafka.topic", "t"), ("connection.url", "https://h.example.com")));
        Assert.That(violations.Select(v => v.Field), Is.EquivalentTo(new[] { "spec.config[kafka.topic]", "spec.config[connection.url]" }));
        Assert.That(violations[0].Message, Does.Contain("none configured"));
    }

    [Test]
    public void Topic_or_host_keys_may_not_hide_in_secret_config()
    {
        var c = Connector("PostgresCdcSource", ("topic.prefix", "finance")) with { SecretKeys = new[] { "database.hostname", "database.password" } };
        var v = PolicyEvaluator.Evaluate(Finance, c).Single();
        Assert.That(v.Field, Is.EqualTo("spec.secretConfig[database.hostname]"));
        Assert.That(v.Message, Does.Contain("move it to spec.config"));
    }

    [TestCase("finance", "finance", null)]
    [TestCase("finance-dev", "finance", null)]
    [TestCase("marketing", null, "namespace marketing is not assigned to any Department; ask the platform team to add it to a Department's spec.namespaces")]
    [TestCase("shared", null, "namespace shared is claimed by more than one Department (finance, hr)")]
    public void Resolves_the_owning_department(string ns, string? expected, string? error)
    {
        var hr = new DepartmentPolicy("hr", new[] { "hr", "shared" }, Array.Empty<string>(), new[] { "hr." }, Array.Empty<string>());
        var fin = Finance with { Namespaces = new[] { "finance", "finance-dev", "shared" } };
        var (dept, violation) = PolicyEvaluator.ResolveDepartment(ns, new[] { fin, hr });
        Assert.That(dept?.Name, Is.EqualTo(expected));
        if (error is null) Assert.That(violation, Is.Null);
        else Assert.That(violation!.Message, Does.StartWith(error));
    }

    [TestCase("^finance\\.orders.*", "finance.orders")]
    [TestCase("finance\\..*", "finance.")]
    [TestCase("finance.orders", "finance")]
    [TestCase("financex?", "finance")]
    [TestCase("(a|b)", "")]
    public void Literal_prefix_of_a_regex(string regex, string expected)
        => Assert.That(PolicyEvaluator.LiteralPrefixOfRegex(regex), Is.EqualTo(expected));
}
