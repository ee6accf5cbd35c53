using System.Text;
using ConnectOperator.Entities;
using ConnectOperator.Tests.Infrastructure;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Operator;

/// <summary>The ManagedConnector reconcile end to end: real API server, emulator, one operator in-process.</summary>
[NonParallelizable]
public class ManagedConnectorLifecycleTests
{
    private OperatorHarness _h = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _h = await OperatorHarness.StartAsync("life");
        await _h.StartOperatorAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _h.DisposeAsync();

    [Test]
    public async Task Create_makes_one_remote_connector_with_the_injected_keys_and_reports_Ready()
    {
        await _h.CreateAsync(_h.Datagen("create"));
        var mc = await _h.WaitForAsync("create", m => OperatorHarness.IsReady(m), "Ready");

        var remote = _h.Remote("create");
        Assert.That(remote, Is.Not.Null);
        Assert.That(remote!.Config, Does.ContainKey("kafka.topic").WithValue("app.orders"));
        Assert.That(remote.Config, Does.ContainKey("kafka.auth.mode").WithValue("SERVICE_ACCOUNT"));
        Assert.That(remote.Config, Does.ContainKey("kafka.service.account.id").WithValue("sa-emu1"));
        Assert.That(remote.Config, Does.ContainKey("tasks.max").WithValue("1"));
        Assert.That(mc.Status!.ConnectorName, Is.EqualTo(_h.RemoteName("create")));
        Assert.That(mc.Status.ConnectorId, Does.StartWith("lcc-"));
        Assert.That(mc.Status.ConnectorState, Is.EqualTo("RUNNING"));
        Assert.That(mc.Status.Tasks.Select(t => t.State), Is.EqualTo(new[] { "RUNNING" }));
        Assert.That(mc.Status.Department, Is.EqualTo(_h.Department));
        Assert.That(mc.Status.ConfigHash, Does.StartWith("sha256:"));
        Assert.That(mc.Metadata.Finalizers, Does.Contain(ConnectApi.Finalizer));
        Assert.That(_h.State.Connectors.Count(c => c.Name == _h.RemoteName("create")), Is.EqualTo(1));
        Assert.That((await _h.EventsAsync("create")).Select(e => e.Reason), Does.Contain("Created"));
    }

    [Test]
    public async Task Steady_state_costs_one_list_call_per_poll_and_no_writes()
    {
        await _h.CreateAsync(_h.Datagen("steady"));
        await _h.WaitForAsync("steady", m => OperatorHarness.IsReady(m), "Ready");
        await Task.Delay(1500);   // let in-flight refreshes settle
        var before = _h.State.Calls.Count;
        await Task.Delay(TimeSpan.FromSeconds(5));
        var window = _h.State.Calls.Skip(before).ToList();
        var lists = window.Count(c => c.Method == "GET" && c.Route == "connectors?expand");
        Assert.That(window.Where(c => c.Method != "GET"), Is.Empty, "a connector in sync must cost zero write calls");
        Assert.That(window.Where(c => c.Method == "GET" && c.Route != "connectors?expand"), Is.Empty, "health must come from the shared list call, not per-connector calls");
        // Poll interval 1 s ±10 % over 5 s: about five list calls for the one cluster, never one per connector.
        Assert.That(lists, Is.InRange(3, 7));
    }

