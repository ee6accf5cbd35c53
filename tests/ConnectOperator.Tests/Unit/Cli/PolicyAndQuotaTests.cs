using ConnectOperator.Policy;

namespace ConnectOperator.Tests.Unit.Cli;

/// <summary>Policy and quota findings come from PolicyEvaluator / QuotaMath, at the line of the offending document and field.</summary>
public class PolicyAndQuotaTests
{
    // The sample departments: finance allows PostgresCdcSource, S3_SINK, DatagenSource; topics "finance."; hosts
    // "*.finance.internal"; quota 10 connectors, 20 tasks, 4 per connector. hr: quota 5 connectors, 8 tasks, 2 per connector.
    private static readonly DepartmentPolicy Finance = new("finance", new[] { "finance" },
        new[] { "PostgresCdcSource", "S3_SINK", "DatagenSource" }, new[] { "finance." }, new[] { "*.finance.internal" });

    private static string Mc(string ns, string name, string cls, int tasks, params (string K, string V)[] config)
        => $"apiVersion: connect.ebs.io/v1alpha1\nkind: ManagedConnector\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  connectorClass: {cls}\n  tasksMax: {tasks}\n"
           + (config.Length == 0 ? "" : "  config:\n" + string.Concat(config.Select(c => $"    {c.K}: \"{c.V}\"\n")));

    private static Task<ValidateCli.Result> RunAsync(string folder)
        => ValidateCli.RunAsync("-f", folder, "--departments", ValidateCli.Repo("samples/platform"), "--quotas", ValidateCli.Repo("samples/platform"), "--output", "json");

    private static ConnectorCandidate Candidate(string ns, string name, string cls, int tasks, params (string K, string V)[] config)
        => new(ns, name, cls, tasks, config.ToDictionary(c => c.K, c => c.V), Array.Empty<string>());

    [Test]
    public async Task Policy_violations_carry_the_evaluator_message_and_the_line_of_the_field()
    {
        var good = Mc("finance", "good", "DatagenSource", 1, ("kafka.topic", "finance.ok"));
        var topic = Mc("finance", "bad-topic", "DatagenSource", 1, ("quickstart", "ORDERS"), ("kafka.topic", "hr.salaries"));
        var host = Mc("finance", "bad-host", "PostgresCdcSource", 1, ("topic.prefix", "finance.pg"), ("database.hostname", "db.hr.internal"));
        var cls = Mc("finance", "bad-class", "HttpSink", 1, ("topics", "finance.x"), ("http.api.url", "https://api.x.finance.internal/"));
        var text = string.Join("---\n", good, topic, host, cls);
        using var dir = new ValidateCli.TempDir(("connectors.yaml", text));

        var r = await RunAsync(dir.Path);

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var findings = r.Findings.Select(f => (Name: f.GetProperty("name").GetString(), Field: f.GetProperty("field").GetString(), Rule: f.GetProperty("rule").GetString(),
            Line: f.GetProperty("line").GetInt32(), Message: f.GetProperty("message").GetString(), File: f.GetProperty("file").GetString())).ToList();
        Assert.That(findings.Select(f => f.Name), Is.EquivalentTo(new[] { "bad-topic", "bad-host", "bad-class" }), r.ToString());
        Assert.That(findings.All(f => f.Rule == "policy" && f.File == dir.File("connectors.yaml")));

        var expectedTopic = PolicyEvaluator.Evaluate(Finance, Candidate("finance", "bad-topic", "DatagenSource", 1, ("quickstart", "ORDERS"), ("kafka.topic", "hr.salaries"))).Single();
        var t = findings.Single(f => f.Name == "bad-topic");
        Assert.That(t.Field, Is.EqualTo("spec.config[kafka.topic]"));
        Assert.That(t.Message, Is.EqualTo(expectedTopic.Message));
        Assert.That(t.Message, Does.StartWith("spec.config[kafka.topic]: topic hr.salaries does not start with an allowed prefix of department finance (finance.)"));
        Assert.That(t.Line, Is.EqualTo(ValidateCli.LineOf(text, "kafka.topic: \"hr.salaries\"")));

        var expectedHost = PolicyEvaluator.Evaluate(Finance, Candidate("finance", "bad-host", "PostgresCdcSource", 1, ("topic.prefix", "finance.pg"), ("database.hostname", "db.hr.internal"))).Single();
        var h = findings.Single(f => f.Name == "bad-host");
        Assert.That(h.Field, Is.EqualTo("spec.config[database.hostname]"));
        Assert.That(h.Message, Is.EqualTo(expectedHost.Message).And.Contain("host db.hr.internal is not in the allowed hosts of department finance"));
        Assert.That(h.Line, Is.EqualTo(ValidateCli.LineOf(text, "database.hostname: \"db.hr.internal\"")));

        var c = findings.Single(f => f.Name == "bad-class");
        Assert.That(c.Field, Is.EqualTo("spec.connectorClass"));
        Assert.That(c.Message, Does.StartWith("spec.connectorClass HttpSink is not allowed for department finance (allowed: PostgresCdcSource, S3_SINK, DatagenSource)"));
        Assert.That(c.Line, Is.EqualTo(ValidateCli.LineOf(text, "connectorClass: HttpSink")));
    }

