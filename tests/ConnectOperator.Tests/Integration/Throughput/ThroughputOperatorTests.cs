using ConnectOperator.Entities;
using ConnectOperator.Hosting;
using ConnectOperator.Observability;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Unit.Observability;

namespace ConnectOperator.Tests.Integration.Throughput;

/// <summary>The operator with <c>Operator:Throughput:Enabled</c> against the emulator's Metrics API, scraped on /metrics.</summary>
[NonParallelizable]
public class ThroughputOperatorTests
{
    private const string MetricsRoute = "v2/metrics/{dataset}/query";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    // Above the poller's 5 s re-read cap, so the per-credential interval guard is what keeps the pace.
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(6);

    private static string MetricsUrl(OperatorHarness.OperatorInstance op) => $"http://127.0.0.1:{op.Service<OperatorOptions>().MetricsPort}/metrics";

    private static string[] Enabled(OperatorHarness h) =>
    [
        "--Operator:Throughput:Enabled=true",
        $"--Operator:Throughput:BaseUrl={h.EmulatorUrl}",
        $"--Operator:Throughput:Interval={Interval:c}",
        "--Operator:Throughput:AllowShortIntervalForTests=true",
    ];

    [Test]
    public async Task Leader_exports_throughput_per_connector_and_respects_the_interval()
    {
        await using var h = await OperatorHarness.StartAsync("thru");
        var op = await h.StartOperatorAsync(null, Enabled(h));
        (string, string)[] L(string name) => [("department", h.Department), ("namespace", h.Namespace), ("name", name)];

        await h.CreateAsync(h.Datagen("flows", tasks: 2));
        var idle = h.Datagen("idle");
        idle.Spec.State = ConnectorDesiredState.Paused;
        await h.CreateAsync(idle);
        await h.WaitForAsync("flows", m => OperatorHarness.IsReady(m) && m.Status?.ConnectorId != null, "Ready with an id");
        await h.WaitForAsync("idle", m => OperatorHarness.IsReady(m, "Paused") && m.Status?.ConnectorId != null, "Ready/Paused with an id");

        Scrape s = null!;
        await h.WaitUntilAsync(async () =>
        {
            s = await Scrape.OfAsync(Http, MetricsUrl(op));
            return s.Value(MetricNames.ConnectorSentRecords, L("flows")) > 0 && s.Value(MetricNames.ConnectorSentRecords, L("idle")) is not null
                   && h.Remote("idle")!.Paused;
        }, "throughput of both connectors on /metrics", TimeSpan.FromSeconds(60));
        // The paused connector may have been queried before its pause reached the emulator: wait for a fresh 0.
        await h.WaitUntilAsync(async () =>
        {
            s = await Scrape.OfAsync(Http, MetricsUrl(op));
            return s.Value(MetricNames.ConnectorSentRecords, L("idle")) == 0;
        }, "the paused connector at 0", TimeSpan.FromSeconds(30));
        Assert.That(s.Value(MetricNames.ConnectorSentRecords, L("flows")), Is.GreaterThan(0));
        Assert.That(s.Value(MetricNames.ConnectorReceivedRecords, L("flows")), Is.GreaterThan(0));
        Assert.That(s.Value(MetricNames.ConnectorDeadLetterQueueRecords, L("flows")), Is.Not.Null.And.LessThan(10));
        Assert.That(s.Value(MetricNames.ConnectorReceivedRecords, L("idle")), Is.EqualTo(0));
        Assert.That(s.Value(MetricNames.ConnectorDeadLetterQueueRecords, L("idle")), Is.EqualTo(0));
        Assert.That(s.Types[MetricNames.ConnectorSentRecords], Is.EqualTo("gauge"));

        // Request rate: one credential, 3 queries per cycle, cycles at least Interval apart.
        var window = TimeSpan.FromSeconds(13);
        var before = h.State.CountCalls("POST", MetricsRoute);
        await Task.Delay(window);
        var during = h.State.CountCalls("POST", MetricsRoute) - before;
        var maxCycles = (int)Math.Floor(window / Interval) + 1;
        Assert.That(during, Is.GreaterThan(0), "the poller keeps querying");
        Assert.That(during, Is.LessThanOrEqualTo(3 * maxCycles), $"≤ 3 queries per interval per credential ({during} in {window.TotalSeconds} s)");
        var calls = h.State.Calls.Where(c => c.Route == MetricsRoute).ToList();
        Assert.That(calls.Select(c => c.ApiKey).Distinct(), Is.EqualTo(new[] { OperatorHarness.ApiKey }), "the department's key queries its connectors");
        Assert.That(calls.Select(c => c.Status).Distinct(), Is.EqualTo(new[] { 200 }));
        // Cycles: groups of 3 whose starts are ≥ Interval apart (allowing scheduling slack of 10 %).
        var starts = calls.Select((c, i) => (c, i)).Where(x => x.i % 3 == 0).Select(x => x.c.ReceivedAt).ToList();
        for (var i = 1; i < starts.Count; i++)
            Assert.That(starts[i] - starts[i - 1], Is.GreaterThanOrEqualTo(Interval * 0.9), $"cycle {i} started too early");

        // A deleted connector loses its series.
        await h.Api.DeleteAsync(OperatorHarness.ConnectorKind, h.Namespace, "idle");
        await h.WaitUntilAsync(async () =>
        {
            var x = await Scrape.OfAsync(Http, MetricsUrl(op));
            return x.Value(MetricNames.ConnectorSentRecords, L("idle")) is null && x.Value(MetricNames.ConnectorSentRecords, L("flows")) > 0;
        }, "series of the deleted connector removed", TimeSpan.FromSeconds(30));
    }

