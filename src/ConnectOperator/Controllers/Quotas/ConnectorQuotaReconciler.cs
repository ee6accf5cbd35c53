using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Status;

namespace ConnectOperator.Controllers.Quotas;

/// <summary>
/// Like the ResourceQuota controller: <c>status.used</c> is recomputed from the cache, <c>status.hard</c> mirrors the
/// spec. Enforcement is elsewhere (webhook and ManagedConnector reconciler, both through <see cref="QuotaMath"/>).
/// </summary>
public sealed class ConnectorQuotaReconciler(TenantDirectory tenants, StatusWriter status) : IReconciler<V1Alpha1ConnectorQuota>
{
    public static readonly ResourceKind Kind = ResourceKind.For<V1Alpha1ConnectorQuota>(namespaced: false);

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct)
    {
        var quota = tenants.Quotas.Store.Get(null, request.Name);
        if (quota is null) return ReconcileResult.Done;
        var department = tenants.Departments.Store.Get(null, quota.Spec.DepartmentRef.Name);
        var used = department is null ? QuotaUsage.Zero : QuotaMath.Usage(tenants.ConnectorsOf(department).Select(TenantDirectory.ToCandidate));
        var hard = quota.Spec.Hard;
        Health health;
        if (department is null)
            health = Health.Stalled("DepartmentNotFound", $"Department {quota.Spec.DepartmentRef.Name} does not exist; fix spec.departmentRef.name");
        else
        {
            var over = new List<string>();
            if (hard.Connectors is { } c && used.Connectors > c) over.Add($"connectors {used.Connectors}/{c}");
            if (hard.Tasks is { } t && used.Tasks > t) over.Add($"tasks {used.Tasks}/{t}");
            if (hard.TasksPerConnector is { } p && used.TasksPerConnector > p) over.Add($"tasksPerConnector {used.TasksPerConnector}/{p}");
            health = Health.Ready("Enforced", over.Count == 0
                ? $"enforced for Department {department.Metadata.Name}"
                : $"enforced for Department {department.Metadata.Name}; usage is above the limit ({string.Join(", ", over)}): no new connectors until it is back within quota");
        }
        await status.UpdateStatusAsync(Kind, quota, q =>
        {
            q.Status ??= new V1Alpha1ConnectorQuotaStatus();
            q.Status.Hard = new V1Alpha1QuotaAmounts { Connectors = hard.Connectors, Tasks = hard.Tasks, TasksPerConnector = hard.TasksPerConnector };
            q.Status.Used = new V1Alpha1QuotaAmounts { Connectors = used.Connectors, Tasks = used.Tasks, TasksPerConnector = used.TasksPerConnector };
            ConditionSet.Apply(q.Status.Conditions, health, q.Metadata.Generation, DateTime.UtcNow);
            q.Status.ObservedGeneration = q.Metadata.Generation;
        }, ct);
        return ReconcileResult.Done;
    }
}
