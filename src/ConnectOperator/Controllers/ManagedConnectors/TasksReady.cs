using ConnectOperator.Confluent;
using ConnectOperator.Entities;

namespace ConnectOperator.Controllers.ManagedConnectors;

/// <summary>
/// The TASKS printer column's text: running tasks out of desired, e.g. "2/3". A printer column cannot count array
/// items, so the reconciler writes this into status.tasksReady.
/// </summary>
public static class TasksReady
{
    /// <param name="tasks">Task states as Confluent reports them.</param>
    /// <param name="desired">spec.tasksMax: Confluent runs at most that many (some connectors run fewer, which then shows).</param>
    public static string Of(IEnumerable<V1Alpha1TaskStatus>? tasks, int desired)
    {
        var running = tasks?.Count(t => t.State == ConnectorStates.Running) ?? 0;
        return $"{running}/{desired}";
    }
}
