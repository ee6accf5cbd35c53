namespace ConnectOperator.Policy;

/// <summary>
/// Quota arithmetic, shared by the admission webhook (delta of one request), the reconciler (which connectors of a
/// department are over quota, decided the same way by every replica) and the ConnectorQuota status.
/// </summary>
public static class QuotaMath
{
    public static QuotaUsage Usage(IEnumerable<ConnectorCandidate> connectors)
    {
        int count = 0, tasks = 0, max = 0;
        foreach (var c in connectors)
        {
            count++;
            tasks += c.TasksMax;
            max = Math.Max(max, c.TasksMax);
        }
        return new QuotaUsage(count, tasks, max);
    }

    /// <summary>
    /// Admission of a create (<paramref name="old"/> null) or an update. <paramref name="used"/> is the department's
    /// usage as cached, which includes <paramref name="old"/> on an update, so only the delta is charged — as
    /// ResourceQuota does. Returns one violation per exceeded limit.
    /// </summary>
    public static IReadOnlyList<Violation> CheckAdmission(QuotaLimits quota, QuotaUsage used, ConnectorCandidate? old, ConnectorCandidate next)
    {
        var violations = new List<Violation>();
        if (quota.TasksPerConnector is { } perConnector && next.TasksMax > perConnector && next.TasksMax > (old?.TasksMax ?? 0))
            violations.Add(new Violation("spec.tasksMax", ViolationReasons.QuotaExceeded,
                $"exceeded quota {quota.QuotaName}: requested tasksPerConnector={next.TasksMax}, limited tasksPerConnector={perConnector}; lower spec.tasksMax to {perConnector} or less"));

        var addConnectors = old is null ? 1 : 0;
        if (quota.Connectors is { } maxConnectors && addConnectors > 0 && used.Connectors + addConnectors > maxConnectors)
            violations.Add(new Violation("metadata.name", ViolationReasons.QuotaExceeded,
                $"exceeded quota {quota.QuotaName}: requested connectors={addConnectors}, used connectors={used.Connectors}, limited connectors={maxConnectors}"));

        var addTasks = next.TasksMax - (old?.TasksMax ?? 0);
        if (quota.Tasks is { } maxTasks && addTasks > 0 && used.Tasks + addTasks > maxTasks)
            violations.Add(new Violation("spec.tasksMax", ViolationReasons.QuotaExceeded,
                $"exceeded quota {quota.QuotaName}: requested tasks={addTasks}, used tasks={used.Tasks}, limited tasks={maxTasks}"));
        return violations;
    }

    /// <summary>
    /// Which of a department's connectors are over quota, deterministically. Connectors running remotely
    /// (<paramref name="appliedTasks"/>: key → the tasks.max Confluent runs) are charged first at that size: a lowered
    /// quota never tears one down. Growing one is then judged as an update (only the increase is charged). Then the
    /// rest, oldest by creationTimestamp, then by namespace/name: each that fits is charged; one that does not is over
    /// and skipped, so concurrent creates that slipped past the webhook can never exceed a limit.
    /// </summary>
    public static IReadOnlyDictionary<string, Violation> OverQuota(IEnumerable<ConnectorCandidate> connectors, IReadOnlyCollection<QuotaLimits> quotas,
        IReadOnlyDictionary<string, int>? appliedTasks = null)
    {
        var over = new Dictionary<string, Violation>(StringComparer.Ordinal);
        if (quotas.Count == 0) return over;
        appliedTasks ??= new Dictionary<string, int>();
        var all = connectors.OrderBy(c => c.CreationTimestamp ?? DateTimeOffset.MaxValue).ThenBy(c => c.Key, StringComparer.Ordinal).ToList();
        var running = all.Where(c => appliedTasks.ContainsKey(c.Key)).ToList();

        var used = QuotaUsage.Zero;
        foreach (var c in running)
        {
            var a = appliedTasks[c.Key];
            used = new QuotaUsage(used.Connectors + 1, used.Tasks + a, Math.Max(used.TasksPerConnector, a));
        }
        foreach (var c in running)
        {
            var runningSize = c with { TasksMax = appliedTasks[c.Key] };
            if (c.TasksMax <= runningSize.TasksMax)
            {
                used = used with { Tasks = used.Tasks - runningSize.TasksMax + c.TasksMax };   // shrinking always fits
                continue;
            }
            var violation = quotas.SelectMany(q => CheckAdmission(q, used, runningSize, c)).FirstOrDefault();
            if (violation != null)
            {
                over[c.Key] = violation with { Message = violation.Message + "; the running connector keeps its current size until then" };
                continue;
            }
            used = new QuotaUsage(used.Connectors, used.Tasks - runningSize.TasksMax + c.TasksMax, Math.Max(used.TasksPerConnector, c.TasksMax));
        }
        foreach (var c in all.Where(c => !appliedTasks.ContainsKey(c.Key)))
        {
            var violation = quotas.SelectMany(q => CheckAdmission(q, used, null, c)).FirstOrDefault();
            if (violation != null)
            {
                over[c.Key] = violation with
                {
                    Message = violation.Message + "; this connector is not created until the department is back within quota (older connectors take precedence)",
                };
                continue;
            }
            used = new QuotaUsage(used.Connectors + 1, used.Tasks + c.TasksMax, Math.Max(used.TasksPerConnector, c.TasksMax));
        }
        return over;
    }
}
