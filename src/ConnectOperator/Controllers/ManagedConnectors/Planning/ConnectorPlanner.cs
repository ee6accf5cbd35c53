using System.Globalization;
using ConnectOperator.Confluent;
using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Status;

namespace ConnectOperator.Controllers.ManagedConnectors.Planning;

/// <summary>
/// Every lifecycle rule of a ManagedConnector, in two pure functions (no I/O; the only clock is the observation's
/// <c>Now</c>): <see cref="Plan"/> decides the metadata write and the Confluent calls from what a pass observed;
/// <see cref="Conclude"/> turns what those calls did into the Events, the next status and when to look again. The
/// reconciler only observes and acts. Each rule's row in docs/handbook/04-lifecycle.md has a test in
/// <c>ConnectorPlannerTests</c>.
/// </summary>
public static class ConnectorPlanner
{
    /// <summary>How often a pass looks again while it waits for the operator's Secret-reading RoleBinding.</summary>
    public static readonly TimeSpan SecretAccessRecheck = TimeSpan.FromSeconds(2);

    /// <summary>The Confluent name this object has recorded as its own: in status, or in the intent annotation written before a create.</summary>
    public static string? OwnedName(V1Alpha1ManagedConnector mc, V1Alpha1Department? department)
        => mc.Status?.ConnectorName ?? (Intent(mc) is { } intent && IsOwnName(mc, department, intent) ? intent : null);

    /// <summary>
    /// Whether a recorded intent is this object's own Confluent name. Status is the operator's alone, but a department
    /// can write the annotation itself: one naming another connector must never point a delete at it. Without the
    /// Department (gone) the prefix is unknown, so the namespace and name parts decide; such a delete stalls anyway.
    /// </summary>
    private static bool IsOwnName(V1Alpha1ManagedConnector mc, V1Alpha1Department? department, string intent) => department is null
        ? ConnectorNaming.TryParse(intent, out var ns, out var name) && ns == mc.Metadata.NamespaceProperty && name == mc.Metadata.Name
        : intent == EffectiveConfig.RemoteNameFor(department, mc.Metadata.NamespaceProperty, mc.Metadata.Name);

    /// <summary>Whether <paramref name="name"/> is this object's connector in Confluent: recorded in status or as intent.</summary>
    public static bool Owns(V1Alpha1ManagedConnector mc, string name) => mc.Status?.ConnectorName == name || Intent(mc) == name;

    private static string? Intent(V1Alpha1ManagedConnector mc)
        => mc.Metadata.Annotations?.TryGetValue(ConnectApi.IntentAnnotation, out var n) == true ? n : null;