    [Test]
    public async Task Only_the_leader_queries_and_exports_throughput()
    {
        await using var h = await OperatorHarness.StartAsync("thru2");
        var a = await h.StartOperatorAsync(null, Enabled(h));
        var b = await h.StartOperatorAsync(null, Enabled(h));
        await h.CreateAsync(h.Datagen("one"));
        await h.WaitForAsync("one", m => OperatorHarness.IsReady(m) && m.Status?.ConnectorId != null, "Ready with an id");
        (string, string)[] L = [("department", h.Department), ("namespace", h.Namespace), ("name", "one")];
        await h.WaitUntilAsync(async () =>
        {
            var sa = await Scrape.OfAsync(Http, MetricsUrl(a));
            var sb = await Scrape.OfAsync(Http, MetricsUrl(b));
            return sa.Value(MetricNames.ConnectorSentRecords, L) > 0 || sb.Value(MetricNames.ConnectorSentRecords, L) > 0;
        }, "throughput on one replica");
        var (leader, follower) = (await Scrape.OfAsync(Http, MetricsUrl(a))).Value(MetricNames.Leader) == 1 ? (a, b) : (b, a);
        Assert.That((await Scrape.OfAsync(Http, MetricsUrl(leader))).Value(MetricNames.ConnectorSentRecords, L), Is.GreaterThan(0));
        Assert.That((await Scrape.OfAsync(Http, MetricsUrl(follower))).Of(MetricNames.ConnectorSentRecords), Is.Empty, "the follower does not query");
        Assert.That(follower.Service<ControllerSet>().Throughput!.Queries, Is.EqualTo(0));
        Assert.That(leader.Service<ControllerSet>().Throughput!.Queries, Is.GreaterThan(0));
    }

    [Test]
    public async Task Disabled_by_default_makes_no_metrics_queries()
    {
        await using var h = await OperatorHarness.StartAsync("thru0");
        var op = await h.StartOperatorAsync();
        await h.CreateAsync(h.Datagen("quiet"));
        await h.WaitForAsync("quiet", m => OperatorHarness.IsReady(m) && m.Status?.ConnectorId != null, "Ready with an id");
        await Task.Delay(Interval * 2);
        Assert.That(op.Service<OperatorOptions>().Throughput.Enabled, Is.False);
        Assert.That(op.Service<ControllerSet>().Throughput, Is.Null);
        Assert.That(h.State.CountCalls(route: MetricsRoute), Is.EqualTo(0), "no Metrics API calls");
        var s = await Scrape.OfAsync(Http, MetricsUrl(op));
        Assert.That(s.Types.Keys, Has.None.AnyOf(MetricNames.Optional.ToArray()), "no throughput families");
    }
}
