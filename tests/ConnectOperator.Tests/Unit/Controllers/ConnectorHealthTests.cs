using ConnectOperator.Controllers.ManagedConnectors;
using ConnectOperator.Entities;
using ConnectOperator.Status;

namespace ConnectOperator.Tests.Unit.Controllers;

public class ConnectorHealthTests
{
    private static V1Alpha1TaskStatus T(int id, string state) => new() { Id = id, State = state };

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData("Running", null, new V1Alpha1TaskStatus[0], true, HealthPhase.Reconciling, "Creating");
        yield return new TestCaseData("Running", "PROVISIONING", new V1Alpha1TaskStatus[0], true, HealthPhase.Reconciling, "Provisioning");
        yield return new TestCaseData("Running", "RUNNING", new[] { T(0, "RUNNING") }, true, HealthPhase.Ready, "Running");
        yield return new TestCaseData("Paused", "PAUSED", new V1Alpha1TaskStatus[0], true, HealthPhase.Ready, "Paused");
        yield return new TestCaseData("Paused", "RUNNING", new V1Alpha1TaskStatus[0], true, HealthPhase.Reconciling, "Pausing");
        yield return new TestCaseData("Running", "PAUSED", new V1Alpha1TaskStatus[0], true, HealthPhase.Reconciling, "Resuming");
        yield return new TestCaseData("Running", "FAILED", new V1Alpha1TaskStatus[0], true, HealthPhase.Reconciling, "AutoRestartPending");
        yield return new TestCaseData("Running", "FAILED", new V1Alpha1TaskStatus[0], false, HealthPhase.Stalled, "ConnectorFailed");
        yield return new TestCaseData("Running", "RUNNING", new[] { T(0, "RUNNING"), T(1, "FAILED") }, false, HealthPhase.Stalled, "TaskFailed");
        yield return new TestCaseData("Running", "DEGRADED", new[] { T(0, "USER_ACTIONABLE_ERROR") }, true, HealthPhase.Reconciling, "AutoRestartPending");
        yield return new TestCaseData("Paused", "FAILED", new V1Alpha1TaskStatus[0], false, HealthPhase.Stalled, "ConnectorFailed");
    }

    [TestCaseSource(nameof(Cases))]
    public void Maps_remote_state_to_one_kstatus_verdict(string desired, string? remote, V1Alpha1TaskStatus[] tasks, bool canRestart, HealthPhase phase, string reason)
    {
        var h = ConnectorHealth.Evaluate(desired, remote, tasks, canRestart, "java.lang.Exception: boom\n\tat x");
        Assert.That((h.Phase, h.Reason), Is.EqualTo((phase, reason)));
    }

    [Test]
    public void Failure_message_carries_the_first_trace_line_and_the_fix()
    {
        var h = ConnectorHealth.Evaluate("Running", "FAILED", Array.Empty<V1Alpha1TaskStatus>(), false, "org.apache.kafka.ConnectException: auth failed\n\tat a.b");
        Assert.That(h.Message, Does.Contain("auth failed").And.Contain("connect.ebs.io/restart").And.Not.Contain("at a.b"));
    }

    [TestCase(0, 0)]
    [TestCase(1, 2)]
    [TestCase(2, 6)]
    [TestCase(6, 42)]
    [TestCase(7, 56)]
    [TestCase(8, 60)]
    [TestCase(100, 60)]
    public void Auto_restart_backoff_is_strimzis(int restarts, int minutes)
        => Assert.That(ConnectorHealth.AutoRestartDelay(restarts), Is.EqualTo(TimeSpan.FromMinutes(minutes)));

    [Test]
    public void Conditions_keep_transition_time_when_status_is_unchanged()
    {
        var conditions = new List<Condition>();
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        ConditionSet.Apply(conditions, Health.Reconciling("Provisioning", "p"), 1, t0);
        ConditionSet.Apply(conditions, Health.Reconciling("Provisioning", "p2"), 1, t0.AddMinutes(1));
        Assert.That(ConditionSet.Find(conditions, "Reconciling")!.LastTransitionTime, Is.EqualTo(t0));
        ConditionSet.Apply(conditions, Health.Ready("Running", "ok"), 2, t0.AddMinutes(2));
        var ready = ConditionSet.Find(conditions, "Ready")!;
        Assert.That((ready.Status, ready.LastTransitionTime, ready.ObservedGeneration), Is.EqualTo(("True", t0.AddMinutes(2), (long?)2)));
        Assert.That(conditions.Select(c => c.Type), Is.EqualTo(new[] { "Ready", "Reconciling", "Stalled" }));
        Assert.That(conditions.Count(c => c.Status == "True"), Is.EqualTo(1));
    }
}