    public static ConnectorPlan Plan(ConnectorObservation o)
    {
        var mc = o.Connector;
        if (mc.Metadata.DeletionTimestamp != null) return PlanDeletion(o);
        var meta = new MetadataEdit(AddFinalizer: !Finalizers.Has(mc, ConnectApi.Finalizer));

        // Checks before Confluent, in the order people fix them.
        if (o.Department is null)
            return Decided(meta, Stall(o, null, o.NoDepartment?.Reason ?? ViolationReasons.NoDepartment, o.NoDepartment?.Message ?? "no Department lists this namespace"));
        var dept = o.Department.Metadata.Name;
        if (o.Department.Spec.Suspend) return Decided(meta, Suspended(o));
        if (o.PolicyViolations.Count > 0) return Decided(meta, Stall(o, dept, ViolationReasons.PolicyViolation, string.Join("; ", o.PolicyViolations)));
        if (o.CredentialsError != null) return Decided(meta, Stall(o, dept, "CredentialsNotFound", o.CredentialsError));
        if (o.RemoteUnreadable != null) return Decided(meta, Unavailable(o, dept, o.RemoteUnreadable, null));
        // Webhooks can race (two replicas, a create admitted while the cache lagged), so quota is decided again here.
        if (o.QuotaViolation != null) return Decided(meta, Stall(o, dept, ViolationReasons.QuotaExceeded, o.QuotaViolation));
        // Until the operator may read the namespace's Secrets, an absent Secret proves nothing: wait, do not stall.
        if (mc.Spec.SecretConfig.Count > 0 && !o.SecretsReadable)
            return Decided(meta, new ConnectorOutcome([], new StatusUpdate(Health.Reconciling("WaitingForSecretAccess",
                $"waiting until the operator may read Secrets in namespace {mc.Metadata.NamespaceProperty}: Department {dept} " +
                "grants it with a RoleBinding that the operator creates; if this persists, check that RoleBinding and the operator's log"), dept), ReconcileResult.After(SecretAccessRecheck)));
        if (o.SecretError != null || o.Config is null) return Decided(meta, Stall(o, dept, "SecretNotFound", o.SecretError ?? "spec.secretConfig could not be resolved"));

        var config = o.Config;
        var name = config.RemoteName;
        var status = mc.Status ?? new V1Alpha1ManagedConnectorStatus();
        var owned = Owns(mc, name);
        var remote = o.Remote;
        if (remote != null && !owned && !Adopt(mc)) return Decided(meta, Stall(o, dept, ViolationReasons.NameConflict, NameConflictMessage(name, o.Cluster)));

        // The intent is recorded BEFORE the remote write: if the process dies after it, the next pass recognises the
        // connector as its own instead of reporting a name conflict, and never creates a second one.
        if (!owned) meta = meta with { RecordIntent = name };
        var actions = new List<RemoteAction>();
        if (remote is null)
        {
            // POST, not PUT, for a name not yet ours: the poll may be a few seconds old, and only a create refuses to
            // overwrite a connector that appeared since. Once ours, PUT is the idempotent create-or-replace.
            actions.Add(owned ? new RemoteAction(RemoteActionKind.PutConfig) : new RemoteAction(RemoteActionKind.Create, AdoptOnConflict: Adopt(mc)));
            return new ConnectorPlan(meta, actions);
        }

        var drift = Drift(config, remote, status);
        if (drift.HasDrift || status.ConfigHash != config.Hash) actions.Add(new RemoteAction(RemoteActionKind.PutConfig));
        switch (PauseResume.Decide(mc.Spec.State, remote.State, status.LifecycleRequest, o.Now, o.Timing.LifecycleRetryAfter))
        {
            case V1Alpha1LifecycleRequest.Pause: actions.Add(new RemoteAction(RemoteActionKind.Pause)); break;
            case V1Alpha1LifecycleRequest.Resume: actions.Add(new RemoteAction(RemoteActionKind.Resume)); break;
        }
        if (RestartRequested(mc))
            actions.Add(new RemoteAction(RemoteActionKind.Restart));
        else if (remote.Failed && !actions.Any(a => a.IsConfigWrite) && CanAutoRestart(mc) && AutoRestartDue(o) is null)
            actions.Add(new RemoteAction(RemoteActionKind.Restart, Automatic: true));
        return new ConnectorPlan(meta, actions, Drift: drift);
    }

    public static ConnectorOutcome Conclude(ConnectorObservation o, ConnectorPlan plan, ActResult act)
    {
        if (plan.Decided != null) return plan.Decided;
        if (o.Connector.Metadata.DeletionTimestamp != null) return ConcludeDeletion(o, act);
        return ConcludeSync(o, plan, act);
    }

