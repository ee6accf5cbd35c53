using ConnectOperator.Entities;
using ConnectOperator.Status;

namespace ConnectOperator.Controllers.ManagedConnectors;

/// <summary>Remote connector states, as Confluent reports them.</summary>
public static class RemoteStates
{
    public const string Provisioning = "PROVISIONING";
    public const string Running = "RUNNING";
    public const string Degraded = "DEGRADED";
    public const string Failed = "FAILED";
    public const string Paused = "PAUSED";
    public const string None = "NONE";
    public const string Deleted = "DELETED";

    private static readonly HashSet<string> FailedTaskStates = new(StringComparer.Ordinal) { "FAILED", "SYSTEM_ERROR", "USER_ACTIONABLE_ERROR" };

    public static bool IsFailedTask(string? state) => state != null && FailedTaskStates.Contains(state);
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
        var failedTasks = tasks.Where(t => RemoteStates.IsFailedTask(t.State)).Select(t => t.Id).ToList();
        var wantPaused = desiredState == ConnectorDesiredState.Paused;

        if (remoteState is null or RemoteStates.None)
            return Health.Reconciling("Creating", "the connector is being created in Confluent Cloud");
        if (remoteState == RemoteStates.Failed || remoteState == RemoteStates.Degraded || failedTasks.Count > 0)
        {
            var what = remoteState == RemoteStates.Failed ? "the connector failed" : $"task(s) {string.Join(", ", failedTasks)} failed";
            var detail = string.IsNullOrEmpty(trace) ? "" : $": {FirstLine(trace)}";
            return autoRestartAvailable
                ? Health.Reconciling("AutoRestartPending", $"{what}{detail}; the operator will restart it (spec.restartPolicy OnFailure)")
                : Health.Stalled(remoteState == RemoteStates.Failed ? "ConnectorFailed" : "TaskFailed",
                    $"{what}{detail}; fix the cause, then restart it by changing the {ConnectApi.RestartAnnotation} annotation");
        }
        if (remoteState == RemoteStates.Provisioning)
            return Health.Reconciling("Provisioning", "Confluent Cloud is provisioning the connector (this can take minutes)");
        if (wantPaused)
            return remoteState == RemoteStates.Paused
                ? Health.Ready("Paused", "the connector is paused as desired")
                : Health.Reconciling("Pausing", $"the connector is {remoteState}; pausing it");
        if (remoteState == RemoteStates.Paused)
            return Health.Reconciling("Resuming", "the connector is PAUSED; resuming it");
        if (remoteState == RemoteStates.Running)
            return Health.Ready("Running", tasks.Count == 0 ? "the connector is running" : $"the connector and its {tasks.Count} task(s) are running");
        return Health.Reconciling("Converging", $"the connector is {remoteState}");
    }

    private static string FirstLine(string s)
    {
        var line = s.Split('\n', 2)[0].Trim();
        return line.Length > 200 ? line[..200] + "…" : line;
    }

    /// <summary>Strimzi's auto-restart backoff: min(n² + n, 60) minutes before restart number n+1.</summary>
    public static TimeSpan AutoRestartDelay(int restartsSoFar) => TimeSpan.FromMinutes(Math.Min(restartsSoFar * restartsSoFar + restartsSoFar, 60));
}
