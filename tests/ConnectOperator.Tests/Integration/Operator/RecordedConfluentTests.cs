using ConnectOperator.Emulator;
using ConnectOperator.Entities;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Unit.Packaging;
using k8s;
using Newtonsoft.Json.Linq;

namespace ConnectOperator.Tests.Integration.Operator;

/// <summary>
/// The operator against Confluent as the recorded responses show it answers (issue 14): server keys nobody can
/// predict, empty traces and task messages, asynchronous pause and resume, pauses during provisioning that are applied
/// or ignored, connectors deleted behind the operator's back, restarts refused, deletes failing. Each test counts the
/// calls the emulator received, so a loop shows as a number, not as a slow test.
/// </summary>
[NonParallelizable]
public class RecordedConfluentTests
{
    private OperatorHarness _h = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _h = await OperatorHarness.StartAsync("rec");
        await _h.StartOperatorAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _h.DisposeAsync();

    [SetUp]
    public void Defaults()
    {
        _h.State.ClearFaults();
        _h.State.Time = TimeProvider.System;
        _h.State.ProvisioningDelay = TimeSpan.Zero;
        _h.State.PauseResumeDelay = TimeSpan.FromSeconds(1);
        _h.State.IgnorePauseWhileProvisioning = false;
        _h.State.Options.UnpredictableServerKeys = false;
    }

    private int Calls(string method, string route) => _h.State.CountCalls(method, route);

    private static bool IsReadyWith(V1Alpha1ManagedConnector m, string reason) => OperatorHarness.IsReady(m, reason);