    private static ConnectorOutcome ConcludeSync(ConnectorObservation o, ConnectorPlan plan, ActResult act)
    {
        var mc = o.Connector;
        var config = o.Config!;
        var dept = o.Department!.Metadata.Name;
        var name = config.RemoteName;
        var now = o.Now;
        var status = mc.Status ?? new V1Alpha1ManagedConnectorStatus();
        var ownedBefore = Owns(mc, name);
        var remote = o.Remote;
        var events = new List<PlannedEvent>();
        var wrote = act.Done.Any(a => a.IsConfigWrite);
        var created = remote is null && wrote;
        var deletedOutside = created && ownedBefore && status.ConnectorId != null;

        if (!ownedBefore && remote != null)
            events.Add(new PlannedEvent(EventRecorder.Normal, "Adopted", $"took over the existing connector {name} ({ConnectApi.AdoptAnnotation})"));
        if (created)
        {
            events.Add(deletedOutside
                ? new PlannedEvent(EventRecorder.Warning, "DeletedExternally",
                    $"connector {name} ({status.ConnectorId}) was deleted in Confluent Cloud outside Kubernetes; re-created it from the ManagedConnector " +
                    "(to delete a connector, delete its ManagedConnector)")
                : act.Adopted
                    ? new PlannedEvent(EventRecorder.Normal, "Adopted", $"took over the existing connector {name} ({ConnectApi.AdoptAnnotation})")
                    : new PlannedEvent(EventRecorder.Normal, "Created",
                        $"created connector {name} ({mc.Spec.ConnectorClass}{(mc.Spec.CustomPlugin is { } plugin ? " from custom plugin " + plugin.Id : "")}, {mc.Spec.TasksMax} task(s)) in {o.Cluster}"));
        }
        else if (remote != null && wrote && plan.Drift is { } drift)
        {
            if (status.ConfigHash == config.Hash)
                events.Add(new PlannedEvent(EventRecorder.Warning, "DriftReverted",
                    $"the remote config of {name} was changed outside Kubernetes ({string.Join(", ", drift.Differences)}); restored it from the ManagedConnector"));
            else if (ownedBefore)
                events.Add(new PlannedEvent(EventRecorder.Normal, "Updated",
                    drift.HasDrift ? $"updated config of {name} ({string.Join(", ", drift.Keys)})" : $"updated config of {name} (referenced Secret changed)"));
        }

        if (act.Failed is { } failed)
        {
            // Stop at the first failed call; what the calls before it did is still recorded.
            var keep = RecordWrites(wrote, config);
            if (failed.Failure.Kind == FailureKind.Conflict && failed.Action.Kind == RemoteActionKind.Create)
                return Stall(o, dept, ViolationReasons.NameConflict, NameConflictMessage(name, o.Cluster), events, s => s.ConnectorName = null) with { Metadata = new MetadataEdit(ClearIntent: true) };
            return failed.Failure.Kind switch
            {
                FailureKind.SecretMissing => Stall(o, dept, "SecretNotFound", failed.Failure.Text, events, keep),
                FailureKind.BadRequest => Stall(o, dept, "InvalidConfig", $"Confluent Cloud rejected the connector config: {failed.Failure.Text}; fix spec.config or spec.secretConfig", events, keep),
                FailureKind.CredentialsRejected => Stall(o, dept, "CredentialsRejected",
                    $"Confluent Cloud refused the credentials of Department {dept} (HTTP {failed.Failure.HttpStatus}) for {o.Cluster}; the platform team must fix the API key or its role bindings", events, keep),
                _ => Unavailable(o, dept, failed.Failure, keep, events),
            };
        }

        // Health from what Confluent said, as changed by this pass's own config writes (never by a guessed pause or resume).
        var after = created ? RemoteConnector.Created(config.AsReadBack()) with { Id = deletedOutside ? null : remote?.Id }
            : wrote ? remote! with { Config = config.AsReadBack() } : remote;
        var remoteState = after?.State;
        var trace = after?.Trace;
        var tasks = after?.Tasks ?? [];
        var failedNow = after?.Failed == true;

        var lifecycle = deletedOutside ? null : status.LifecycleRequest;
        foreach (var a in act.Done.Where(a => a.Kind is RemoteActionKind.Pause or RemoteActionKind.Resume))
            lifecycle = new V1Alpha1LifecycleRequest
            {
                Action = a.Kind == RemoteActionKind.Pause ? V1Alpha1LifecycleRequest.Pause : V1Alpha1LifecycleRequest.Resume,
                ObservedState = remote?.State, RequestedAt = now,
            };
        lifecycle = PauseResume.Settle(mc.Spec.State, remoteState, lifecycle);
        var recreatedAt = deletedOutside ? now : status.RecreatedAt;
        if (recreatedAt != null && remoteState is ConnectorStates.Running or ConnectorStates.Paused) recreatedAt = null;

        Condition? restartCondition = null;
        var restartRequest = RestartAnnotationOf(mc);
        if (act.Done.Any(a => a.Kind == RemoteActionKind.Restart && !a.Automatic) || (act.RestartRefused != null && RestartRequested(mc)))
        {
            (restartCondition, var e) = RestartResult(act.RestartRefused, "Restarted", $"restarted on request ({ConnectApi.RestartAnnotation}={restartRequest})",
                $"restarted connector {name} and its tasks on request ({ConnectApi.RestartAnnotation}={restartRequest})", mc, now);
            events.Add(e);
        }

        // One event per transition, when Confluent reports it, not per request.
        if (remoteState == ConnectorStates.Paused && status.ConnectorState != ConnectorStates.Paused && mc.Spec.State == ConnectorDesiredState.Paused)
            events.Add(new PlannedEvent(EventRecorder.Normal, "Paused", $"connector {name} is paused (spec.state Paused)"));
        else if (status.ConnectorState == ConnectorStates.Paused && remoteState is ConnectorStates.Running && mc.Spec.State == ConnectorDesiredState.Running)
            events.Add(new PlannedEvent(EventRecorder.Normal, "Resumed", $"connector {name} is running again (spec.state Running)"));

        var autoRestart = status.AutoRestart ?? new V1Alpha1AutoRestartStatus();
        var restartCount = autoRestart.Count;
        var lastRestart = autoRestart.LastRestartTime;
        var requeueAfter = PauseResume.RecheckIn(lifecycle, remoteState, now, o.Timing.LifecycleRetryAfter);
        var canAutoRestart = CanAutoRestart(mc);
        var wasFailed = status.ConnectorState is ConnectorStates.Failed or ConnectorStates.Degraded || status.Tasks.Any(t => FailureCause.IsFailedTaskState(t.State));
        // A new failure, or a different cause while still failed (a second task, a failure right after a restart).
        if (failedNow && (!wasFailed || Truncate(trace, V1Alpha1ManagedConnectorStatus.MaxTraceLength) != status.Trace))
            events.Add(new PlannedEvent(EventRecorder.Warning, "Failed", $"connector {name} is {remoteState}: {trace ?? "Confluent Cloud reported no cause"}"));
        else if (!failedNow && wasFailed && remoteState == ConnectorStates.Running)
            events.Add(new PlannedEvent(EventRecorder.Normal, "Recovered", $"connector {name} and its tasks are running again"));
        if (failedNow && !wrote)
        {
            if (act.Done.Any(a => a.Kind == RemoteActionKind.Restart && a.Automatic) || (act.RestartRefused != null && !RestartRequested(mc)))
            {
                // A refused restart counts as an attempt too: the backoff, not a loop, decides when to try again.
                restartCount++;
                lastRestart = now;
                (restartCondition, var e) = RestartResult(act.RestartRefused, "AutoRestarted",
                    $"auto-restart {restartCount}/{mc.Spec.RestartPolicy.MaxRestarts} after failure (spec.restartPolicy OnFailure)",
                    $"auto-restart {restartCount}/{mc.Spec.RestartPolicy.MaxRestarts} of {name} after failure (spec.restartPolicy OnFailure)", mc, now);
                events.Add(e);
            }
            else if (canAutoRestart && AutoRestartDue(o) is { } wait)
                requeueAfter = Min(requeueAfter, wait);
            else if (!canAutoRestart && !wasFailed && mc.Spec.RestartPolicy.Type == RestartPolicyTypes.OnFailure)
                events.Add(new PlannedEvent(EventRecorder.Warning, "AutoRestartExhausted",
                    $"connector {name} failed again after {restartCount} auto-restart(s) (spec.restartPolicy.maxRestarts); a person must act"));
        }
        else if (!failedNow && remoteState == ConnectorStates.Running && restartCount > 0 && lastRestart is { } lr)
        {
            // Healthy for long enough: the next failure starts the backoff from scratch.
            if (now - lr >= o.Timing.AutoRestartResetAfter) restartCount = 0;
            else requeueAfter = Min(requeueAfter, lr + o.Timing.AutoRestartResetAfter - now);
        }

        var health = ConnectorHealth.Evaluate(mc.Spec.State, remoteState, tasks, canAutoRestart || restartCount > autoRestart.Count, trace);
        if (recreatedAt is { } recreated && health.Phase != HealthPhase.Ready)
            health = health with
            {
                Reason = health.Reason is "Provisioning" or "Creating" ? "Recreated" : health.Reason,
                Message = $"re-created at {recreated.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)} after it was deleted in Confluent Cloud outside Kubernetes; {health.Message}",
            };
        var generationChanged = status.ObservedGeneration != mc.Metadata.Generation;
        var department = o.Department;
        var update = new StatusUpdate(health, dept, Fields: s =>
        {
            s.ConnectorName = name;
            s.ConnectorId = after?.Id ?? (deletedOutside ? null : s.ConnectorId);
            s.EnvironmentId = department.Spec.Confluent.EnvironmentId;
            s.KafkaClusterId = department.Spec.Confluent.KafkaClusterId;
            s.ConnectorState = remoteState;
            s.Tasks = tasks.ToList();
            s.TasksReady = TasksReady.Of(s.Tasks, mc.Spec.TasksMax);
            s.Trace = Truncate(trace, V1Alpha1ManagedConnectorStatus.MaxTraceLength);
            s.ConfigHash = config.Hash;
            s.AppliedConfigKeys = config.AppliedKeys.ToList();
            s.LifecycleRequest = lifecycle;
            s.RecreatedAt = recreatedAt;
            s.RestartAnnotation = restartRequest;
            s.AutoRestart = restartCount == 0 && lastRestart == null ? null : new V1Alpha1AutoRestartStatus { Count = restartCount, LastRestartTime = lastRestart };
            if (wrote || generationChanged || s.LastSyncTime == null) s.LastSyncTime = now;
        }, RestartCondition: restartCondition);
        return new ConnectorOutcome(events, update, requeueAfter is { } after2 && after2 > TimeSpan.Zero ? ReconcileResult.After(after2) : ReconcileResult.Done);
    }

