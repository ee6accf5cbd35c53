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
    public void Empty_allowlists_allow_nothing_including_an_empty_class_list()
    {
        var locked = new DepartmentPolicy("locked", new[] { "ns" }, Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>());
        var violations = PolicyEvaluator.Evaluate(locked, Connector("DatagenSource", ("kafka.topic", "t"), ("connection.url", "https://h.example.com")));
        Assert.That(violations.Select(v => v.Field), Is.EquivalentTo(new[] { "spec.connectorClass", "spec.config[kafka.topic]", "spec.config[connection.url]" }));
        Assert.That(violations[0].Message, Does.StartWith("spec.connectorClass DatagenSource is not allowed for department locked (allowed: none configured)"));
        Assert.That(violations[1].Message, Does.Contain("none configured"));
    }

    [Test]
    public void Topic_or_host_keys_may_not_hide_in_secret_config()
    {
        var c = Connector("PostgresCdcSource", ("topic.prefix", "finance")) with { SecretKeys = new[] { "database.hostname", "database.password" } };
        var v = PolicyEvaluator.Evaluate(Finance, c).Single();
        Assert.That(v.Field, Is.EqualTo("spec.secretConfig[database.hostname]"));
        Assert.That(v.Message, Does.Contain("move it to spec.config"));
    }

    // ---- issue 16: the bypasses of the old checks, each refused now.

    private static IEnumerable<TestCaseData> Bypasses()
    {
        // topics.regex used to be checked only up to its first '|'.
        yield return new TestCaseData("S3_SINK", new[] { ("topics.regex", "finance\\.orders|hr\\..*") }, "spec.config[topics.regex]", "can match topics that do not start with an allowed prefix of department finance (finance.), e.g. topics starting with \"hr.").SetName("regex: second alternative of another department");
        yield return new TestCaseData("S3_SINK", new[] { ("topics.regex", "finance\\..*|.*") }, "spec.config[topics.regex]", "e.g. the empty topic name").SetName("regex: match-all alternative");
        yield return new TestCaseData("S3_SINK", new[] { ("topics.regex", "^finance\\.x$|^hr\\.salaries$") }, "spec.config[topics.regex]", "topics starting with \"hr.salar").SetName("regex: anchored alternatives");
        yield return new TestCaseData("S3_SINK", new[] { ("topics.regex", "(?i)finance\\..*") }, "spec.config[topics.regex]", "cannot be checked").SetName("regex: inline case-insensitive flag");
        yield return new TestCaseData("HttpSink", new[] { ("topics.regex", "finance\\.(a|b)|(hr)\\.x") }, "spec.config[topics.regex]", "\"hr.x").SetName("regex: alternative inside and outside groups");
        yield return new TestCaseData("S3_SINK", new[] { ("topics", "finance.x"), ("topic.creation.default.include", "finance\\..*,hr\\..*") }, "spec.config[topic.creation.default.include]", "topic pattern hr\\..*").SetName("regex list: second regex of a topic.creation include");
        // Transforms and predicates.
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("transforms", "r"), ("transforms.r.type", "org.apache.kafka.connect.transforms.RegexRouter"), ("transforms.r.regex", ".*"), ("transforms.r.replacement", "hr.salaries") },
            "spec.config[transforms.r.replacement]", "renames topics to hr.salaries, which does not start with an allowed prefix").SetName("RegexRouter into another department's topic");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("transforms", "r"), ("transforms.r.type", "io.confluent.connect.cloud.transforms.TopicRegexRouter"), ("transforms.r.regex", "finance\\.(.*)"), ("transforms.r.replacement", "$1") },
            "spec.config[transforms.r.replacement]", "start the replacement with an allowed prefix, e.g. finance.$1").SetName("Confluent Cloud TopicRegexRouter to a bare group");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("transforms", "t"), ("transforms.t.type", "org.apache.kafka.connect.transforms.TimestampRouter"), ("transforms.t.topic.format", "hr-${timestamp}") },
            "spec.config[transforms.t.topic.format]", "start the format with ${topic}").SetName("TimestampRouter format outside the prefixes");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("transforms", "e"), ("transforms.e.type", "io.confluent.connect.transforms.ExtractTopic$Value"), ("transforms.e.field", "t") },
            "spec.config[transforms.e.type]", "takes the topic from the record's data").SetName("ExtractTopic takes the topic from data");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("transforms", "a"), ("transforms.a.type", "com.evil.Exfiltrate") },
            "spec.config[transforms.a.type]", "transform type com.evil.Exfiltrate is not one the operator knows").SetName("unknown transform type");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("transforms.hidden.type", "com.evil.Exfiltrate") },
            "spec.config[transforms.hidden.type]", "is not one the operator knows").SetName("transform configured but not listed is checked too");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("transforms", "a") },
            "spec.config[transforms.a.type]", "every transform needs a type").SetName("transform without a type");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("predicates", "p"), ("predicates.p.type", "com.evil.Predicate") },
            "spec.config[predicates.p.type]", "predicate type com.evil.Predicate is not one the operator knows").SetName("unknown predicate type");
        // Keys by class and generic endpoints.
        yield return new TestCaseData("HttpSink", new[] { ("topics", "finance.x"), ("http.api.url", "https://api.partner.example.com/"), ("oauth2.token.url", "https://evil.example.net/token") },
            "spec.config[oauth2.token.url]", "host evil.example.net").SetName("class table: HttpSink oauth2 token url");
        yield return new TestCaseData("S3_SINK", new[] { ("topics", "finance.x"), ("some.new.endpoint", "https://evil.example.net") },
            "spec.config[some.new.endpoint]", "host evil.example.net").SetName("generic: key ending in .endpoint");
        yield return new TestCaseData("S3_SINK", new[] { ("topics", "finance.x"), ("custom.setting", "see https://evil.example.net/x") },
            "spec.config[custom.setting]", "cannot read a host").SetName("generic: any value with ://");
        yield return new TestCaseData("S3_SINK", new[] { ("topics", "finance.x"), ("http.proxy", "proxy.evil.net:3128") },
            "spec.config[http.proxy]", "host proxy.evil.net").SetName("generic: proxy key");
        yield return new TestCaseData("S3_SINK", new[] { ("topics", "finance.x"), ("store.url", "https://s3.evil.example.net") },
            "spec.config[store.url]", "host s3.evil.example.net").SetName("class table: S3 store url");
        yield return new TestCaseData("HttpSource", new[] { ("url", "https://api.partner.example.com/"), ("topic.name.pattern", "hr.${entityName}") },
            "spec.connectorClass", "is not allowed").SetName("class not allowed is reported before its keys");
        yield return new TestCaseData("PostgresCdcSource", new[] { ("topic.prefix", "finance"), ("database.hostname", "pg.finance.internal"), ("heartbeat.topics.prefix", "hr") },
            "spec.config[heartbeat.topics.prefix]", "topic prefix hr does not start with").SetName("class table: CDC heartbeat topic prefix");
        yield return new TestCaseData("PostgresCdcSource", new[] { ("topic.prefix", "finance"), ("database.hostname", "pg.finance.internal"), ("signal.kafka.topic", "hr.signals") },
            "spec.config[signal.kafka.topic]", "topic hr.signals").SetName("class table: CDC signal topic");
        yield return new TestCaseData("PostgresCdcSourceV2", new[] { ("topic.prefix", "finance"), ("database.hostname", "pg.finance.internal"), ("topic.delimiter", "-") },
            "spec.connectorClass", "is not allowed").SetName("class not allowed: V2 not in the department's list");
        // Reserved keys in another letter case.
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("KAFKA.API.KEY", "stolen") }, "spec.config[KAFKA.API.KEY]", "must not set reserved key KAFKA.API.KEY (in any letter case)").SetName("reserved key in upper case");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("Kafka.Service.Account.Id", "sa-other") }, "spec.config[Kafka.Service.Account.Id]", "reserved key").SetName("reserved key in mixed case");
    }

    [TestCaseSource(nameof(Bypasses))]
    public void Bypasses_are_refused(string cls, (string, string)[] config, string field, string fragment)
    {
        var violations = PolicyEvaluator.Evaluate(Finance, Connector(cls, config));
        Assert.That(violations.Select(v => v.Field), Does.Contain(field), string.Join("\n", violations.Select(v => v.Message)));
        Assert.That(violations.First(v => v.Field == field).Message, Does.Contain(fragment));
    }

    private static IEnumerable<TestCaseData> StillAllowed()
    {
        yield return new TestCaseData("S3_SINK", new[] { ("topics.regex", "^finance\\.(orders|payments)$") }).SetName("regex: alternatives inside an escaped prefix");
        yield return new TestCaseData("S3_SINK", new[] { ("topics.regex", "finance\\.orders|finance\\.payments\\..*") }).SetName("regex: every alternative prefixed");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("transforms", "r,c"), ("transforms.r.type", "org.apache.kafka.connect.transforms.RegexRouter"),
            ("transforms.r.regex", "finance\\.(.*)"), ("transforms.r.replacement", "finance.copy.$1"), ("transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value"), ("transforms.c.spec", "int64"),
            ("transforms.c.predicate", "p"), ("predicates", "p"), ("predicates.p.type", "org.apache.kafka.connect.transforms.predicates.TopicNameMatches"), ("predicates.p.pattern", "finance\\..*") }).SetName("vetted transforms and predicates");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("transforms", "t"), ("transforms.t.type", "org.apache.kafka.connect.transforms.TimestampRouter") }).SetName("TimestampRouter default format keeps the topic first");
        yield return new TestCaseData("DatagenSource", new[] { ("kafka.topic", "finance.x"), ("transforms", "r"), ("transforms.r.type", "org.apache.kafka.connect.transforms.RegexRouter"), ("transforms.r.regex", "(.*)"), ("transforms.r.replacement", "$0-copy") }).SetName("RegexRouter replacement starting with the whole topic");
        yield return new TestCaseData("HttpSink", new[] { ("topics", "finance.x"), ("http.api.url", "https://api.partner.example.com/"), ("request.method", "POST"), ("connection.user", "u") }).SetName("ordinary HttpSink config");
    }

    [TestCaseSource(nameof(StillAllowed))]
    public void Compliant_configs_stay_allowed(string cls, (string, string)[] config)
        => Assert.That(PolicyEvaluator.Evaluate(Finance, Connector(cls, config)).Select(v => v.Message), Is.Empty);

    [Test]
    public void A_department_may_allow_an_unknown_or_data_routed_transform_by_name()
    {
        var cfg = new[] { ("kafka.topic", "finance.x"), ("transforms", "e,x"), ("transforms.e.type", "io.confluent.connect.transforms.ExtractTopic$Value"), ("transforms.x.type", "com.acme.Mask") };
        Assert.That(PolicyEvaluator.Evaluate(Finance, Connector("DatagenSource", cfg)), Has.Count.EqualTo(2));
        var allowing = Finance with { AllowedTransforms = new[] { "io.confluent.connect.transforms.ExtractTopic$Value", "com.acme.Mask" } };
        Assert.That(PolicyEvaluator.Evaluate(allowing, Connector("DatagenSource", cfg)), Is.Empty);
        // Naming a renaming transform does not switch off its prefix check.
        var router = new[] { ("kafka.topic", "finance.x"), ("transforms", "r"), ("transforms.r.type", "org.apache.kafka.connect.transforms.RegexRouter"), ("transforms.r.replacement", "hr.x") };
        var namingRouter = Finance with { AllowedTransforms = new[] { "org.apache.kafka.connect.transforms.RegexRouter" } };
        Assert.That(PolicyEvaluator.Evaluate(namingRouter, Connector("DatagenSource", router)).Single().Field, Is.EqualTo("spec.config[transforms.r.replacement]"));
    }

    [Test]
    public void An_unvetted_class_is_refused_unless_the_department_allows_unvetted_classes()
    {
        var d = Finance with { AllowedConnectorClasses = new[] { "SnowflakeSink" } };
        var c = Connector("SnowflakeSink", ("topics", "finance.x"), ("snowflake.url.name", "https://acct.snowflakecomputing.com"));
        var v = PolicyEvaluator.Evaluate(d, c).First();
        Assert.That(v.Field, Is.EqualTo("spec.connectorClass"));
        Assert.That(v.Message, Does.StartWith("spec.connectorClass SnowflakeSink has not been vetted by the operator").And.Contain("spec.policy.allowUnvettedConnectorClasses: true"));
        // Allowed: the common topic keys and any URL-looking value are still checked.
        var open = d with { AllowUnvettedConnectorClasses = true };
        Assert.That(PolicyEvaluator.Evaluate(open, c).Select(x => x.Field), Is.EqualTo(new[] { "spec.config[snowflake.url.name]" }));
        Assert.That(PolicyEvaluator.Evaluate(open with { AllowedHosts = new[] { "*.snowflakecomputing.com" } }, c), Is.Empty);
    }

    [Test]
    public void A_key_that_shapes_topics_beyond_checking_is_refused_when_set()
    {
        var d = Finance with { AllowedConnectorClasses = new[] { "PostgresCdcSourceV2" } };
        var v = PolicyEvaluator.Evaluate(d, Connector("PostgresCdcSourceV2", ("topic.prefix", "finance"), ("database.hostname", "pg.finance.internal"), ("topic.delimiter", "-"))).Single();
        Assert.That(v.Field, Is.EqualTo("spec.config[topic.delimiter]"));
        Assert.That(v.Message, Does.Contain("shapes topic names in a way policy cannot check").And.Contain("remove it"));
        Assert.That(PolicyEvaluator.Evaluate(d, Connector("PostgresCdcSourceV2", ("topic.prefix", "finance"), ("database.hostname", "pg.finance.internal"))), Is.Empty);
    }

    [Test]
    public void Transforms_and_endpoint_keys_may_not_hide_in_secret_config()
    {
        var c = Connector("DatagenSource", ("kafka.topic", "finance.x")) with { SecretKeys = new[] { "transforms.r.replacement", "http.proxy.host", "kafka.api.secret".ToUpperInvariant() } };
        var fields = PolicyEvaluator.Evaluate(Finance, c).Select(v => v.Field).ToList();
        Assert.That(fields, Does.Contain("spec.secretConfig[transforms.r.replacement]").And.Contain("spec.secretConfig[http.proxy.host]").And.Contain("spec.secretConfig[KAFKA.API.SECRET]"));
    }

    [Test]
    public void Every_vetted_class_is_in_the_table_with_its_keys()
    {
        Assert.That(ConnectorKeyTable.VettedClasses, Is.SupersetOf(new[] { "DatagenSource", "PostgresCdcSource", "S3_SINK", "HttpSink", "HttpSource", "ElasticsearchSink" }));
        Assert.That(ConnectorKeyTable.HostKeys("ElasticsearchSink").Single(h => h.Key == "connection.url").Kind, Is.EqualTo(ConnectorKeyTable.HostKeyKind.UrlList));
        Assert.That(ConnectorKeyTable.Transform("org.apache.kafka.connect.transforms.RegexRouter")!.Output, Is.EqualTo(ConnectorKeyTable.TransformOutput.Replacement));
        Assert.That(ConnectorKeyTable.IsKnownPredicate("org.apache.kafka.connect.transforms.predicates.TopicNameMatches"));
    }

    [TestCase("finance.$1", true)]
    [TestCase("finance\\.x", true)]
    [TestCase("\\$finance.x", false)]
    [TestCase("$0", true)]
    [TestCase("$01", false)]
    [TestCase("$1", false)]
    [TestCase("${name}", false)]
    [TestCase("fin$1", false)]
    public void RegexRouter_replacements(string replacement, bool allowed)
        => Assert.That(PolicyEvaluator.ReplacementStaysInPrefixes(replacement, new[] { "finance." }), Is.EqualTo(allowed));

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
}
