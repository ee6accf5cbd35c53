using ConnectOperator.Confluent;
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
/// Makes one ManagedConnector true in Confluent Cloud. Level-based and idempotent: every pass reads the object, its
/// Department, quota, Secrets and the cluster's latest connector snapshot, and does only what differs. A connector
/// whose spec and remote config agree costs zero Confluent calls (health comes from the shared poll).
/// </summary>
public sealed class ManagedConnectorReconciler : IReconciler<V1Alpha1ManagedConnector>
{
    public static readonly ResourceKind Kind = ResourceKind.For<V1Alpha1ManagedConnector>();

    private readonly TenantDirectory _tenants;
    private readonly KubeApiClient _api;
    private readonly NamespacedInformers<V1Secret> _secrets;
    private readonly CredentialsResolver _credentials;
    private readonly ConnectClientFactory _clients;
    private readonly RemoteConnectorPoller _poller;
    private readonly StatusWriter _status;
    private readonly Finalizers _finalizers;
    private readonly EventRecorder _events;
    private readonly OperatorOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;

    public ManagedConnectorReconciler(TenantDirectory tenants, KubeApiClient api, NamespacedInformers<V1Secret> secrets, CredentialsResolver credentials, ConnectClientFactory clients,
        RemoteConnectorPoller poller, StatusWriter status, Finalizers finalizers, EventRecorder events, OperatorOptions options,
        ILogger<ManagedConnectorReconciler> log, TimeProvider? time = null)
    {
        _tenants = tenants;
        _api = api;
        _secrets = secrets;
        _credentials = credentials;
        _clients = clients;
        _poller = poller;
        _status = status;
        _finalizers = finalizers;
        _events = events;
        _options = options;
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// The version of the last write this reconciler made, per key. The informer cache can lag behind our own writes; a
    /// pass that started from a stale copy could repeat a restart it already did, so a pass whose cached object is older
    /// than our last write waits for the cache instead (the write's watch event brings the key back). Only the version
    /// is kept, not the object: while the queue is deep, thousands of writes are in flight.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string? Uid, ulong Version)> _written = new();

    private bool IsBehindOurWrite(V1Alpha1ManagedConnector cached, string key)
    {
        if (!_written.TryGetValue(key, out var mine)) return false;
        // resourceVersions are etcd revisions in every Kubernetes we know; if one is not a number, trust the cache.
        if (mine.Uid == cached.Metadata.Uid && ulong.TryParse(cached.Metadata.ResourceVersion, out var c) && mine.Version > c) return true;
        // The cache has caught up: forget the write, so this map holds only writes in flight.
        _written.TryRemove(new KeyValuePair<string, (string?, ulong)>(key, mine));
        return false;
    }

    private void RememberWrite(V1Alpha1ManagedConnector written)
    {
        if (ulong.TryParse(written.Metadata.ResourceVersion, out var v))
            _written[$"{written.Metadata.NamespaceProperty}/{written.Metadata.Name}"] = (written.Metadata.Uid, v);
    }

    /// <summary>How long a pass waits for the cache to show this reconciler's own write, if its watch event is late.</summary>
    private static readonly TimeSpan CacheLagRetry = TimeSpan.FromSeconds(1);

    /// <summary>What one pass decided to tell people, sent after the status is written.</summary>
    private sealed record PendingEvent(string Type, string Reason, string Message);

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct)
    {
        var mc = _tenants.Connectors.Store.Get(request.Namespace, request.Name);
        if (mc is null)
        {
            _written.TryRemove(request.ToString(), out _);
            _secretValues.TryRemove(request.ToString(), out _);
            return ReconcileResult.Done;   // gone; the finalizer pass already ran
        }
        if (IsBehindOurWrite(mc, request.ToString())) return ReconcileResult.After(CacheLagRetry);
        using var scope = _log.BeginScope(new Dictionary<string, object?> { ["namespace"] = request.Namespace, ["connector"] = request.Name });

        if (mc.Metadata.DeletionTimestamp != null) return await FinalizeAsync(mc, ct);
        if (!Finalizers.Has(mc, ConnectApi.Finalizer)) mc = await _finalizers.AddAsync(Kind, mc, ConnectApi.Finalizer, ct);

        var (department, noDepartment) = _tenants.ResolveDepartment(mc.Metadata.NamespaceProperty);
        if (department is null)
            return await StallAsync(mc, null, noDepartment!.Reason, noDepartment.Message, ct);
        using var deptScope = _log.BeginScope(new Dictionary<string, object?> { ["department"] = department.Metadata.Name });

        if (department.Spec.Suspend) return await ObserveSuspendedAsync(mc, department, ct);

        var violations = _tenants.Evaluate(department, TenantDirectory.ToCandidate(mc));
        if (violations.Count > 0)
            return await StallAsync(mc, department.Metadata.Name, ViolationReasons.PolicyViolation, string.Join("; ", violations.Select(v => v.Message)), ct);

        var (credentials, credentialsError) = _credentials.Resolve(department);
        if (credentials is null)
            return await StallAsync(mc, department.Metadata.Name, "CredentialsNotFound", credentialsError!, ct);
        var target = new PollTarget(new ClusterRef(department.Spec.Confluent.EnvironmentId, department.Spec.Confluent.KafkaClusterId), credentials);

        // Webhooks can race (two replicas, or a create admitted while the cache lagged): decide over-quota again here,
        // the same way on every pass, so that the number of remote connectors can never exceed the quota. Running
        // connectors count at the size Confluent runs them, so a lowered quota never tears one down, but growing one
        // past a limit is held back like a new one.
        var limits = _tenants.LimitsOf(department.Metadata.Name);
        if (limits.Count > 0)
        {
            IReadOnlyDictionary<string, ConnectorExpansion> remotes;
            try { remotes = (await _poller.GetAsync(target, ct)).Connectors; }
            catch (Exception e) when (e is ConfluentApiException or ConfluentTransportException) { return await UnavailableAsync(mc, department.Metadata.Name, e, ct); }
            var siblings = _tenants.ConnectorsOf(department);
            var applied = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var c in siblings)
                if (c.Status?.ConnectorName is { } remoteName && remotes.TryGetValue(remoteName, out var r)
                    && r.Info?.Config.TryGetValue("tasks.max", out var t) == true && int.TryParse(t, out var tasks))
                    applied[$"{c.Metadata.NamespaceProperty}/{c.Metadata.Name}"] = tasks;
            var over = QuotaMath.OverQuota(siblings.Select(TenantDirectory.ToCandidate), limits, applied);
            if (over.TryGetValue($"{mc.Metadata.NamespaceProperty}/{mc.Metadata.Name}", out var quotaViolation))
                return await StallAsync(mc, department.Metadata.Name, ViolationReasons.QuotaExceeded, quotaViolation.Message, ct);
        }

