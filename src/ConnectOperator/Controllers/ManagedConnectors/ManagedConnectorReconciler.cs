using ConnectOperator.Confluent;
using ConnectOperator.Controllers.ManagedConnectors.Planning;
using ConnectOperator.Entities;
using ConnectOperator.Hosting;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Status;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace ConnectOperator.Controllers.ManagedConnectors;

/// <summary>
/// Makes one ManagedConnector true in Confluent Cloud, as observe → plan → act (Crossplane's managed reconciler):
/// <see cref="ObserveAsync"/> reads everything a pass needs once (the object, its Department, the quota decision,
/// Secret versions, the connector's entry in one poll snapshot); <see cref="ConnectorPlanner"/> decides, purely; the
/// act step makes the metadata write and the Confluent calls, stops at the first failed call, records the Events and
/// writes status once. Level-based and idempotent: a connector whose spec and remote config agree costs zero
/// Confluent calls (health comes from the shared poll).
/// </summary>
public sealed class ManagedConnectorReconciler : IReconciler<V1Alpha1ManagedConnector>
{
    public static readonly ResourceKind Kind = ResourceKind.For<V1Alpha1ManagedConnector>();

    /// <summary>How long a pass waits for the cache to show this reconciler's own write, if its watch event is late.</summary>
    private static readonly TimeSpan CacheLagRetry = TimeSpan.FromSeconds(1);

    private readonly TenantDirectory _tenants;
    private readonly KubeApiClient _api;
    private readonly ConnectorSecrets _secrets;
    private readonly CredentialsResolver _credentials;
    private readonly ConnectClientFactory _clients;
    private readonly RemoteConnectorPoller _poller;
    private readonly StatusWriter _status;
    private readonly Finalizers _finalizers;
    private readonly EventRecorder _events;
    private readonly LifecycleTiming _timing;
    private readonly ILogger _log;
    private readonly TimeProvider _time;

    public ManagedConnectorReconciler(TenantDirectory tenants, KubeApiClient api, NamespacedInformers<V1Secret> secrets, CredentialsResolver credentials, ConnectClientFactory clients,
        RemoteConnectorPoller poller, StatusWriter status, Finalizers finalizers, EventRecorder events, OperatorOptions options,
        ILogger<ManagedConnectorReconciler> log, TimeProvider? time = null)
    {
        _tenants = tenants;
        _api = api;
        _secrets = new ConnectorSecrets(api, secrets);
        _credentials = credentials;
        _clients = clients;
        _poller = poller;
        _status = status;
        _finalizers = finalizers;
        _events = events;
        _timing = new LifecycleTiming(options.LifecycleRetryAfter, options.AutoRestartBackoffUnit, options.AutoRestartResetAfter);
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>This reconciler's writes not yet seen in the caches; also the controller's filter for its own echoes.</summary>
    public WriteExpectations Expectations { get; } = new();

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct)
    {
        var mc = _tenants.Connectors.Store.Get(request.Namespace, request.Name);
        if (mc is null)
        {
            Expectations.Forget(request.ToString());
            _secrets.Forget(request.ToString());
            return ReconcileResult.Done;   // gone; the finalizer pass already ran
        }
        if (Expectations.IsBehind(mc)) return ReconcileResult.After(CacheLagRetry);
        using var scope = _log.BeginScope(new Dictionary<string, object?> { ["namespace"] = request.Namespace, ["connector"] = request.Name });

        var (observation, target) = await ObserveAsync(mc, ct);
        var plan = ConnectorPlanner.Plan(observation);
        return await ActAsync(observation, plan, target, ct);
    }