    /// <summary>
    /// While the Department is suspended: observe only. The poll goes on, so status keeps Confluent's truth; nothing is
    /// changed in Confluent. A Suspended condition says why, and Argo CD shows Suspended rather than a long Progressing.
    /// </summary>
    private static ConnectorOutcome Suspended(ConnectorObservation o)
    {
        var mc = o.Connector;
        var dept = o.Department!.Metadata.Name;
        var name = mc.Status?.ConnectorName;
        if (name is null || o.RemoteUnreadable != null || o.CredentialsError != null)
        {
            var waiting = name is null
                ? $"not created: Department {dept} is suspended (spec.suspend); it is created when the platform team resumes it"
                : $"Department {dept} is suspended (spec.suspend); Confluent Cloud could not be read, so the last observed state is shown";
            return new ConnectorOutcome([], new StatusUpdate(Health.Reconciling("DepartmentSuspended", waiting), dept, SuspendedBy: dept), ReconcileResult.Done);
        }
        var remote = o.Remote;
        var health = remote is null
            ? Health.Reconciling("DepartmentSuspended", $"the connector {name} is not in Confluent Cloud; Department {dept} is suspended (spec.suspend), so it is not re-created until the platform team resumes it")
            : ConnectorHealth.Evaluate(mc.Spec.State, remote.State, remote.Tasks, autoRestartAvailable: false, remote.Trace);
        return new ConnectorOutcome([], new StatusUpdate(health, dept, SuspendedBy: dept, Fields: s =>
        {
            s.ConnectorState = remote?.State;
            s.Tasks = (remote?.Tasks ?? []).ToList();
            s.Trace = Truncate(remote?.Trace, V1Alpha1ManagedConnectorStatus.MaxTraceLength);
            if (remote?.Id is { } id) s.ConnectorId = id;
        }), ReconcileResult.Done);
    }