    [Test]
    public async Task TasksMax_above_tasksPerConnector_is_a_quota_finding()
    {
        var text = Mc("finance", "big", "DatagenSource", 5, ("kafka.topic", "finance.big"));
        using var dir = new ValidateCli.TempDir(("big.yaml", text));

        var r = await RunAsync(dir.Path);

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var f = r.Findings.Single();
        var expected = QuotaMath.OverQuota(new[] { Candidate("finance", "big", "DatagenSource", 5) }, new[] { new QuotaLimits("finance", 10, 20, 4) })["finance/big"];
        Assert.That(f.GetProperty("rule").GetString(), Is.EqualTo("quota"));
        Assert.That(f.GetProperty("field").GetString(), Is.EqualTo("spec.tasksMax"));
        Assert.That(f.GetProperty("message").GetString(), Is.EqualTo(expected.Message));
        Assert.That(f.GetProperty("message").GetString(), Does.StartWith("exceeded quota finance: requested tasksPerConnector=5, limited tasksPerConnector=4"));
        Assert.That(f.GetProperty("line").GetInt32(), Is.EqualTo(ValidateCli.LineOf(text, "tasksMax: 5")));
    }

    [Test]
    public async Task Too_many_connectors_counts_all_inputs_of_the_department_across_files()
    {
        // hr allows 5 connectors; six are given in two files, so the last by namespace/name (hr/gen-6) is over quota.
        var files = Enumerable.Range(1, 6).Select(i => ($"c{i % 2}/gen-{i}.yaml", Mc("hr", $"gen-{i}", "DatagenSource", 1, ("kafka.topic", $"hr.gen{i}")))).ToArray();
        var finance = Mc("finance", "fin", "DatagenSource", 1, ("kafka.topic", "finance.x"));
        using var dir = new ValidateCli.TempDir(files.Append(("fin.yaml", finance)).ToArray());

        var r = await RunAsync(dir.Path);

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var f = r.Findings.Single();
        var expected = QuotaMath.OverQuota(Enumerable.Range(1, 6).Select(i => Candidate("hr", $"gen-{i}", "DatagenSource", 1)).ToList(),
            new[] { new QuotaLimits("hr", 5, 8, 2) });
        Assert.That(expected.Keys, Is.EqualTo(new[] { "hr/gen-6" }));
        Assert.That(f.GetProperty("name").GetString(), Is.EqualTo("gen-6"));
        Assert.That(f.GetProperty("namespace").GetString(), Is.EqualTo("hr"));
        Assert.That(f.GetProperty("rule").GetString(), Is.EqualTo("quota"));
        Assert.That(f.GetProperty("message").GetString(), Is.EqualTo(expected["hr/gen-6"].Message));
        Assert.That(f.GetProperty("message").GetString(), Does.StartWith("exceeded quota hr: requested connectors=1, used connectors=5, limited connectors=5"));
        Assert.That(f.GetProperty("file").GetString(), Is.EqualTo(dir.File("c0/gen-6.yaml")));
        Assert.That(f.GetProperty("line").GetInt32(), Is.EqualTo(4), "metadata.name of the over-quota connector");
    }