    [Test]
    public async Task Server_keys_nobody_can_predict_cost_no_writes_and_a_real_change_is_reverted_once()
    {
        _h.State.Options.UnpredictableServerKeys = true;
        var names = Enumerable.Range(0, 20).Select(i => $"keys-{i}").ToList();
        foreach (var n in names) await _h.CreateAsync(_h.Datagen(n));
        foreach (var n in names) await _h.WaitForAsync(n, m => OperatorHarness.IsReady(m), "Ready");
        await Task.Delay(1500);   // in-flight refreshes settle

        var before = _h.State.Calls.Count;
        await Task.Delay(TimeSpan.FromSeconds(10));   // ten poll intervals (1 s in the harness)
        var window = _h.State.Calls.Skip(before).ToList();
        Assert.That(window.Count(c => c.Method == "GET" && c.Route == "connectors?expand"), Is.GreaterThanOrEqualTo(7), "the polls did run");
        Assert.That(window.Where(c => c.Method != "GET").Select(c => $"{c.Method} {c.Route}"), Is.Empty,
            "a key the operator never sent is never drift, whatever its name");
        foreach (var n in names)
            Assert.That((await _h.EventsAsync(n)).Select(e => e.Reason), Does.Not.Contain("DriftReverted"));

        // A real change to a key the operator owns, made by hand in Confluent: reverted once, one Warning.
        var target = names[3];
        var remote = _h.Remote(target)!;
        var edited = new Dictionary<string, string>(remote.Config) { ["quickstart"] = "USERS" };
        var putsBefore = Calls("PUT", "connectors/{connector_name}/config");
        _h.State.Upsert(OperatorHarness.Environment, OperatorHarness.Cluster, _h.RemoteName(target), edited, out _);
        await _h.WaitUntilAsync(() => Task.FromResult(_h.Remote(target)!.Config["quickstart"] == "ORDERS"), "the hand edit reverted");
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.That(Calls("PUT", "connectors/{connector_name}/config") - putsBefore, Is.EqualTo(1));
        var drift = (await _h.EventsAsync(target)).Where(e => e.Reason == "DriftReverted").ToList();
        Assert.That(drift, Has.Count.EqualTo(1));
        Assert.That((drift[0].Type, drift[0].Count), Is.EqualTo(("Warning", (int?)1)));
        Assert.That(drift[0].Message, Does.Contain("~quickstart"));
        var applied = (await _h.GetAsync(target))!.Status!.AppliedConfigKeys;
        Assert.That(applied, Does.Contain("quickstart").And.Contain("kafka.service.account.id").And.Not.Contain("cloud.environment"));
        Assert.That(applied!.Any(k => k.StartsWith(_h.State.UnpredictableKeyPrefix, StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task Dropping_a_key_from_the_spec_removes_it_remotely_and_a_key_added_by_hand_is_left_alone()
    {
        var mc = _h.Datagen("shrink");
        mc.Spec.Config["max.interval"] = "500";
        await _h.CreateAsync(mc);
        var ready = await _h.WaitForAsync("shrink", m => OperatorHarness.IsReady(m), "Ready");
        Assert.That(ready.Status!.AppliedConfigKeys, Does.Contain("max.interval"));

        await _h.PatchAsync("shrink", "{\"spec\":{\"config\":{\"max.interval\":null}}}");
        var shrunk = await _h.WaitForAsync("shrink", m => OperatorHarness.IsReady(m) && m.Status!.AppliedConfigKeys?.Contains("max.interval") == false, "applied keys updated");
        Assert.That(_h.Remote("shrink")!.Config, Does.Not.ContainKey("max.interval"), "the full-config PUT removed the key the spec dropped");

        // Added by hand in the Confluent UI afterwards: the operator no longer sends it, so it is not drift (docs/drift.md).
        var putsBefore = Calls("PUT", "connectors/{connector_name}/config");
        var edited = new Dictionary<string, string>(_h.Remote("shrink")!.Config) { ["max.interval"] = "750", ["iterations"] = "10" };
        _h.State.Upsert(OperatorHarness.Environment, OperatorHarness.Cluster, _h.RemoteName("shrink"), edited, out _);
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.That(Calls("PUT", "connectors/{connector_name}/config") - putsBefore, Is.Zero);
        Assert.That(_h.Remote("shrink")!.Config["max.interval"], Is.EqualTo("750"));
        Assert.That((await _h.EventsAsync("shrink")).Select(e => e.Reason), Does.Not.Contain("DriftReverted"));
        Assert.That((await _h.GetAsync("shrink"))!.Status!.AppliedConfigKeys, Is.EqualTo(shrunk.Status!.AppliedConfigKeys));
    }

    [Test]
    public async Task A_failed_tasks_cause_reaches_status_the_Failed_event_and_Argo_CDs_health_message()
    {
        ArgoCdHealthLuaTests.RequireLua();
        var mc = _h.Datagen("cause", tasks: 2);
        mc.Spec.RestartPolicy = new V1Alpha1RestartPolicy { Type = RestartPolicyTypes.Never };
        await _h.CreateAsync(mc);
        await _h.WaitForAsync("cause", m => OperatorHarness.IsReady(m), "Ready");
        // Recorded shape: the connector's trace is "", the cause is only in the failed task's msg.
        const string cause = "org.apache.kafka.connect.errors.ConnectException: topic app.orders is not authorised for sa-emu1";
        _h.State.FailTask(OperatorHarness.Environment, OperatorHarness.Cluster, _h.RemoteName("cause"), 1, cause);
        var stalled = await _h.WaitForAsync("cause", m => OperatorHarness.IsStalled(m, "TaskFailed"), "Stalled TaskFailed");

        Assert.That(stalled.Status!.Trace, Is.EqualTo("task 1: " + cause));
        var message = stalled.Status.Conditions.First(c => c.Type == "Stalled").Message;
        Assert.That(message, Does.Contain(cause));
        var failed = (await _h.EventsAsync("cause")).Single(e => e.Reason == "Failed");
        Assert.That(failed.Message, Does.Contain(cause).And.Not.EndWith(": "));

        var json = JToken.Parse(KubernetesJson.Serialize(stalled));
        var (status, argo) = ArgoCdHealthLuaTests.RunHealth(ArgoCdHealthLuaTests.ScriptFor("ManagedConnector"), json);
        Assert.That(status, Is.EqualTo("Degraded"));
        Assert.That(argo, Does.Contain(cause));
    }

    [Test]
    public async Task A_failure_with_only_errors_from_trace_still_has_a_cause()
    {
        var mc = _h.Datagen("extras");
        mc.Spec.RestartPolicy = new V1Alpha1RestartPolicy { Type = RestartPolicyTypes.Never };
        await _h.CreateAsync(mc);
        await _h.WaitForAsync("extras", m => OperatorHarness.IsReady(m), "Ready");
        var remote = _h.Remote("extras")!;
        remote.ErrorsFromTrace.Add("Unable to validate configuration: kafka.topic app.orders does not exist");
        _h.State.FailTask(OperatorHarness.Environment, OperatorHarness.Cluster, _h.RemoteName("extras"), 0, trace: "");
        var stalled = await _h.WaitForAsync("extras", m => OperatorHarness.IsStalled(m, "ConnectorFailed") || OperatorHarness.IsStalled(m, "TaskFailed"), "Stalled");
        Assert.That(stalled.Status!.Trace, Is.EqualTo("Unable to validate configuration: kafka.topic app.orders does not exist"));
        Assert.That((await _h.EventsAsync("extras")).Single(e => e.Reason == "Failed").Message, Does.Contain("kafka.topic app.orders does not exist"));
    }

    [Test]
    public async Task A_running_connector_with_a_stopped_task_is_not_called_running()
    {
        await _h.CreateAsync(_h.Datagen("stopped", tasks: 2));
        await _h.WaitForAsync("stopped", m => OperatorHarness.IsReady(m), "Ready");
        _h.Remote("stopped")!.StoppedTasks.Add(0);
        var mc = await _h.WaitForAsync("stopped", m => m.Status?.Conditions.Any(c => c.Type == "Reconciling" && c.Status == "True" && c.Reason == "TasksNotRunning") == true,
            "TasksNotRunning");
        Assert.That(mc.Status!.Conditions.First(c => c.Type == "Ready").Message, Does.Contain("task 0 is STOPPED").And.Contain("1 of its 2"));
    }

    /// <summary>Confluent's clock runs ahead of the operator's in jumps, so ten minutes of provisioning pass in seconds.</summary>
    private sealed class JumpingClock : TimeProvider
    {
        public TimeSpan Offset;
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
    }

    [TestCase(false, Description = "the pause is applied when provisioning ends")]
    [TestCase(true, Description = "the pause is ignored: the connector ends provisioning RUNNING")]
    public async Task A_connector_created_paused_is_paused_with_at_most_three_calls_over_ten_minutes_of_provisioning(bool ignored)
    {
        var clock = new JumpingClock();
        _h.State.Time = clock;
        _h.State.ProvisioningDelay = TimeSpan.FromMinutes(10);
        _h.State.IgnorePauseWhileProvisioning = ignored;
        var name = ignored ? "paused-ignored" : "paused-applied";
        var mc = _h.Datagen(name);
        mc.Spec.State = ConnectorDesiredState.Paused;
        var pausesBefore = Calls("PUT", "connectors/{connector_name}/pause");
        await _h.CreateAsync(mc);
        await _h.WaitUntilAsync(() => Task.FromResult(_h.Remote(name) != null), "created");
        // Forty polls' worth of provisioning: 15 s of Confluent's time per 250 ms of ours.
        for (var i = 0; i < 40; i++)
        {
            await Task.Delay(250);
            clock.Offset += TimeSpan.FromSeconds(15);
        }
        await Task.Delay(500);
        clock.Offset += TimeSpan.FromMinutes(1);   // provisioning is over
        var ready = await _h.WaitForAsync(name, m => IsReadyWith(m, "Paused"), "Ready Paused", TimeSpan.FromSeconds(30));
        await Task.Delay(2000);

        var pauses = Calls("PUT", "connectors/{connector_name}/pause") - pausesBefore;
        Assert.That(pauses, Is.LessThanOrEqualTo(3), "pause calls over ten minutes of provisioning");
        Assert.That(pauses, Is.EqualTo(ignored ? 2 : 1), "once while provisioning, once more only if Confluent ignored it");
        var events = await _h.EventsAsync(name);
        Assert.That(events.Where(e => e.Reason == "Paused").Sum(e => e.Count ?? 1), Is.EqualTo(1), "one Paused event per transition");
        Assert.That(ready.Status!.LifecycleRequest, Is.Null, "settled once Confluent reports PAUSED");
        TestContext.Progress.WriteLine($"[figure] created Paused, 10 min provisioning, pause {(ignored ? "ignored" : "applied")}: {pauses} pause call(s), 1 Paused event");
        // Its provisioning ended in Confluent's jumped time; gone before the clock goes back.
        await _h.Api.DeleteAsync(OperatorHarness.ConnectorKind, _h.Namespace, name);
        await _h.WaitUntilAsync(async () => await _h.GetAsync(name) == null, "deleted");
    }

    [Test]
    public async Task Pause_and_resume_of_a_running_connector_are_sent_once_although_they_take_effect_later()
    {
        _h.State.PauseResumeDelay = TimeSpan.FromSeconds(3);   // three poll intervals
        await _h.CreateAsync(_h.Datagen("async"));
        await _h.WaitForAsync("async", m => OperatorHarness.IsReady(m), "Ready");
        var (pauses, resumes) = (Calls("PUT", "connectors/{connector_name}/pause"), Calls("PUT", "connectors/{connector_name}/resume"));

        await _h.PatchAsync("async", "{\"spec\":{\"state\":\"Paused\"}}");
        await _h.WaitForAsync("async", m => m.Status?.Conditions.Any(c => c.Reason == "Pausing") == true, "Pausing while Confluent has not paused it yet");
        await _h.WaitForAsync("async", m => IsReadyWith(m, "Paused"), "Ready Paused");
        await _h.PatchAsync("async", "{\"spec\":{\"state\":\"Running\"}}");
        await _h.WaitForAsync("async", m => OperatorHarness.IsReady(m), "Ready Running");
        await Task.Delay(2000);

        Assert.That(Calls("PUT", "connectors/{connector_name}/pause") - pauses, Is.EqualTo(1));
        Assert.That(Calls("PUT", "connectors/{connector_name}/resume") - resumes, Is.EqualTo(1));
        var reasons = (await _h.EventsAsync("async")).Where(e => e.Reason is "Paused" or "Resumed").Select(e => (e.Reason, e.Count)).ToList();
        Assert.That(reasons, Is.EquivalentTo(new[] { ("Paused", (int?)1), ("Resumed", (int?)1) }));
    }

    [Test]
    public async Task A_connector_deleted_outside_Kubernetes_is_recreated_with_a_warning_and_a_status_message()
    {
        await _h.CreateAsync(_h.Datagen("external"));
        var ready = await _h.WaitForAsync("external", m => OperatorHarness.IsReady(m) && m.Status!.ConnectorId != null, "Ready with an id");
        var oldId = ready.Status!.ConnectorId;
        _h.State.ProvisioningDelay = TimeSpan.FromSeconds(4);
        _h.State.Remove(OperatorHarness.Environment, OperatorHarness.Cluster, _h.RemoteName("external"));

        var recreating = await _h.WaitForAsync("external",
            m => m.Status?.Conditions.FirstOrDefault(c => c.Type == "Ready")?.Message.Contains("deleted in Confluent Cloud outside Kubernetes") == true, "status says why");
        Assert.That(recreating.Status!.RecreatedAt, Is.Not.Null);
        var warning = (await _h.EventsAsync("external")).Single(e => e.Reason == "DeletedExternally");
        Assert.That((warning.Type, warning.Message), Is.EqualTo(("Warning", $"connector {_h.RemoteName("external")} ({oldId}) was deleted in Confluent Cloud outside Kubernetes; re-created it from the ManagedConnector (to delete a connector, delete its ManagedConnector)")));
        var again = await _h.WaitForAsync("external", m => OperatorHarness.IsReady(m) && m.Status!.ConnectorId != null && m.Status.ConnectorId != oldId, "Ready again with a new id");
        Assert.That(again.Status!.RecreatedAt, Is.Null);
        Assert.That(_h.State.Connectors.Count(c => c.Name == _h.RemoteName("external")), Is.EqualTo(1));
    }

    [TestCase(404)]
    [TestCase(405)]
    public async Task A_restart_Confluent_refuses_for_an_existing_connector_is_reported_once_and_not_retried(int code)
    {
        var name = $"restart-{code}";
        await _h.CreateAsync(_h.Datagen(name));
        await _h.WaitForAsync(name, m => OperatorHarness.IsReady(m), "Ready");
        var before = Calls("POST", "connectors/{connector_name}/restart");
        _h.State.InjectErrors(new ErrorFault { Status = code, Count = 1000, Shape = "flat", Message = "resource not found", Route = "connectors/{connector_name}/restart" });
        await _h.PatchAsync(name, "{\"metadata\":{\"annotations\":{\"connect.ebs.io/restart\":\"r1\"}}}");
        var mc = await _h.WaitForAsync(name, m => m.Status?.Conditions.Any(c => c.Type == "Restarted" && c.Status == "False") == true, "Restarted=False");
        await Task.Delay(3000);
        Assert.That(Calls("POST", "connectors/{connector_name}/restart") - before, Is.EqualTo(1), "no retry loop");
        var condition = mc.Status!.Conditions.Single(c => c.Type == "Restarted");
        Assert.That((condition.Reason, condition.Message), Is.EqualTo(("RestartNotSupported",
            $"Confluent Cloud answered HTTP {code} to POST …/connectors/{_h.RemoteName(name)}/restart although the connector exists; the restart was not done and is not retried. " +
            "Restart it in the Confluent Cloud UI or CLI (or pause and resume it with spec.state)")));
        Assert.That(OperatorHarness.IsReady(mc), Is.True, "the connector itself is fine");
        Assert.That((await _h.EventsAsync(name)).Count(e => e.Reason == "RestartFailed" && e.Type == "Warning"), Is.EqualTo(1));
        Assert.That(_h.Remote(name)!.LastRestartQuery, Is.Null);
    }

    [Test]
    public async Task A_failing_delete_says_so_in_words_and_in_a_warning_then_completes()
    {
        await _h.CreateAsync(_h.Datagen("undeletable"));
        await _h.WaitForAsync("undeletable", m => OperatorHarness.IsReady(m), "Ready");
        _h.State.InjectErrors(new ErrorFault { Status = 503, Count = 1000, Message = "Service temporarily unavailable", Method = "DELETE" });
        await _h.Api.DeleteAsync(OperatorHarness.ConnectorKind, _h.Namespace, "undeletable");
        var mc = await _h.WaitForAsync("undeletable", m => m.Status?.Conditions.Any(c => c.Reason == "Deleting") == true, "Deleting");
        var message = mc.Status!.Conditions.First(c => c.Reason == "Deleting").Message;
        Assert.That(message, Does.StartWith($"deleting connector {_h.RemoteName("undeletable")} in Confluent Cloud failed: Confluent Cloud is failing (HTTP 503: Service temporarily unavailable); retrying"));
        Assert.That(message, Does.Not.Contain("Exception").And.Not.Contain("request id"));
        var warning = (await _h.EventsAsync("undeletable")).Single(e => e.Reason == "DeleteFailed");
        Assert.That((warning.Type, warning.Message), Is.EqualTo(("Warning", message)));
        Assert.That(_h.Remote("undeletable"), Is.Not.Null, "kept while the delete fails");

        _h.State.ClearFaults();
        await _h.WaitUntilAsync(async () => await _h.GetAsync("undeletable") == null, "deleted once Confluent answers");
        Assert.That(_h.Remote("undeletable"), Is.Null);
    }
}