        // The operator reads a department namespace's Secrets only once its RoleBinding there is in place (the
        // Department controller creates it); until then an absent Secret proves nothing, so wait instead of stalling.
        if (mc.Spec.SecretConfig.Count > 0 && !_secrets.IsVisible(mc.Metadata.NamespaceProperty))
        {
            await WriteStatusAsync(mc, department.Metadata.Name, _ => { }, Health.Reconciling("WaitingForSecretAccess",
                $"waiting until the operator may read Secrets in namespace {mc.Metadata.NamespaceProperty}: Department {department.Metadata.Name} " +
                "grants it with a RoleBinding that the operator creates; if this persists, check that RoleBinding and the operator's log"), ct);
            return ReconcileResult.After(TimeSpan.FromSeconds(2));
        }

        var (secretVersions, secretError) = ResolveSecretConfig(mc);
        if (secretVersions is null)
            return await StallAsync(mc, department.Metadata.Name, "SecretNotFound", secretError!, ct);

        var config = EffectiveConfig.Build(mc, department, secretVersions);
        try
        {
            return await SyncAsync(mc, department, config, target, ct);
        }
        catch (SecretUnavailableException e)
        {
            return await StallAsync(mc, department.Metadata.Name, "SecretNotFound", e.Message, ct);
        }
        catch (ConfluentApiException e) when (e.IsBadRequest)
        {
            return await StallAsync(mc, department.Metadata.Name, "InvalidConfig",
                ScrubKnown(mc, $"Confluent Cloud rejected the connector config: {e.VendorMessage ?? e.Message}; fix spec.config or spec.secretConfig", credentials), ct);
        }
        catch (ConfluentApiException e) when (e.IsUnauthorized || e.IsForbidden)
        {
            return await StallAsync(mc, department.Metadata.Name, "CredentialsRejected",
                $"Confluent Cloud refused the credentials of Department {department.Metadata.Name} (HTTP {(int)e.StatusCode}) for {target.Cluster}; the platform team must fix the API key or its role bindings", ct);
        }
        catch (Exception e) when (e is ConfluentApiException or ConfluentTransportException)
        {
            _log.LogWarning("Confluent call failed for {Connector}: {Error}", config.RemoteName, ScrubKnown(mc, e.Message, credentials));
            return await UnavailableAsync(mc, department.Metadata.Name, e, ct, text => ScrubKnown(mc, text, credentials));
        }
    }

    /// <summary>Transient: say so in status and retry with per-item backoff (or after Retry-After).</summary>
    private async Task<ReconcileResult> UnavailableAsync(V1Alpha1ManagedConnector mc, string department, Exception e, CancellationToken ct, Func<string, string>? scrub = null)
    {
        var delay = FailureText.RetryDelay(e, _clients.Options);
        var text = FailureText.Describe(e, delay);
        await WriteStatusAsync(mc, department, _ => { }, Health.Reconciling("ConfluentUnavailable", scrub is null ? text : scrub(text)), ct);
        return delay is { } after ? ReconcileResult.After(after) : ReconcileResult.RequeueRateLimited();
    }

    private async Task<ReconcileResult> SyncAsync(V1Alpha1ManagedConnector mc, V1Alpha1Department department, EffectiveConfig config, PollTarget target,
        CancellationToken ct)
    {
        var secretKeys = config.SecretKeys;
        var client = _clients.Create(target.Credentials);
        var name = config.RemoteName;
        var remote = (await _poller.GetAsync(target, ct)).Connectors.GetValueOrDefault(name);
        var status = mc.Status ?? new V1Alpha1ManagedConnectorStatus();
        var events = new List<PendingEvent>();
        var now = _time.GetUtcNow().UtcDateTime;
        var owned = status.ConnectorName == name;
        var adopt = mc.Metadata.Annotations?.TryGetValue(ConnectApi.AdoptAnnotation, out var a) == true && a == "true";
        if (remote == null || !owned)
        {
            // Ownership decides between creating, adopting and refusing, so read it from the API server: the cache
            // can lag behind our own status writes by a moment. Creates are rare, so this costs little.
            mc = await _api.GetAsync<V1Alpha1ManagedConnector>(Kind, mc.Metadata.NamespaceProperty, mc.Metadata.Name, ct);
            status = mc.Status ?? new V1Alpha1ManagedConnectorStatus();
            owned = status.ConnectorName == name;
        }

        if (remote != null && !owned && !adopt)
            return await StallAsync(mc, department.Metadata.Name, "NameConflict", NameConflictMessage(name, target), ct);

        if (!owned)
        {
            // Record the intent BEFORE the remote write: if the process dies after the PUT, the next pass recognises the
            // connector as ours instead of reporting a name conflict, and never creates a second one.
            var intent = await _status.UpdateStatusAsync(Kind, mc, o =>
            {
                o.Status ??= new V1Alpha1ManagedConnectorStatus();
                o.Status.ConnectorName = name;
                o.Status.Department = department.Metadata.Name;
                o.Status.RestartAnnotation = RestartAnnotationOf(o);
            }, ct);
            mc = intent.Object;
            RememberWrite(mc);
            status = mc.Status!;
            if (remote != null) events.Add(new PendingEvent(EventRecorder.Normal, "Adopted", $"took over the existing connector {name} ({ConnectApi.AdoptAnnotation})"));
        }

        var wrote = false;
        var adopted = false;
        var recreatedAt = status.RecreatedAt;
        var connectorId = status.ConnectorId;
        var lifecycle = status.LifecycleRequest;
        Condition? restartOutcome = null;
        if (remote == null)
        {
            // Owned and seen in Confluent before (it had an id), and now gone: deleted outside Kubernetes. It is
            // re-created, since the ManagedConnector still asks for it, but loudly: someone may have meant to delete it.
            var deletedOutside = owned && status.ConnectorId != null;
            if (!owned)
            {
                // POST, not PUT: the snapshot may be up to one poll old, and only a create refuses to overwrite a
                // connector that appeared since. 409 means someone else's connector holds the name.
                try
                {
                    await client.CreateConnectorAsync(target.Cluster, name, await RequestConfigAsync(mc, config, ct), ct, config.SecretKeys);
                }
                catch (ConfluentConflictException) when (!adopt)
                {
                    mc = (await _status.UpdateStatusAsync(Kind, mc, o => o.Status!.ConnectorName = null, ct)).Object;
                    RememberWrite(mc);
                    _poller.RequestRefresh(target);
                    return await StallAsync(mc, department.Metadata.Name, "NameConflict", NameConflictMessage(name, target), ct);
                }
                catch (ConfluentConflictException)
                {
                    // Appeared since the last poll, and the user asked to adopt it.
                    await client.PutConfigAsync(target.Cluster, name, await RequestConfigAsync(mc, config, ct), ct, config.SecretKeys);
                    adopted = true;
                }
            }
            else
            {
                // Ours (intent recorded): an earlier pass may have created it already, so use the idempotent PUT.
                await client.PutConfigAsync(target.Cluster, name, await RequestConfigAsync(mc, config, ct), ct, config.SecretKeys);
            }
            _poller.RecordWrite(target, name, config.AsReadBack(), ConnectorStates.Provisioning);
            if (deletedOutside)
            {
                events.Add(new PendingEvent(EventRecorder.Warning, "DeletedExternally",
                    $"connector {name} ({status.ConnectorId}) was deleted in Confluent Cloud outside Kubernetes; re-created it from the ManagedConnector " +
                    "(to delete a connector, delete its ManagedConnector)"));
                recreatedAt = now;
                connectorId = null;
                lifecycle = null;
            }
            else
                events.Add(adopted
                    ? new PendingEvent(EventRecorder.Normal, "Adopted", $"took over the existing connector {name} ({ConnectApi.AdoptAnnotation})")
                    : new PendingEvent(EventRecorder.Normal, "Created", $"created connector {name} ({mc.Spec.ConnectorClass}{(mc.Spec.CustomPlugin is { } plugin ? " from custom plugin " + plugin.Id : "")}, {mc.Spec.TasksMax} task(s)) in {target.Cluster}"));
            wrote = true;
        }
        else
        {
            // Only what the operator owns is compared (see ConfigDrift): keys Confluent adds are never drift.
            var drift = ConfigDrift.Compare(config.PlainConfig, remote.Info?.Config ?? new Dictionary<string, string>(), secretKeys, status.AppliedConfigKeys?.ToList());
            var specChanged = status.ConfigHash != config.Hash;
            if (drift.HasDrift || specChanged)
            {
                await client.PutConfigAsync(target.Cluster, name, await RequestConfigAsync(mc, config, ct), ct, config.SecretKeys);
                _poller.RecordWrite(target, name, config.AsReadBack());
                wrote = true;
                if (!specChanged)
                    events.Add(new PendingEvent(EventRecorder.Warning, "DriftReverted", $"the remote config of {name} was changed outside Kubernetes ({string.Join(", ", drift.Differences)}); restored it from the ManagedConnector"));
                else if (owned)
                    events.Add(new PendingEvent(EventRecorder.Normal, "Updated", drift.HasDrift ? $"updated config of {name} ({string.Join(", ", drift.Keys)})" : $"updated config of {name} (referenced Secret changed)"));
            }

            var state = remote.Status?.Connector.State;
            switch (PauseResume.Decide(mc.Spec.State, state, status.LifecycleRequest, now, _options.LifecycleRetryAfter))
            {
                case V1Alpha1LifecycleRequest.Pause:
                    await client.PauseAsync(target.Cluster, name, ct);
                    lifecycle = new V1Alpha1LifecycleRequest { Action = V1Alpha1LifecycleRequest.Pause, ObservedState = state, RequestedAt = now };
                    _poller.RequestRefresh(target);
                    _log.LogInformation("asked Confluent to pause {Connector} (it reported {State})", name, state);
                    break;
                case V1Alpha1LifecycleRequest.Resume:
                    await client.ResumeAsync(target.Cluster, name, ct);
                    lifecycle = new V1Alpha1LifecycleRequest { Action = V1Alpha1LifecycleRequest.Resume, ObservedState = state, RequestedAt = now };
                    _poller.RequestRefresh(target);
                    _log.LogInformation("asked Confluent to resume {Connector}", name);
                    break;
            }

            var restartRequest = RestartAnnotationOf(mc);
            if (restartRequest != null && restartRequest != status.RestartAnnotation)
            {
                var refused = await TryRestartAsync(client, target, name, ct);
                (restartOutcome, var restartEvent) = RestartResult(refused, "Restarted", $"restarted on request ({ConnectApi.RestartAnnotation}={restartRequest})",
                    $"restarted connector {name} and its tasks on request ({ConnectApi.RestartAnnotation}={restartRequest})", mc, now);
                events.Add(restartEvent);
            }
        }

        // Health, from the snapshot as amended by our own config writes (never by a guessed pause or resume).
        remote = (await _poller.GetAsync(target, ct)).Connectors.GetValueOrDefault(name);
        var remoteState = remote?.Status?.Connector.State;
        var trace = FailureCause.Of(remote?.Status);
        var fromConfluent = trace != null || remote?.Status?.Tasks?.Any(t => !string.IsNullOrEmpty(t.Msg)) == true;
        var scrub = fromConfluent ? await ScrubberAsync(mc, config, target.Credentials, ct) : (s => s);
        trace = scrub(trace);
        var tasks = (remote?.Status?.Tasks ?? new List<Confluent.TaskStatus>())
            .Select(t => new V1Alpha1TaskStatus { Id = t.Id, State = t.State, Message = Truncate(scrub(string.IsNullOrEmpty(t.Msg) ? null : t.Msg), V1Alpha1ManagedConnectorStatus.MaxTaskMessageLength) })
            .OrderBy(t => t.Id).ToList();
        var failed = remoteState is ConnectorStates.Failed or ConnectorStates.Degraded || tasks.Any(t => FailedTaskStates.Contains(t.State));
        lifecycle = PauseResume.Settle(mc.Spec.State, remoteState, lifecycle);
        if (recreatedAt != null && remoteState is ConnectorStates.Running or ConnectorStates.Paused) recreatedAt = null;

        // One event per transition, when Confluent reports it, not per request.
        if (remoteState == ConnectorStates.Paused && status.ConnectorState != ConnectorStates.Paused && mc.Spec.State == ConnectorDesiredState.Paused)
            events.Add(new PendingEvent(EventRecorder.Normal, "Paused", $"connector {name} is paused (spec.state Paused)"));
        else if (status.ConnectorState == ConnectorStates.Paused && remoteState is ConnectorStates.Running && mc.Spec.State == ConnectorDesiredState.Running)
            events.Add(new PendingEvent(EventRecorder.Normal, "Resumed", $"connector {name} is running again (spec.state Running)"));

        var autoRestart = status.AutoRestart ?? new V1Alpha1AutoRestartStatus();
        var restartCount = autoRestart.Count;
        DateTime? lastRestart = autoRestart.LastRestartTime;
        TimeSpan? requeueAfter = PauseResume.RecheckIn(lifecycle, remoteState, now, _options.LifecycleRetryAfter);
        var canAutoRestart = mc.Spec.RestartPolicy.Type == RestartPolicyTypes.OnFailure && restartCount < mc.Spec.RestartPolicy.MaxRestarts;
        var wasFailed = status.ConnectorState is ConnectorStates.Failed or ConnectorStates.Degraded || status.Tasks.Any(t => FailedTaskStates.Contains(t.State));
        // A new failure, or a different trace while still failed (a second task, a failure right after a restart).
        if (failed && (!wasFailed || Truncate(trace, V1Alpha1ManagedConnectorStatus.MaxTraceLength) != status.Trace))
            events.Add(new PendingEvent(EventRecorder.Warning, "Failed", $"connector {name} is {remoteState}: {trace ?? "Confluent Cloud reported no cause"}"));
        else if (!failed && wasFailed && remoteState == ConnectorStates.Running)
            events.Add(new PendingEvent(EventRecorder.Normal, "Recovered", $"connector {name} and its tasks are running again"));
        if (failed && !wrote)
        {
            if (canAutoRestart)
            {
                var due = (lastRestart ?? DateTime.MinValue) + ConnectorHealth.AutoRestartDelay(restartCount) * (_options.AutoRestartBackoffUnit / TimeSpan.FromMinutes(1));
                if (lastRestart == null || now >= due)
                {
                    // A refused restart counts as an attempt too: the backoff, not a loop, decides when to try again.
                    var refused = await TryRestartAsync(client, target, name, ct);
                    restartCount++;
                    lastRestart = now;
                    (restartOutcome, var restartEvent) = RestartResult(refused, "AutoRestarted",
                        $"auto-restart {restartCount}/{mc.Spec.RestartPolicy.MaxRestarts} after failure (spec.restartPolicy OnFailure)",
                        $"auto-restart {restartCount}/{mc.Spec.RestartPolicy.MaxRestarts} of {name} after failure (spec.restartPolicy OnFailure)", mc, now);
                    events.Add(restartEvent);
                }
                else requeueAfter = Min(requeueAfter, due - now);
            }
            else if (!wasFailed && mc.Spec.RestartPolicy.Type == RestartPolicyTypes.OnFailure)
                events.Add(new PendingEvent(EventRecorder.Warning, "AutoRestartExhausted", $"connector {name} failed again after {restartCount} auto-restart(s) (spec.restartPolicy.maxRestarts); a person must act"));
        }
        else if (!failed && remoteState == ConnectorStates.Running && restartCount > 0 && lastRestart is { } lr)
        {
            // Healthy for long enough: the next failure starts the backoff from scratch.
            if (now - lr >= _options.AutoRestartResetAfter) restartCount = 0;
            else requeueAfter = Min(requeueAfter, lr + _options.AutoRestartResetAfter - now);
        }

        var health = ConnectorHealth.Evaluate(mc.Spec.State, remoteState, tasks, canAutoRestart || (restartCount > autoRestart.Count), trace);
        if (recreatedAt is { } recreated && health.Phase != HealthPhase.Ready)
            health = health with
            {
                Reason = health.Reason == "Provisioning" || health.Reason == "Creating" ? "Recreated" : health.Reason,
                Message = $"re-created at {recreated:yyyy-MM-ddTHH:mm:ssZ} after it was deleted in Confluent Cloud outside Kubernetes; {health.Message}",
            };
        var generationChanged = status.ObservedGeneration != mc.Metadata.Generation;
        // Events before the status: whoever sees the new status (a person, Argo CD, a test) finds its event already there.
        foreach (var e in events) await _events.RecordAsync(mc, e.Type, e.Reason, e.Message, ct);
        var result = await WriteStatusAsync(mc, department.Metadata.Name, s =>
        {
            s.ConnectorName = name;
            s.ConnectorId = remote?.Id?.Id ?? connectorId;
            s.EnvironmentId = department.Spec.Confluent.EnvironmentId;
            s.KafkaClusterId = department.Spec.Confluent.KafkaClusterId;
            s.ConnectorState = remoteState;
            s.Tasks = tasks;
            s.TasksReady = TasksReady.Of(tasks, mc.Spec.TasksMax);
            s.Trace = Truncate(trace, V1Alpha1ManagedConnectorStatus.MaxTraceLength);
            s.ConfigHash = config.Hash;
            s.AppliedConfigKeys = config.AppliedKeys.ToList();
            s.LifecycleRequest = lifecycle;
            s.RecreatedAt = recreatedAt;
            s.RestartAnnotation = RestartAnnotationOf(mc);
            s.AutoRestart = restartCount == 0 && lastRestart == null ? null : new V1Alpha1AutoRestartStatus { Count = restartCount, LastRestartTime = lastRestart };
            if (wrote || generationChanged || s.LastSyncTime == null) s.LastSyncTime = now;
            if (restartOutcome != null)
            {
                var existing = s.Conditions.FirstOrDefault(c => c.Type == RestartConditionType);
                if (existing != null) s.Conditions.Remove(existing);
                s.Conditions.Add(restartOutcome);
            }
        }, health, ct);

        return requeueAfter is { } after && after > TimeSpan.Zero ? ReconcileResult.After(after) : result;
    }

    /// <summary>
    /// While the Department is suspended: observe only. The poll goes on, so status (and the metrics made from it) keeps
    /// Confluent's truth; no call that changes anything is made. A Suspended condition says why, and Argo CD shows
    /// Suspended instead of a Progressing that would last as long as the suspension.
    /// </summary>
    private async Task<ReconcileResult> ObserveSuspendedAsync(V1Alpha1ManagedConnector mc, V1Alpha1Department department, CancellationToken ct)
    {
        var (credentials, _) = _credentials.Resolve(department);
        var name = mc.Status?.ConnectorName;
        ConnectorExpansion? remote = null;
        var observed = false;
        if (credentials != null && name != null)
        {
            var target = new PollTarget(new ClusterRef(department.Spec.Confluent.EnvironmentId, department.Spec.Confluent.KafkaClusterId), credentials);
            try
            {
                remote = (await _poller.GetAsync(target, ct)).Connectors.GetValueOrDefault(name);
                observed = true;
            }
            catch (Exception e) when (e is ConfluentApiException or ConfluentTransportException) { /* keep the last observation */ }
        }
        if (!observed || name is null)
        {
            var waiting = name is null
                ? $"not created: Department {department.Metadata.Name} is suspended (spec.suspend); it is created when the platform team resumes it"
                : $"Department {department.Metadata.Name} is suspended (spec.suspend); Confluent Cloud could not be read, so the last observed state is shown";
            return await WriteStatusAsync(mc, department.Metadata.Name, _ => { }, Health.Reconciling("DepartmentSuspended", waiting), ct, suspendedBy: department.Metadata.Name);
        }
        // No write happens while suspended, so only the values already known are scrubbed (and the API secret).
        string? Scrub(string? text) => string.IsNullOrEmpty(text) ? null : ScrubKnown(mc, text, credentials);
        var trace = Scrub(FailureCause.Of(remote?.Status));
        var tasks = (remote?.Status?.Tasks ?? new List<Confluent.TaskStatus>())
            .Select(t => new V1Alpha1TaskStatus { Id = t.Id, State = t.State, Message = Truncate(Scrub(t.Msg), V1Alpha1ManagedConnectorStatus.MaxTaskMessageLength) })
            .OrderBy(t => t.Id).ToList();
        var state = remote?.Status?.Connector.State;
        var health = remote is null
            ? Health.Reconciling("DepartmentSuspended", $"the connector {name} is not in Confluent Cloud; Department {department.Metadata.Name} is suspended (spec.suspend), so it is not re-created until the platform team resumes it")
            : ConnectorHealth.Evaluate(mc.Spec.State, state, tasks, autoRestartAvailable: false, trace);
        return await WriteStatusAsync(mc, department.Metadata.Name, s =>
        {
            s.ConnectorState = state;
            s.Tasks = tasks;
            s.Trace = Truncate(trace, V1Alpha1ManagedConnectorStatus.MaxTraceLength);
            if (remote?.Id?.Id is { } id) s.ConnectorId = id;
        }, health, ct, suspendedBy: department.Metadata.Name);
    }

    /// <summary>Condition type recording the outcome of the last restart (on request or automatic).</summary>
    public const string RestartConditionType = "Restarted";

    /// <summary>The condition and the event a restart leaves: done, or refused with why (<see cref="TryRestartAsync"/>).</summary>
    private static (Condition, PendingEvent) RestartResult(string? refused, string doneReason, string doneMessage, string eventMessage, V1Alpha1ManagedConnector mc, DateTime now)
    {
        var condition = new Condition
        {
            Type = RestartConditionType, Status = refused is null ? ConditionStatus.True : ConditionStatus.False,
            Reason = refused is null ? doneReason : "RestartNotSupported", Message = refused ?? doneMessage,
            ObservedGeneration = mc.Metadata.Generation, LastTransitionTime = now,
        };
        return (condition, refused is null
            ? new PendingEvent(EventRecorder.Normal, "Restarted", eventMessage)
            : new PendingEvent(EventRecorder.Warning, "RestartFailed", refused));
    }

    /// <summary>
    /// <c>POST …/restart</c>; null when Confluent took it, else why not in words. 404 or 405 for a connector that the poll
    /// just listed means this route is not served for it (custom connectors, API changes): retrying cannot help, so the
    /// caller records it and moves on instead of looping.
    /// </summary>
    private async Task<string?> TryRestartAsync(IConnectClient client, PollTarget target, string name, CancellationToken ct)
    {
        try
        {
            await client.RestartAsync(target.Cluster, name, ct);
            _poller.RequestRefresh(target);
            return null;
        }
        catch (ConfluentApiException e) when (e.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.MethodNotAllowed)
        {
            return $"Confluent Cloud answered HTTP {(int)e.StatusCode} to POST …/connectors/{name}/restart although the connector exists; the restart was not done " +
                   "and is not retried. Restart it in the Confluent Cloud UI or CLI (or pause and resume it with spec.state)";
        }
    }

    private static TimeSpan? Min(TimeSpan? a, TimeSpan b) => a is { } x && x < b ? x : b;

    private async Task<ReconcileResult> FinalizeAsync(V1Alpha1ManagedConnector mc, CancellationToken ct)
    {
        if (!Finalizers.Has(mc, ConnectApi.Finalizer)) return ReconcileResult.Done;
        var name = mc.Status?.ConnectorName;
        if (mc.Spec.DeletionPolicy == DeletionPolicies.Delete && name != null)
        {
            var (department, _) = _tenants.ResolveDepartment(mc.Metadata.NamespaceProperty);
            var deptName = department?.Metadata.Name ?? mc.Status?.Department;
            department ??= deptName is null ? null : _tenants.Departments.Store.Get(null, deptName);
            if (department is null)
                return await StallAsync(mc, deptName, "NoDepartment",
                    $"cannot delete remote connector {name}: its Department is gone; restore the Department, or remove the finalizer {ConnectApi.Finalizer} by hand after deleting the connector in Confluent Cloud", ct);
            var (credentials, error) = _credentials.Resolve(department);
            if (credentials is null)
                return await StallAsync(mc, department.Metadata.Name, "CredentialsNotFound", $"cannot delete remote connector {name}: {error}", ct);
            var target = new PollTarget(new ClusterRef(department.Spec.Confluent.EnvironmentId, department.Spec.Confluent.KafkaClusterId), credentials);
            if (department.Spec.Suspend)
            {
                // Suspended means nothing changes in Confluent, deletes included: the delete waits, and says so. The
                // Department's change (resume) requeues its connectors.
                var waiting = $"deleting connector {name} waits: Department {department.Metadata.Name} is suspended (spec.suspend), so nothing is changed in Confluent Cloud; " +
                              "the delete happens when the platform team resumes it";
                if (ConditionSet.Find(mc.Status?.Conditions, ConditionTypes.Reconciling)?.Message != waiting)
                    await _events.NormalAsync(mc, "DeleteWaiting", waiting, ct);
                await WriteStatusAsync(mc, department.Metadata.Name, _ => { }, Health.Reconciling("DeleteWaitsForSuspension", waiting), ct, suspendedBy: department.Metadata.Name);
                return ReconcileResult.Done;
            }
            try
            {
                // A 404 means it is already gone (an earlier attempt succeeded, or someone deleted it): that is success.
                await _clients.Create(credentials).DeleteAsync(target.Cluster, name, ct);
            }
            catch (Exception e) when (e is ConfluentApiException or ConfluentTransportException)
            {
                // Keep the finalizer and retry: releasing it now would orphan a running connector.
                var delay = FailureText.RetryDelay(e, _clients.Options);
                var text = ScrubKnown(mc, $"deleting connector {name} in Confluent Cloud failed: {FailureText.Describe(e, delay)}", credentials);
                var before = ConditionSet.Find(mc.Status?.Conditions, ConditionTypes.Reconciling);
                if (before?.Message != text) await _events.WarningAsync(mc, "DeleteFailed", text, ct);
                await WriteStatusAsync(mc, department.Metadata.Name, _ => { }, Health.Reconciling("Deleting", text), ct);
                return delay is { } after ? ReconcileResult.After(after) : ReconcileResult.RequeueRateLimited();
            }
            _poller.RecordWrite(target, name, null, deleted: true);
            await _events.NormalAsync(mc, "Deleted", $"deleted connector {name} from {target.Cluster}", ct);
        }
        else if (name != null)
        {
            await _events.NormalAsync(mc, "Deleted", $"left connector {name} running in Confluent Cloud (spec.deletionPolicy Orphan)", ct);
        }
        await _finalizers.RemoveAsync(Kind, mc, ConnectApi.Finalizer, ct);
        _written.TryRemove($"{mc.Metadata.NamespaceProperty}/{mc.Metadata.Name}", out _);
        return ReconcileResult.Done;
    }

    /// <summary>
    /// Versions of the Secrets behind spec.secretConfig, from the cache, which keeps Secret keys but not values. Only
    /// Secrets in the connector's own namespace are ever read: a connector can never reach another department's.
    /// </summary>
    private (IReadOnlyDictionary<string, string>? Versions, string? Error) ResolveSecretConfig(V1Alpha1ManagedConnector mc)
    {
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in mc.Spec.SecretConfig)
        {
            var secret = _secrets.Get(mc.Metadata.NamespaceProperty, entry.SecretKeyRef.Name);
            if (secret is null)
                return (null, SecretMissing(mc, entry));
            if (secret.Data?.ContainsKey(entry.SecretKeyRef.Key) != true && secret.StringData?.ContainsKey(entry.SecretKeyRef.Key) != true)
                return (null, KeyMissing(mc, entry));
            versions[entry.Key] = $"{secret.Metadata.Uid}/{secret.Metadata.ResourceVersion}";
        }
        return (versions, null);
    }

    /// <summary>The config to send, with secret values read from the API server now: only writes need them.</summary>
    private async Task<IReadOnlyDictionary<string, string>> RequestConfigAsync(V1Alpha1ManagedConnector mc, EffectiveConfig config, CancellationToken ct)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var secrets = new Dictionary<string, V1Secret?>(StringComparer.Ordinal);
        foreach (var entry in mc.Spec.SecretConfig.Where(e => config.SecretKeys.Contains(e.Key)))
        {
            if (!secrets.TryGetValue(entry.SecretKeyRef.Name, out var secret))
                secrets[entry.SecretKeyRef.Name] = secret = await _api.TryGetAsync<V1Secret>(ResourceKind.Secret, mc.Metadata.NamespaceProperty, entry.SecretKeyRef.Name, ct);
            if (secret is null) throw new SecretUnavailableException(SecretMissing(mc, entry));
            values[entry.Key] = CredentialsResolver.Value(secret, entry.SecretKeyRef.Key) ?? throw new SecretUnavailableException(KeyMissing(mc, entry));
        }
        _secretValues[$"{mc.Metadata.NamespaceProperty}/{mc.Metadata.Name}"] = (config.Hash, values.Values.ToArray());
        return config.WithSecretValues(values);
    }

    /// <summary>
    /// The secret values of each connector (its spec.secretConfig values, by config hash), kept only to remove them from
    /// text Confluent sends back (traces, task messages, error messages that echo the config) before that text reaches
    /// status, an Event or a log line. By value, not by key name: a secret under a plain name, or a three-character
    /// one, is still a secret.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Hash, string[] Values)> _secretValues = new();

    /// <summary>Removes the connector's secret values and the Department's API secret from text that came from Confluent.</summary>
    private async Task<Func<string?, string?>> ScrubberAsync(V1Alpha1ManagedConnector mc, EffectiveConfig config, ConnectCredentials credentials, CancellationToken ct)
    {
        var key = $"{mc.Metadata.NamespaceProperty}/{mc.Metadata.Name}";
        if (config.SecretKeys.Count > 0 && (!_secretValues.TryGetValue(key, out var known) || known.Hash != config.Hash))
        {
            // Read now (a failure after an operator restart, before any write): the values are needed to scrub.
            try { await RequestConfigAsync(mc, config, ct); }
            catch (SecretUnavailableException) { /* nothing readable, nothing to scrub beyond what is known */ }
        }
        var values = _secretValues.TryGetValue(key, out var v) ? v.Values : [];
        return text => ConfigRedactor.ScrubValues(text, values.Append(credentials.ApiSecret));
    }

    /// <summary>The same, with only what is already known (no reads): for error paths.</summary>
    private string ScrubKnown(V1Alpha1ManagedConnector mc, string text, ConnectCredentials? credentials)
    {
        var values = _secretValues.TryGetValue($"{mc.Metadata.NamespaceProperty}/{mc.Metadata.Name}", out var v) ? v.Values : [];
        return ConfigRedactor.ScrubValues(text, credentials is null ? values : values.Append(credentials.ApiSecret))!;
    }

    private static string SecretMissing(V1Alpha1ManagedConnector mc, V1Alpha1SecretConfigEntry entry)
        => $"spec.secretConfig[{entry.Key}]: Secret {mc.Metadata.NamespaceProperty}/{entry.SecretKeyRef.Name} does not exist; create it in the connector's namespace";

    private static string KeyMissing(V1Alpha1ManagedConnector mc, V1Alpha1SecretConfigEntry entry)
        => $"spec.secretConfig[{entry.Key}]: Secret {mc.Metadata.NamespaceProperty}/{entry.SecretKeyRef.Name} has no key {entry.SecretKeyRef.Key}; add it or fix secretKeyRef.key";

    /// <summary>A referenced Secret or key vanished between the cache check and the read: a person must fix it.</summary>
    private sealed class SecretUnavailableException(string message) : Exception(message);

    private async Task<ReconcileResult> StallAsync(V1Alpha1ManagedConnector mc, string? department, string reason, string message, CancellationToken ct)
    {
        var before = ConditionSet.Find(mc.Status?.Conditions, ConditionTypes.Stalled);
        if (before is null || before.Status != ConditionStatus.True || before.Reason != reason || before.Message != message)
        {
            var eventReason = reason switch
            {
                ViolationReasons.QuotaExceeded => "QuotaExceeded",
                ViolationReasons.PolicyViolation => "PolicyViolation",
                _ => reason,
            };
            await _events.WarningAsync(mc, eventReason, message, ct);
        }
        await WriteStatusAsync(mc, department, _ => { }, Health.Stalled(reason, message), ct);
        // Stalled waits for a person; the watches (spec, Department, quota, Secret changes) bring it back.
        return ReconcileResult.Done;
    }

    /// <summary>Condition type saying the connector's Department is suspended (present only while it is).</summary>
    public const string SuspendedConditionType = "Suspended";

    private async Task<ReconcileResult> WriteStatusAsync(V1Alpha1ManagedConnector mc, string? department, Action<V1Alpha1ManagedConnectorStatus> mutate, Health health, CancellationToken ct,
        string? suspendedBy = null)
    {
        var result = await _status.UpdateStatusAsync(Kind, mc, o =>
        {
            o.Status ??= new V1Alpha1ManagedConnectorStatus();
            o.Status.Department = department ?? o.Status.Department;
            mutate(o.Status);
            var now = _time.GetUtcNow().UtcDateTime;
            ConditionSet.Apply(o.Status.Conditions, health, o.Metadata.Generation, now);
            if (suspendedBy != null)
                ConditionSet.Set(o.Status.Conditions, SuspendedConditionType, true, "DepartmentSuspended",
                    $"Department {suspendedBy} is suspended (spec.suspend): the operator changes nothing in Confluent Cloud for this connector (deletes wait too); its health is still observed",
                    o.Metadata.Generation, now);
            else if (o.Status.Conditions.FirstOrDefault(c => c.Type == SuspendedConditionType) is { } stale)
                o.Status.Conditions.Remove(stale);
            o.Status.ObservedGeneration = o.Metadata.Generation;
        }, ct);
        if (result.Written) RememberWrite(result.Object);
        return ReconcileResult.Done;
    }

    private static string NameConflictMessage(string name, PollTarget target)
        => $"a connector named {name} already exists in {target.Cluster} and was not created by this ManagedConnector; delete or rename it in Confluent Cloud, " +
           $"or set the annotation {ConnectApi.AdoptAnnotation}: \"true\" to take it over";

    private static string? RestartAnnotationOf(V1Alpha1ManagedConnector mc)
        => mc.Metadata.Annotations?.TryGetValue(ConnectApi.RestartAnnotation, out var v) == true ? v : null;

    private static string? Truncate(string? s, int max) => s is null || s.Length <= max ? s : s[..(max - 1)] + "…";
}
