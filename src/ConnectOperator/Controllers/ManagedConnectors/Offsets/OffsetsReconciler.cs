using ConnectOperator.Confluent;
using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using k8s.Autorest;
using k8s.Models;

namespace ConnectOperator.Controllers.ManagedConnectors.Offsets;

/// <summary>
/// Carries out <see cref="OffsetsPlanner"/>'s plan: lists offsets into a ConfigMap, or sends an alter (PATCH) or reset
/// (DELETE) request to Confluent and follows its status until APPLIED or FAILED, all reported in status.offsets.
/// A controller of its own over the ManagedConnector informer, so the main reconcile never waits on an offsets request.
/// <para>
/// Confluent's rules (connect-v1 spec, offsets/request): it stops the connector itself while it alters offsets
/// (momentary downtime), and it takes one request per connector at a time. So the connector is never paused here, and a
/// request is only sent when Confluent reports none in flight; otherwise status says it waits.
/// </para>
/// </summary>
public sealed class OffsetsReconciler(TenantDirectory tenants, KubeApiClient api, CredentialsResolver credentials, ConnectClientFactory clients,
    StatusWriter status, EventRecorder events, ILogger<OffsetsReconciler> log, TimeProvider? time = null) : IReconciler<V1Alpha1ManagedConnector>
{
    /// <summary>How often an in-flight request's status is read.</summary>
    public static TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    private static readonly ResourceKind Kind = ResourceKind.For<V1Alpha1ManagedConnector>();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct)
    {
        var mc = tenants.Connectors.Store.Get(request.Namespace, request.Name);
        if (mc is null) return ReconcileResult.Done;
        var ns = mc.Metadata.NamespaceProperty ?? "";
        var department = tenants.ResolveDepartment(ns).Department;
        var remoteName = department is null ? null : EffectiveConfig.RemoteNameFor(department, ns, mc.Metadata.Name);
        var plan = OffsetsPlanner.Plan(mc, remoteName);
        switch (plan.Action)
        {
            case OffsetsAction.Nothing:
                return ReconcileResult.Done;
            case OffsetsAction.Refuse:
                await WriteAsync(mc, plan, OffsetsPlanner.Refused, plan.Message, ct);
                return ReconcileResult.Done;
            case OffsetsAction.Wait:
                await WriteAsync(mc, plan, OffsetsPlanner.Waiting, plan.Message, ct);
                return ReconcileResult.After(PollInterval);
        }

        var (creds, credentialsError) = credentials.Resolve(department!);
        if (creds is null)
        {
            await WriteAsync(mc, plan, OffsetsPlanner.Waiting, $"the Department's Confluent credentials are not available: {credentialsError}", ct);
            return ReconcileResult.After(PollInterval * 5);
        }
        var client = clients.Create(creds);
        var cluster = new ClusterRef(department!.Spec.Confluent.EnvironmentId, department.Spec.Confluent.KafkaClusterId);
        try
        {
            return plan.Action switch
            {
                OffsetsAction.List => await ListAsync(mc, plan, client, cluster, remoteName!, ct),
                OffsetsAction.Poll => await PollAsync(mc, plan, client, cluster, remoteName!, ct),
                _ => await RequestAsync(mc, plan, department, client, cluster, remoteName!, ct),
            };
        }
        catch (ConfluentApiException e) when ((int)e.StatusCode is >= 400 and < 500 && e.StatusCode != System.Net.HttpStatusCode.TooManyRequests)
        {
            // Confluent's refusal is the answer: say it, do not retry the same request.
            await WriteAsync(mc, plan, AlterOffsetsPhase.Failed, $"Confluent refused the request ({(int)e.StatusCode}): {e.VendorMessage ?? e.Message}", ct);
            return ReconcileResult.Done;
        }
    }

    private async Task<ReconcileResult> ListAsync(V1Alpha1ManagedConnector mc, OffsetsPlan plan, IConnectClient client, ClusterRef cluster, string remoteName, CancellationToken ct)
    {
        var offsets = await client.GetOffsetsAsync(cluster, remoteName, ct) ?? new ConnectorOffsets();
        var name = mc.Spec.ListOffsets!.ToConfigMap.Name;
        var ns = mc.Metadata.NamespaceProperty;
        var configMap = new V1ConfigMap
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = ns,
                // Deleted with the connector, like Strimzi's.
                OwnerReferences = new List<V1OwnerReference>
                {
                    new() { ApiVersion = mc.ApiVersion, Kind = mc.Kind, Name = mc.Metadata.Name, Uid = mc.Metadata.Uid },
                },
            },
            Data = new Dictionary<string, string> { [OffsetsPlanner.ConfigMapKey] = OffsetsPlanner.Serialize(offsets) },
        };
        var existing = await api.TryGetAsync<V1ConfigMap>(ResourceKind.ConfigMap, ns, name, ct);
        if (existing is null) await api.CreateAsync(ResourceKind.ConfigMap, ns, configMap, ct);
        else
        {
            configMap.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
            configMap.Metadata.Labels = existing.Metadata.Labels;
            await api.ReplaceAsync(ResourceKind.ConfigMap, ns, name, configMap, ct: ct);
        }
        var count = offsets.Offsets?.Count ?? 0;
        var observed = offsets.Metadata?.ObservedAt is { } at ? $" (observed by Confluent at {at:yyyy-MM-ddTHH:mm:ssZ})" : "";
        var now = _time.GetUtcNow().UtcDateTime;
        await WriteAsync(mc, plan, OffsetsPlanner.Listed, $"{count} partition offset(s) written to ConfigMap {name}, key {OffsetsPlanner.ConfigMapKey}{observed}", ct,
            o => { o.ConfigMap = name; o.RequestedAt = now; o.AppliedAt = now; });
        await events.NormalAsync(mc, "OffsetsListed", $"{count} partition offset(s) written to ConfigMap {name}", ct);
        return ReconcileResult.Done;
    }

    private async Task<ReconcileResult> RequestAsync(V1Alpha1ManagedConnector mc, OffsetsPlan plan, V1Alpha1Department department, IConnectClient client, ClusterRef cluster,
        string remoteName, CancellationToken ct)
    {
        var body = new AlterOffsetsRequest { Type = AlterOffsetsRequest.Delete };
        string? configMapName = null;
        if (plan.Action == OffsetsAction.Alter)
        {
            configMapName = mc.Spec.AlterOffsets!.FromConfigMap.Name;
            var configMap = await api.TryGetAsync<V1ConfigMap>(ResourceKind.ConfigMap, mc.Metadata.NamespaceProperty, configMapName, ct);
            if (configMap is null)
            {
                await WriteAsync(mc, plan, OffsetsPlanner.Refused, $"ConfigMap {configMapName} not found in namespace {mc.Metadata.NamespaceProperty}", ct, o => o.ConfigMap = configMapName);
                return ReconcileResult.Done;
            }
            var (offsets, error) = OffsetsPlanner.ReadAlter(configMapName, configMap.Data, TenantDirectory.ToPolicy(department).TopicPrefixes, department.Metadata.Name);
            if (error != null)
            {
                await WriteAsync(mc, plan, OffsetsPlanner.Refused, error, ct, o => o.ConfigMap = configMapName);
                return ReconcileResult.Done;
            }
            body = new AlterOffsetsRequest { Type = AlterOffsetsRequest.Patch, Offsets = offsets };
        }

        // One request per connector at a time (Confluent's rule): wait for one already in flight, e.g. from the UI.
        var current = await client.GetOffsetsRequestStatusAsync(cluster, remoteName, ct);
        if (OffsetsPlanner.IsInFlight(current?.Status?.Phase))
        {
            await WriteAsync(mc, plan, OffsetsPlanner.Waiting, $"Confluent is still applying an earlier offsets request ({current!.Status!.Phase}); only one runs at a time", ct);
            return ReconcileResult.After(PollInterval);
        }

        var sent = await client.RequestOffsetsAsync(cluster, remoteName, body, ct);
        var requestedAt = sent.RequestedAt?.UtcDateTime ?? _time.GetUtcNow().UtcDateTime;
        await WriteAsync(mc, plan, AlterOffsetsPhase.Pending,
            $"{body.Type} sent to Confluent; Confluent stops the connector briefly while it applies it", ct,
            o => { o.ConfigMap = configMapName; o.RequestedAt = requestedAt; o.AppliedAt = null; });
        await events.NormalAsync(mc, "OffsetsRequested", $"offsets {plan.Operation} ({body.Type}) sent to Confluent", ct);
        return ReconcileResult.After(PollInterval);
    }

    private async Task<ReconcileResult> PollAsync(V1Alpha1ManagedConnector mc, OffsetsPlan plan, IConnectClient client, ClusterRef cluster, string remoteName, CancellationToken ct)
    {
        var s = await client.GetOffsetsRequestStatusAsync(cluster, remoteName, ct);
        var phase = s?.Status?.Phase ?? AlterOffsetsPhase.Failed;
        var message = s?.Status?.Message ?? "Confluent reports no offsets request for this connector";
        DateTime? applied = DateTimeOffset.TryParse(s?.AppliedAt, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var a)
            ? a.UtcDateTime : phase == AlterOffsetsPhase.Applied ? _time.GetUtcNow().UtcDateTime : null;
        await WriteAsync(mc, plan, phase, message, ct, o => o.AppliedAt = applied);
        if (OffsetsPlanner.IsInFlight(phase)) return ReconcileResult.After(PollInterval);
        if (phase == AlterOffsetsPhase.Applied) await events.NormalAsync(mc, "OffsetsApplied", $"offsets {plan.Operation}: {phase}: {message}", ct);
        else await events.WarningAsync(mc, "OffsetsFailed", $"offsets {plan.Operation}: {phase}: {message}", ct);
        return ReconcileResult.Done;
    }

    private async Task WriteAsync(V1Alpha1ManagedConnector mc, OffsetsPlan plan, string phase, string message, CancellationToken ct, Action<V1Alpha1OffsetsStatus>? more = null)
    {
        if (message.Length > 4096) message = message[..4095] + "…";
        try
        {
            await status.UpdateStatusAsync(Kind, mc, o =>
            {
                o.Status ??= new V1Alpha1ManagedConnectorStatus();
                // A new annotation value starts a fresh record; polling the same one keeps what was sent.
                var s = o.Status.Offsets is { } prev && prev.Annotation == plan.Annotation ? prev : new V1Alpha1OffsetsStatus();
                s.Annotation = plan.Annotation;
                s.Operation = plan.Operation.Length > 0 ? plan.Operation : s.Operation;
                s.Phase = phase;
                s.Message = message;
                more?.Invoke(s);
                o.Status.Offsets = s;
            }, ct);
        }
        catch (HttpOperationException e) when (e.Response?.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            log.OffsetsTargetGone(mc.Metadata.NamespaceProperty, mc.Metadata.Name);
        }
    }
}
