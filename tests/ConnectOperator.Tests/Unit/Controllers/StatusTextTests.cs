using ConnectOperator.Controllers.ManagedConnectors;
using ConnectOperator.Entities;
using ConnectOperator.Status;

namespace ConnectOperator.Tests.Unit.Controllers;

/// <summary>What `kubectl get` and `kubectl describe` show: the TASKS column and the False conditions' messages.</summary>
public class StatusTextTests
{
    [Test]
    public void TasksReady_counts_running_tasks_out_of_desired()
    {
        var tasks = new[] { new V1Alpha1TaskStatus { Id = 0, State = "RUNNING" }, new V1Alpha1TaskStatus { Id = 1, State = "FAILED" }, new V1Alpha1TaskStatus { Id = 2, State = "RUNNING" } };
        Assert.That(TasksReady.Of(tasks, 3), Is.EqualTo("2/3"));
        Assert.That(TasksReady.Of(null, 2), Is.EqualTo("0/2"));
        Assert.That(TasksReady.Of(Array.Empty<V1Alpha1TaskStatus>(), 1), Is.EqualTo("0/1"));
    }

    public static IEnumerable<TestCaseData> Healths()
    {
        yield return new TestCaseData(ConnectorHealth.Evaluate(ConnectorDesiredState.Running, "RUNNING", new[] { new V1Alpha1TaskStatus { State = "RUNNING" } }, false, null)).SetName("ready connector");
        yield return new TestCaseData(Health.Reconciling("Provisioning", "Confluent Cloud is provisioning")).SetName("reconciling");
        yield return new TestCaseData(Health.Stalled("ConnectorFailed", "the connector failed")).SetName("stalled");
        yield return new TestCaseData(Health.Ready("Enforced", "within quota")).SetName("ready quota");
    }

    [TestCaseSource(nameof(Healths))]
    public void No_condition_has_an_empty_message(Health health)
    {
        var conditions = new List<Condition>();
        ConditionSet.Apply(conditions, health, 1, DateTime.UtcNow);
        Assert.That(conditions, Has.Count.EqualTo(3));
        Assert.That(conditions.Select(c => c.Message), Has.None.Empty);
    }

    [Test]
    public void A_ready_connector_says_it_is_in_sync_with_Confluent()
    {
        var conditions = new List<Condition>();
        ConditionSet.Apply(conditions, ConnectorHealth.Evaluate(ConnectorDesiredState.Running, "RUNNING", new[] { new V1Alpha1TaskStatus { State = "RUNNING" } }, false, null), 1, DateTime.UtcNow);
        Assert.That(ConditionSet.Find(conditions, ConditionTypes.Reconciling)!.Message, Does.StartWith("in sync with Confluent: "));
    }
}
