using System.Text.RegularExpressions;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Unit.Packaging;
using Newtonsoft.Json.Linq;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Integration.Docs;

/// <summary>
/// The names the docs cite exist where they come from: the lease, labels and annotations, alerts and their label sets,
/// metric names, Event reasons, the user roles' rules, chart values, the Department printer columns, file paths and
/// CLI flags are read from docs/ and compared with src/, charts/, crds/ and deploy/. No cluster needed.
/// </summary>
public class DocNamesTests
{
    private static string Repo(string p) => Path.Combine(TestCluster.RepoRoot, p);
    private static string Read(string p) => File.ReadAllText(Repo(p));

    private static IEnumerable<(string File, string Text)> Docs()
        => DocBlocks.MarkdownFiles().Append(Repo("deploy/README.md")).Append(Repo("deploy/ci/README.md"))
            .Select(f => (Path.GetRelativePath(TestCluster.RepoRoot, f), File.ReadAllText(f)));

    private static string Handbook(string chapter) => Read("docs/handbook/" + chapter);

    private static string Code(string folder) => string.Join("\n", Directory.GetFiles(Repo(folder), "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText));

    // ---------- lease ----------

    [Test]
    public void The_lease_the_docs_name_is_the_operators_lease()
    {
        var values = PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Chart, "values.yaml"));
        var lease = (string)values["operator"]!["leaderElection"]!["leaseName"]!;
        Assert.That(Regex.Match(Read("src/ConnectOperator/Runtime/Leadership/LeaderElection.cs"), "LeaseName \\{ get; set; \\} = \"(?<n>[^\"]+)\"").Groups["n"].Value,
            Is.EqualTo(lease), "the code's default and the chart's value");
        var cited = Docs().SelectMany(d => Regex.Matches(d.Text, @"(?:lease|Lease) `?(?<n>connect-operator[a-z-]*)`?").Select(m => (d.File, Name: m.Groups["n"].Value))).ToList();
        Assert.That(cited, Is.Not.Empty, "the runbook names the lease");
        Assert.That(cited.Where(c => c.Name != lease).Select(c => $"{c.File}: {c.Name}"), Is.Empty, $"the lease is {lease}");
    }

    // ---------- labels, annotations, finalizer ----------

    /// <summary>connect.ebs.io/… names the docs may cite without the code using them, with the reason.</summary>
    private static readonly Dictionary<string, string> NotReadByTheOperator = new()
    {
        ["connect.ebs.io/department"] = "the sample namespaces' label; the onboarding chapter says nothing reads it",
    };

    [Test]
    public void Every_connect_ebs_io_label_annotation_and_finalizer_the_docs_cite_is_used_by_the_code()
    {
        var code = Code("src/ConnectOperator");
        var known = Regex.Matches(code, "\"(?<n>connect\\.ebs\\.io/[a-z0-9-]+)\"").Select(m => m.Groups["n"].Value).ToHashSet();
        known.Add("connect.ebs.io/v1alpha1");   // ConnectApi.ApiVersion is built from Group + "/" + Version
        Assert.That(known, Is.SupersetOf(new[] { "connect.ebs.io/finalizer", "connect.ebs.io/restart", "connect.ebs.io/adopt" }));
        var sources = Docs().Concat(Directory.GetFiles(PackagingFiles.Deploy, "*.y*ml", SearchOption.AllDirectories)
            .Select(f => (Path.GetRelativePath(TestCluster.RepoRoot, f), File.ReadAllText(f))));
        var unknown = new List<string>();
        foreach (var (file, text) in sources)
            foreach (Match m in Regex.Matches(text, @"connect\.ebs\.io/[a-z0-9][a-z0-9-]*"))
            {
                if (known.Contains(m.Value)) continue;
                if (NotReadByTheOperator.ContainsKey(m.Value) && file.EndsWith(".md", StringComparison.Ordinal)
                    && text.Contains("nothing reads it", StringComparison.Ordinal)) continue;
                unknown.Add($"{file}: {m.Value}");
            }
        Assert.That(unknown.Distinct(), Is.Empty, "labels/annotations nothing reads (deploy/ must not set them; docs must say so)");
    }

    [Test]
    public void Only_ManagedConnectors_get_the_finalizer_as_code_comments_and_docs_say()
    {
        Assert.That(Code("src/ConnectOperator/Controllers/Departments"), Does.Not.Contain("Finalizer"), "the Department reconciler adds no finalizer");
        Assert.That(Read("src/ConnectOperator/Entities/ConnectApi.cs"), Does.Not.Contain("(and Departments)"));
        Assert.That(Handbook("04-lifecycle.md"), Does.Contain("Only ManagedConnectors carry the operator's finalizer"));
    }

