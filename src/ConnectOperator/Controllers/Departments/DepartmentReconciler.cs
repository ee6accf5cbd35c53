using System.Collections.Concurrent;
using ConnectOperator.Confluent;
using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Status;
using Microsoft.Extensions.Logging;

namespace ConnectOperator.Controllers.Departments;

/// <summary>
/// A Department is Ready when no other Department claims its namespaces and Confluent accepts its credentials (one
/// list call, repeated only when the credentials, the cluster or the verification age change). It also counts its
/// connectors and tasks from the cache.
/// </summary>
public sealed class DepartmentReconciler(TenantDirectory tenants, CredentialsResolver credentials, ConnectClientFactory clients, StatusWriter status,
    EventRecorder events, ILogger<DepartmentReconciler> log, TimeSpan? reverifyAfter = null, SecretAccessGrants? secretAccess = null) : IReconciler<V1Alpha1Department>
{
    public static readonly ResourceKind Kind = ResourceKind.For<V1Alpha1Department>(namespaced: false);

    private readonly TimeSpan _reverifyAfter = reverifyAfter ?? TimeSpan.FromMinutes(10);

    /// <summary>What was verified last, per department: fingerprint of key + cluster, and when.</summary>
    private readonly ConcurrentDictionary<string, (string Fingerprint, DateTimeOffset At, Health Verdict)> _verified = new();

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct)
    {
        var department = tenants.Departments.Store.Get(null, request.Name);
        if (department is null)
        {
            _verified.TryRemove(request.Name, out _);
            return ReconcileResult.Done;
        }
        var connectors = tenants.ConnectorsOf(department);
        var (granted, accessProblems) = secretAccess is null
            ? (null, Array.Empty<string>())
            : await secretAccess.EnsureAsync(department, ns => ClaimOf(ns).ClaimantsOtherThan(department.Metadata.Name).Count > 0, ct);
        var health = await EvaluateAsync(department, ct);
        var requeue = health.Phase == HealthPhase.Reconciling ? ReconcileResult.RequeueRateLimited() : ReconcileResult.Done;
        if (accessProblems.Count > 0)
        {
            // A namespace created after its Department is picked up here: nothing else wakes the Department then.
            if (health.Phase == HealthPhase.Ready)
                health = Health.Reconciling("SecretAccessPending", "the operator cannot read Secrets in every namespace of this department yet: " + string.Join("; ", accessProblems));
            requeue = ReconcileResult.After(TimeSpan.FromSeconds(15));
        }
        var previous = ConditionSet.Find(department.Status?.Conditions, ConditionTypes.Stalled);
        await status.UpdateStatusAsync(Kind, department, d =>
        {
            d.Status ??= new V1Alpha1DepartmentStatus();
            d.Status.Connectors = connectors.Count;
            d.Status.Tasks = connectors.Sum(c => c.Spec.TasksMax);
            if (granted != null) d.Status.SecretAccessNamespaces = granted.Count == 0 ? null : granted.ToList();
            ConditionSet.Apply(d.Status.Conditions, health, d.Metadata.Generation, DateTime.UtcNow);
            d.Status.ObservedGeneration = d.Metadata.Generation;
        }, ct);
        if (health.Phase == HealthPhase.Stalled && (previous?.Status != ConditionStatus.True || previous.Message != health.Message))
            await events.WarningAsync(department, health.Reason, health.Message, ct);
        return requeue;
    }

    // Departments being deleted still count: until they are gone their namespaces are not free for another one.
    private NamespaceClaim ClaimOf(string ns) => NamespaceOwnership.Resolve(ns, tenants.Departments.Store.ByIndex(TenantDirectory.ByClaimedNamespaceIndex, ns));

    private async Task<Health> EvaluateAsync(V1Alpha1Department department, CancellationToken ct)
    {
        var name = department.Metadata.Name;
        if (NamespaceOwnership.DescribeConflicts(name, department.Spec.Namespaces.Distinct(StringComparer.Ordinal).Select(ClaimOf)) is { } conflicts)
            return Health.Stalled(ViolationReasons.NamespaceConflict, conflicts);

        var (creds, error) = credentials.Resolve(department);
        if (creds is null) return Health.Stalled("CredentialsNotFound", error!);

        var cluster = new ClusterRef(department.Spec.Confluent.EnvironmentId, department.Spec.Confluent.KafkaClusterId);
        // The suspension is part of the verdict: a cached "CredentialsVerified" must not outlive a change of spec.suspend.
        var fingerprint = $"{department.Spec.Suspend}/{cluster}/{creds.ApiKey}/{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(creds.ApiSecret)))[..16]}";
        if (_verified.TryGetValue(name, out var v) && v.Fingerprint == fingerprint && DateTimeOffset.UtcNow - v.At < _reverifyAfter)
            return v.Verdict;

        Health verdict;
        try
        {
            await clients.Create(creds).ListConnectorNamesAsync(cluster, ct);
            verdict = department.Spec.Suspend
                ? Health.Ready("Suspended", $"credentials accepted for {cluster}; reconciling of this department's connectors is suspended (spec.suspend)")
                : Health.Ready("CredentialsVerified", $"Confluent Cloud accepted the credentials for {cluster}");
        }
        catch (ConfluentApiException e) when (e.IsUnauthorized || e.IsForbidden)
        {
            verdict = Health.Stalled("CredentialsRejected", $"Confluent Cloud refused API key {creds.ApiKey} for {cluster} (HTTP {(int)e.StatusCode}); check the key, its secret and its role bindings");
        }
        catch (Exception e) when (e is ConfluentApiException or ConfluentTransportException)
        {
            log.VerifyFailed(name, e.Message);
            return Health.Reconciling("ConfluentUnavailable", $"could not verify the credentials: {FailureText.Describe(e)}");
        }
        _verified[name] = (fingerprint, DateTimeOffset.UtcNow, verdict);
        return verdict;
    }
}