    private static ConnectorPlan PlanDeletion(ConnectorObservation o)
    {
        var mc = o.Connector;
        if (!Finalizers.Has(mc, ConnectApi.Finalizer)) return Decided(MetadataEdit.None, new ConnectorOutcome([], null, ReconcileResult.Done));
        var name = OwnedName(mc, o.Department);
        if (name is null) return Decided(MetadataEdit.None, Released([]));
        if (mc.Spec.DeletionPolicy != DeletionPolicies.Delete)
            return Decided(MetadataEdit.None, Released([new PlannedEvent(EventRecorder.Normal, "Deleted", $"left connector {name} running in Confluent Cloud (spec.deletionPolicy Orphan)")]));
        var dept = o.Department?.Metadata.Name ?? mc.Status?.Department;
        if (o.Department is null)
            return Decided(MetadataEdit.None, Stall(o, dept, ViolationReasons.NoDepartment,
                $"cannot delete remote connector {name}: its Department is gone; restore the Department, or remove the finalizer {ConnectApi.Finalizer} by hand after deleting the connector in Confluent Cloud"));
        if (o.CredentialsError != null)
            return Decided(MetadataEdit.None, Stall(o, dept, "CredentialsNotFound", $"cannot delete remote connector {name}: {o.CredentialsError}"));
        if (o.Department.Spec.Suspend)
        {
            // Suspended means nothing changes in Confluent, deletes included; resuming the Department requeues its connectors.
            var waiting = $"deleting connector {name} waits: Department {dept} is suspended (spec.suspend), so nothing is changed in Confluent Cloud; " +
                          "the delete happens when the platform team resumes it";
            var events = ConditionSet.Find(mc.Status?.Conditions, ConditionTypes.Reconciling)?.Message == waiting
                ? [] : new List<PlannedEvent> { new PlannedEvent(EventRecorder.Normal, "DeleteWaiting", waiting) };
            return Decided(MetadataEdit.None, new ConnectorOutcome(events, new StatusUpdate(Health.Reconciling("DeleteWaitsForSuspension", waiting), dept, SuspendedBy: dept), ReconcileResult.Done));
        }
        // A 404 means it is already gone (an earlier attempt, or someone else): the act step counts that as done.
        return new ConnectorPlan(MetadataEdit.None, [new RemoteAction(RemoteActionKind.Delete)]);
    }