    // ---------- alerts ----------

    private sealed record Alert(string Name, string Severity, string For, string[] Labels);

    private static List<Alert> ChartAlerts()
    {
        var text = Read("charts/connect-operator/templates/prometheusrule.yaml");
        var alerts = new List<Alert>();
        foreach (Match m in Regex.Matches(text, @"- alert: (?<a>\w+)\n(?<body>(?:(?!\n\s+- alert:).)*)", RegexOptions.Singleline))
        {
            var body = m.Groups["body"].Value;
            var expr = Regex.Match(body, @"expr: \|?\s*(?<e>.*?)\n\s+for:", RegexOptions.Singleline).Groups["e"].Value.Trim();
            var by = Regex.Match(expr, @"\bby \((?<l>[^)]*)\)");
            var labels = expr.StartsWith("histogram_quantile", StringComparison.Ordinal) || !by.Success
                ? Array.Empty<string>()
                : by.Groups["l"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            alerts.Add(new Alert(m.Groups["a"].Value, Regex.Match(body, @"severity: (\w+)").Groups[1].Value, Regex.Match(body, @"\bfor: (\S+)").Groups[1].Value, labels));
        }
        return alerts;
    }

    /// <summary>Rows of the Markdown table that follows an HTML comment starting with <paramref name="marker"/>.</summary>
    private static List<string[]> TableAfter(string text, string marker)
    {
        var at = text.IndexOf("<!-- " + marker, StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThanOrEqualTo(0), $"table marked <!-- {marker} --> not found");
        var rows = new List<string[]>();
        foreach (var line in text[at..].Split('\n').Skip(1))
        {
            if (!line.StartsWith('|')) { if (rows.Count > 0) break; continue; }
            var cells = line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (cells.All(c => Regex.IsMatch(c, "^-+$"))) continue;
            rows.Add(cells);
        }
        return rows.Skip(1).ToList();   // header
    }

    private static string[] Ticked(string cell) => Regex.Matches(cell, "`(?<v>[^`]*)`").Select(m => m.Groups["v"].Value).ToArray();

    [Test]
    public void The_runbooks_alert_table_has_every_alert_with_its_real_labels_severity_and_duration()
    {
        var chart = ChartAlerts();
        Assert.That(chart, Has.Count.GreaterThanOrEqualTo(10));
        var rows = TableAfter(Handbook("06-troubleshooting.md"), "alert-labels");
        var documented = rows.Select(r => new Alert(Ticked(r[0]).Single(), r[1], r[3], Ticked(r[2]))).ToList();
        Assert.That(documented.Select(a => a.Name), Is.EquivalentTo(chart.Select(a => a.Name)), "one row per alert of the chart");
        foreach (var c in chart)
        {
            var d = documented.Single(a => a.Name == c.Name);
            Assert.That(d.Labels, Is.EquivalentTo(c.Labels), $"{c.Name}: labels are the by (...) clause of its expr");
            Assert.That(d.Severity, Is.EqualTo(c.Severity), c.Name);
            Assert.That(d.For, Is.EqualTo(c.For), c.Name);
        }
        // Routing advice may only use labels the alerts carry; rule group names are not labels.
        var runbook = Handbook("06-troubleshooting.md");
        Assert.That(Regex.Matches(runbook, @"route [^.]*`connect-operator\.(operator|connectors|quotas)`").Count, Is.Zero, "a rule group name is not a label to route on");
    }

    [Test]
    public void Every_alert_name_in_the_docs_exists_in_the_chart()
    {
        var chart = ChartAlerts().Select(a => a.Name).ToHashSet();
        var unknown = Docs().SelectMany(d => Regex.Matches(d.Text, @"\bConnect(?:Connector|Operator|Quota|Confluent|Webhook)[A-Z]\w+").Select(m => $"{d.File}: {m.Value}"))
            .Where(x => !chart.Contains(x[(x.IndexOf(": ", StringComparison.Ordinal) + 2)..])).Distinct().ToList();
        Assert.That(unknown, Is.Empty);
    }

    [Test]
    public void Alert_semantics_the_runbook_states_match_the_rules()
    {
        var rules = Read("charts/connect-operator/templates/prometheusrule.yaml");
        var runbook = Handbook("06-troubleshooting.md");
        // Flapping counts changes of the RUNNING series (entries and exits), not entries into RUNNING.
        Assert.That(rules, Does.Contain("changes(connect_operator_connector_state{state=\"RUNNING\"}[30m])) >= 4"));
        Assert.That(runbook, Does.Not.Contain("entered RUNNING 4+ times"));
        Assert.That(runbook, Does.Contain("changed 4 or more times in 30 minutes").And.Contain("two fail/recover cycles"));
        // Auto-restart exhausted compares with the chart value, not each connector's spec.
        Assert.That(rules, Does.Contain(">= {{ $pr.maxRestarts }}"));
        Assert.That(runbook, Does.Contain("monitoring.prometheusRule.maxRestarts"));
    }

    // ---------- metrics ----------

    [Test]
    public void Every_metric_name_in_docs_deploy_and_the_chart_is_one_the_operator_exports()
    {
        var names = Regex.Matches(Read("src/ConnectOperator/Observability/MetricNames.cs"), "Prefix \\+ \"(?<n>[a-z_]+)\"").Select(m => "connect_operator_" + m.Groups["n"].Value).ToHashSet();
        Assert.That(names, Has.Count.GreaterThan(20));
        var sources = Docs()
            .Concat(Directory.GetFiles(Repo("deploy/monitoring"), "*.*").Select(f => (Path.GetRelativePath(TestCluster.RepoRoot, f), File.ReadAllText(f))))
            .Concat(Directory.GetFiles(Repo("charts/connect-operator/templates"), "*.yaml").Select(f => (Path.GetRelativePath(TestCluster.RepoRoot, f), File.ReadAllText(f))));
        var unknown = new List<string>();
        foreach (var (file, text) in sources)
            foreach (Match m in Regex.Matches(text, @"\bconnect_operator_[a-z_]*[a-z]\b"))
            {
                var n = Regex.Replace(m.Value, "_(bucket|sum|count)$", "");
                if (!names.Contains(n) && !names.Contains(m.Value)) unknown.Add($"{file}: {m.Value}");
            }
        Assert.That(unknown.Distinct(), Is.Empty);
    }

    // ---------- Event reasons ----------

    [Test]
    public void Every_Event_reason_the_docs_cite_is_one_the_operator_records()
    {
        var code = Code("src/ConnectOperator");
        var reasons = Regex.Matches(code, @"(?:PendingEvent|PlannedEvent)\(EventRecorder\.\w+, ""(?<r>[A-Z]\w+)""").Select(m => m.Groups["r"].Value)
            .Concat(Regex.Matches(code, @"(?:Normal|Warning)Async\(\w+, ""(?<r>[A-Z]\w+)""").Select(m => m.Groups["r"].Value))
            .ToHashSet();
        Assert.That(reasons, Is.SupersetOf(new[] { "Created", "Updated", "Restarted", "Adopted", "DriftReverted", "AutoRestartExhausted", "Deleted" }));
        var cited = Docs().SelectMany(d =>
            Regex.Matches(d.Text, @"(?:Events? `(?<a>[A-Z]\w+)`|`(?<b>[A-Z]\w+)` [Ee]vents?\b|field-selector[^\n]*?reason=(?<c>[A-Z]\w+))")
                .Select(m => (d.File, R: m.Groups["a"].Success ? m.Groups["a"].Value : m.Groups["b"].Success ? m.Groups["b"].Value : m.Groups["c"].Value))).ToList();
        Assert.That(cited, Is.Not.Empty);
        Assert.That(cited.Where(c => !reasons.Contains(c.R)).Select(c => $"{c.File}: {c.R}").Distinct(), Is.Empty, "Event reasons the operator never records");
    }

    // ---------- user roles ----------

    /// <summary>Documented rules the chart does not have yet, being added on the charts branch: tolerated either way.</summary>
    private static readonly HashSet<string> PendingOnTheChartsBranch = new(StringComparer.Ordinal)
    {
    };

    private static string Key(string role, IEnumerable<string> groups, IEnumerable<string> resources, IEnumerable<string> verbs)
        => $"{role}|{string.Join(",", groups.Order(StringComparer.Ordinal))}|{string.Join(",", resources.Order(StringComparer.Ordinal))}|{string.Join(",", verbs.Order(StringComparer.Ordinal))}";

    [Test]
    public void The_role_table_is_what_the_chart_grants_and_claims_nothing_a_RoleBinding_cannot_give()
    {
        var chart = new HashSet<string>(StringComparer.Ordinal);
        // The names carry the release's full name ({{ include "connect-operator.userRoleName" ... "role" "x" }}): the docs
        // cite them for the default release, connect-operator.
        var names = Regex.Matches(File.ReadAllText(Path.Combine(PackagingFiles.Chart, "templates", "user-roles.yaml")), @"^  name: \{\{ include ""connect-operator.userRoleName"" \(dict ""root"" \. ""role"" ""(?<r>[a-z-]+)""", RegexOptions.Multiline)
            .Select(m => "connect-operator-" + m.Groups["r"].Value).ToList();
        var clusterRoles = PackagingFiles.LoadTemplate("user-roles.yaml").Where(d => d.Str("kind") == "ClusterRole").ToList();
        Assert.That(clusterRoles, Has.Count.EqualTo(names.Count));
        foreach (var (clusterRole, name) in clusterRoles.Zip(names))
            foreach (var rule in ((YamlSequenceNode)clusterRole.Get("rules")!).Children)
                chart.Add(Key(name, rule.Get("apiGroups").Strings(), rule.Get("resources").Strings(), rule.Get("verbs").Strings()));

        var documented = new List<string>();
        var role = "";
        foreach (var r in TableAfter(Handbook("01-roles.md"), "role-rules"))
        {
            if (Ticked(r[0]).FirstOrDefault() is { } name) role = name;
            var groups = Ticked(r[3]).Select(g => g == "\"\"" ? "" : g);
            var verbs = r[5].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            documented.Add(Key(role, groups, Ticked(r[4]), verbs));
        }
        Assert.That(documented, Has.Count.GreaterThanOrEqualTo(8));
        Assert.That(documented.Where(d => !chart.Contains(d) && !PendingOnTheChartsBranch.Contains(d)), Is.Empty, "documented rules the chart does not grant");

        // Every rule of the namespace roles that a RoleBinding can give is documented; none on cluster-scoped kinds is claimed.
        var clusterScoped = new[] { "departments", "connectorquotas", "namespaces" };
        foreach (var c in chart.Where(c => !c.StartsWith("connect-operator-platform-admin|", StringComparison.Ordinal)))
        {
            var resources = c.Split('|')[2].Split(',');
            if (resources.Any(clusterScoped.Contains)) continue;
            Assert.That(documented, Does.Contain(c), "chart rule missing from the role table");
        }
        Assert.That(documented.Where(d => !d.StartsWith("connect-operator-platform-admin|", StringComparison.Ordinal) && d.Split('|')[2].Split(',').Any(clusterScoped.Contains)),
            Is.Empty, "a RoleBinding cannot grant cluster-scoped kinds: the department roles must not claim them");
        foreach (var p in PendingOnTheChartsBranch.Where(chart.Contains))
            TestContext.Progress.WriteLine($"DocNamesTests: {p} is in the chart now; remove it from PendingOnTheChartsBranch");
    }

    // ---------- chart values, printer columns ----------

    [Test]
    public void Every_chart_value_the_docs_cite_exists_in_values_yaml()
    {
        var values = PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Chart, "values.yaml"));
        var tops = ((JObject)values).Properties().Select(p => p.Name).ToList();
        var unknown = new List<string>();
        var count = 0;
        foreach (var (file, text) in Docs())
            foreach (Match m in Regex.Matches(text, "`(?<k>(?:" + string.Join("|", tops.Select(Regex.Escape)) + @")(?:\.[A-Za-z]+)+)`"))
            {
                count++;
                JToken? node = values;
                foreach (var part in m.Groups["k"].Value.Split('.')) node = (node as JObject)?[part];
                if (node is null) unknown.Add($"{file}: {m.Groups["k"].Value}");
            }
        Assert.That(count, Is.GreaterThan(5));
        Assert.That(unknown.Distinct(), Is.Empty, "chart values that do not exist");
    }

    [Test]
    public void The_onboarding_chapter_names_the_Department_printer_columns()
    {
        var crd = PackagingFiles.YamlFileToJson(Repo("crds/departments.yaml"));
        var columns = crd["spec"]!["versions"]![0]!["additionalPrinterColumns"]!.Select(c => (string)c["name"]!).ToList();
        var m = Regex.Match(Handbook("05-onboarding.md"), @"\(columns (?<c>[^)]*)\)");
        Assert.That(m.Success, "05-onboarding names the columns of kubectl get dept");
        Assert.That(m.Groups["c"].Value.Split(',', StringSplitOptions.TrimEntries), Is.EqualTo(columns));
        Assert.That(columns, Does.Not.Contain("CredentialsVerified").And.Not.Contain("Reason"), "the reason is not a column");
        Assert.That(Handbook("05-onboarding.md"), Does.Not.Contain("`kubectl get dept payments` shows Ready `CredentialsVerified`"));
    }

    // ---------- file paths and CLI flags ----------

    [Test]
    public void Every_repository_path_the_docs_cite_exists()
    {
        var missing = new List<string>();
        foreach (var (file, text) in Docs())
            foreach (Match m in Regex.Matches(text, @"`(?<p>(?:deploy|charts|src|samples|crds|hack|tests|docs)/[^`\s<>*…{}]+)`"))
            {
                var p = Regex.Replace(m.Groups["p"].Value, @"(:\d+|#.*)$", "").TrimEnd('/');
                if (!File.Exists(Repo(p)) && !Directory.Exists(Repo(p))) missing.Add($"{file}: {p}");
            }
        Assert.That(missing.Distinct(), Is.Empty);
    }

    [Test]
    public void Every_connect_operator_flag_in_the_docs_and_CI_jobs_exists()
    {
        var cli = Code("src/ConnectOperator/Cli");
        var flags = Regex.Matches(cli, "\"(?<f>--[a-z][a-z-]*)\"").Select(m => m.Groups["f"].Value).ToHashSet();
        flags.Add("--help");   // System.CommandLine's own
        Assert.That(flags, Is.SupersetOf(new[] { "--departments", "--quotas", "--output", "--token", "--logs-api-url", "--since" }));
        var sources = Docs().Concat(Directory.GetFiles(Repo("deploy/ci"), "*.y*ml").Select(f => (Path.GetRelativePath(TestCluster.RepoRoot, f), File.ReadAllText(f))));
        var unknown = new List<string>();
        var seen = 0;
        foreach (var (file, text) in sources)
        {
            var joined = Regex.Replace(text, @"\\\n\s*", " ");
            foreach (Match m in Regex.Matches(joined, @"(?:connect-operator(?:\.dll)?|\$\{?\w*IMAGE\}?""?)\s+(?<cmd>validate|logs|run)\b(?<args>[^\n|;&)`]*)"))
                foreach (Match f in Regex.Matches(m.Groups["args"].Value, @"(?<!\S)--[a-z][a-z-]*"))
                {
                    seen++;
                    if (!flags.Contains(f.Value)) unknown.Add($"{file}: {m.Groups["cmd"].Value} {f.Value}");
                }
        }
        Assert.That(seen, Is.GreaterThan(10));
        Assert.That(unknown.Distinct(), Is.Empty);
    }

    [Test]
    public void The_docs_say_CI_runs_the_validate_image_not_the_operator_image()
    {
        foreach (var (file, text) in Docs())
            Assert.That(text, Does.Not.Contain("in the operator image"), file);
        Assert.That(Handbook("03-gitops.md"), Does.Contain("ghcr.io/ebs/connect-operator-validate"));
    }

    // ---------- anchors ----------

    /// <summary>GitHub's heading anchor: lower case, punctuation dropped, spaces to '-'.</summary>
    public static string Slug(string heading)
        => Regex.Replace(Regex.Replace(heading.Trim().ToLowerInvariant(), @"[^\p{L}\p{N} _-]", ""), " ", "-");

    [Test]
    public void Links_to_a_section_of_a_chapter_name_an_existing_heading()
    {
        Assert.That(Slug("Argo CD (not in the demo)"), Is.EqualTo("argo-cd-not-in-the-demo"));
        Assert.That(Slug("3. GitOps deployment flow"), Is.EqualTo("3-gitops-deployment-flow"));
        var broken = new List<string>();
        foreach (var file in DocBlocks.MarkdownFiles())
            foreach (Match m in Regex.Matches(File.ReadAllText(file), @"\]\((?<t>[^)#\s]*\.md)?#(?<a>[^)\s]+)\)"))
            {
                var target = m.Groups["t"].Success && m.Groups["t"].Value.Length > 0 ? Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, m.Groups["t"].Value)) : file;
                if (!File.Exists(target)) continue;   // Relative_links_in_docs_resolve reports it
                var inFence = false;
                var slugs = new HashSet<string>();
                foreach (var line in File.ReadAllLines(target))
                {
                    if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) inFence = !inFence;
                    else if (!inFence && Regex.Match(line, "^#{1,6} (?<h>.+)$") is { Success: true } h) slugs.Add(Slug(h.Groups["h"].Value));
                }
                if (!slugs.Contains(m.Groups["a"].Value)) broken.Add($"{Path.GetRelativePath(TestCluster.RepoRoot, file)} -> {m.Value}");
            }
        Assert.That(broken, Is.Empty);
    }
}