    [Test]
    public async Task Finding_points_at_the_right_document_of_a_multi_document_file()
    {
        var first = Mc("hr", "ok", "DatagenSource", 1, ("kafka.topic", "hr.ok"));
        var second = Mc("hr", "wrong", "DatagenSource", 1, ("kafka.topic", "finance.stolen"));
        var text = "# two connectors\n" + first + "---\n" + second;
        using var dir = new ValidateCli.TempDir(("two.yaml", text));

        var r = await RunAsync(dir.File("two.yaml"));

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var f = r.Findings.Single();
        Assert.That(f.GetProperty("name").GetString(), Is.EqualTo("wrong"));
        Assert.That(f.GetProperty("line").GetInt32(), Is.EqualTo(ValidateCli.LineOf(text, "finance.stolen")));
    }

    [Test]
    public async Task Departments_and_quotas_among_the_inputs_count()
    {
        var dept = "apiVersion: connect.ebs.io/v1alpha1\nkind: Department\nmetadata:\n  name: sales\nspec:\n  namespaces: [sales]\n  confluent:\n    environmentId: env-s1\n    kafkaClusterId: lkc-s1\n    serviceAccountId: sa-s1\n    credentialsSecretRef: {name: sales}\n  policy:\n    allowedConnectorClasses: [DatagenSource]\n    topicPrefixes: [\"sales.\"]\n";
        var quota = "apiVersion: connect.ebs.io/v1alpha1\nkind: ConnectorQuota\nmetadata:\n  name: sales\nspec:\n  departmentRef: {name: sales}\n  hard: {tasks: 3}\n";
        var mcs = Mc("sales", "a", "DatagenSource", 2, ("kafka.topic", "sales.a")) + "---\n" + Mc("sales", "b", "DatagenSource", 2, ("kafka.topic", "sales.b"));
        using var dir = new ValidateCli.TempDir(("all.yaml", dept + "---\n" + quota + "---\n" + mcs));

        var r = await ValidateCli.RunAsync("-f", dir.Path, "-o", "json");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var f = r.Findings.Single();
        Assert.That(f.GetProperty("name").GetString(), Is.EqualTo("b"));
        Assert.That(f.GetProperty("message").GetString(), Does.StartWith("exceeded quota sales: requested tasks=2, used tasks=2, limited tasks=3"));
    }

    [Test]
    public async Task Namespace_outside_every_department_and_missing_namespace()
    {
        var noDept = Mc("marketing", "m", "DatagenSource", 1, ("kafka.topic", "marketing.x"));
        var noNs = Mc("finance", "no-ns", "DatagenSource", 1, ("kafka.topic", "finance.x")).Replace("  namespace: finance\n", "");
        using var dir = new ValidateCli.TempDir(("a.yaml", noDept), ("b.yaml", noNs));

        var r = await RunAsync(dir.Path);

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var byName = r.Findings.ToDictionary(f => f.GetProperty("name").GetString()!);
        Assert.That(byName["m"].GetProperty("message").GetString(), Is.EqualTo(PolicyEvaluator.ResolveDepartment("marketing", new[] { Finance }).Violation!.Message));
        Assert.That(byName["m"].GetProperty("field").GetString(), Is.EqualTo("metadata.namespace"));
        Assert.That(byName["no-ns"].GetProperty("field").GetString(), Is.EqualTo("metadata.namespace"));
        Assert.That(byName["no-ns"].GetProperty("message").GetString(), Does.Contain("set metadata.namespace"));
        Assert.That(byName["no-ns"].GetProperty("namespace").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
    }

    [Test]
    public async Task Without_departments_policy_is_not_checked_and_the_text_output_says_so()
    {
        var text = Mc("anywhere", "x", "AnyClass", 1, ("kafka.topic", "whatever"));
        using var dir = new ValidateCli.TempDir(("x.yaml", text));

        var r = await ValidateCli.RunAsync("-f", dir.Path);

        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("department policy and quota were not checked"));
    }

