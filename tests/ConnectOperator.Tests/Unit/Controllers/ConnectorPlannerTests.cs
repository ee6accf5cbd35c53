using System.Text.RegularExpressions;
using ConnectOperator.Confluent;
using ConnectOperator.Controllers.ManagedConnectors;
using ConnectOperator.Controllers.ManagedConnectors.Planning;
using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Status;
using ConnectOperator.Tests.Infrastructure;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Controllers;

/// <summary>
/// Every lifecycle rule as a row: an observation, what the Confluent calls do, and what the plan must decide (calls,
/// metadata, events, the verdict). <see cref="Every_reason_in_the_lifecycle_chapter_has_a_row"/> keeps the table and
/// docs/handbook/04-lifecycle.md in step: a reason documented there with no row here fails.
/// </summary>
public class ConnectorPlannerTests
{
    private static readonly DateTime Now = new(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc);
    private const string Ns = "payments", Name = "orders", Remote = "fin.payments.orders";

    private static V1Alpha1Department Dept(bool suspend = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = "finance" },
        Spec = new V1Alpha1DepartmentSpec
        {
            ConnectorNamePrefix = "fin", Suspend = suspend, Namespaces = [Ns],
            Confluent = new V1Alpha1DepartmentConfluent { EnvironmentId = "env-1", KafkaClusterId = "lkc-1", ServiceAccountId = "sa-1" },
        },
    };

    private static V1Alpha1ManagedConnector New(Action<V1Alpha1ManagedConnector>? edit = null)
    {
        var mc = new V1Alpha1ManagedConnector
        {
            Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = Ns, Generation = 1, Uid = "u1", ResourceVersion = "10" },
            Spec = new V1Alpha1ManagedConnectorSpec { ConnectorClass = "DatagenSource", TasksMax = 2, Config = new Dictionary<string, string> { ["kafka.topic"] = "fin.orders" } },
        };
        edit?.Invoke(mc);
        return mc;
    }

    private static EffectiveConfig ConfigOf(V1Alpha1ManagedConnector mc, IReadOnlyDictionary<string, string>? secrets = null)
        => EffectiveConfig.Build(mc, Dept(), secrets ?? new Dictionary<string, string>());

    /// <summary>A connector the operator created and has in sync: finalizer, intent, status as a pass would have left it.</summary>
    private static V1Alpha1ManagedConnector Synced(string state = ConnectorStates.Running, Action<V1Alpha1ManagedConnector>? edit = null)
    {
        var mc = New();
        mc.Metadata.Finalizers = [ConnectApi.Finalizer];
        mc.Metadata.Annotations = new Dictionary<string, string> { [ConnectApi.IntentAnnotation] = Remote };
        var config = ConfigOf(mc);
        mc.Status = new V1Alpha1ManagedConnectorStatus
        {
            ObservedGeneration = 1, Department = "finance", ConnectorName = Remote, ConnectorId = "lcc-1", ConnectorState = state,
            ConfigHash = config.Hash, AppliedConfigKeys = config.AppliedKeys.ToList(), LastSyncTime = Now.AddHours(-1),
            Tasks = [new V1Alpha1TaskStatus { Id = 0, State = ConnectorStates.Running }, new V1Alpha1TaskStatus { Id = 1, State = ConnectorStates.Running }],
        };
        edit?.Invoke(mc);
        return mc;
    }

    private static RemoteConnector Listed(V1Alpha1ManagedConnector mc, string? state = ConnectorStates.Running, string? trace = null, params string[] taskStates)
    {
        var config = new Dictionary<string, string>(ConfigOf(mc).AsReadBack()) { ["cloud.environment"] = "prod" };   // a key Confluent adds
        var tasks = (taskStates.Length == 0 ? [ConnectorStates.Running, ConnectorStates.Running] : taskStates)
            .Select((s, i) => new V1Alpha1TaskStatus { Id = i, State = s }).ToList();
        return new RemoteConnector("lcc-1", state, config, tasks, trace);
    }

    private static ConnectorObservation Observe(V1Alpha1ManagedConnector mc, RemoteConnector? remote, Func<ConnectorObservation, ConnectorObservation>? edit = null)
    {
        var o = new ConnectorObservation
        {
            Connector = mc, Now = Now, Timing = LifecycleTiming.Default, Department = Dept(), Cluster = "env-1/lkc-1",
            Config = ConfigOf(mc), Remote = remote,
        };
        return edit is null ? o : edit(o);
    }

    /// <summary>Plan, act as <paramref name="calls"/> says each call goes (default: all succeed), conclude; and the status the pass writes.</summary>
    private static Pass Run(ConnectorObservation o, Func<RemoteAction, Answer>? calls = null)
    {
        var plan = ConnectorPlanner.Plan(o);
        var done = new List<RemoteAction>();
        var adopted = false;
        string? refused = null;
        (RemoteAction, CallFailure)? failed = null;
        foreach (var a in plan.Actions)
        {
            var answer = calls?.Invoke(a) ?? Answer.Ok;
            if (answer.Failure is { } f) { failed = (a, f); break; }
            if (answer.Refused) { refused = "Confluent Cloud answered HTTP 405 to POST …/restart"; continue; }
            adopted |= answer.Adopted;
            done.Add(a);
        }
        var outcome = ConnectorPlanner.Conclude(o, plan, new ActResult(done, adopted, refused, failed));
        var written = KubeApiClient.DeepCopy(o.Connector);
        outcome.Status?.ApplyTo(written, Now);
        return new Pass(plan, outcome, outcome.Status is null ? null : written.Status);
    }

    public sealed record Answer(CallFailure? Failure = null, bool Refused = false, bool Adopted = false)
    {
        public static readonly Answer Ok = new();
        public static Answer Fails(FailureKind kind, string text = "Confluent Cloud is failing (HTTP 503); retrying with backoff", int? http = null, TimeSpan? retry = null)
            => new(new CallFailure(kind, text, retry, http));
    }

    public sealed record Pass(ConnectorPlan Plan, ConnectorOutcome Outcome, V1Alpha1ManagedConnectorStatus? Status)
    {
        public IEnumerable<string> Calls => Plan.Actions.Select(a => a.ToString());
        public IEnumerable<string> Events => Outcome.Events.Select(e => e.Reason);
        public Condition? Condition(string type) => Status?.Conditions.FirstOrDefault(c => c.Type == type);
        /// <summary>The reason of the one kstatus condition that is True: the verdict.</summary>
        public string? Verdict => Status?.Conditions.FirstOrDefault(c => c.Type is ConditionTypes.Ready or ConditionTypes.Reconciling or ConditionTypes.Stalled && c.Status == ConditionStatus.True)?.Reason;
    }

    /// <summary>One row: a lifecycle rule, the pass it describes, and what must come out.</summary>
    public sealed record Row(string Rule, Func<Pass> Pass, string[] Calls, string? Verdict, string[] Events, Action<Pass>? Also = null)
    {
        public override string ToString() => Rule;
    }

    private static Func<Pass> Given(V1Alpha1ManagedConnector mc, RemoteConnector? remote, Func<ConnectorObservation, ConnectorObservation>? edit = null,
        Func<RemoteAction, Answer>? calls = null) => () => Run(Observe(mc, remote, edit), calls);

    private static V1Alpha1ManagedConnector Deleting(V1Alpha1ManagedConnector mc, string policy = DeletionPolicies.Delete)
    {
        mc.Metadata.DeletionTimestamp = Now.AddSeconds(-5);
        mc.Spec.DeletionPolicy = policy;
        return mc;
    }

    private static readonly string[] None = [];

    public static IEnumerable<Row> Rows()
    {
        // --- create, and the checks before Confluent ---
        yield return new("create: a new connector is created with one POST, intent recorded with the finalizer in one metadata write",
            Given(New(), null), ["Create"], "Provisioning", ["Created"], p =>
            {
                Assert.That(p.Plan.Metadata, Is.EqualTo(new MetadataEdit(AddFinalizer: true, RecordIntent: Remote)));
                Assert.That(p.Status!.ConnectorName, Is.EqualTo(Remote));
                Assert.That(p.Status.ConfigHash, Is.Not.Null);
            });
        yield return new("Creating: Confluent lists the connector without a state yet", Given(Synced(), Listed(Synced(), state: null)), None, "Creating", None);
        yield return new("Provisioning: Confluent reports PROVISIONING", Given(Synced(ConnectorStates.Provisioning), Listed(Synced(), ConnectorStates.Provisioning)), None, "Provisioning", None);
        yield return new("Running: in sync costs no call and no event", Given(Synced(), Listed(Synced())), None, "Running", None,
            p => Assert.That(p.Plan.Metadata.Any, Is.False));
        yield return new("NoDepartment: no Department lists the namespace",
            Given(New(), null, o => o with { Department = null, NoDepartment = new Violation("metadata.namespace", ViolationReasons.NoDepartment, "no Department lists namespace payments") }),
            None, ViolationReasons.NoDepartment, [ViolationReasons.NoDepartment]);
        yield return new("NamespaceConflict: two Departments list the namespace",
            Given(New(), null, o => o with { Department = null, NoDepartment = new Violation("metadata.namespace", ViolationReasons.NamespaceConflict, "Departments a and b both list payments") }),
            None, ViolationReasons.NamespaceConflict, [ViolationReasons.NamespaceConflict]);
        yield return new("PolicyViolation: a class the Department does not allow", Given(New(), null, o => o with { PolicyViolations = ["spec.connectorClass: not allowed"] }),
            None, ViolationReasons.PolicyViolation, [ViolationReasons.PolicyViolation]);
        yield return new("QuotaExceeded: the reconciler checks quota again", Given(New(), null, o => o with { QuotaViolation = "maxConnectors 3 would be exceeded" }),
            None, ViolationReasons.QuotaExceeded, [ViolationReasons.QuotaExceeded]);
        yield return new("CredentialsNotFound: the Department's credentials Secret is missing", Given(New(), null, o => o with { CredentialsError = "Secret connect/fin-creds does not exist" }),
            None, "CredentialsNotFound", ["CredentialsNotFound"]);
        yield return new("SecretNotFound: a secretConfig Secret is missing", Given(New(), null, o => o with { SecretError = "spec.secretConfig[password]: Secret payments/db does not exist", Config = null }),
            None, "SecretNotFound", ["SecretNotFound"]);
        yield return new("SecretNotFound: a Secret vanished between the cache and the read for the write",
            Given(New(), null, calls: _ => Answer.Fails(FailureKind.SecretMissing, "spec.secretConfig[password]: Secret payments/db does not exist")), ["Create"], "SecretNotFound", ["SecretNotFound"]);
        yield return new("WaitingForSecretAccess: the operator may not read the namespace's Secrets yet",
            Given(New(mc => mc.Spec.SecretConfig = [new V1Alpha1SecretConfigEntry { Key = "password", SecretKeyRef = new V1Alpha1SecretKeyRef { Name = "db", Key = "pw" } }]), null,
                o => o with { SecretsReadable = false }),
            None, "WaitingForSecretAccess", None, p => Assert.That(p.Outcome.Result.RequeueAfter, Is.EqualTo(ConnectorPlanner.SecretAccessRecheck)));
        yield return new("a stall already reported is not reported again",
            Given(New(mc => mc.Status = new V1Alpha1ManagedConnectorStatus
            {
                Conditions = [new Condition { Type = ConditionTypes.Stalled, Status = ConditionStatus.True, Reason = ViolationReasons.QuotaExceeded, Message = "maxConnectors 3 would be exceeded" }],
            }), null, o => o with { QuotaViolation = "maxConnectors 3 would be exceeded" }), None, ViolationReasons.QuotaExceeded, None);

        // --- what Confluent says no to ---
        yield return new("InvalidConfig: Confluent rejects the config (400)",
            Given(New(), null, calls: _ => Answer.Fails(FailureKind.BadRequest, "kafka.topic is required", 400)), ["Create"], "InvalidConfig", ["InvalidConfig"],
            p => Assert.That(p.Condition(ConditionTypes.Stalled)!.Message, Does.Contain("kafka.topic is required").And.Contain("fix spec.config")));
        yield return new("CredentialsRejected: Confluent answers 401 for the Department's key",
            Given(New(), null, calls: _ => Answer.Fails(FailureKind.CredentialsRejected, "401", 401)), ["Create"], "CredentialsRejected", ["CredentialsRejected"]);
        yield return new("NameConflict: a connector of that name exists and is not ours", Given(New(), Listed(New())), None, ViolationReasons.NameConflict, [ViolationReasons.NameConflict],
            p => Assert.That(p.Plan.Metadata.RecordIntent, Is.Null, "nothing is claimed"));
        yield return new("NameConflict: the create meets a connector that appeared since the poll (409): the intent is withdrawn",
            Given(New(), null, calls: _ => Answer.Fails(FailureKind.Conflict, "already exists", 409)), ["Create"], ViolationReasons.NameConflict, [ViolationReasons.NameConflict], p =>
            {
                Assert.That(p.Outcome.Metadata, Is.EqualTo(new MetadataEdit(ClearIntent: true)));
                Assert.That(p.Status!.ConnectorName, Is.Null);
            });
        yield return new("ConfluentUnavailable: the poll failed", Given(Synced(), null, o => o with { RemoteUnreadable = new CallFailure(FailureKind.Unavailable, "Confluent Cloud is failing (HTTP 503); retrying with backoff") }),
            None, "ConfluentUnavailable", None, p => Assert.That(p.Outcome.Result.Requeue, Is.True));
        yield return new("ConfluentUnavailable: a 429 with Retry-After retries when Confluent says",
            Given(New(), null, calls: _ => Answer.Fails(FailureKind.Unavailable, "Confluent Cloud is rate-limiting this API key (HTTP 429); retrying in 30 s", 429, TimeSpan.FromSeconds(30))),
            ["Create"], "ConfluentUnavailable", None, p => Assert.That(p.Outcome.Result.RequeueAfter, Is.EqualTo(TimeSpan.FromSeconds(30))));

        // --- update and drift ---
        yield return new("update: a spec change is one PUT and an Updated event",
            Given(Synced(edit: mc => mc.Spec.Config["kafka.topic"] = "fin.orders.v2"), Listed(Synced())), ["PutConfig"], "Running", ["Updated"], p =>
            {
                Assert.That(p.Status!.ConfigHash, Is.Not.EqualTo(Synced().Status!.ConfigHash));
                Assert.That(p.Outcome.Events[0].Message, Does.Contain("kafka.topic"));
            });
        yield return new("drift: an owned key changed in the console is restored with one PUT and a DriftReverted warning",
            Given(Synced(), Listed(Synced()) with { Config = new Dictionary<string, string>(Listed(Synced()).Config) { ["kafka.topic"] = "someone.else" } }),
            ["PutConfig"], "Running", ["DriftReverted"]);
        yield return new("drift: an owned key missing remotely is restored",
            Given(Synced(), Listed(Synced()) with { Config = Listed(Synced()).Config.Where(kv => kv.Key != "kafka.topic").ToDictionary() }), ["PutConfig"], "Running", ["DriftReverted"],
            p => Assert.That(p.Outcome.Events[0].Message, Does.Contain("+kafka.topic")));
        yield return new("no drift: a key the operator never sent (Confluent's or a person's) is left alone",
            Given(Synced(), Listed(Synced()) with { Config = new Dictionary<string, string>(Listed(Synced()).Config) { ["errors.tolerance"] = "all" } }), None, "Running", None);
        yield return new("secretConfig: a new Secret version sends the new value once (compared by version, never by value)",
            Given(Synced(), Listed(Synced()), o => o with { Config = ConfigOf(o.Connector, new Dictionary<string, string> { ["password"] = "uid/2" }) }),
            ["PutConfig"], "Running", ["Updated"], p => Assert.That(p.Outcome.Events[0].Message, Does.Contain("referenced Secret changed").Or.Contain("password")));
        yield return new("a PUT that went through is recorded even when the pause after it fails",
            Given(Synced(edit: mc => { mc.Spec.Config["kafka.topic"] = "fin.orders.v2"; mc.Spec.State = ConnectorDesiredState.Paused; }), Listed(Synced()),
                calls: a => a.Kind == RemoteActionKind.Pause ? Answer.Fails(FailureKind.Unavailable) : Answer.Ok),
            ["PutConfig", "Pause"], "ConfluentUnavailable", ["Updated"], p => Assert.That(p.Status!.ConfigHash, Is.Not.EqualTo(Synced().Status!.ConfigHash), "no second PUT next pass"));

        // --- pause and resume ---
        yield return new("Pausing: spec.state Paused sends one pause", Given(Synced(edit: mc => mc.Spec.State = ConnectorDesiredState.Paused), Listed(Synced())),
            ["Pause"], "Pausing", None, p =>
            {
                Assert.That(p.Status!.LifecycleRequest?.Action, Is.EqualTo(V1Alpha1LifecycleRequest.Pause));
                Assert.That(p.Outcome.Result.RequeueAfter, Is.EqualTo(LifecycleTiming.Default.LifecycleRetryAfter));
            });
        yield return new("Pausing: a pause already sent is not repeated while Confluent still reports the state it was sent in",
            Given(Synced(edit: mc => { mc.Spec.State = ConnectorDesiredState.Paused; mc.Status!.LifecycleRequest = new() { Action = "Pause", ObservedState = ConnectorStates.Running, RequestedAt = Now.AddMinutes(-1) }; }),
                Listed(Synced())), None, "Pausing", None);
        yield return new("Pausing: a pause sent while PROVISIONING waits however long provisioning takes",
            Given(Synced(ConnectorStates.Provisioning, mc => { mc.Spec.State = ConnectorDesiredState.Paused; mc.Status!.LifecycleRequest = new() { Action = "Pause", ObservedState = ConnectorStates.Provisioning, RequestedAt = Now.AddHours(-3) }; }),
                Listed(Synced(), ConnectorStates.Provisioning)), None, "Provisioning", None);
        yield return new("Pausing: provisioning that ends RUNNING with the pause ignored gets one more pause",
            Given(Synced(ConnectorStates.Provisioning, mc => { mc.Spec.State = ConnectorDesiredState.Paused; mc.Status!.LifecycleRequest = new() { Action = "Pause", ObservedState = ConnectorStates.Provisioning, RequestedAt = Now.AddMinutes(-10) }; }),
                Listed(Synced())), ["Pause"], "Pausing", None);
        yield return new("Pausing: a pause with no effect in a settled state is sent again after LifecycleRetryAfter",
            Given(Synced(edit: mc => { mc.Spec.State = ConnectorDesiredState.Paused; mc.Status!.LifecycleRequest = new() { Action = "Pause", ObservedState = ConnectorStates.Running, RequestedAt = Now.AddMinutes(-6) }; }),
                Listed(Synced())), ["Pause"], "Pausing", None);
        yield return new("Paused: Confluent reports PAUSED as desired: one Paused event, the request settled",
            Given(Synced(edit: mc => { mc.Spec.State = ConnectorDesiredState.Paused; mc.Status!.LifecycleRequest = new() { Action = "Pause", ObservedState = ConnectorStates.Running, RequestedAt = Now.AddMinutes(-1) }; }),
                Listed(Synced(), ConnectorStates.Paused)), None, "Paused", ["Paused"], p => Assert.That(p.Status!.LifecycleRequest, Is.Null));
        yield return new("Resuming: spec.state Running sends one resume", Given(Synced(ConnectorStates.Paused), Listed(Synced(), ConnectorStates.Paused)), ["Resume"], "Resuming", None);
        yield return new("resume: RUNNING again after PAUSED: one Resumed event", Given(Synced(ConnectorStates.Paused), Listed(Synced())), None, "Running", ["Resumed"]);
        yield return new("Converging: Confluent reports another state", Given(Synced(), Listed(Synced(), "UNASSIGNED")), None, "Converging", None);
        yield return new("TasksNotRunning: RUNNING with a task UNASSIGNED", Given(Synced(), Listed(Synced(), ConnectorStates.Running, null, ConnectorStates.Running, "UNASSIGNED")),
            None, "TasksNotRunning", None, p => Assert.That(p.Status!.TasksReady, Is.EqualTo("1/2")));

        // --- restart, failure, recovery ---
        yield return new("restart: a new connect.ebs.io/restart value restarts once",
            Given(Synced(edit: mc => mc.Metadata.Annotations![ConnectApi.RestartAnnotation] = "1"), Listed(Synced())), ["Restart"], "Running", ["Restarted"], p =>
            {
                Assert.That(p.Status!.RestartAnnotation, Is.EqualTo("1"));
                Assert.That(p.Condition(StatusUpdate.RestartConditionType)?.Reason, Is.EqualTo("Restarted"));
            });
        yield return new("restart: the value already handled does nothing",
            Given(Synced(edit: mc => { mc.Metadata.Annotations![ConnectApi.RestartAnnotation] = "1"; mc.Status!.RestartAnnotation = "1"; }), Listed(Synced())), None, "Running", None);
        yield return new("RestartNotSupported: Confluent answers 404/405 to restart: recorded once, not retried",
            Given(Synced(edit: mc => mc.Metadata.Annotations![ConnectApi.RestartAnnotation] = "1"), Listed(Synced()), calls: _ => new Answer(Refused: true)),
            ["Restart"], "Running", ["RestartFailed"], p =>
            {
                Assert.That(p.Condition(StatusUpdate.RestartConditionType), Has.Property("Status").EqualTo(ConditionStatus.False).And.Property("Reason").EqualTo("RestartNotSupported"));
                Assert.That(p.Status!.RestartAnnotation, Is.EqualTo("1"), "the request is handled, so it is not looped on");
            });
        yield return new("AutoRestartPending: FAILED with restartPolicy OnFailure restarts at once the first time",
            Given(Synced(edit: mc => mc.Spec.RestartPolicy = new V1Alpha1RestartPolicy { Type = RestartPolicyTypes.OnFailure, MaxRestarts = 3 }), Listed(Synced(), ConnectorStates.Failed, "java.lang.OutOfMemoryError")),
            ["Restart(auto)"], "AutoRestartPending", ["Failed", "Restarted"], p =>
            {
                Assert.That(p.Status!.AutoRestart, Has.Property("Count").EqualTo(1).And.Property("LastRestartTime").EqualTo(Now));
                Assert.That(p.Status.Trace, Is.EqualTo("java.lang.OutOfMemoryError"));
            });
        yield return new("AutoRestartPending: the next restart waits for its backoff (min(n²+n, 60) minutes)",
            Given(Synced(ConnectorStates.Failed, mc =>
            {
                mc.Spec.RestartPolicy = new V1Alpha1RestartPolicy { Type = RestartPolicyTypes.OnFailure, MaxRestarts = 3 };
                mc.Status!.AutoRestart = new V1Alpha1AutoRestartStatus { Count = 1, LastRestartTime = Now.AddMinutes(-1) };
                mc.Status.Trace = "boom";
            }), Listed(Synced(), ConnectorStates.Failed, "boom")), None, "AutoRestartPending", None,
            p => Assert.That(p.Outcome.Result.RequeueAfter, Is.EqualTo(TimeSpan.FromMinutes(1))));
        yield return new("ConnectorFailed: FAILED with restartPolicy Never stalls with the cause",
            Given(Synced(edit: mc => mc.Spec.RestartPolicy = new V1Alpha1RestartPolicy { Type = RestartPolicyTypes.Never }),
                Listed(Synced(), ConnectorStates.Failed, "Invalid credentials for the database")), None, "ConnectorFailed", ["Failed"],
            p => Assert.That(p.Condition(ConditionTypes.Stalled)!.Message, Does.Contain("Invalid credentials for the database")));
        yield return new("TaskFailed: a failed task once maxRestarts is used up stalls, with one AutoRestartExhausted warning",
            Given(Synced(edit: mc =>
            {
                mc.Spec.RestartPolicy = new V1Alpha1RestartPolicy { Type = RestartPolicyTypes.OnFailure, MaxRestarts = 2 };
                mc.Status!.AutoRestart = new V1Alpha1AutoRestartStatus { Count = 2, LastRestartTime = Now.AddMinutes(-3) };
            }), Listed(Synced(), ConnectorStates.Running, "task 1 failed", ConnectorStates.Running, ConnectorStates.Failed)), None, "TaskFailed", ["Failed", "AutoRestartExhausted"]);
        yield return new("recovery: RUNNING again after FAILED: one Recovered event",
            Given(Synced(ConnectorStates.Failed), Listed(Synced())), None, "Running", ["Recovered"]);
        yield return new("recovery: healthy for AutoRestartResetAfter resets the backoff",
            Given(Synced(edit: mc => mc.Status!.AutoRestart = new V1Alpha1AutoRestartStatus { Count = 2, LastRestartTime = Now.AddMinutes(-11) }), Listed(Synced())), None, "Running", None,
            p => Assert.That(p.Status!.AutoRestart?.Count ?? 0, Is.Zero));

        // --- deleted outside, adoption, suspension ---
        yield return new("Recreated: deleted in Confluent outside Kubernetes: re-created with a PUT and a DeletedExternally warning",
            Given(Synced(), null), ["PutConfig"], "Recreated", ["DeletedExternally"], p =>
            {
                Assert.That(p.Status!.RecreatedAt, Is.EqualTo(Now));
                Assert.That(p.Status.ConnectorId, Is.Null, "the old id is gone with the old connector");
            });
        yield return new("after a crash between the create and its status write, the intent recognises the connector: no conflict, no second create",
            Given(New(mc => { mc.Metadata.Finalizers = [ConnectApi.Finalizer]; mc.Metadata.Annotations = new Dictionary<string, string> { [ConnectApi.IntentAnnotation] = Remote }; }), Listed(New())),
            ["PutConfig"], "Running", ["Updated"], p => Assert.That(p.Plan.Metadata.Any, Is.False));
        yield return new("adopt: connect.ebs.io/adopt takes over an existing connector with one PUT",
            Given(New(mc => mc.Metadata.Annotations = new Dictionary<string, string> { [ConnectApi.AdoptAnnotation] = "true" }), Listed(New())), ["PutConfig"], "Running", ["Adopted"],
            p => Assert.That(p.Plan.Metadata.RecordIntent, Is.EqualTo(Remote)));
        yield return new("adopt: a create that meets the connector (409) takes it over as asked",
            Given(New(mc => mc.Metadata.Annotations = new Dictionary<string, string> { [ConnectApi.AdoptAnnotation] = "true" }), null, calls: _ => new Answer(Adopted: true)),
            ["Create(adopt)"], "Provisioning", ["Adopted"]);
        yield return new("DepartmentSuspended: nothing is changed in Confluent, health is still observed",
            Given(Synced(edit: mc => mc.Spec.Config["kafka.topic"] = "fin.changed"), Listed(Synced(), ConnectorStates.Failed, "boom"), o => o with { Department = Dept(suspend: true) }),
            None, "ConnectorFailed", None, p =>
            {
                Assert.That(p.Condition(StatusUpdate.SuspendedConditionType), Has.Property("Status").EqualTo(ConditionStatus.True).And.Property("Reason").EqualTo("DepartmentSuspended"));
                Assert.That(p.Status!.ConnectorState, Is.EqualTo(ConnectorStates.Failed));
            });
        yield return new("DepartmentSuspended: a connector not yet created waits",
            Given(New(), null, o => o with { Department = Dept(suspend: true) }), None, "DepartmentSuspended", None);

        // --- deletion ---
        yield return new("delete (Delete): one DELETE, a Deleted event, the finalizer released",
            Given(Deleting(Synced()), Listed(Synced())), ["Delete"], null, ["Deleted"], p => Assert.That(p.Outcome.Metadata, Is.EqualTo(new MetadataEdit(RemoveFinalizer: true))));
        yield return new("delete (Orphan): no call, the connector left running",
            Given(Deleting(Synced(), DeletionPolicies.Orphan), Listed(Synced())), None, null, ["Deleted"], p =>
            {
                Assert.That(p.Outcome.Metadata!.RemoveFinalizer, Is.True);
                Assert.That(p.Outcome.Events[0].Message, Does.Contain("left connector"));
            });
        yield return new("delete after a crash between the create and its status write: the intent names the connector to delete",
            Given(Deleting(New(mc => { mc.Metadata.Finalizers = [ConnectApi.Finalizer]; mc.Metadata.Annotations = new Dictionary<string, string> { [ConnectApi.IntentAnnotation] = Remote }; })),
                Listed(New())), ["Delete"], null, ["Deleted"]);
        yield return new("delete: an intent a department wrote by hand naming another connector is ignored (no DELETE of someone else's connector)",
            Given(Deleting(New(mc => { mc.Metadata.Finalizers = [ConnectApi.Finalizer]; mc.Metadata.Annotations = new Dictionary<string, string> { [ConnectApi.IntentAnnotation] = "hr.hr.payroll-sink" }; })),
                null), None, null, None, p => Assert.That(p.Outcome.Metadata!.RemoveFinalizer, Is.True));
        yield return new("delete of a connector never created releases the finalizer with no call",
            Given(Deleting(New(mc => mc.Metadata.Finalizers = [ConnectApi.Finalizer])), null), None, null, None, p => Assert.That(p.Outcome.Metadata!.RemoveFinalizer, Is.True));
        yield return new("Deleting: a failed DELETE keeps the finalizer and retries, with one DeleteFailed warning",
            Given(Deleting(Synced()), Listed(Synced()), calls: _ => Answer.Fails(FailureKind.Unavailable)), ["Delete"], "Deleting", ["DeleteFailed"],
            p => Assert.That(p.Outcome.Metadata?.RemoveFinalizer ?? false, Is.False));
        yield return new("DeleteWaitsForSuspension: deleting while the Department is suspended waits",
            Given(Deleting(Synced()), Listed(Synced()), o => o with { Department = Dept(suspend: true) }), None, "DeleteWaitsForSuspension", ["DeleteWaiting"]);
        yield return new("delete without its Department stalls rather than orphan a connector",
            Given(Deleting(Synced()), Listed(Synced()), o => o with { Department = null }), None, ViolationReasons.NoDepartment, [ViolationReasons.NoDepartment]);
    }

    [TestCaseSource(nameof(Rows))]
    public void Lifecycle(Row row)
    {
        var pass = row.Pass();
        Assert.Multiple(() =>
        {
            Assert.That(pass.Calls, Is.EqualTo(row.Calls), "Confluent calls, in order");
            Assert.That(pass.Verdict, Is.EqualTo(row.Verdict), "the verdict (the reason of the True kstatus condition)");
            Assert.That(pass.Events, Is.EqualTo(row.Events), "events, in order");
            row.Also?.Invoke(pass);
        });
    }

    [Test]
    public void A_pass_whose_outcome_was_decided_before_Confluent_makes_no_call_whatever_the_act_step_reports()
    {
        var o = Observe(New(), null, x => x with { QuotaViolation = "over" });
        var plan = ConnectorPlanner.Plan(o);
        Assert.That(plan.Actions, Is.Empty);
        Assert.That(ConnectorPlanner.Conclude(o, plan, ActResult.Nothing), Is.SameAs(plan.Decided));
    }

    [Test]
    public void Planning_is_pure_the_same_observation_gives_the_same_plan_and_changes_nothing()
    {
        var mc = Synced(edit: m => m.Spec.State = ConnectorDesiredState.Paused);
        var before = KubeJson.Serialize(mc);
        var o = Observe(mc, Listed(Synced()));
        var a = Run(o);
        var b = Run(o);
        Assert.That(a.Calls, Is.EqualTo(b.Calls));
        Assert.That(KubeJson.Serialize(a.Status!), Is.EqualTo(KubeJson.Serialize(b.Status!)));
        Assert.That(KubeJson.Serialize(mc), Is.EqualTo(before), "the observation is not changed");
    }

    [Test]
    public void A_second_pass_over_the_status_the_first_wrote_makes_no_call_and_no_event()
    {
        // Level-based: after a create and once Confluent reports RUNNING, the pass that follows is a no-op.
        var first = Run(Observe(New(), null));
        var mc = New();
        mc.Metadata.Finalizers = [ConnectApi.Finalizer];
        mc.Metadata.Annotations = new Dictionary<string, string> { [ConnectApi.IntentAnnotation] = Remote };
        mc.Status = first.Status;
        var running = Run(Observe(mc, Listed(mc)));
        Assert.That(running.Calls, Is.Empty);
        Assert.That(running.Verdict, Is.EqualTo("Running"));
        mc.Status = running.Status;
        var again = Run(Observe(mc, Listed(mc)));
        Assert.That(again.Calls, Is.Empty);
        Assert.That(again.Events, Is.Empty);
        Assert.That(KubeJson.Serialize(again.Status!), Is.EqualTo(KubeJson.Serialize(running.Status!)), "an unchanged pass writes the same status (so StatusWriter skips the write)");
    }

    /// <summary>Each (condition, reason) row of the "Condition reasons" table in the lifecycle chapter.</summary>
    private static IEnumerable<(string Type, string Status, string Reason)> DocumentedReasons()
    {
        var doc = File.ReadAllText(Path.Combine(TestCluster.RepoRoot, "docs/handbook/04-lifecycle.md"));
        var table = doc[doc.IndexOf("## Condition reasons", StringComparison.Ordinal)..];
        table = table[..table.IndexOf("\n\n", table.IndexOf("| condition", StringComparison.Ordinal), StringComparison.Ordinal)];
        foreach (Match m in Regex.Matches(table, @"^\| (?<type>\w+)(?: = (?<status>\w+))? \| `(?<reason>\w+)` \|", RegexOptions.Multiline))
            yield return (m.Groups["type"].Value, m.Groups["status"].Success ? m.Groups["status"].Value : ConditionStatus.True, m.Groups["reason"].Value);
    }

    [Test]
    public void Every_reason_in_the_lifecycle_chapter_has_a_row()
    {
        var documented = DocumentedReasons().ToList();
        Assert.That(documented, Has.Count.GreaterThan(20), "the table was found and read");
        var produced = Rows().Select(r => r.Pass()).Where(p => p.Status != null)
            .SelectMany(p => p.Status!.Conditions.Select(c => (c.Type, c.Status, c.Reason))).ToHashSet();
        var missing = documented.Where(d => !produced.Contains(d)).Select(d => $"{d.Type}={d.Status} {d.Reason}").ToList();
        Assert.That(missing, Is.Empty, "documented in docs/handbook/04-lifecycle.md but no planner row produces it");
    }
}