    private static ConnectorOutcome ConcludeDeletion(ConnectorObservation o, ActResult act)
    {
        var mc = o.Connector;
        var name = OwnedName(mc, o.Department);
        if (act.Failed is { } failed)
        {
            // Keep the finalizer and retry: releasing it now would orphan a running connector.
            var text = $"deleting connector {name} in Confluent Cloud failed: {failed.Failure.Text}";
            var events = ConditionSet.Find(mc.Status?.Conditions, ConditionTypes.Reconciling)?.Message == text
                ? [] : new List<PlannedEvent> { new PlannedEvent(EventRecorder.Warning, "DeleteFailed", text) };
            return new ConnectorOutcome(events, new StatusUpdate(Health.Reconciling("Deleting", text), o.Department?.Metadata.Name), Retry(failed.Failure));
        }
        return Released([new PlannedEvent(EventRecorder.Normal, "Deleted", $"deleted connector {name} from {o.Cluster}")]);
    }

    private static ConnectorOutcome Released(IReadOnlyList<PlannedEvent> events)
        => new(events, null, ReconcileResult.Done, new MetadataEdit(RemoveFinalizer: true));

    private static ConnectorPlan Decided(MetadataEdit meta, ConnectorOutcome outcome) => new(meta, [], outcome);

    /// <summary>A person must act: one Warning per new cause, and no requeue (the watches bring the fix back).</summary>
    private static ConnectorOutcome Stall(ConnectorObservation o, string? dept, string reason, string message, IReadOnlyList<PlannedEvent>? before = null,
        Action<V1Alpha1ManagedConnectorStatus>? fields = null)
    {
        var events = new List<PlannedEvent>(before ?? []);
        var previous = ConditionSet.Find(o.Connector.Status?.Conditions, ConditionTypes.Stalled);
        if (previous is null || previous.Status != ConditionStatus.True || previous.Reason != reason || previous.Message != message)
            events.Add(new PlannedEvent(EventRecorder.Warning, reason, message));
        return new ConnectorOutcome(events, new StatusUpdate(Health.Stalled(reason, message), dept, Fields: fields), ReconcileResult.Done);
    }