    [Test]
    public async Task Custom_plugins_are_checked_against_the_departments_approved_plugins_and_their_key_tables()
    {
        // samples/platform approves ccp-ledger01 for finance, with audit.topic a topic key and ledger.api.url a host key.
        static string Custom(string name, string plugin, string cls, string topic, string url)
            => $"apiVersion: connect.ebs.io/v1alpha1\nkind: ManagedConnector\nmetadata:\n  name: {name}\n  namespace: finance\nspec:\n  connectorClass: {cls}\n" +
               $"  customPlugin:\n    id: {plugin}\n  config:\n    audit.topic: {topic}\n    ledger.api.url: {url}\n";
        const string cls = "com.example.ledger.LedgerAuditSourceConnector";
        var good = Custom("good", "ccp-ledger01", cls, "finance.audit", "https://ledger-api.finance.internal/");
        var unknown = Custom("unknown", "ccp-nope01", cls, "finance.audit", "https://ledger-api.finance.internal/");
        var topic = Custom("bad-topic", "ccp-ledger01", cls, "hr.audit", "https://ledger-api.finance.internal/");
        var host = Custom("bad-host", "ccp-ledger01", cls, "finance.audit", "https://ledger.hr.internal/");
        var wrongClass = Custom("wrong-class", "ccp-ledger01", "DatagenSource", "finance.audit", "https://ledger-api.finance.internal/");
        var badId = Custom("bad-id", "plugin-1", cls, "finance.audit", "https://ledger-api.finance.internal/");
        var text = string.Join("---\n", good, unknown, topic, host, wrongClass, badId);
        using var dir = new ValidateCli.TempDir(("custom.yaml", text));

        var r = await RunAsync(dir.Path);

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var findings = r.Findings.Select(f => (Name: f.GetProperty("name").GetString(), Field: f.GetProperty("field").GetString(), Rule: f.GetProperty("rule").GetString(),
            Line: f.GetProperty("line").GetInt32(), Message: f.GetProperty("message").GetString())).ToList();
        Assert.That(findings.Select(f => f.Name).Distinct(), Is.EquivalentTo(new[] { "unknown", "bad-topic", "bad-host", "wrong-class", "bad-id" }), r.ToString());
        var u = findings.Single(f => f.Name == "unknown");
        Assert.That((u.Field, u.Rule), Is.EqualTo(("spec.customPlugin.id", "policy")));
        Assert.That(u.Message, Does.StartWith("spec.customPlugin.id ccp-nope01 is not a custom plugin department finance may run (approved: ccp-ledger01)")
            .And.Contain("Department finance spec.policy.customPlugins"));
        Assert.That(u.Line, Is.EqualTo(ValidateCli.LineOf(text, "id: ccp-nope01")));
        var t = findings.Single(f => f.Name == "bad-topic");
        Assert.That((t.Field, t.Line), Is.EqualTo(("spec.config[audit.topic]", ValidateCli.LineOf(text, "audit.topic: hr.audit"))));
        Assert.That(findings.Single(f => f.Name == "bad-host").Message, Does.Contain("host ledger.hr.internal is not in the allowed hosts"));
        Assert.That(findings.Single(f => f.Name == "wrong-class").Field, Is.EqualTo("spec.connectorClass"));
        Assert.That(findings.Where(f => f.Name == "bad-id").Select(f => f.Field), Does.Contain("spec.customPlugin.id"));
        Assert.That(findings.Where(f => f.Name == "bad-id").Select(f => f.Rule), Has.Some.Not.EqualTo("policy"), "a malformed id fails the CRD's pattern too");
    }
}
