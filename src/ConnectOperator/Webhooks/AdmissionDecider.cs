using System.Text.Json;
using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using k8s;

namespace ConnectOperator.Webhooks;

/// <summary>
/// Decides one admission request from the informer caches (<see cref="TenantDirectory"/>) and the replica's
/// <see cref="ReservationLedger"/>. The rules themselves are <see cref="PolicyEvaluator"/> and <see cref="QuotaMath"/>,
/// shared with the reconciler and <c>validate</c>; this class only feeds them and shapes the answer.
/// It never calls the API server or Confluent.
/// </summary>
public sealed class AdmissionDecider
{
    public const string ManagedConnectors = V1Alpha1ManagedConnector.KubePluralName;
    public const string Departments = V1Alpha1Department.KubePluralName;
    public const string ConnectorQuotas = V1Alpha1ConnectorQuota.KubePluralName;

    private readonly TenantDirectory _tenants;
    private readonly ReservationLedger _ledger;
    private readonly WebhookOptions _options;
    private readonly string _operatorNamespace;

    public AdmissionDecider(TenantDirectory tenants, ReservationLedger ledger, WebhookOptions options, string operatorNamespace)
    {
        _tenants = tenants;
        _ledger = ledger;
        _options = options;
        _operatorNamespace = operatorNamespace;
    }

    public ReservationLedger Ledger => _ledger;

    /// <summary>
    /// Decides a request for <paramref name="resource"/> (the plural the route serves). The response's uid is the
    /// request's. <paramref name="caller"/> is the address the review came from: reservations count only for the caller
    /// that made them (<see cref="ReservationLedger"/>).
    /// </summary>
    public AdmissionResponse Decide(string resource, AdmissionRequest request, string caller = "")
    {
        AdmissionResponse response;
        try
        {
            response = request.Operation is "CREATE" or "UPDATE"
                ? resource switch
                {
                    ManagedConnectors => DecideConnector(request, caller),
                    Departments => DecideDepartment(request),
                    ConnectorQuotas => DecideQuota(request),
                    _ => AdmissionResponse.Deny(400, "BadRequest", $"this webhook does not serve {resource}"),
                }
                : request.Operation == "DELETE" && resource == Departments ? DecideDepartmentDeletion(request)
                : AdmissionResponse.Allow();
        }
        catch (ConfigValueException e)
        {
            response = AdmissionResponse.Invalid(e.Message);
        }
        catch (JsonException e)
        {
            response = AdmissionResponse.Deny(400, "BadRequest", "cannot read the object in the admission request: " + e.Message);
        }
        response.Uid = request.Uid;
        return response;
    }

    private AdmissionResponse DecideConnector(AdmissionRequest request, string caller)
    {
        var next = Parse<V1Alpha1ManagedConnector>(request.Object);
        if (next is null) return AdmissionResponse.Deny(400, "BadRequest", "the admission request carries no object");
        var old = request.Operation == "UPDATE" ? Parse<V1Alpha1ManagedConnector>(request.OldObject) : null;
        // The operator's finalizer and annotation updates, and anything on an object being deleted, are never refused.
        if (old != null && (SpecUnchanged(request) || next.Metadata.DeletionTimestamp != null)) return AdmissionResponse.Allow();
        if (ConfigRules.Check(next.Spec) is { Count: > 0 } badConfig) return AdmissionResponse.Invalid(string.Join("; ", badConfig.Select(v => v.Message)));

        var ns = string.IsNullOrEmpty(next.Metadata.NamespaceProperty) ? request.Namespace ?? "" : next.Metadata.NamespaceProperty;
        next.Metadata.NamespaceProperty = ns;
        if (string.IsNullOrEmpty(next.Metadata.Name)) next.Metadata.Name = request.Name ?? "";
        if (old != null) old.Metadata.NamespaceProperty = ns;

        var (department, noDepartment) = _tenants.ResolveDepartment(ns);
        if (noDepartment != null || department is null) return AdmissionResponse.Forbidden(noDepartment?.Message ?? $"namespace {ns} has no Department");

        var candidate = TenantDirectory.ToCandidate(next);
        var policy = _tenants.Evaluate(department, candidate);
        if (policy.Count > 0) return AdmissionResponse.Forbidden(Join(policy));

        var deptName = department.Metadata.Name;
        var quotas = _tenants.LimitsOf(deptName);
        if (quotas.Count == 0) return AdmissionResponse.Allow();
        var oldCandidate = old is null ? null : TenantDirectory.ToCandidate(old);
        lock (_ledger.LockFor(deptName))
        {
            var used = UsageOf(department, candidate.Key, oldCandidate, caller);
            var exceeded = quotas.OrderBy(q => q.QuotaName, StringComparer.Ordinal)
                .SelectMany(q => QuotaMath.CheckAdmission(q, used, oldCandidate, candidate)).ToList();
            if (exceeded.Count > 0) return AdmissionResponse.Forbidden(Join(exceeded));
            if (request.DryRun != true) _ledger.Reserve(deptName, candidate, caller);
        }
        return AdmissionResponse.Allow();
    }

