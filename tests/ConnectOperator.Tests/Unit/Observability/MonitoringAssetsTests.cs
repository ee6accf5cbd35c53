using System.Text.RegularExpressions;
using ConnectOperator.Observability;
using ConnectOperator.Tests.Unit.Packaging;
using Newtonsoft.Json.Linq;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Unit.Observability;

/// <summary>Alerts and dashboards use only exported metrics and labels; the deploy/ copies match the chart.</summary>
public class MonitoringAssetsTests
{
    private static readonly Regex MetricRef = new(@"connect_operator_[a-z_]+", RegexOptions.Compiled);

    /// <summary>Labels each metric family carries (histogram series add <c>le</c>).</summary>
    private static readonly Dictionary<string, string[]> Labels = new()
    {
        [MetricNames.ReconcileTotal] = new[] { "kind", "result" },
        [MetricNames.ReconcileErrors] = new[] { "kind" },
        [MetricNames.ReconcileDuration] = new[] { "kind" },
        [MetricNames.QueueDepth] = new[] { "queue" },
        [MetricNames.QueueAdds] = new[] { "queue" },
        [MetricNames.QueueRetries] = new[] { "queue" },
        [MetricNames.QueueLongestRunning] = new[] { "queue" },
        [MetricNames.QueueUnfinishedWork] = new[] { "queue" },
        [MetricNames.Leader] = Array.Empty<string>(),
        [MetricNames.KubeApiRequests] = new[] { "verb", "resource", "subresource", "code" },
        [MetricNames.ConfluentRequests] = new[] { "route", "method", "code" },
        [MetricNames.ConfluentDuration] = new[] { "route" },
        [MetricNames.ConfluentRateLimitWaits] = new[] { "route" },
        [MetricNames.ConfluentRateLimitWaitSeconds] = new[] { "route" },
        [MetricNames.ConfluentRetries] = new[] { "route", "reason" },
        [MetricNames.ConfluentCircuitOpen] = Array.Empty<string>(),
        [MetricNames.ConnectorState] = new[] { "department", "namespace", "name", "state" },
        [MetricNames.ConnectorFailedTasks] = new[] { "department", "namespace", "name" },
        [MetricNames.ConnectorAutoRestarts] = new[] { "department", "namespace", "name" },
        [MetricNames.ConnectorSentRecords] = new[] { "department", "namespace", "name" },
        [MetricNames.ConnectorReceivedRecords] = new[] { "department", "namespace", "name" },
        [MetricNames.ConnectorDeadLetterQueueRecords] = new[] { "department", "namespace", "name" },
        [MetricNames.QuotaHard] = new[] { "department", "quota", "resource" },
        [MetricNames.QuotaUsed] = new[] { "department", "quota", "resource" },
        [MetricNames.AdmissionTotal] = new[] { "kind", "result" },
        [MetricNames.AdmissionDuration] = new[] { "kind" },
    };

    private static string Family(string series)
        => MetricNames.Histograms.FirstOrDefault(h => series == h + "_bucket" || series == h + "_sum" || series == h + "_count") ?? series;

