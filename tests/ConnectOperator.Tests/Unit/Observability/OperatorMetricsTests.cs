using System.Diagnostics.Metrics;
using ConnectOperator.Confluent;
using ConnectOperator.Entities;
using ConnectOperator.Observability;
using ConnectOperator.Runtime;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Observability;

/// <summary>Series, values, label rules and cardinality of the operator's metrics, without a cluster.</summary>
public class OperatorMetricsTests
{
    private const string Canary = "jdbc:postgresql://secret-host.db.internal:5432/orders?password=hunter2";

    private static V1Alpha1ManagedConnector Connector(string ns, string name, string? state, string? department = "dept-a",
        IEnumerable<string>? taskStates = null, int restarts = 0) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = Guid.NewGuid().ToString() },
            Spec = new V1Alpha1ManagedConnectorSpec
            {
                ConnectorClass = "PostgresCdcSource",
                TasksMax = 2,
                Config = new Dictionary<string, string> { ["connection.url"] = Canary, ["kafka.topic"] = "app.orders" },
            },
            Status = new V1Alpha1ManagedConnectorStatus
            {
                Department = department,
                ConnectorName = $"{department}.{ns}.{name}",
                ConnectorState = state,
                Trace = "failed to connect to " + Canary,
                Tasks = (taskStates ?? Array.Empty<string>()).Select((s, i) => new V1Alpha1TaskStatus { Id = i, State = s, Message = Canary }).ToList(),
                AutoRestart = restarts == 0 ? null : new V1Alpha1AutoRestartStatus { Count = restarts },
            },
        };

    private static V1Alpha1ConnectorQuota Quota(string name, string department, int? connectors, int? tasks, int usedConnectors, int usedTasks) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1Alpha1ConnectorQuotaSpec { DepartmentRef = new V1Alpha1DepartmentRef { Name = department }, Hard = new V1Alpha1QuotaAmounts { Connectors = connectors, Tasks = tasks } },
        Status = new V1Alpha1ConnectorQuotaStatus
        {
            Hard = new V1Alpha1QuotaAmounts { Connectors = connectors, Tasks = tasks },
            Used = new V1Alpha1QuotaAmounts { Connectors = usedConnectors, Tasks = usedTasks, TasksPerConnector = 2 },
        },
    };

    private sealed class World
    {
        public List<V1Alpha1ManagedConnector> Connectors = new();
        public List<V1Alpha1ConnectorQuota> Quotas = new();
        public bool Leader;
        public OperatorMetrics Build() => new(new MetricsSources
        {
            Connectors = () => Connectors.ToList(),
            Quotas = () => Quotas.ToList(),
            DepartmentOfNamespace = ns => ns == "team-b" ? "dept-b" : null,
            IsLeader = () => Leader,
        }, withProcessMetrics: false);
    }

    [Test]
    public async Task State_gauge_is_one_for_the_current_state_and_zero_for_every_other_state_of_the_fixed_set()
    {
        var w = new World { Connectors = { Connector("team-a", "orders", "RUNNING"), Connector("team-a", "billing", "FAILED", taskStates: new[] { "FAILED", "RUNNING" }, restarts: 3) } };
        using var m = w.Build();
        var s = await Scrape.OfAsync(m);

        foreach (var state in MetricNames.ConnectorStates)
        {
            Assert.That(s.Value(MetricNames.ConnectorState, ("namespace", "team-a"), ("name", "orders"), ("state", state)), Is.EqualTo(state == "RUNNING" ? 1 : 0), state);
            Assert.That(s.Value(MetricNames.ConnectorState, ("namespace", "team-a"), ("name", "billing"), ("state", state)), Is.EqualTo(state == "FAILED" ? 1 : 0), state);
        }
        Assert.That(s.Of(MetricNames.ConnectorState).Count(), Is.EqualTo(2 * MetricNames.ConnectorStates.Count), "fixed state set per connector");
        Assert.That(s.Value(MetricNames.ConnectorFailedTasks, ("name", "billing")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ConnectorFailedTasks, ("name", "orders")), Is.EqualTo(0));
        Assert.That(s.Value(MetricNames.ConnectorAutoRestarts, ("name", "billing")), Is.EqualTo(3));
        Assert.That(s.Of(MetricNames.ConnectorState, ("name", "billing")).All(x => x.Labels["department"] == "dept-a"), Is.True);
    }

    [Test]
    public async Task Unknown_missing_or_unexpected_remote_states_map_to_UNKNOWN_and_department_falls_back_to_the_namespace_owner()
    {
        var w = new World
        {
            Connectors =
            {
                Connector("team-b", "new", null, department: null),
                Connector("team-b", "odd", "SOMETHING_NEW " + Canary, department: null),
                Connector("team-c", "orphan", "DELETED", department: null),
            },
        };
        using var m = w.Build();
        var s = await Scrape.OfAsync(m);
        Assert.That(s.Value(MetricNames.ConnectorState, ("name", "new"), ("state", "UNKNOWN"), ("department", "dept-b")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ConnectorState, ("name", "odd"), ("state", "UNKNOWN")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ConnectorState, ("name", "orphan"), ("state", "UNKNOWN"), ("department", "")), Is.EqualTo(1));
        Assert.That(s.Samples.SelectMany(x => x.Labels.Where(l => l.Key == "state").Select(l => l.Value)).Distinct(), Is.SubsetOf(MetricNames.ConnectorStates));
    }

    [Test]
    public async Task A_deleted_connector_or_quota_loses_all_its_series_and_the_others_keep_theirs()
    {
        var keep = Connector("team-a", "keep", "RUNNING");
        var gone = Connector("team-a", "gone", "FAILED", taskStates: new[] { "FAILED" }, restarts: 1);
        var w = new World { Connectors = { keep, gone }, Quotas = { Quota("q1", "dept-a", 10, 20, 2, 3), Quota("q2", "dept-x", 1, null, 0, 0) } };
        using var m = w.Build();
        var before = await Scrape.OfAsync(m);
        Assert.That(before.Of(MetricNames.ConnectorState, ("name", "gone")).Count(), Is.EqualTo(MetricNames.ConnectorStates.Count));
        Assert.That(before.Of(MetricNames.QuotaHard, ("quota", "q2")).Count(), Is.EqualTo(1), "only resources with a limit");

        w.Connectors.Remove(gone);
        w.Quotas.RemoveAt(1);
        var after = await Scrape.OfAsync(m);
        Assert.That(after.Samples.Where(x => x.Labels.TryGetValue("name", out var n) && n == "gone"), Is.Empty);
        Assert.That(after.Of(MetricNames.QuotaHard, ("quota", "q2")), Is.Empty);
        Assert.That(after.Of(MetricNames.QuotaUsed, ("quota", "q2")), Is.Empty);
        Assert.That(after.Value(MetricNames.ConnectorState, ("name", "keep"), ("state", "RUNNING")), Is.EqualTo(1));
        Assert.That(after.Value(MetricNames.QuotaHard, ("quota", "q1"), ("resource", "tasks")), Is.EqualTo(20));
    }

    [Test]
    public async Task A_connector_moved_to_another_department_is_not_reported_twice()
    {
        var c = Connector("team-a", "mover", "RUNNING", department: "dept-a");
        var w = new World { Connectors = { c } };
        using var m = w.Build();
        await Scrape.OfAsync(m);
        c.Status!.Department = "dept-z";
        var s = await Scrape.OfAsync(m);
        Assert.That(s.Of(MetricNames.ConnectorState, ("name", "mover")).Select(x => x.Labels["department"]).Distinct(), Is.EqualTo(new[] { "dept-z" }));
    }

    [Test]
    public async Task Quota_hard_and_used_per_department_quota_and_resource()
    {
        var w = new World { Quotas = { Quota("q1", "dept-a", 4, 10, 2, 5) } };
        using var m = w.Build();
        var s = await Scrape.OfAsync(m);
        Assert.That(s.Value(MetricNames.QuotaHard, ("department", "dept-a"), ("quota", "q1"), ("resource", "connectors")), Is.EqualTo(4));
        Assert.That(s.Value(MetricNames.QuotaUsed, ("department", "dept-a"), ("quota", "q1"), ("resource", "connectors")), Is.EqualTo(2));
        Assert.That(s.Value(MetricNames.QuotaUsed, ("department", "dept-a"), ("quota", "q1"), ("resource", "tasks")), Is.EqualTo(5));
        Assert.That(s.Value(MetricNames.QuotaHard, ("resource", "tasksPerConnector")), Is.Null, "no limit, no series");
    }

    [Test]
    public async Task No_label_carries_a_config_value_a_trace_or_a_task_message()
    {
        var w = new World
        {
            Connectors = { Connector("team-a", "orders", "FAILED", taskStates: new[] { "FAILED" }, restarts: 2) },
            Quotas = { Quota("q1", "dept-a", 4, 10, 1, 2) },
        };
        using var m = w.Build();
        var s = await Scrape.OfAsync(m);
        Assert.That(s.Samples, Is.Not.Empty);
        Assert.That(s.Text, Does.Not.Contain("hunter2").And.Not.Contain("secret-host").And.Not.Contain("app.orders").And.Not.Contain("PostgresCdc"));
        var allowed = new HashSet<string> { "department", "namespace", "name", "state", "quota", "resource", "kind", "result", "queue", "route", "method", "code", "reason", "le" };
        Assert.That(s.Samples.SelectMany(x => x.Labels.Keys).Distinct(), Is.SubsetOf(allowed));
    }

    [Test]
    public async Task Cardinality_is_bounded_by_objects_times_fixed_sets()
    {
        var w = new World();
        for (var i = 0; i < 50; i++) w.Connectors.Add(Connector("team-a", "c" + i, i % 2 == 0 ? "RUNNING" : "PAUSED", taskStates: new[] { "FAILED", "RUNNING" }));
        w.Quotas.Add(Quota("q1", "dept-a", 100, 200, 50, 100));
        using var m = w.Build();
        for (var round = 0; round < 3; round++)
        {
            foreach (var c in w.Connectors) c.Status!.ConnectorState = round % 2 == 0 ? "FAILED" : "RUNNING";
            await Scrape.OfAsync(m);
        }
        var s = await Scrape.OfAsync(m);
        Assert.That(s.Of(MetricNames.ConnectorState).Count(), Is.EqualTo(50 * MetricNames.ConnectorStates.Count));
        Assert.That(s.Of(MetricNames.ConnectorFailedTasks).Count(), Is.EqualTo(50));
        Assert.That(s.Of(MetricNames.ConnectorAutoRestarts).Count(), Is.EqualTo(50));
        Assert.That(s.Of(MetricNames.QuotaHard).Count(), Is.EqualTo(2));
    }

    [Test]
    public async Task Leader_gauge_follows_the_lease()
    {
        var w = new World();
        using var m = w.Build();
        Assert.That((await Scrape.OfAsync(m)).Value(MetricNames.Leader), Is.EqualTo(0));
        w.Leader = true;
        Assert.That((await Scrape.OfAsync(m)).Value(MetricNames.Leader), Is.EqualTo(1));
    }

    private sealed class Scripted(Func<ReconcileRequest, ReconcileResult> f) : IReconciler<V1Alpha1ManagedConnector>
    {
        public Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct) => Task.FromResult(f(request));
    }

    [Test]
    public async Task Reconciles_are_counted_by_kind_and_result_and_errors_separately()
    {
        var w = new World();
        using var m = w.Build();
        var r = m.Wrap("ManagedConnector", new Scripted(req => req.Name switch
        {
            "boom" => throw new InvalidOperationException("boom"),
            "later" => ReconcileResult.After(TimeSpan.FromSeconds(5)),
            "again" => ReconcileResult.RequeueRateLimited(),
            _ => ReconcileResult.Done,
        }));
        await r.ReconcileAsync(new ReconcileRequest("ns", "ok"), CancellationToken.None);
        await r.ReconcileAsync(new ReconcileRequest("ns", "ok"), CancellationToken.None);
        await r.ReconcileAsync(new ReconcileRequest("ns", "later"), CancellationToken.None);
        await r.ReconcileAsync(new ReconcileRequest("ns", "again"), CancellationToken.None);
        Assert.ThrowsAsync<InvalidOperationException>(() => r.ReconcileAsync(new ReconcileRequest("ns", "boom"), CancellationToken.None));
        var s = await Scrape.OfAsync(m);
        Assert.That(s.Value(MetricNames.ReconcileTotal, ("kind", "ManagedConnector"), ("result", "success")), Is.EqualTo(2));
        Assert.That(s.Value(MetricNames.ReconcileTotal, ("kind", "ManagedConnector"), ("result", "requeue_after")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ReconcileTotal, ("kind", "ManagedConnector"), ("result", "requeue")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ReconcileTotal, ("kind", "ManagedConnector"), ("result", "error")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ReconcileErrors, ("kind", "ManagedConnector")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ReconcileDuration + "_count", ("kind", "ManagedConnector")), Is.EqualTo(5));
    }

    [Test]
    public async Task Confluent_client_and_webhook_meters_are_bridged_with_whitelisted_labels()
    {
        var w = new World();
        using var m = w.Build();
        using var other = w.Build();
        var route = "test/" + Guid.NewGuid().ToString("N")[..6];
        ConnectClientMetrics.Requests.Add(1, new("route", route), new("method", "GET"), new("status_code", "429"), new("api_key", "SHOULD-NOT-APPEAR"));
        ConnectClientMetrics.Requests.Add(1, new("route", route), new("method", "GET"), new("status_code", "circuit_open"));
        ConnectClientMetrics.Duration.Record(0.02, new("route", route), new("method", "GET"), new("status_code", "200"));
        ConnectClientMetrics.Retries.Add(1, new("route", route), new("method", "GET"), new("reason", "503"));

        // The webhooks define their Meter in their own code; any Meter of that name is bridged.
        using var webhooks = new Meter(MeterBridge.WebhooksMeterName);
        var admissions = webhooks.CreateCounter<long>("admission_total");
        var latency = webhooks.CreateHistogram<double>("admission_duration_seconds", "s");
        admissions.Add(1, new("kind", "ManagedConnector"), new("result", "denied"));
        admissions.Add(2, new("kind", "ManagedConnector"), new("result", "allowed"));
        latency.Record(0.004, new KeyValuePair<string, object?>("kind", "ManagedConnector"));

        var s = await Scrape.OfAsync(m);
        Assert.That(s.Value(MetricNames.ConfluentRequests, ("route", route), ("code", "429")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ConfluentRequests, ("route", route), ("code", "circuit_open")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ConfluentDuration + "_count", ("route", route)), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ConfluentRetries, ("route", route), ("reason", "503")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ConfluentCircuitOpen), Is.EqualTo(1));
        Assert.That(s.Text, Does.Not.Contain("SHOULD-NOT-APPEAR"));
        Assert.That(s.Value(MetricNames.AdmissionTotal, ("kind", "ManagedConnector"), ("result", "denied")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.AdmissionTotal, ("kind", "ManagedConnector"), ("result", "allowed")), Is.EqualTo(2));
        Assert.That(s.Value(MetricNames.AdmissionDuration + "_count", ("kind", "ManagedConnector")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.AdmissionDuration + "_bucket", ("kind", "ManagedConnector"), ("le", "0.005")), Is.EqualTo(1));

        // A disposed host stops listening.
        other.Dispose();
        ConnectClientMetrics.Requests.Add(1, new("route", route), new("method", "GET"), new("status_code", "200"));
        Assert.That((await Scrape.OfAsync(other)).Value(MetricNames.ConfluentRequests, ("route", route), ("code", "200")), Is.Null);
        Assert.That((await Scrape.OfAsync(m)).Value(MetricNames.ConfluentRequests, ("route", route), ("code", "200")), Is.EqualTo(1));
    }

    [Test]
    public void Names_registry_uses_the_prefix_and_is_unique()
    {
        Assert.That(MetricNames.All, Has.Count.GreaterThan(20));
        Assert.That(MetricNames.All, Is.Unique);
        Assert.That(MetricNames.All, Has.All.StartsWith("connect_operator_").And.All.Matches("^[a-z_]+$"));
        Assert.That(MetricNames.Histograms, Is.SubsetOf(MetricNames.All));
        Assert.That(MetricNames.SeriesNames(), Does.Contain("connect_operator_admission_duration_seconds_bucket"));
    }
}
