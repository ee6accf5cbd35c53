using System.Text.Json.Nodes;
using ConnectOperator.Confluent.Metrics;
using ConnectOperator.Entities;
using ConnectOperator.Hosting;
using ConnectOperator.Observability;
using ConnectOperator.Tests.Unit.Observability;
using k8s.Models;
using Prometheus;

namespace ConnectOperator.Tests.Unit.Throughput;

public class ThroughputQueryBuildingTests
{
    private static readonly DateTimeOffset Minute = new(2025, 3, 4, 10, 17, 0, TimeSpan.Zero);

    [Test]
    public void One_id_is_an_EQ_filter_grouped_by_connector_over_one_minute()
    {
        var q = MetricsQuery.Build(ConnectMetrics.SentRecords, ["lcc-a"], Minute);
        Assert.That(q["aggregations"]!.ToJsonString(), Is.EqualTo("""[{"metric":"io.confluent.kafka.connect/sent_records","agg":"SUM"}]"""));
        Assert.That(q["group_by"]!.ToJsonString(), Is.EqualTo("""["resource.connector.id"]"""));
        Assert.That(q["filter"]!.ToJsonString(), Is.EqualTo("""{"field":"resource.connector.id","op":"EQ","value":"lcc-a"}"""));
        Assert.That(q["granularity"]!.GetValue<string>(), Is.EqualTo("PT1M"));
        Assert.That(q["intervals"]!.ToJsonString(), Is.EqualTo("""["2025-03-04T10:17:00Z/PT1M"]"""));
        Assert.That(q["format"]!.GetValue<string>(), Is.EqualTo("FLAT"));
        Assert.That(q["limit"]!.GetValue<int>(), Is.EqualTo(1));
    }

    [Test]
    public void Several_ids_are_an_OR_of_EQ_filters_deduplicated_and_sorted_with_a_limit_covering_them()
    {
        var q = MetricsQuery.Build(ConnectMetrics.ReceivedRecords, ["lcc-b", "lcc-a", "lcc-b", ""], Minute);
        var f = q["filter"]!.AsObject();
        Assert.That(f["op"]!.GetValue<string>(), Is.EqualTo("OR"));
        var values = f["filters"]!.AsArray().Select(x => (x!["field"]!.GetValue<string>(), x["op"]!.GetValue<string>(), x["value"]!.GetValue<string>())).ToList();
        Assert.That(values, Is.EqualTo(new[] { ("resource.connector.id", "EQ", "lcc-a"), ("resource.connector.id", "EQ", "lcc-b") }));
        Assert.That(q["limit"]!.GetValue<int>(), Is.EqualTo(2));
    }

    [Test]
    public void Bad_id_sets_are_refused()
    {
        Assert.Throws<ArgumentException>(() => MetricsQuery.Build(ConnectMetrics.SentRecords, [], Minute));
        Assert.Throws<ArgumentException>(() => MetricsQuery.Build(ConnectMetrics.SentRecords, Enumerable.Range(0, 1001).Select(i => $"lcc-{i}").ToList(), Minute));
    }

    [Test]
    public void The_queried_minute_is_the_last_complete_one_before_the_lag()
    {
        var now = new DateTimeOffset(2025, 3, 4, 10, 20, 27, TimeSpan.FromHours(2));   // 08:20:27Z
        Assert.That(MetricsQuery.LastCompleteMinute(now, TimeSpan.FromMinutes(1)), Is.EqualTo(new DateTimeOffset(2025, 3, 4, 8, 18, 0, TimeSpan.Zero)));
        Assert.That(MetricsQuery.LastCompleteMinute(now, TimeSpan.Zero), Is.EqualTo(new DateTimeOffset(2025, 3, 4, 8, 19, 0, TimeSpan.Zero)));
        Assert.That(MetricsQuery.Interval(new DateTimeOffset(2025, 3, 4, 8, 18, 0, TimeSpan.Zero)), Is.EqualTo("2025-03-04T08:18:00Z/PT1M"));
    }
}

public class ThroughputResponseParsingTests
{
    [Test]
    public void Flat_points_are_summed_per_connector()
    {
        var r = MetricsQuery.Parse("""
            {"data":[
              {"timestamp":"2025-03-04T10:17:00Z","resource.connector.id":"lcc-a","value":100},
              {"timestamp":"2025-03-04T10:18:00Z","resource.connector.id":"lcc-a","value":20.5},
              {"timestamp":"2025-03-04T10:17:00Z","resource.connector.id":"lcc-b","value":0},
              {"timestamp":"2025-03-04T10:17:00Z","value":7}
            ]}
            """);
        Assert.That(r, Is.EquivalentTo(new Dictionary<string, double> { ["lcc-a"] = 120.5, ["lcc-b"] = 0 }));
    }