    /// <summary>Checks one PromQL expression: known metrics, and every label in by()/on()/{matchers} exists on them.</summary>
    private static void CheckExpr(string what, string expr)
    {
        var used = MetricRef.Matches(expr).Select(m => m.Value).ToList();
        Assert.That(used, Is.Not.Empty, what + ": uses no operator metric");
        Assert.That(used, Is.SubsetOf(MetricNames.SeriesNames()), what + ": uses a metric the operator does not export");
        var available = used.SelectMany(u => Labels[Family(u)].Concat(MetricNames.Histograms.Contains(Family(u)) && u.EndsWith("_bucket") ? new[] { "le" } : Array.Empty<string>())).ToHashSet();
        var grouped = Regex.Matches(expr, @"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)").SelectMany(m => m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        var matched = Regex.Matches(expr, @"\{([^}]*)\}").SelectMany(m => Regex.Matches(m.Groups[1].Value, @"([a-z_]+)\s*(?:=~|!~|!=|=)").Select(x => x.Groups[1].Value));
        Assert.That(grouped.Concat(matched).Distinct(), Is.SubsetOf(available), what + ": uses a label the metric does not have");
    }

    private static Dictionary<string, string> Alerts(IEnumerable<YamlMappingNode> docs)
        => docs.SelectMany(d => ((YamlSequenceNode)d.Get("spec", "groups")!).Children)
            .SelectMany(g => ((YamlSequenceNode)g.Get("rules")!).Children)
            .ToDictionary(r => r.Str("alert")!, r => r.Str("expr")!);

    [Test]
    public void Every_metric_family_has_its_labels_documented_here_and_in_docs_metrics_md()
    {
        Assert.That(Labels.Keys, Is.EquivalentTo(MetricNames.All));
        var doc = File.ReadAllText(Path.Combine(PackagingFiles.Root, "docs", "metrics.md"));
        foreach (var name in MetricNames.All) Assert.That(doc, Does.Contain("`" + name + "`"), name + " is not documented in docs/metrics.md");
    }

    [Test]
    public void Chart_alerts_use_only_exported_metrics_and_their_labels()
    {
        foreach (var (name, expr) in Alerts(PackagingFiles.LoadTemplate("prometheusrule.yaml"))) CheckExpr("chart alert " + name, expr);
    }

    [Test]
    public void Deploy_rules_are_the_chart_rules_rendered_with_defaults()
    {
        var chart = Alerts(PackagingFiles.LoadTemplate("prometheusrule.yaml"));
        var deploy = Alerts(PackagingFiles.LoadDocuments(File.ReadAllText(Path.Combine(PackagingFiles.Deploy, "monitoring", "prometheusrule.yaml")), "deploy/monitoring/prometheusrule.yaml"));
        Assert.That(deploy.Keys, Is.EquivalentTo(chart.Keys));
        foreach (var (name, expr) in deploy)
        {
            CheckExpr("deploy alert " + name, expr);
            // The chart's expression with its template values as wildcards must match the rendered one.
            var pattern = "^" + string.Join(@"\S+", Regex.Escape(chart[name].Trim()).Split(PackagingFiles.Placeholder)) + "$";
            Assert.That(Regex.IsMatch(expr.Trim(), pattern), Is.True, $"{name}: deploy expr differs from the chart:\n{expr}\nvs\n{chart[name]}");
        }
    }

    private static IEnumerable<string> DashboardExprs(JToken dashboard)
        => dashboard.SelectTokens("$..targets[*].expr").Select(t => (string)t!)
            .Concat(dashboard.SelectTokens("$.templating.list[*].query").Select(t => (string?)t).OfType<string>().Where(q => q.Contains("connect_operator_")));

    [Test]
    public void Dashboard_uses_only_exported_metrics_covers_the_estate_and_ships_identically_in_chart_and_deploy()
    {
        var chartFile = Path.Combine(PackagingFiles.Chart, "dashboards", "connect-operator.json");
        var deployFile = Path.Combine(PackagingFiles.Deploy, "monitoring", "connect-operator-dashboard.json");
        Assert.That(File.ReadAllText(deployFile), Is.EqualTo(File.ReadAllText(chartFile)), "deploy/monitoring copy is out of date");
        var dashboard = JToken.Parse(File.ReadAllText(chartFile));
        var exprs = DashboardExprs(dashboard).ToList();
        Assert.That(exprs, Has.Count.GreaterThan(10));
        foreach (var e in exprs.Where(e => !e.StartsWith("label_values"))) CheckExpr("dashboard", e);
        var used = exprs.SelectMany(e => MetricRef.Matches(e).Select(m => Family(m.Value))).ToHashSet();
        Assert.That(used, Is.SupersetOf(new[] { MetricNames.ConnectorState, MetricNames.ConnectorFailedTasks, MetricNames.QuotaUsed, MetricNames.QuotaHard,
            MetricNames.ConfluentRequests, MetricNames.ConfluentDuration, MetricNames.Leader }));
        Assert.That(dashboard.SelectTokens("$.panels[*].title").Select(t => (string)t!), Is.SupersetOf(new[] { "Estate overview", "Failing connectors", "Quota use", "Confluent API health" }));
    }

    [Test]
    public void Dashboard_configmap_is_guarded_and_labelled_for_the_grafana_sidecar()
    {
        var raw = File.ReadAllText(Path.Combine(PackagingFiles.Chart, "templates", "dashboards.yaml"));
        Assert.That(raw, Does.StartWith("{{- if .Values.monitoring.dashboards.enabled }}"));
        Assert.That(raw, Does.Contain(".Files.Get \"dashboards/connect-operator.json\""));
        var cm = PackagingFiles.LoadTemplate("dashboards.yaml").Single();
        Assert.That(cm.Str("kind"), Is.EqualTo("ConfigMap"));
        Assert.That(cm.Str("metadata", "labels", "grafana_dashboard"), Is.EqualTo("1"));
        var values = PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Chart, "values.yaml"));
        Assert.That((bool)values["monitoring"]!["dashboards"]!["enabled"]!, Is.False);
    }
}
