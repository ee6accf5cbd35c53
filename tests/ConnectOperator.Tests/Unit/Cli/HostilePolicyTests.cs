using ConnectOperator.Policy;

namespace ConnectOperator.Tests.Unit.Cli;

/// <summary>
/// Issue 16's bypasses through <c>validate</c>, against the sample Departments: each one that the old checks admitted
/// is a finding now, with the message of the shared decision code.
/// </summary>
public class HostilePolicyTests
{
    private static readonly DepartmentPolicy Finance = new("finance", new[] { "finance" },
        new[] { "PostgresCdcSource", "S3_SINK", "DatagenSource" }, new[] { "finance." }, new[] { "*.finance.internal" }, ConnectorNamePrefix: "fin");

    // Single-quoted YAML: regexes keep their backslashes.
    private static string Mc(string name, string cls, params (string K, string V)[] config)
        => $"apiVersion: connect.ebs.io/v1alpha1\nkind: ManagedConnector\nmetadata:\n  name: {name}\n  namespace: finance\nspec:\n  connectorClass: {cls}\n  tasksMax: 1\n"
           + "  config:\n" + string.Concat(config.Select(c => $"    {c.K}: '{c.V}'\n"));

    private static Task<ValidateCli.Result> RunAsync(string folder, string? departments = null)
        => ValidateCli.RunAsync("-f", folder, "--departments", departments ?? ValidateCli.Repo("samples/platform"), "--quotas", ValidateCli.Repo("samples/platform"), "--output", "json");

    private static ConnectorCandidate Candidate(string name, string cls, params (string K, string V)[] config)
        => new("finance", name, cls, 1, config.ToDictionary(c => c.K, c => c.V), Array.Empty<string>());

    public static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(string name, string cls, string field, params (string, string)[] config) => new TestCaseData(name, cls, field, config).SetName(name);
        yield return Case("regex-second-alternative", "S3_SINK", "spec.config[topics.regex]", ("topics.regex", @"finance\.orders|hr\..*"));
        yield return Case("regex-match-all-alternative", "S3_SINK", "spec.config[topics.regex]", ("topics.regex", @"finance\..*|.*"));
        yield return Case("regex-anchored-alternatives", "S3_SINK", "spec.config[topics.regex]", ("topics.regex", @"^finance\.x$|^hr\.salaries$"));
        yield return Case("regex-inline-flag", "S3_SINK", "spec.config[topics.regex]", ("topics.regex", @"(?i)finance\..*"));
        yield return Case("regexrouter-out-of-prefix", "DatagenSource", "spec.config[transforms.r.replacement]", ("kafka.topic", "finance.x"), ("quickstart", "ORDERS"),
            ("transforms", "r"), ("transforms.r.type", "org.apache.kafka.connect.transforms.RegexRouter"), ("transforms.r.regex", ".*"), ("transforms.r.replacement", "hr.salaries"));
        yield return Case("timestamprouter-out-of-prefix", "DatagenSource", "spec.config[transforms.t.topic.format]", ("kafka.topic", "finance.x"), ("quickstart", "ORDERS"),
            ("transforms", "t"), ("transforms.t.type", "org.apache.kafka.connect.transforms.TimestampRouter"), ("transforms.t.topic.format", "hr.${timestamp}"));
        yield return Case("extracttopic", "DatagenSource", "spec.config[transforms.e.type]", ("kafka.topic", "finance.x"), ("quickstart", "ORDERS"),
            ("transforms", "e"), ("transforms.e.type", "io.confluent.connect.transforms.ExtractTopic$Value"), ("transforms.e.field", "target"));
        yield return Case("unknown-transform", "DatagenSource", "spec.config[transforms.x.type]", ("kafka.topic", "finance.x"), ("quickstart", "ORDERS"),
            ("transforms", "x"), ("transforms.x.type", "com.evil.Exfiltrate"));
        yield return Case("unknown-predicate", "DatagenSource", "spec.config[predicates.p.type]", ("kafka.topic", "finance.x"), ("quickstart", "ORDERS"),
            ("predicates", "p"), ("predicates.p.type", "com.evil.Predicate"));
        yield return Case("generic-url-key", "DatagenSource", "spec.config[callback.url]", ("kafka.topic", "finance.x"), ("quickstart", "ORDERS"), ("callback.url", "https://evil.example.net/hook"));
        yield return Case("s3-store-url", "S3_SINK", "spec.config[store.url]", ("topics", "finance.x"), ("store.url", "https://s3.evil.example.net"));
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Bypass_is_a_policy_finding_with_the_evaluator_message(string name, string cls, string field, (string K, string V)[] config)
    {
        var text = Mc(name, cls, config);
        using var dir = new ValidateCli.TempDir(("c.yaml", text));
        var r = await RunAsync(dir.Path);
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var expected = PolicyEvaluator.Evaluate(Finance, Candidate(name, cls, config)).Single(v => v.Field == field);
        var f = r.Findings.Single(x => x.GetProperty("field").GetString() == field);
        Assert.That(f.GetProperty("rule").GetString(), Is.EqualTo("policy"));
        Assert.That(f.GetProperty("message").GetString(), Is.EqualTo(expected.Message));
        Assert.That(f.GetProperty("line").GetInt32(), Is.EqualTo(ValidateCli.LineOf(text, field["spec.config[".Length..^1] + ":")));
    }

