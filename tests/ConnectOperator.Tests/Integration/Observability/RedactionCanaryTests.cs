using Microsoft.Extensions.Logging;
using System.Text;
using ConnectOperator.Emulator;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Observability;

/// <summary>
/// A full life cycle with canary secret values (create with secretConfig, update, a Confluent error that echoes the
/// request body, Secret rotation, failure, pause, delete): no canary may appear in any operator log line, any Event,
/// or any status of ManagedConnectors, Departments or ConnectorQuotas.
/// </summary>
[NonParallelizable]
public class RedactionCanaryTests
{
    private const string Canary1 = "CANARY-db-pass-first-5e8b1c";
    private const string Canary2 = "CANARY-db-pass-rotated-a47d03";

    [Test]
    public async Task Canary_secrets_never_reach_logs_events_or_status()
    {
        await using var h = await OperatorHarness.StartAsync("canary", quota: new V1Alpha1QuotaAmounts { Connectors = 5, Tasks = 10, TasksPerConnector = 4 });
        var op = await h.StartOperatorAsync();
        await h.CreateSecretAsync(h.Namespace, "db", new() { ["password"] = Canary1 });
        var mc = h.Datagen("canary");
        mc.Spec.SecretConfig.Add(new V1Alpha1SecretConfigEntry { Key = "connection.password", SecretKeyRef = new V1Alpha1SecretKeyRef { Name = "db", Key = "password" } });
        await h.CreateAsync(mc);
        await h.WaitForAsync("canary", m => OperatorHarness.IsReady(m), "Ready");
        Assert.That(h.Remote("canary")!.Config["connection.password"], Is.EqualTo(Canary1), "the canary reached Confluent, so the scenario exercises it");

        // A careless log statement in operator code: the safety net (SecretValueRegistry fed by CredentialsResolver,
        // SecretRedactionEnricher in the host's Serilog pipeline) must scrub it.
        op.Service<Microsoft.Extensions.Logging.ILoggerFactory>().CreateLogger("canary-test")
            .LogWarning("careless {Detail} and {DbPassword}", $"url=jdbc:postgresql://u:{Canary1}@db", "x-" + Canary1);
        await h.WaitUntilAsync(() => Task.FromResult(h.LogLines.Any(l => l.Contains("careless", StringComparison.Ordinal))), "careless line logged");

        // Update, while Confluent answers one config PUT with an error that echoes the request body (secrets included).
        h.State.InjectErrors(new ErrorFault { Status = 500, Count = 1, EchoRequestBody = true, Route = "connectors/{connector_name}/config" });
        await h.PatchAsync("canary", "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"}}}");
        await h.WaitForAsync("canary", m => OperatorHarness.IsReady(m) && h.Remote("canary")!.Config.GetValueOrDefault("quickstart") == "USERS", "updated");

        // Rotation.
        await h.Client.CoreV1.PatchNamespacedSecretAsync(new V1Patch($"{{\"data\":{{\"password\":\"{Convert.ToBase64String(Encoding.UTF8.GetBytes(Canary2))}\"}}}}", V1Patch.PatchType.MergePatch), "db", h.Namespace);
        await h.WaitUntilAsync(() => Task.FromResult(h.Remote("canary")!.Config.GetValueOrDefault("connection.password") == Canary2), "rotated secret pushed");

        // Failure (the trace holds no canary), auto-restart, back to Ready.
        Assert.That(h.State.FailConnector(OperatorHarness.Environment, OperatorHarness.Cluster, h.RemoteName("canary"),
            "org.apache.kafka.connect.errors.ConnectException: authentication failed for user app"), Is.True);
        await h.WaitUntilAsync(async () => (await h.EventsAsync("canary")).Any(e => e.Reason == "Restarted"), "auto-restart");
        await h.WaitForAsync("canary", m => OperatorHarness.IsReady(m), "Ready after restart");

        await h.PatchAsync("canary", "{\"spec\":{\"state\":\"Paused\"}}");
        await h.WaitForAsync("canary", m => OperatorHarness.IsReady(m, "Paused"), "Paused");

        // Snapshot everything before delete (the object disappears), then delete and wait for the remote delete.
        var texts = new List<(string What, string Text)>();
        async Task SnapshotAsync()
        {
            foreach (var x in (await h.Api.ListAsync<V1Alpha1ManagedConnector>(OperatorHarness.ConnectorKind)).Items)
                texts.Add(($"ManagedConnector {x.Metadata.NamespaceProperty}/{x.Metadata.Name}", KubernetesJson.Serialize(x.Status)));
            foreach (var x in (await h.Api.ListAsync<V1Alpha1Department>(ResourceKind.For<V1Alpha1Department>(namespaced: false))).Items)
                texts.Add(($"Department {x.Metadata.Name}", KubernetesJson.Serialize(x.Status)));
            foreach (var x in (await h.Api.ListAsync<V1Alpha1ConnectorQuota>(ResourceKind.For<V1Alpha1ConnectorQuota>(namespaced: false))).Items)
                texts.Add(($"ConnectorQuota {x.Metadata.Name}", KubernetesJson.Serialize(x.Status)));
            foreach (var ns in new[] { h.Namespace, h.OperatorNamespace })
                foreach (var e in (await h.Client.CoreV1.ListNamespacedEventAsync(ns)).Items)
                    texts.Add(($"Event {ns}/{e.Metadata.Name} {e.Reason}", KubernetesJson.Serialize(e)));
        }
        await SnapshotAsync();
        await h.Api.DeleteAsync(OperatorHarness.ConnectorKind, h.Namespace, "canary");
        await h.WaitUntilAsync(async () => await h.GetAsync("canary") is null && h.Remote("canary") is null, "deleted");
        await SnapshotAsync();

        var logs = h.LogLines.ToList();
        Assert.That(logs, Is.Not.Empty);
        Assert.That(texts.Count(t => t.What.StartsWith("Event", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(5), "events were recorded");
        Assert.That(h.State.CountCalls("PUT", "connectors/{connector_name}/config", 500), Is.GreaterThanOrEqualTo(1), "the echoing error was served");
        foreach (var canary in new[] { Canary1, Canary2 })
        {
            var leakingLogs = logs.Where(l => l.Contains(canary, StringComparison.Ordinal)).ToList();
            Assert.That(leakingLogs, Is.Empty, $"log lines containing {canary}");
            var leaking = texts.Where(t => t.Text.Contains(canary, StringComparison.Ordinal)).Select(t => t.What).ToList();
            Assert.That(leaking, Is.Empty, $"objects containing {canary}");
        }
    }
}
