using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Status;

namespace ConnectOperator.Controllers.ManagedConnectors.Planning;

/// <summary>The Confluent calls a plan can make.</summary>
public enum RemoteActionKind
{
    /// <summary><c>POST …/connectors</c>: refuses to overwrite a connector that appeared since the poll.</summary>
    Create,
    /// <summary><c>PUT …/connectors/{name}/config</c>: create-or-replace, for a connector that is ours.</summary>
    PutConfig,
    Pause,
    Resume,
    Restart,
    Delete,
}

/// <param name="AdoptOnConflict">For <see cref="RemoteActionKind.Create"/>: if the name is taken (409), take it over with a PUT.</param>
/// <param name="Automatic">For <see cref="RemoteActionKind.Restart"/>: an auto-restart (spec.restartPolicy), not one on request.</param>
public sealed record RemoteAction(RemoteActionKind Kind, bool AdoptOnConflict = false, bool Automatic = false)
{
    public bool IsConfigWrite => Kind is RemoteActionKind.Create or RemoteActionKind.PutConfig;
    public override string ToString() => Kind + (AdoptOnConflict ? "(adopt)" : "") + (Automatic ? "(auto)" : "");
}

/// <summary>
/// One metadata write (a merge patch guarded by resourceVersion): the finalizer and the intent annotation travel
/// together, so recording "this Confluent name is ours" before a create costs no write of its own.
/// </summary>
public sealed record MetadataEdit(bool AddFinalizer = false, string? RecordIntent = null, bool ClearIntent = false, bool RemoveFinalizer = false)
{
    public static readonly MetadataEdit None = new();
    public bool Any => AddFinalizer || RecordIntent != null || ClearIntent || RemoveFinalizer;
}

/// <summary>An Event the pass records, before its status write: whoever sees the new status finds its event already there.</summary>
public sealed record PlannedEvent(string Type, string Reason, string Message);

/// <summary>
/// The next status: one write, or none when nothing changed. <see cref="Fields"/> sets only the fields this reconciler
/// owns (the offsets controller writes status.offsets), so it can be applied again to a fresher copy after a conflict.
/// </summary>
public sealed record StatusUpdate(Health Health, string? Department, string? SuspendedBy = null, Action<V1Alpha1ManagedConnectorStatus>? Fields = null, Condition? RestartCondition = null)
{
    /// <summary>Condition type saying the connector's Department is suspended (present only while it is).</summary>
    public const string SuspendedConditionType = "Suspended";

    /// <summary>Condition type recording the outcome of the last restart (on request or automatic).</summary>
    public const string RestartConditionType = "Restarted";

    public void ApplyTo(V1Alpha1ManagedConnector o, DateTime now)
    {
        o.Status ??= new V1Alpha1ManagedConnectorStatus();
        var s = o.Status;
        s.Department = Department ?? s.Department;
        Fields?.Invoke(s);
        if (RestartCondition != null)
        {
            if (s.Conditions.FirstOrDefault(c => c.Type == RestartConditionType) is { } previous) s.Conditions.Remove(previous);
            s.Conditions.Add(RestartCondition);
        }
        ConditionSet.Apply(s.Conditions, Health, o.Metadata.Generation, now);
        if (SuspendedBy != null)
            ConditionSet.Set(s.Conditions, SuspendedConditionType, true, "DepartmentSuspended",
                $"Department {SuspendedBy} is suspended (spec.suspend): the operator changes nothing in Confluent Cloud for this connector (deletes wait too); its health is still observed",
                o.Metadata.Generation, now);
        else if (s.Conditions.FirstOrDefault(c => c.Type == SuspendedConditionType) is { } stale)
            s.Conditions.Remove(stale);
        s.ObservedGeneration = o.Metadata.Generation;
    }
}

/// <summary>
/// What a pass decided before any call: the metadata write, then the Confluent calls in order. When the pass ends
/// before Confluent (a stall, a suspension, a wait), <see cref="Decided"/> already holds its outcome and there are no calls.
/// </summary>
/// <param name="Drift">The owned keys that differ in Confluent, as <c>Plan</c> judged them (null when the connector is absent or the pass ended before Confluent).</param>
public sealed record ConnectorPlan(MetadataEdit Metadata, IReadOnlyList<RemoteAction> Actions, ConnectorOutcome? Decided = null, Confluent.ConfigDriftResult? Drift = null);

/// <summary>What the act step did with a plan's calls: it stops at the first failed one.</summary>
/// <param name="Done">The calls that succeeded, in order.</param>
/// <param name="Adopted">A create met an existing connector and, as the plan allowed, took it over with a PUT.</param>
/// <param name="RestartRefused">Confluent does not serve restart for this connector (404/405), in words; not a failure that stops the pass.</param>
/// <param name="Failed">The call that failed, and how.</param>
public sealed record ActResult(IReadOnlyList<RemoteAction> Done, bool Adopted = false, string? RestartRefused = null, (RemoteAction Action, CallFailure Failure)? Failed = null)
{
    public static readonly ActResult Nothing = new([]);
}

/// <summary>What a pass ends with: events, then the metadata edit, then one status write, then the requeue.</summary>
public sealed record ConnectorOutcome(IReadOnlyList<PlannedEvent> Events, StatusUpdate? Status, ReconcileResult Result, MetadataEdit? Metadata = null);
