using ConnectOperator.Confluent;
using ConnectOperator.Entities;
using ConnectOperator.Status;

namespace ConnectOperator.Controllers.ManagedConnectors;

/// <summary>Task states that mean a task has failed.</summary>
public static class FailedTaskStates
{
    public static bool Contains(string? state) => FailureCause.IsFailedTaskState(state);
}

/// <summary>
/// Maps what Confluent reports to one kstatus verdict. Pure, so every rule is unit-tested:
/// Ready when RUNNING (or PAUSED when Paused is desired); Reconciling while provisioning or converging;
/// Stalled only when a person must act (auto-restart exhausted or disabled).
/// </summary>
public static class ConnectorHealth
{
    public static Health Evaluate(string desiredState, string? remoteState, IReadOnlyList<V1Alpha1TaskStatus> tasks, bool autoRestartAvailable, string? trace)
    {
        var failedTasks = tasks.Where(t => FailedTaskStates.Contains(t.State)).Select(t => t.Id).ToList();
        var wantPaused = desiredState == ConnectorDesiredState.Paused;

        if (remoteState is null or ConnectorStates.None)
            return Health.Reconciling("Creating", "the connector is being created in Confluent Cloud");
        if (remoteState == ConnectorStates.Failed || remoteState == ConnectorStates.Degraded || failedTasks.Count > 0)
        {
            var what = remoteState == ConnectorStates.Failed ? "the connector failed" : $"task(s) {string.Join(", ", failedTasks)} failed";
            var detail = string.IsNullOrEmpty(trace) ? "" : $": {FirstLine(trace)}";
            return autoRestartAvailable
                ? Health.Reconciling("AutoRestartPending", $"{what}{detail}; the operator will restart it (spec.restartPolicy OnFailure)")
                : Health.Stalled(remoteState == ConnectorStates.Failed ? "ConnectorFailed" : "TaskFailed",
                    $"{what}{detail}; fix the cause, then restart it by changing the {ConnectApi.RestartAnnotation} annotation");
        }
        if (remoteState == ConnectorStates.Provisioning)
            return Health.Reconciling("Provisioning", "Confluent Cloud is provisioning the connector (this can take minutes)");
        if (wantPaused)
            return remoteState == ConnectorStates.Paused
                ? Health.Ready("Paused", "the connector is paused as desired") with { Settled = InSync }
                : Health.Reconciling("Pausing", $"the connector is {remoteState}; pausing it");
        if (remoteState == ConnectorStates.Paused)
            return Health.Reconciling("Resuming", "the connector is PAUSED; resuming it");
        if (remoteState == ConnectorStates.Running)
        {
            // Confluent can list a RUNNING connector with a task STOPPED or UNASSIGNED: say so, do not call it running.
            var idle = tasks.Where(t => t.State != ConnectorStates.Running).ToList();
            if (tasks.Count == 0) return Health.Ready("Running", "the connector is running") with { Settled = InSync };
            if (idle.Count == 0) return Health.Ready("Running", $"the connector and its {tasks.Count} task(s) are running") with { Settled = InSync };
            return Health.Reconciling("TasksNotRunning",
                $"the connector is RUNNING but {idle.Count} of its {tasks.Count} task(s) are not: {string.Join(", ", idle.Select(t => $"task {t.Id} is {t.State ?? "unknown"}"))}");
        }
        return Health.Reconciling("Converging", $"the connector is {remoteState}");
    }

    public const string InSync = "in sync with Confluent";

    private static string FirstLine(string s)
    {
        var line = s.Split('\n', 2)[0].Trim();
        return line.Length > 200 ? line[..200] + "…" : line;
    }

    /// <summary>Strimzi's auto-restart backoff: min(n² + n, 60) minutes before restart number n+1.</summary>
    public static TimeSpan AutoRestartDelay(int restartsSoFar) => TimeSpan.FromMinutes(Math.Min(restartsSoFar * restartsSoFar + restartsSoFar, 60));
}