    [Test]
    public void Grouped_points_are_summed_per_connector()
    {
        var r = MetricsQuery.Parse("""
            {"data":[{"resource.connector.id":"lcc-a","points":[{"timestamp":"2025-03-04T10:17:00Z","value":3},{"timestamp":"2025-03-04T10:18:00Z","value":4}]}]}
            """);
        Assert.That(r, Is.EquivalentTo(new Dictionary<string, double> { ["lcc-a"] = 7 }));
    }

    [Test]
    public void Empty_data_is_no_values_and_a_body_without_data_is_an_error()
    {
        Assert.That(MetricsQuery.Parse("""{"data":[]}"""), Is.Empty);
        Assert.Throws<FormatException>(() => MetricsQuery.Parse("""{"errors":[{"detail":"x"}]}"""));
    }
}

public class ThroughputOptionsAndGaugeTests
{
    [Test]
    public void Interval_is_at_least_60_s_unless_short_intervals_are_explicitly_allowed_for_tests()
    {
        var o = new ThroughputOptions();
        Assert.That(o.Enabled, Is.False, "off by default");
        Assert.That(o.EffectiveInterval, Is.EqualTo(TimeSpan.FromSeconds(60)));
        o.Interval = TimeSpan.FromSeconds(5);
        Assert.That(o.EffectiveInterval, Is.EqualTo(TimeSpan.FromSeconds(60)), "never more often than once a minute");
        o.Interval = TimeSpan.FromMinutes(5);
        Assert.That(o.EffectiveInterval, Is.EqualTo(TimeSpan.FromMinutes(5)));
        o.Interval = TimeSpan.FromSeconds(2);
        o.AllowShortIntervalForTests = true;
        Assert.That(o.EffectiveInterval, Is.EqualTo(TimeSpan.FromSeconds(2)));
        o.MaxRequestsPerMinute = 500;
        Assert.That(o.EffectiveRequestsPerMinute, Is.EqualTo(60));
    }

    private static V1Alpha1ManagedConnector Connector(string name, string? id) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "apps" },
        Spec = new V1Alpha1ManagedConnectorSpec { ConnectorClass = "DatagenSource" },
        Status = new V1Alpha1ManagedConnectorStatus { Department = "dept", ConnectorId = id, ConnectorState = "RUNNING" },
    };

    private static Task<Scrape> ScrapeAsync(OperatorMetrics m) => Scrape.OfAsync(m);

    [Test]
    public async Task Gauges_follow_the_poller_values_and_lose_the_series_of_deleted_connectors()
    {
        var connectors = new List<V1Alpha1ManagedConnector> { Connector("a", "lcc-a"), Connector("b", "lcc-b"), Connector("c", null) };
        var values = new Dictionary<string, ConnectorThroughput> { ["lcc-a"] = new(10, 12, 2, DateTimeOffset.UnixEpoch), ["lcc-b"] = new(0, 0, 0, DateTimeOffset.UnixEpoch) };
        using var m = new OperatorMetrics(new MetricsSources { Connectors = () => connectors, Throughput = id => values.GetValueOrDefault(id) }, withProcessMetrics: false);
        var s = await ScrapeAsync(m);
        (string, string)[] L(string n) => [("department", "dept"), ("namespace", "apps"), ("name", n)];
        Assert.That(s.Value(MetricNames.ConnectorSentRecords, L("a")), Is.EqualTo(10));
        Assert.That(s.Value(MetricNames.ConnectorReceivedRecords, L("a")), Is.EqualTo(12));
        Assert.That(s.Value(MetricNames.ConnectorDeadLetterQueueRecords, L("a")), Is.EqualTo(2));
        Assert.That(s.Value(MetricNames.ConnectorSentRecords, L("b")), Is.EqualTo(0));
        Assert.That(s.Value(MetricNames.ConnectorSentRecords, L("c")), Is.Null, "no id, no value: no series");
        Assert.That(s.Of(MetricNames.ConnectorSentRecords).Single(x => x.Labels["name"] == "a").Labels.Keys, Is.EquivalentTo(new[] { "department", "namespace", "name" }));

        connectors.RemoveAt(0);
        s = await ScrapeAsync(m);
        Assert.That(s.Samples.Where(x => x.Labels.TryGetValue("name", out var n) && n == "a"), Is.Empty, "deleted connector's series are removed");
        Assert.That(s.Value(MetricNames.ConnectorSentRecords, L("b")), Is.EqualTo(0));
    }

    [Test]
    public async Task Without_the_feature_the_throughput_families_are_not_registered()
    {
        using var m = new OperatorMetrics(new MetricsSources { Connectors = () => [Connector("a", "lcc-a")] }, withProcessMetrics: false);
        var s = await ScrapeAsync(m);
        Assert.That(s.Types.Keys, Has.None.AnyOf(MetricNames.Optional.ToArray()));
    }
}