    /// <summary>One read of everything the plan needs. Gates that fail leave later fields empty: the plan stops there too.</summary>
    private async Task<(ConnectorObservation, PollTarget?)> ObserveAsync(V1Alpha1ManagedConnector mc, CancellationToken ct)
    {
        var o = new ConnectorObservation { Connector = mc, Now = _time.GetUtcNow().UtcDateTime, Timing = _timing };
        var (department, noDepartment) = _tenants.ResolveDepartment(mc.Metadata.NamespaceProperty);
        if (department is null && mc.Metadata.DeletionTimestamp != null && mc.Status?.Department is { } recorded)
            department = _tenants.Departments.Store.Get(null, recorded);   // the namespace lost it, but a delete must still reach Confluent
        if (department is null) return (o with { NoDepartment = noDepartment }, null);
        o = o with { Department = department };

        var (credentials, credentialsError) = _credentials.Resolve(department);
        var cluster = new ClusterRef(department.Spec.Confluent.EnvironmentId, department.Spec.Confluent.KafkaClusterId);
        o = o with { CredentialsError = credentialsError, Cluster = cluster.ToString() };
        var target = credentials is null ? null : new PollTarget(cluster, credentials);
        if (mc.Metadata.DeletionTimestamp != null || target is null) return (o, target);
        // What is known already (no reads): enough for errors, and while suspended, when no write reads the values.
        string? ScrubKnown(string? text) => _secrets.ScrubKnown(mc, text, credentials);

        if (department.Spec.Suspend)
        {
            if (mc.Status?.ConnectorName is not { } name) return (o, target);
            var (snapshot, unreadable) = await ReadSnapshotAsync(target, ScrubKnown, ct);
            if (snapshot is null) return (o with { RemoteUnreadable = unreadable }, target);
            var seen = snapshot.Connectors.GetValueOrDefault(name);
            return (o with { Remote = seen is null ? null : ToRemote(seen, ScrubKnown) }, target);
        }

        var violations = _tenants.Evaluate(department, TenantDirectory.ToCandidate(mc));
        if (violations.Count > 0) return (o with { PolicyViolations = violations.Select(v => v.Message).ToList() }, target);

        var (snap, failure) = await ReadSnapshotAsync(target, ScrubKnown, ct);
        if (snap is null) return (o with { RemoteUnreadable = failure }, target);
        o = o with { QuotaViolation = QuotaViolation(mc, department, snap) };
        if (o.QuotaViolation != null) return (o, target);

        if (mc.Spec.SecretConfig.Count > 0 && !_secrets.IsReadable(mc.Metadata.NamespaceProperty)) return (o with { SecretsReadable = false }, target);
        var (versions, secretError) = _secrets.Versions(mc);
        if (versions is null) return (o with { SecretError = secretError }, target);
        var config = EffectiveConfig.Build(mc, department, versions);
        o = o with { Config = config };

        if (!ConnectorPlanner.Owns(mc, config.RemoteName))
        {
            // Ownership decides between creating, adopting and refusing, so read it from the API server: the cache can
            // lag behind a write of another replica that led before this one. Creates are rare, so this costs little.
            mc = await _api.GetAsync<V1Alpha1ManagedConnector>(Kind, mc.Metadata.NamespaceProperty, mc.Metadata.Name, ct);
            o = o with { Connector = mc };
        }
        var entry = snap.Connectors.GetValueOrDefault(config.RemoteName);
        var scrub = entry?.Status is { } st && (FailureCause.Of(st) != null || st.Tasks?.Any(t => !string.IsNullOrEmpty(t.Msg)) == true)
            ? await _secrets.ScrubberAsync(mc, config, credentials!, ct)
            : (s => s);
        var remote = Expectations.Overlay(WriteExpectations.KeyOf(mc), entry is null ? null : ToRemote(entry, scrub), snap.At);
        return (o with { Remote = remote }, target);
    }

    private async Task<(RemoteSnapshot?, CallFailure?)> ReadSnapshotAsync(PollTarget target, Func<string?, string?> scrub, CancellationToken ct)
    {
        try { return (await _poller.GetAsync(target, ct), null); }
        catch (Exception e) when (e is ConfluentApiException or ConfluentTransportException) { return (null, Failure(e, scrub)); }
    }