    /// <summary>The department's usage as cached, with this replica's reservations in place of the cached objects, and on an update the old object (from the request) in place of the cached one.</summary>
    private QuotaUsage UsageOf(V1Alpha1Department department, string key, ConnectorCandidate? old, string caller)
    {
        var byKey = _tenants.ConnectorsOf(department).Select(TenantDirectory.ToCandidate).ToDictionary(c => c.Key, StringComparer.Ordinal);
        foreach (var (k, reserved) in _ledger.Active(department.Metadata.Name, caller)) byKey[k] = reserved;
        byKey.Remove(key);
        var all = old is null ? byKey.Values : byKey.Values.Append(old);
        return QuotaMath.Usage(all);
    }

    private AdmissionResponse DecideDepartment(AdmissionRequest request)
    {
        var next = Parse<V1Alpha1Department>(request.Object);
        if (next is null) return AdmissionResponse.Deny(400, "BadRequest", "the admission request carries no object");
        var old = request.Operation == "UPDATE" ? Parse<V1Alpha1Department>(request.OldObject) : null;
        if (old != null && (SpecUnchanged(request) || next.Metadata.DeletionTimestamp != null)) return AdmissionResponse.Allow();

        var forbidden = new List<string>();
        var invalid = new List<string>();
        if (string.IsNullOrWhiteSpace(next.Spec.Confluent?.CredentialsSecretRef?.Name))
            invalid.Add($"spec.confluent.credentialsSecretRef.name is empty; name the Secret in namespace {_operatorNamespace} that holds the department's Confluent Cloud API key and secret");

        var others = _tenants.Departments.Store.List()
            .Where(d => d.Metadata.Name != next.Metadata.Name && d.Metadata.DeletionTimestamp == null).ToList();
        var policy = TenantDirectory.ToPolicy(next);
        if (old is null)
            foreach (var v in ConnectorNaming.CheckDepartment(policy)) invalid.Add(v.Message);
        // On an update only a changed prefix is checked, like namespaces below.
        if (old is null || TenantDirectory.ToPolicy(old).EffectivePrefix != policy.EffectivePrefix)
            if (ConnectorNaming.CheckUniquePrefix(policy, others.Select(TenantDirectory.ToPolicy)) is { } clash)
                forbidden.Add(clash.Message);
        // On an update only namespaces it adds are checked: a conflict that predates the webhook must not block unrelated edits.
        var added = next.Spec.Namespaces.Distinct(StringComparer.Ordinal).Where(ns => old is null || !old.Spec.Namespaces.Contains(ns, StringComparer.Ordinal));
        foreach (var ns in added)
            if (NamespaceOwnership.RefuseClaim(NamespaceOwnership.Resolve(ns, others), next.Metadata.Name) is { } refusal)
                forbidden.Add(refusal);

        if (old != null)
        {
            var removed = old.Spec.Namespaces.Except(next.Spec.Namespaces, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var held = removed.SelectMany(ns => _tenants.Connectors.Store.ListByNamespace(ns))
                .Select(c => $"{c.Metadata.NamespaceProperty}/{c.Metadata.Name}").Order(StringComparer.Ordinal).ToList();
            if (held.Count > 0)
            {
                var holding = removed.Where(ns => held.Any(h => h.StartsWith(ns + "/", StringComparison.Ordinal))).ToList();
                var max = Math.Max(1, _options.MaxListed);
                var listed = string.Join(", ", held.Take(max)) + (held.Count > max ? $" and {held.Count - max} more" : "");
                forbidden.Add($"spec.namespaces: cannot remove namespace {string.Join(", ", holding)} from Department {next.Metadata.Name}: it still holds ManagedConnectors {listed}; delete those ManagedConnectors first");
            }
        }

        if (forbidden.Count > 0) return AdmissionResponse.Forbidden(string.Join("; ", forbidden.Concat(invalid)));
        if (invalid.Count > 0) return AdmissionResponse.Invalid(string.Join("; ", invalid));
        return AdmissionResponse.Allow();
    }

    /// <summary>
    /// A Department cannot be deleted while ManagedConnectors remain in its namespaces (being deleted or not): the
    /// operator needs the Department's credentials to delete their remote connectors, which would otherwise be left
    /// running in Confluent with nobody managing them.
    /// </summary>
    private AdmissionResponse DecideDepartmentDeletion(AdmissionRequest request)
    {
        var old = Parse<V1Alpha1Department>(request.OldObject);
        var name = old?.Metadata.Name ?? request.Name ?? "";
        var department = old ?? _tenants.Departments.Store.Get(name);
        if (department is null) return AdmissionResponse.Allow();
        var held = department.Spec.Namespaces.Distinct(StringComparer.Ordinal).SelectMany(ns => _tenants.Connectors.Store.ListByNamespace(ns))
            .Select(c => $"{c.Metadata.NamespaceProperty}/{c.Metadata.Name}").Order(StringComparer.Ordinal).ToList();
        if (held.Count == 0) return AdmissionResponse.Allow();
        var max = Math.Max(1, _options.MaxListed);
        var listed = string.Join(", ", held.Take(max)) + (held.Count > max ? $" and {held.Count - max} more" : "");
        return AdmissionResponse.Forbidden(
            $"cannot delete Department {name}: it still has {held.Count} ManagedConnector(s) {listed}; delete those ManagedConnectors first " +
            "(deletionPolicy decides whether their Confluent connectors are deleted or orphaned), then delete the Department");
    }

    private AdmissionResponse DecideQuota(AdmissionRequest request)
    {
        var next = Parse<V1Alpha1ConnectorQuota>(request.Object);
        if (next is null) return AdmissionResponse.Deny(400, "BadRequest", "the admission request carries no object");
        if (request.Operation == "UPDATE" && (SpecUnchanged(request) || next.Metadata.DeletionTimestamp != null)) return AdmissionResponse.Allow();

        var deptName = next.Spec.DepartmentRef?.Name ?? "";
        if (string.IsNullOrWhiteSpace(deptName))
            return AdmissionResponse.Invalid("spec.departmentRef.name is empty; name the Department this quota limits");
        var department = _tenants.Departments.Store.Get(deptName);
        if (department is null)
            return AdmissionResponse.Invalid($"spec.departmentRef.name: Department {deptName} does not exist; create the Department first or fix the name");

        var used = QuotaMath.Usage(_tenants.ConnectorsOf(department).Select(TenantDirectory.ToCandidate));
        var hard = next.Spec.Hard ?? new V1Alpha1QuotaAmounts();
        var warnings = new List<string>();
        void Below(string what, int? limit, int inUse)
        {
            if (limit is { } l && l < inUse)
                warnings.Add($"ConnectorQuota {next.Metadata.Name}: spec.hard.{what}={l} is below what Department {deptName} uses ({what}={inUse}); existing connectors keep running, new ones are refused until usage drops");
        }
        Below("connectors", hard.Connectors, used.Connectors);
        Below("tasks", hard.Tasks, used.Tasks);
        Below("tasksPerConnector", hard.TasksPerConnector, used.TasksPerConnector);
        return AdmissionResponse.Allow(warnings);
    }

    private static string Join(IEnumerable<Violation> violations) => string.Join("; ", violations.Select(v => v.Message));

    private static T? Parse<T>(JsonElement? element) where T : class
        => element is { ValueKind: JsonValueKind.Object } e ? KubeJson.Deserialize<T>(e) : null;

    /// <summary>True when object.spec equals oldObject.spec (JSON equality, key order ignored).</summary>
    public static bool SpecUnchanged(AdmissionRequest request)
    {
        if (request.Object is not { ValueKind: JsonValueKind.Object } o || request.OldObject is not { ValueKind: JsonValueKind.Object } old) return false;
        var hasA = o.TryGetProperty("spec", out var a);
        var hasB = old.TryGetProperty("spec", out var b);
        return hasA == hasB && (!hasA || JsonElement.DeepEquals(a, b));
    }
}