    [TestCase("KAFKA.API.KEY")]
    [TestCase("Kafka.Auth.Mode")]
    public async Task A_reserved_key_in_another_case_is_refused_by_the_config_rules_and_by_policy(string key)
    {
        using var dir = new ValidateCli.TempDir(("c.yaml", Mc("rk", "DatagenSource", ("kafka.topic", "finance.x"), ("quickstart", "ORDERS"), (key, "x"))));
        var r = await RunAsync(dir.Path);
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var rules = r.Findings.Select(f => (f.GetProperty("rule").GetString(), f.GetProperty("message").GetString()!)).ToList();
        // spec.config's key rules are ConfigRules' (the webhook's and validate's), since its values are untyped for CEL.
        Assert.That(rules.Any(x => x.Item1 is "cel" or "config" && x.Item2.Contains("must not set reserved key(s)")), r.ToString());
        Assert.That(rules.Any(x => x.Item1 == "policy" && x.Item2.Contains($"must not set reserved key {key} (in any letter case)")), r.ToString());
    }

    private static string Dept(string name, string? prefix, string ns, string classes, bool unvetted = false)
        => $"apiVersion: connect.ebs.io/v1alpha1\nkind: Department\nmetadata:\n  name: {name}\nspec:\n  namespaces: [{ns}]\n" +
           (prefix is null ? "" : $"  connectorNamePrefix: {prefix}\n") +
           "  confluent:\n    environmentId: env-s1\n    kafkaClusterId: lkc-s1\n    serviceAccountId: sa-s1\n    credentialsSecretRef: {name: s}\n" +
           $"  policy:\n    allowedConnectorClasses: [{classes}]\n    topicPrefixes: [\"s.\"]\n" + (unvetted ? "    allowUnvettedConnectorClasses: true\n" : "");

    [Test]
    public async Task Department_names_with_dots_and_shared_prefixes_are_findings()
    {
        var text = Dept("a.b", null, "c", "DatagenSource") + "---\n" + Dept("sales", "fin", "sales", "DatagenSource");
        using var dir = new ValidateCli.TempDir(("d.yaml", text));
        var r = await ValidateCli.RunAsync("-f", dir.Path, "--departments", ValidateCli.Repo("samples/platform"), "--output", "json");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var messages = r.Findings.Select(f => f.GetProperty("name").GetString() + ": " + f.GetProperty("message").GetString()).ToList();
        Assert.That(messages, Has.Some.StartWith("a.b: metadata.name: Invalid value").And.Some.Contains("metadata.name must not contain a dot"), r.ToString());
        Assert.That(messages, Has.Some.StartWith("sales: spec.connectorNamePrefix: the Confluent connector name prefix fin is already used by Department finance"), r.ToString());
    }

    [Test]
    public async Task An_empty_class_list_allows_no_class_and_an_unvetted_class_needs_the_departments_consent()
    {
        var mc = "apiVersion: connect.ebs.io/v1alpha1\nkind: ManagedConnector\nmetadata:\n  name: x\n  namespace: sales\nspec:\n  connectorClass: SnowflakeSink\n  config:\n    topics: s.x\n";
        foreach (var (classes, unvetted, expected) in new[]
                 {
                     ("", false, "spec.connectorClass SnowflakeSink is not allowed for department sales (allowed: none configured)"),
                     ("SnowflakeSink", false, "spec.connectorClass SnowflakeSink has not been vetted by the operator"),
                     ("SnowflakeSink", true, null),
                 })
        {
            using var dir = new ValidateCli.TempDir(("d.yaml", Dept("sales", null, "sales", classes, unvetted)), ("c.yaml", mc));
            var r = await ValidateCli.RunAsync("-f", dir.Path, "--output", "json");
            if (expected is null) Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
            else Assert.That(r.Findings.Single().GetProperty("message").GetString(), Does.StartWith(expected), r.ToString());
        }
    }
}