    [Test]
    public async Task Updating_a_config_value_reaches_the_remote_connector()
    {
        await _h.CreateAsync(_h.Datagen("update"));
        await _h.WaitForAsync("update", m => OperatorHarness.IsReady(m), "Ready");
        await _h.PatchAsync("update", "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"},\"tasksMax\":2}}");
        await _h.WaitForAsync("update", m => OperatorHarness.IsReady(m) && m.Metadata.Generation == 2, "Ready at generation 2");
        var remote = _h.Remote("update")!;
        Assert.That(remote.Config["quickstart"], Is.EqualTo("USERS"));
        Assert.That(remote.Config["tasks.max"], Is.EqualTo("2"));
        Assert.That((await _h.EventsAsync("update")).Select(e => e.Reason), Does.Contain("Updated"));
    }

    [Test]
    public async Task A_changed_secret_reaches_Confluent_without_touching_the_connector()
    {
        await _h.CreateSecretAsync(_h.Namespace, "pg-creds", new() { ["password"] = "first-canary-7c1" });
        var mc = _h.PostgresWithSecret("secret", "pg-creds");
        await _h.CreateAsync(mc);
        var ready = await _h.WaitForAsync("secret", m => OperatorHarness.IsReady(m), "Ready");
        Assert.That(_h.Remote("secret")!.Config["database.password"], Is.EqualTo("first-canary-7c1"));

        await _h.Api.PatchAsync<V1Secret>(ConnectOperator.Runtime.ResourceKind.Secret, _h.Namespace, "pg-creds",
            "{\"data\":{\"password\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes("second-canary-9d2")) + "\"}}", ConnectOperator.Runtime.PatchKind.Merge);
        await _h.WaitUntilAsync(() => Task.FromResult(_h.Remote("secret")!.Config["database.password"] == "second-canary-9d2"), "rotated password in Confluent");
        var after = await _h.WaitForAsync("secret", m => m.Status!.ConfigHash != ready.Status!.ConfigHash, "new config hash");
        Assert.That(after.Metadata.Generation, Is.EqualTo(ready.Metadata.Generation), "the ManagedConnector itself was not touched");
        var statusJson = k8s.KubernetesJson.Serialize(after.Status);
        Assert.That(statusJson, Does.Not.Contain("canary"));
    }

    [Test]
    public async Task Pause_and_resume_follow_spec_state()
    {
        await _h.CreateAsync(_h.Datagen("pause"));
        await _h.WaitForAsync("pause", m => OperatorHarness.IsReady(m), "Ready");
        await _h.PatchAsync("pause", "{\"spec\":{\"state\":\"Paused\"}}");
        var paused = await _h.WaitForAsync("pause", m => OperatorHarness.IsReady(m, "Paused"), "Ready/Paused");
        Assert.That(paused.Status!.ConnectorState, Is.EqualTo("PAUSED"));
        Assert.That(_h.Remote("pause")!.Paused, Is.True);
        await _h.PatchAsync("pause", "{\"spec\":{\"state\":\"Running\"}}");
        await _h.WaitForAsync("pause", m => OperatorHarness.IsReady(m) && m.Status!.ConnectorState == "RUNNING", "Ready/Running again");
        Assert.That(_h.Remote("pause")!.Paused, Is.False);
        var reasons = (await _h.EventsAsync("pause")).Select(e => e.Reason).ToList();
        Assert.That(reasons, Does.Contain("Paused").And.Contain("Resumed"));
    }

    [Test]
    public async Task Changing_the_restart_annotation_restarts_the_connector_once()
    {
        await _h.CreateAsync(_h.Datagen("restart"));
        await _h.WaitForAsync("restart", m => OperatorHarness.IsReady(m), "Ready");
        Assert.That(_h.Remote("restart")!.RestartCount, Is.EqualTo(0));
        await _h.PatchAsync("restart", "{\"metadata\":{\"annotations\":{\"connect.ebs.io/restart\":\"2026-11-26T10:00\"}}}");
        await _h.WaitForAsync("restart", m => m.Status!.RestartAnnotation == "2026-11-26T10:00", "restart recorded");
        Assert.That(_h.Remote("restart")!.RestartCount, Is.EqualTo(1));
        await Task.Delay(2500);   // several more reconciles and polls: still exactly one restart
        Assert.That(_h.Remote("restart")!.RestartCount, Is.EqualTo(1));
        Assert.That((await _h.EventsAsync("restart")).Select(e => e.Reason), Does.Contain("Restarted"));
    }

    [Test]
    public async Task A_failed_task_is_auto_restarted_and_the_connector_recovers()
    {
        await _h.CreateAsync(_h.Datagen("autorestart", tasks: 2));
        await _h.WaitForAsync("autorestart", m => OperatorHarness.IsReady(m), "Ready");
        Assert.That(_h.State.FailTask(OperatorHarness.Environment, OperatorHarness.Cluster, _h.RemoteName("autorestart"), 1, "java.lang.IllegalStateException: injected for test"), Is.True);
        var recovered = await _h.WaitForAsync("autorestart", m => OperatorHarness.IsReady(m) && m.Status!.AutoRestart?.Count == 1, "auto-restarted and Ready");
        Assert.That(recovered.Status!.AutoRestart!.LastRestartTime, Is.Not.Null);
        var events = await _h.EventsAsync("autorestart");
        Assert.That(events.Select(e => e.Reason), Does.Contain("Failed").And.Contain("Restarted"));
        Assert.That(events.First(e => e.Reason == "Failed").Message, Does.Contain("injected for test"));
    }

    [Test]
    public async Task Restart_policy_Never_leaves_a_failed_connector_Stalled_with_its_trace()
    {
        var mc = _h.Datagen("never");
        mc.Spec.RestartPolicy = new V1Alpha1RestartPolicy { Type = RestartPolicyTypes.Never };
        await _h.CreateAsync(mc);
        await _h.WaitForAsync("never", m => OperatorHarness.IsReady(m), "Ready");
        _h.State.FailConnector(OperatorHarness.Environment, OperatorHarness.Cluster, _h.RemoteName("never"), "org.apache.kafka.connect.errors.ConnectException: broker unreachable");
        var stalled = await _h.WaitForAsync("never", m => OperatorHarness.IsStalled(m, "ConnectorFailed"), "Stalled ConnectorFailed");
        Assert.That(stalled.Status!.Trace, Does.Contain("broker unreachable"));
        Assert.That(stalled.Status.Conditions.First(c => c.Type == "Stalled").Message, Does.Contain("connect.ebs.io/restart"));
        Assert.That(_h.Remote("never")!.RestartCount, Is.EqualTo(0));
    }

    [Test]
    public async Task Delete_with_policy_Delete_removes_the_remote_connector_and_Orphan_keeps_it()
    {
        await _h.CreateAsync(_h.Datagen("del"));
        var orphan = _h.Datagen("orphan");
        orphan.Spec.DeletionPolicy = DeletionPolicies.Orphan;
        await _h.CreateAsync(orphan);
        await _h.WaitForAsync("del", m => OperatorHarness.IsReady(m), "Ready");
        await _h.WaitForAsync("orphan", m => OperatorHarness.IsReady(m), "Ready");

        await _h.Api.DeleteAsync(OperatorHarness.ConnectorKind, _h.Namespace, "del");
        await _h.Api.DeleteAsync(OperatorHarness.ConnectorKind, _h.Namespace, "orphan");
        await _h.WaitUntilAsync(async () => await _h.GetAsync("del") == null && await _h.GetAsync("orphan") == null, "both objects gone");
        Assert.That(_h.Remote("del"), Is.Null, "Delete policy removes the remote connector");
        Assert.That(_h.Remote("orphan"), Is.Not.Null, "Orphan policy leaves it");
    }

    [Test]
    public async Task A_burst_of_creates_updates_and_deletes_costs_exactly_one_Confluent_call_per_change()
    {
        var names = Enumerable.Range(0, 12).Select(i => $"burst{i}").ToList();
        var first = _h.State.Calls.Count;
        await Task.WhenAll(names.Select(n => _h.CreateAsync(_h.Datagen(n))));
        foreach (var n in names) await _h.WaitForAsync(n, m => OperatorHarness.IsReady(m), "Ready");
        await Task.WhenAll(names.Select(n => _h.Api.PatchAsync<V1Alpha1ManagedConnector>(OperatorHarness.ConnectorKind, _h.Namespace, n,
            "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"}}}", ConnectOperator.Runtime.PatchKind.Merge)));
        await _h.WaitUntilAsync(() => Task.FromResult(names.All(n => _h.Remote(n)?.Config.GetValueOrDefault("quickstart") == "USERS")), "every update in Confluent");
        await Task.WhenAll(names.Select(n => _h.Api.DeleteAsync(OperatorHarness.ConnectorKind, _h.Namespace, n)));
        foreach (var n in names) await _h.WaitUntilAsync(async () => await _h.GetAsync(n) == null, $"{n} gone");
        await Task.Delay(TimeSpan.FromSeconds(2));   // a late duplicate would come within a pass or two

        var writes = _h.State.Calls.Skip(first).Where(c => c.Method != "GET").ToList();
        var log = string.Join("\n", writes.Select(c => $"{c.ReceivedAt:HH:mm:ss.fff} {c.Method} {c.Route} {c.Connector} {c.Status}"));
        Assert.Multiple(() =>
        {
            // A create's route names no connector (POST …/connectors): counted over the burst.
            Assert.That(writes.Count(c => c.Method == "POST" && c.Route.EndsWith("connectors", StringComparison.Ordinal)), Is.EqualTo(names.Count), $"one create each\n{log}");
            foreach (var n in names)
            {
                var mine = writes.Where(c => c.Connector == _h.RemoteName(n)).Select(c => c.Method).ToList();
                Assert.That(mine, Is.EqualTo(new[] { "PUT", "DELETE" }), $"{n}: one update, one delete\n{log}");
            }
        });
    }

    [Test]
    public async Task A_remote_connector_edited_by_hand_is_put_back()
    {
        await _h.CreateAsync(_h.Datagen("drift"));
        await _h.WaitForAsync("drift", m => OperatorHarness.IsReady(m), "Ready");
        var remote = _h.Remote("drift")!;
        var edited = new Dictionary<string, string>(remote.Config) { ["quickstart"] = "PAGEVIEWS", ["max.interval"] = "5" };
        _h.State.Upsert(OperatorHarness.Environment, OperatorHarness.Cluster, remote.Name, edited, out _);
        await _h.WaitUntilAsync(() => Task.FromResult(_h.Remote("drift")!.Config["quickstart"] == "ORDERS" && !_h.Remote("drift")!.Config.ContainsKey("max.interval")), "config restored");
        await _h.WaitUntilAsync(async () => (await _h.EventsAsync("drift")).Any(e => e.Reason == "DriftReverted" && e.Message.Contains("quickstart")), "DriftReverted event");
    }

    [Test]
    public async Task A_connector_in_a_namespace_of_no_department_is_Stalled_and_touches_nothing_remote()
    {
        var ns = await _h.Kube.CreateNamespaceAsync("nodept");
        var mc = _h.Datagen("orphaned-ns");
        mc.Metadata.NamespaceProperty = ns;
        var callsBefore = _h.State.Calls.Count(c => c.Method != "GET");
        await _h.CreateAsync(mc);
        var stalled = await _h.WaitForAsync("orphaned-ns", m => OperatorHarness.IsStalled(m, "NoDepartment"), "Stalled NoDepartment", ns: ns);
        Assert.That(stalled.Status!.Conditions.First(c => c.Type == "Stalled").Message,
            Is.EqualTo($"namespace {ns} is not assigned to any Department; ask the platform team to add it to a Department's spec.namespaces"));
        Assert.That(_h.State.Calls.Count(c => c.Method != "GET"), Is.EqualTo(callsBefore),
            string.Join("\n", _h.State.Calls.Where(c => c.Method != "GET").Skip(callsBefore).Select(c => $"{c.ReceivedAt:HH:mm:ss.fff} {c.Method} {c.Route} {c.Status}")));
        await _h.Api.DeleteAsync(OperatorHarness.ConnectorKind, ns, "orphaned-ns");
        await _h.WaitUntilAsync(async () => await _h.GetAsync("orphaned-ns", ns) == null, "deleted without a department");
    }

    [Test]
    public async Task A_remote_connector_it_never_created_is_a_NameConflict_until_adopted()
    {
        var name = _h.RemoteName("conflict");
        _h.State.Upsert(OperatorHarness.Environment, OperatorHarness.Cluster, name, new Dictionary<string, string>
        {
            ["name"] = name, ["connector.class"] = "DatagenSource", ["kafka.auth.mode"] = "SERVICE_ACCOUNT", ["kafka.service.account.id"] = "sa-other",
            ["kafka.topic"] = "app.other", ["quickstart"] = "USERS", ["output.data.format"] = "JSON", ["tasks.max"] = "1",
        }, out _);
        await _h.CreateAsync(_h.Datagen("conflict"));
        var stalled = await _h.WaitForAsync("conflict", m => OperatorHarness.IsStalled(m, "NameConflict"), "Stalled NameConflict");
        Assert.That(stalled.Status!.Conditions.First(c => c.Type == "Stalled").Message, Does.Contain("connect.ebs.io/adopt"));
        Assert.That(_h.Remote("conflict")!.Config["kafka.service.account.id"], Is.EqualTo("sa-other"), "not taken over silently");

        await _h.PatchAsync("conflict", "{\"metadata\":{\"annotations\":{\"connect.ebs.io/adopt\":\"true\"}}}");
        await _h.WaitForAsync("conflict", m => OperatorHarness.IsReady(m), "Ready after adopt");
        Assert.That(_h.Remote("conflict")!.Config["kafka.service.account.id"], Is.EqualTo("sa-emu1"));
        Assert.That(_h.State.Connectors.Count(c => c.Name == name), Is.EqualTo(1));
        Assert.That((await _h.EventsAsync("conflict")).Select(e => e.Reason), Does.Contain("NameConflict").And.Contain("Adopted"));
    }
}