    /// <summary>
    /// Decided again here, the same way on every pass, so the number of remote connectors can never exceed the quota.
    /// Running connectors count at the size Confluent runs them, so a lowered quota never tears one down, but growing
    /// one past a limit is held back like a new one.
    /// </summary>
    private string? QuotaViolation(V1Alpha1ManagedConnector mc, V1Alpha1Department department, RemoteSnapshot snapshot)
    {
        var limits = _tenants.LimitsOf(department.Metadata.Name);
        if (limits.Count == 0) return null;
        var siblings = _tenants.ConnectorsOf(department);
        var applied = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in siblings)
            if (c.Status?.ConnectorName is { } remoteName && snapshot.Connectors.TryGetValue(remoteName, out var r)
                && r.Info?.Config.TryGetValue("tasks.max", out var t) == true && int.TryParse(t, out var tasks))
                applied[WriteExpectations.KeyOf(c)] = tasks;
        var over = QuotaMath.OverQuota(siblings.Select(TenantDirectory.ToCandidate), limits, applied);
        return over.TryGetValue(WriteExpectations.KeyOf(mc), out var violation) ? violation.Message : null;
    }

    /// <summary>Confluent's view of one connector, with every text it carries scrubbed of secret values.</summary>
    private static RemoteConnector ToRemote(ConnectorExpansion c, Func<string?, string?> scrub)
    {
        var tasks = (c.Status?.Tasks ?? [])
            .Select(t => new V1Alpha1TaskStatus
            {
                Id = t.Id, State = t.State,
                Message = ConnectorPlanner.Truncate(scrub(string.IsNullOrEmpty(t.Msg) ? null : t.Msg), V1Alpha1ManagedConnectorStatus.MaxTaskMessageLength),
            })
            .OrderBy(t => t.Id).ToList();
        return new RemoteConnector(c.Id?.Id, c.Status?.Connector.State, c.Info?.Config ?? new Dictionary<string, string>(), tasks, scrub(FailureCause.Of(c.Status)));
    }

    /// <summary>Executes a plan: metadata, then Confluent calls until one fails; then the outcome's events, metadata and one status write.</summary>
    private async Task<ReconcileResult> ActAsync(ConnectorObservation o, ConnectorPlan plan, PollTarget? target, CancellationToken ct)
    {
        var mc = o.Connector;
        if (plan.Metadata.Any) mc = await EditMetadataAsync(mc, plan.Metadata, ct);

        var act = ActResult.Nothing;
        if (plan.Actions.Count > 0)
        {
            if (target is null) throw new InvalidOperationException("a plan with Confluent calls needs credentials");
            act = await CallConfluentAsync(mc, o, plan.Actions, target, ct);
        }
        var outcome = ConnectorPlanner.Conclude(o, plan, act);

        // Events before the status: whoever sees the new status (a person, Argo CD, a test) finds its event already there.
        foreach (var e in outcome.Events) await _events.RecordAsync(mc, e.Type, e.Reason, e.Message, ct);
        if (outcome.Metadata is { Any: true } after) mc = await EditMetadataAsync(mc, after, ct);
        if (outcome.Status is { } update && !(outcome.Metadata?.RemoveFinalizer ?? false))
        {
            var result = await _status.UpdateStatusAsync(Kind, mc, obj => update.ApplyTo(obj, _time.GetUtcNow().UtcDateTime), ct);
            if (result.Written) Expectations.Wrote(result.Object);
        }
        return outcome.Result;
    }

    private async Task<V1Alpha1ManagedConnector> EditMetadataAsync(V1Alpha1ManagedConnector mc, MetadataEdit edit, CancellationToken ct)
    {
        var annotations = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (edit.RecordIntent != null) annotations[ConnectApi.IntentAnnotation] = edit.RecordIntent;
        if (edit.ClearIntent) annotations[ConnectApi.IntentAnnotation] = null;
        var present = !edit.RemoveFinalizer && (edit.AddFinalizer || Finalizers.Has(mc, ConnectApi.Finalizer));
        var written = await _finalizers.EditAsync(Kind, mc, ConnectApi.Finalizer, present, annotations, ct);
        if (!ReferenceEquals(written, mc)) Expectations.Wrote(written);
        return written;
    }

    private async Task<ActResult> CallConfluentAsync(V1Alpha1ManagedConnector mc, ConnectorObservation o, IReadOnlyList<RemoteAction> actions, PollTarget target,
        CancellationToken ct)
    {
        var client = _clients.Create(target.Credentials);
        var key = WriteExpectations.KeyOf(mc);
        var name = o.Config?.RemoteName ?? ConnectorPlanner.OwnedName(mc, o.Department)!;
        var done = new List<RemoteAction>();
        var adopted = false;
        string? restartRefused = null;
        RemoteAction? current = null;
        var conflict = false;
        try
        {
            foreach (var action in actions)
            {
                current = action;
                switch (action.Kind)
                {
                    case RemoteActionKind.Create:
                        try
                        {
                            await client.CreateConnectorAsync(target.Cluster, name, await _secrets.RequestConfigAsync(mc, o.Config!, ct), o.Config!.SecretKeys, ct);
                        }
                        catch (ConfluentConflictException) when (action.AdoptOnConflict)
                        {
                            // Appeared since the last poll, and the user asked to adopt it.
                            await client.PutConfigAsync(target.Cluster, name, await _secrets.RequestConfigAsync(mc, o.Config!, ct), o.Config!.SecretKeys, ct);
                            adopted = true;
                        }
                        Expectations.Expect(key, new RemoteExpectation(DateTimeOffset.UtcNow, Config: o.Config!.AsReadBack(), State: ConnectorStates.Provisioning));
                        break;
                    case RemoteActionKind.PutConfig:
                        await client.PutConfigAsync(target.Cluster, name, await _secrets.RequestConfigAsync(mc, o.Config!, ct), o.Config!.SecretKeys, ct);
                        Expectations.Expect(key, new RemoteExpectation(DateTimeOffset.UtcNow, Config: o.Config!.AsReadBack(),
                            State: o.Remote is null ? ConnectorStates.Provisioning : null));
                        break;
                    case RemoteActionKind.Pause:
                        await client.PauseAsync(target.Cluster, name, ct);
                        _log.AskedToPause(name, o.Remote?.State);
                        break;
                    case RemoteActionKind.Resume:
                        await client.ResumeAsync(target.Cluster, name, ct);
                        _log.AskedToResume(name);
                        break;
                    case RemoteActionKind.Restart:
                        try { await client.RestartAsync(target.Cluster, name, ct); }
                        catch (ConfluentApiException e) when (e.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.MethodNotAllowed)
                        {
                            // 404/405 for a connector the poll just listed: this route is not served for it (custom
                            // connectors, API changes). Retrying cannot help, so it is recorded, not looped on.
                            restartRefused = $"Confluent Cloud answered HTTP {(int)e.StatusCode} to POST …/connectors/{name}/restart although the connector exists; the restart was not done " +
                                             "and is not retried. Restart it in the Confluent Cloud UI or CLI (or pause and resume it with spec.state)";
                            continue;
                        }
                        break;
                    case RemoteActionKind.Delete:
                        await client.DeleteAsync(target.Cluster, name, ct);
                        Expectations.Expect(key, new RemoteExpectation(DateTimeOffset.UtcNow, Deleted: true));
                        break;
                }
                done.Add(action);
            }
            return new ActResult(done, adopted, restartRefused);
        }
        catch (Exception e) when (e is ConfluentApiException or ConfluentTransportException or SecretUnavailableException)
        {
            var failed = current!;
            var failure = Failure(e, s => _secrets.ScrubKnown(mc, s, target.Credentials));
            if (failure.Kind == FailureKind.Unavailable)
                _log.CallFailed(failed.Kind, name, _secrets.ScrubKnown(mc, e.Message, target.Credentials));
            conflict = failure.Kind == FailureKind.Conflict;
            return new ActResult(done, adopted, restartRefused, (failed, failure));
        }
        finally
        {
            // Whatever happened, Confluent may have changed: look soon rather than a whole interval later.
            if (done.Count > 0 || restartRefused != null || conflict) _poller.RequestRefresh(target);
        }
    }

    /// <summary>A failed call (or poll) as the plan reads it: its kind, and its text scrubbed of secret values.</summary>
    private CallFailure Failure(Exception e, Func<string?, string?> scrub) => e switch
    {
        SecretUnavailableException s => new CallFailure(FailureKind.SecretMissing, s.Message),
        ConfluentConflictException c => new CallFailure(FailureKind.Conflict, scrub(c.VendorMessage ?? c.Message)!, HttpStatus: 409),
        ConfluentApiException { IsBadRequest: true } a => new CallFailure(FailureKind.BadRequest, scrub(a.VendorMessage ?? a.Message)!, HttpStatus: 400),
        ConfluentApiException { IsUnauthorized: true } or ConfluentApiException { IsForbidden: true } =>
            new CallFailure(FailureKind.CredentialsRejected, scrub(e.Message)!, HttpStatus: (int)((ConfluentApiException)e).StatusCode),
        _ => Unavailable(e, FailureText.RetryDelay(e, _clients.Options), scrub),
    };

    private static CallFailure Unavailable(Exception e, TimeSpan? retryAfter, Func<string?, string?> scrub)
        => new(FailureKind.Unavailable, scrub(FailureText.Describe(e, retryAfter))!, retryAfter, (e as ConfluentApiException) is { } api ? (int)api.StatusCode : null);
}