    /// <summary>Transient: say so in status and retry with per-item backoff, or when the failure says (Retry-After, an open circuit).</summary>
    private static ConnectorOutcome Unavailable(ConnectorObservation o, string dept, CallFailure failure, Action<V1Alpha1ManagedConnectorStatus>? fields,
        IReadOnlyList<PlannedEvent>? events = null)
        => new(events ?? [], new StatusUpdate(Health.Reconciling("ConfluentUnavailable", failure.Text), dept, Fields: fields), Retry(failure));

    private static ReconcileResult Retry(CallFailure failure) => failure.RetryAfter is { } after ? ReconcileResult.After(after) : ReconcileResult.RequeueRateLimited();

    /// <summary>What a config write that went through leaves in status even when a later call of the pass failed.</summary>
    private static Action<V1Alpha1ManagedConnectorStatus>? RecordWrites(bool wrote, EffectiveConfig config) => !wrote ? null : s =>
    {
        s.ConnectorName = config.RemoteName;
        s.ConfigHash = config.Hash;
        s.AppliedConfigKeys = config.AppliedKeys.ToList();
    };

    /// <summary>Only what the operator owns is compared (see <see cref="ConfigDrift"/>): keys Confluent adds are never drift.</summary>
    private static ConfigDriftResult Drift(EffectiveConfig config, RemoteConnector remote, V1Alpha1ManagedConnectorStatus status)
        => ConfigDrift.Compare(config.PlainConfig, remote.Config, config.SecretKeys, status.AppliedConfigKeys?.ToList());

    private static bool Adopt(V1Alpha1ManagedConnector mc) => mc.Metadata.Annotations?.TryGetValue(ConnectApi.AdoptAnnotation, out var a) == true && a == "true";

    private static bool RestartRequested(V1Alpha1ManagedConnector mc) => RestartAnnotationOf(mc) is { } r && r != mc.Status?.RestartAnnotation;

    private static bool CanAutoRestart(V1Alpha1ManagedConnector mc)
        => mc.Spec.RestartPolicy.Type == RestartPolicyTypes.OnFailure && (mc.Status?.AutoRestart?.Count ?? 0) < mc.Spec.RestartPolicy.MaxRestarts;

    /// <summary>Null when an auto-restart may happen now; else how long the backoff still asks to wait.</summary>
    private static TimeSpan? AutoRestartDue(ConnectorObservation o)
    {
        var auto = o.Connector.Status?.AutoRestart;
        if (auto?.LastRestartTime is not { } last) return null;
        var due = last + ConnectorHealth.AutoRestartDelay(auto.Count) * (o.Timing.AutoRestartBackoffUnit / TimeSpan.FromMinutes(1));
        return o.Now >= due ? null : due - o.Now;
    }

    /// <summary>The condition and the event a restart leaves: done, or refused with why.</summary>
    private static (Condition, PlannedEvent) RestartResult(string? refused, string doneReason, string doneMessage, string eventMessage, V1Alpha1ManagedConnector mc, DateTime now)
    {
        var condition = new Condition
        {
            Type = StatusUpdate.RestartConditionType, Status = refused is null ? ConditionStatus.True : ConditionStatus.False,
            Reason = refused is null ? doneReason : "RestartNotSupported", Message = refused ?? doneMessage,
            ObservedGeneration = mc.Metadata.Generation, LastTransitionTime = now,
        };
        return (condition, refused is null
            ? new PlannedEvent(EventRecorder.Normal, "Restarted", eventMessage)
            : new PlannedEvent(EventRecorder.Warning, "RestartFailed", refused));
    }

    public static string NameConflictMessage(string name, string? cluster)
        => $"a connector named {name} already exists in {cluster} and was not created by this ManagedConnector; delete or rename it in Confluent Cloud, " +
           $"or set the annotation {ConnectApi.AdoptAnnotation}: \"true\" to take it over";

    private static string? RestartAnnotationOf(V1Alpha1ManagedConnector mc)
        => mc.Metadata.Annotations?.TryGetValue(ConnectApi.RestartAnnotation, out var v) == true ? v : null;

    private static TimeSpan? Min(TimeSpan? a, TimeSpan b) => a is { } x && x < b ? x : b;

    public static string? Truncate(string? s, int max) => s is null || s.Length <= max ? s : s[..(max - 1)] + "…";
}
