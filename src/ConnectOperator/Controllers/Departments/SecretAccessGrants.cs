using System.Collections.Concurrent;
using System.Net;
using ConnectOperator.Entities;
using ConnectOperator.Hosting;
using ConnectOperator.Runtime;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace ConnectOperator.Controllers.Departments;

/// <summary>
/// Strimzi's model for reading Secrets without a cluster-wide grant: in every namespace a Department claims, a
/// RoleBinding binds the chart's secrets-reader ClusterRole to the operator's ServiceAccount. The chart lets the
/// operator bind that one ClusterRole and no other, so these RoleBindings cannot widen anything beyond Secret reads.
/// The RoleBindings carry an ownerReference to the Department, so the garbage collector removes them with it.
/// </summary>
public sealed class SecretAccessGrants(KubeApiClient api, SecretAccessOptions options, string operatorNamespace, ILogger log, TimeSpan? recheckAfter = null)
{
    public const string DepartmentLabel = "connect.ebs.io/department";

    private readonly TimeSpan _recheckAfter = recheckAfter ?? TimeSpan.FromMinutes(10);

    /// <summary>Namespaces whose RoleBinding was seen correct, and when: a Department reconciles on every connector change.</summary>
    private readonly ConcurrentDictionary<string, (string Department, DateTimeOffset At)> _ensured = new(StringComparer.Ordinal);

    public bool Enabled => !string.IsNullOrEmpty(options.ClusterRole) && !string.IsNullOrEmpty(options.ServiceAccount);

    /// <summary>
    /// Makes sure every namespace of the department has the RoleBinding, and removes it from namespaces the department
    /// gave up (known from status.secretAccessNamespaces) that no other Department claims. Returns the namespaces that
    /// have it now (null when disabled) and the problems, one per namespace.
    /// </summary>
    public async Task<(IReadOnlyList<string>? Granted, IReadOnlyList<string> Problems)> EnsureAsync(V1Alpha1Department department,
        Func<string, bool> claimedByAnother, CancellationToken ct)
    {
        var problems = new List<string>();
        if (!Enabled) return (null, problems);
        var granted = new List<string>();
        foreach (var ns in (department.Status?.SecretAccessNamespaces ?? new List<string>()).Except(department.Spec.Namespaces).Where(ns => !claimedByAnother(ns)).ToList())
        {
            try
            {
                await api.DeleteAsync(ResourceKind.RoleBinding, ns, options.ClusterRole, ct).ConfigureAwait(false);
                log.SecretAccessRemoved(ns, department.Metadata.Name);
            }
            catch (HttpOperationException x) when (x.Response?.StatusCode == HttpStatusCode.NotFound) { }
            catch (HttpOperationException x)
            {
                problems.Add($"RoleBinding {ns}/{options.ClusterRole} could not be removed: HTTP {(int?)x.Response?.StatusCode}");
                granted.Add(ns);   // still there: try again next time
                continue;
            }
            _ensured.TryRemove(ns, out _);
        }
        foreach (var ns in department.Spec.Namespaces.Distinct(StringComparer.Ordinal))
        {
            if (ns == operatorNamespace) continue;   // the chart's Role already grants it there
            if (_ensured.TryGetValue(ns, out var e) && e.Department == department.Metadata.Name && DateTimeOffset.UtcNow - e.At < _recheckAfter)
            {
                granted.Add(ns);
                continue;
            }
            try
            {
                await EnsureOneAsync(department, ns, ct).ConfigureAwait(false);
                _ensured[ns] = (department.Metadata.Name, DateTimeOffset.UtcNow);
                granted.Add(ns);
            }
            catch (HttpOperationException x) when (x.Response?.StatusCode == HttpStatusCode.NotFound)
            {
                problems.Add($"namespace {ns} does not exist yet");
            }
            catch (HttpOperationException x)
            {
                log.SecretAccessFailed(ns, department.Metadata.Name, x.Message);
                problems.Add($"RoleBinding {ns}/{options.ClusterRole}: HTTP {(int?)x.Response?.StatusCode} {x.Response?.ReasonPhrase}");
            }
        }
        return (granted.Distinct(StringComparer.Ordinal).OrderBy(x => x, StringComparer.Ordinal).ToList(), problems);
    }

    private async Task EnsureOneAsync(V1Alpha1Department department, string ns, CancellationToken ct)
    {
        var existing = await api.TryGetAsync<V1RoleBinding>(ResourceKind.RoleBinding, ns, options.ClusterRole, ct).ConfigureAwait(false);
        var desired = Desired(department, ns);
        if (existing is null)
        {
            await api.CreateAsync(ResourceKind.RoleBinding, ns, desired, ct).ConfigureAwait(false);
            log.SecretAccessGranted(ns, options.ClusterRole, department.Metadata.Name);
            return;
        }
        if (SameSubjects(existing, desired) && existing.RoleRef?.Name == desired.RoleRef.Name && existing.RoleRef?.Kind == "ClusterRole") return;
        // roleRef is immutable: a binding to something else under our name is replaced whole.
        if (existing.RoleRef?.Name != desired.RoleRef.Name || existing.RoleRef?.Kind != "ClusterRole")
        {
            await api.DeleteAsync(ResourceKind.RoleBinding, ns, options.ClusterRole, ct).ConfigureAwait(false);
            await api.CreateAsync(ResourceKind.RoleBinding, ns, desired, ct).ConfigureAwait(false);
            return;
        }
        desired.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
        await api.ReplaceAsync(ResourceKind.RoleBinding, ns, options.ClusterRole, desired, ct: ct).ConfigureAwait(false);
    }

    private V1RoleBinding Desired(V1Alpha1Department department, string ns) => new()
    {
        ApiVersion = "rbac.authorization.k8s.io/v1",
        Kind = "RoleBinding",
        Metadata = new V1ObjectMeta
        {
            Name = options.ClusterRole,
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "connect-operator", [DepartmentLabel] = department.Metadata.Name },
            OwnerReferences = department.Metadata.Uid is { Length: > 0 } uid
                ? new List<V1OwnerReference> { new() { ApiVersion = department.ApiVersion ?? "connect.ebs.io/v1alpha1", Kind = "Department", Name = department.Metadata.Name, Uid = uid } }
                : null,
        },
        RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = options.ClusterRole },
        Subjects = new List<Rbacv1Subject> { new() { Kind = "ServiceAccount", Name = options.ServiceAccount, NamespaceProperty = operatorNamespace } },
    };

    private static bool SameSubjects(V1RoleBinding a, V1RoleBinding b)
        => (a.Subjects ?? new List<Rbacv1Subject>()).Select(s => $"{s.Kind}/{s.NamespaceProperty}/{s.Name}").SequenceEqual(b.Subjects!.Select(s => $"{s.Kind}/{s.NamespaceProperty}/{s.Name}"));
}
