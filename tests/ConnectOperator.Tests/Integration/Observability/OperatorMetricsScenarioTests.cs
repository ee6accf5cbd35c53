using ConnectOperator.Entities;
using ConnectOperator.Hosting;
using ConnectOperator.Observability;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Unit.Observability;

namespace ConnectOperator.Tests.Integration.Observability;

/// <summary>
/// The real operator (API server + emulator + in-process host) scraped on its own /metrics during a scenario. The
/// "no false alerts" assertions evaluate, from scrapes, the values each chart alert compares (named per assertion).
/// </summary>
[NonParallelizable]
public class OperatorMetricsScenarioTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private static string MetricsUrl(OperatorHarness.OperatorInstance op) => $"http://127.0.0.1:{op.Service<OperatorOptions>().MetricsPort}/metrics";

    private static async Task<Scrape> WaitForScrapeAsync(OperatorHarness h, OperatorHarness.OperatorInstance op, Func<Scrape, bool> condition, string what)
    {
        Scrape? last = null;
        await h.WaitUntilAsync(async () => condition(last = await Scrape.OfAsync(Http, MetricsUrl(op))), what);
        return last!;
    }

    [Test]
    public async Task Metrics_follow_a_running_a_failing_and_a_deleted_connector_and_fire_no_false_alerts()
    {
        await using var h = await OperatorHarness.StartAsync("metrics", quota: new V1Alpha1QuotaAmounts { Connectors = 4, Tasks = 10 });
        var op = await h.StartOperatorAsync();
        const string running = "steady", failing = "breaks";
        (string, string)[] L(string name, params (string, string)[] more)
            => new[] { ("department", h.Department), ("namespace", h.Namespace), ("name", name) }.Concat(more).ToArray();

        await h.CreateAsync(h.Datagen(running, tasks: 2));
        var never = h.Datagen(failing, tasks: 3);
        never.Spec.RestartPolicy = new V1Alpha1RestartPolicy { Type = RestartPolicyTypes.Never };
        await h.CreateAsync(never);
        await h.WaitForAsync(running, m => OperatorHarness.IsReady(m), "Ready");
        await h.WaitForAsync(failing, m => OperatorHarness.IsReady(m), "Ready");

        var s = await WaitForScrapeAsync(h, op, x =>
                x.Value(MetricNames.ConnectorState, L(running, ("state", "RUNNING"))) == 1
                && x.Value(MetricNames.ConnectorState, L(failing, ("state", "RUNNING"))) == 1
                && x.Value(MetricNames.QuotaUsed, ("department", h.Department), ("resource", "connectors")) == 2,
            "both connectors RUNNING and quota used 2 in /metrics");
        foreach (var state in MetricNames.ConnectorStates.Where(st => st != "RUNNING"))
            Assert.That(s.Value(MetricNames.ConnectorState, L(running, ("state", state))), Is.EqualTo(0), state);
        Assert.That(s.Value(MetricNames.ConnectorFailedTasks, L(running)), Is.EqualTo(0));
        Assert.That(s.Value(MetricNames.ConnectorAutoRestarts, L(running)), Is.EqualTo(0));
        Assert.That(s.Value(MetricNames.Leader), Is.EqualTo(1), "this replica leads");

        // Quota: hard and used per resource.
        var quota = h.Department + "-quota";
        Assert.That(s.Value(MetricNames.QuotaHard, ("department", h.Department), ("quota", quota), ("resource", "connectors")), Is.EqualTo(4));
        Assert.That(s.Value(MetricNames.QuotaHard, ("department", h.Department), ("quota", quota), ("resource", "tasks")), Is.EqualTo(10));
        Assert.That(s.Value(MetricNames.QuotaUsed, ("department", h.Department), ("quota", quota), ("resource", "tasks")), Is.EqualTo(5));

        // Confluent API: requests by route (creates went through POST connectors, health through the list poll).
        Assert.That(s.Sum(MetricNames.ConfluentRequests, ("route", "connectors"), ("method", "POST")), Is.GreaterThanOrEqualTo(2));
        var polls = s.Sum(MetricNames.ConfluentRequests, ("route", "connectors?expand=id,info,status"), ("code", "200"));
        Assert.That(polls, Is.GreaterThan(0));
        Assert.That(s.Sum(MetricNames.ReconcileTotal, ("kind", "ManagedConnector"), ("result", "success")), Is.GreaterThan(0));
        Assert.That(s.Sum(MetricNames.ReconcileTotal, ("kind", "ConnectorQuota")), Is.GreaterThan(0));
        Assert.That(s.Sum(MetricNames.ReconcileTotal, ("kind", "Department")), Is.GreaterThan(0));
        Assert.That(s.Of(MetricNames.QueueDepth).Select(x => x.Labels["queue"]), Is.SupersetOf(new[] { "managedconnector", "department", "connectorquota" }));
        Assert.That(s.Sum(MetricNames.QueueAdds, ("queue", "managedconnector")), Is.GreaterThan(0));

        // The poll keeps counting (counter increments by route between scrapes).
        var later = await WaitForScrapeAsync(h, op, x => x.Sum(MetricNames.ConfluentRequests, ("route", "connectors?expand=id,info,status"), ("code", "200")) > polls, "more polls counted");

        // No false alerts at steady state (all from this operator's own scrapes):
        // ConnectQuotaNearlyExhausted: used/hard > 0.9 must be false (2/4 connectors, 5/10 tasks = 50 %).
        foreach (var resource in new[] { "connectors", "tasks" })
        {
            var ratio = later.Value(MetricNames.QuotaUsed, ("quota", quota), ("resource", resource))!.Value / later.Value(MetricNames.QuotaHard, ("quota", quota), ("resource", resource))!.Value;
            Assert.That(ratio, Is.EqualTo(0.5).And.LessThanOrEqualTo(0.9), "ConnectQuotaNearlyExhausted " + resource);
        }
        // ConnectOperatorNoLeader: max(connect_operator_leader) < 1 must be false.
        Assert.That(later.Value(MetricNames.Leader), Is.EqualTo(1), "ConnectOperatorNoLeader");
        // ConnectConnectorFailed / ConnectConnectorTasksFailed / AutoRestartExhausted must be false for both connectors.
        foreach (var name in new[] { running, failing })
        {
            Assert.That(later.Value(MetricNames.ConnectorState, L(name, ("state", "FAILED"))), Is.EqualTo(0), "ConnectConnectorFailed " + name);
            Assert.That(later.Value(MetricNames.ConnectorFailedTasks, L(name)), Is.EqualTo(0), "ConnectConnectorTasksFailed " + name);
            Assert.That(later.Value(MetricNames.ConnectorAutoRestarts, L(name)), Is.LessThan(10), "ConnectConnectorAutoRestartExhausted " + name);
        }
        // ConnectOperatorReconcileErrors: rate(errors) over the interval between two scrapes is 0.
        // ConnectConfluentApiThrottled / ConnectConfluentApiErrors: no 429 or 5xx counted in the interval.
        Assert.That(later.Sum(MetricNames.ReconcileErrors) - s.Sum(MetricNames.ReconcileErrors), Is.EqualTo(0), "ConnectOperatorReconcileErrors");
        double Bad(Scrape x) => x.Of(MetricNames.ConfluentRequests).Where(y => y.Labels["code"] == "429" || y.Labels["code"].StartsWith('5')).Sum(y => y.Value);
        Assert.That(Bad(later) - Bad(s), Is.EqualTo(0), "ConnectConfluentApiThrottled / ConnectConfluentApiErrors");
        // ConnectConnectorFlapping: no state change seen for the running connector across scrapes.
        Assert.That(later.Value(MetricNames.ConnectorState, L(running, ("state", "RUNNING"))), Is.EqualTo(1), "ConnectConnectorFlapping");

        // Failure with restartPolicy Never: FAILED=1, RUNNING=0, no auto-restart.
        Assert.That(h.State.FailConnector(OperatorHarness.Environment, OperatorHarness.Cluster, h.RemoteName(failing), "org.apache.kafka.connect.errors.ConnectException: injected"), Is.True);
        var failed = await WaitForScrapeAsync(h, op, x => x.Value(MetricNames.ConnectorState, L(failing, ("state", "FAILED"))) == 1, "FAILED=1 in /metrics");
        Assert.That(failed.Value(MetricNames.ConnectorState, L(failing, ("state", "RUNNING"))), Is.EqualTo(0));
        Assert.That(failed.Of(MetricNames.ConnectorState, L(failing)).Sum(x => x.Value), Is.EqualTo(1), "exactly one state is 1");
        Assert.That(failed.Value(MetricNames.ConnectorAutoRestarts, L(failing)), Is.EqualTo(0), "restartPolicy Never");
        Assert.That(h.Remote(failing)!.RestartCount, Is.EqualTo(0));
        Assert.That(failed.Value(MetricNames.ConnectorState, L(running, ("state", "RUNNING"))), Is.EqualTo(1), "the other connector is unaffected");

        // A failed task is counted.
        Assert.That(h.State.FailTask(OperatorHarness.Environment, OperatorHarness.Cluster, h.RemoteName(failing), 1, "java.lang.IllegalStateException: injected"), Is.True);
        await WaitForScrapeAsync(h, op, x => x.Value(MetricNames.ConnectorFailedTasks, L(failing)) == 1, "failed_tasks=1");

        // Delete: every series of the connector goes; quota used follows.
        await h.Api.DeleteAsync(OperatorHarness.ConnectorKind, h.Namespace, failing);
        var gone = await WaitForScrapeAsync(h, op, x => !x.Samples.Any(y => y.Labels.TryGetValue("name", out var n) && n == failing)
            && x.Value(MetricNames.QuotaUsed, ("quota", quota), ("resource", "connectors")) == 1, "series of the deleted connector removed");
        Assert.That(gone.Value(MetricNames.ConnectorState, L(running, ("state", "RUNNING"))), Is.EqualTo(1));

        // Every family the docs and alerts rely on is really exported (the optional throughput ones only when enabled).
        var missing = MetricNames.All.Except(MetricNames.Optional).Where(n => !gone.Types.ContainsKey(n)).ToList();
        Assert.That(missing, Is.Empty, "declared in MetricNames but not on /metrics");
    }

    [Test]
    public async Task Two_operators_in_one_process_keep_their_own_registries()
    {
        await using var h = await OperatorHarness.StartAsync("metrics2");
        var a = await h.StartOperatorAsync();
        var b = await h.StartOperatorAsync();
        var sa = await WaitForScrapeAsync(h, a, x => x.Value(MetricNames.Leader) is not null, "a scrape");
        var sb = await WaitForScrapeAsync(h, b, x => x.Value(MetricNames.Leader) is not null, "b scrape");
        await h.WaitUntilAsync(async () =>
        {
            var la = (await Scrape.OfAsync(Http, MetricsUrl(a))).Value(MetricNames.Leader);
            var lb = (await Scrape.OfAsync(Http, MetricsUrl(b))).Value(MetricNames.Leader);
            return la + lb == 1;
        }, "exactly one of two replicas reports leader=1");
        // Reconciles run only on the leader, so only its registry counts them.
        await h.CreateAsync(h.Datagen("one"));
        await h.WaitForAsync("one", m => OperatorHarness.IsReady(m), "Ready");
        var (leader, follower) = (await Scrape.OfAsync(Http, MetricsUrl(a))).Value(MetricNames.Leader) == 1 ? (a, b) : (b, a);
        var ls = await Scrape.OfAsync(Http, MetricsUrl(leader));
        var fs = await Scrape.OfAsync(Http, MetricsUrl(follower));
        Assert.That(ls.Sum(MetricNames.ReconcileTotal, ("kind", "ManagedConnector")), Is.GreaterThan(0));
        Assert.That(fs.Sum(MetricNames.ReconcileTotal, ("kind", "ManagedConnector")), Is.EqualTo(0), "the follower's registry is its own");
        Assert.That(sa, Is.Not.Null);
        Assert.That(sb, Is.Not.Null);
    }
}
