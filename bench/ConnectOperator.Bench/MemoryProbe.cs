using System.Globalization;
using System.Text;
using ConnectOperator.Confluent;
using ConnectOperator.Controllers.ManagedConnectors;
using ConnectOperator.Hosting;
using ConnectOperator.Emulator;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;

namespace ConnectOperator.Bench;

/// <summary>
/// Where the operator's bytes per connector go (the whole-process figures of the main bench cannot say which structure
/// grows): one converged ManagedConnector and one connector as Confluent lists it, each deserialised 2,000 times as
/// received and as the operator keeps it. Synchronous on purpose: async I/O leaves pooled buffers that blur a delta of
/// live bytes. `memory [connectors]` (the connectors created first, so the objects are real API-server output).
/// </summary>
public static class MemoryProbe
{
    private const int Departments = 20;

    public static async Task<int> RunAsync(string[] args)
    {
        var n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
        await using var kube = await TestCluster.StartAsync("bench-memory");
        await kube.InstallCrdsAsync();
        var api = new KubeApiClient(kube.Client);
        var kind = ResourceKind.For<V1Alpha1ManagedConnector>();
        for (var d = 0; d < Departments; d++)
            await kube.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = $"dept{d}" } });

        // Converged objects, as the operator leaves them: finalizer, and a Ready status with one running task.
        var now = DateTime.UtcNow;
        await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var created = await api.CreateAsync(kind, $"dept{i % Departments}", Connector(i), ct);
            created.Status = new V1Alpha1ManagedConnectorStatus
            {
                ObservedGeneration = 1, Department = $"dept{i % Departments}", ConnectorName = RemoteName(i), ConnectorId = $"lcc-{i:x8}",
                ConnectorState = "RUNNING", LastSyncTime = now, ConfigHash = $"{i * 2654435761L:x16}",
                Tasks = new List<V1Alpha1TaskStatus> { new() { Id = 0, State = "RUNNING" } },
                Conditions = new List<Condition>
                {
                    new() { Type = ConditionTypes.Ready, Status = ConditionStatus.True, Reason = "Running", Message = $"connector {RemoteName(i)} is RUNNING with 1/1 tasks running", LastTransitionTime = now, ObservedGeneration = 1 },
                    new() { Type = ConditionTypes.Reconciling, Status = ConditionStatus.False, Reason = "Running", Message = "", LastTransitionTime = now, ObservedGeneration = 1 },
                    new() { Type = ConditionTypes.Stalled, Status = ConditionStatus.False, Reason = "Running", Message = "", LastTransitionTime = now, ObservedGeneration = 1 },
                },
            };
            await api.ReplaceAsync(kind, created.Metadata.NamespaceProperty, created.Metadata.Name, created, "status", ct);
        });

        // One object's parts, each deserialised 2,000 times: which part of a cached object costs what.
        var sample = await api.GetAsync<V1Alpha1ManagedConnector>(kind, "dept0", "c0");
        sample.Metadata.ManagedFields = null;
        var whole = KubernetesJson.Serialize(sample);
        Console.WriteLine($"one converged object, managedFields dropped: {whole.Length} bytes of JSON");
        Part("whole object", whole);
        Part("metadata", KubernetesJson.Serialize(sample.Metadata));
        Part("spec", KubernetesJson.Serialize(sample.Spec));
        Part("status", KubernetesJson.Serialize(sample.Status));
        Part("one condition", KubernetesJson.Serialize(sample.Status!.Conditions[0]));

        var pool = new StringPool();
        Many("whole object, as the operator caches it (CacheTransforms)", whole, typeof(V1Alpha1ManagedConnector), o => CacheTransforms.Compact((V1Alpha1ManagedConnector)o, pool));

        // The same connectors as one cluster's poll returns them (expand=id,info,status).
        var emulator = EmulatorApp.Build(new EmulatorOptions { Urls = "http://127.0.0.1:0", Keys = { new EmulatorApiKey("PROBEKEY", "probe-secret") } });
        await emulator.StartAsync();
        using var factory = new ConnectClientFactory(new ConnectClientOptions { BaseUrl = emulator.Urls.First(), RateLimitPermitsPerSecond = 100_000, RateLimitBurst = 100_000 });
        var client = factory.Create("PROBEKEY", "probe-secret");
        var cluster = new ClusterRef("env-probe", "lkc-probe");
        await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            await client.CreateConnectorAsync(cluster, RemoteName(i), new Dictionary<string, string>
            {
                ["name"] = RemoteName(i), ["connector.class"] = "DatagenSource", ["kafka.topic"] = $"dept{i % Departments}.orders{i}", ["quickstart"] = "ORDERS",
                ["output.data.format"] = "JSON", ["tasks.max"] = "1", ["kafka.auth.mode"] = "SERVICE_ACCOUNT", ["kafka.service.account.id"] = $"sa-{i % Departments}",
            }, ct));
        var listed = await client.ListConnectorsAsync(cluster);
        var remote = System.Text.Json.JsonSerializer.Serialize(listed.Values.First());
        Console.WriteLine($"one connector as Confluent lists it (expand=id,info,status): {remote.Length} bytes of JSON");
        Many("as listed", remote, typeof(ConnectorExpansion), null);
        Many("as the poll snapshot keeps it (RemoteConnectorPoller.Compact)", remote, typeof(ConnectorExpansion),
            o => RemoteConnectorPoller.Compact((ConnectorExpansion)o, pool));
        await emulator.StopAsync();
        return 0;
    }

    private static void Part(string what, string json)
        => Many(what, json, what switch { "metadata" => typeof(V1ObjectMeta), "spec" => typeof(V1Alpha1ManagedConnectorSpec), "status" => typeof(V1Alpha1ManagedConnectorStatus), "one condition" => typeof(Condition), _ => typeof(V1Alpha1ManagedConnector) }, null);

    /// <summary>Deserialises <paramref name="json"/> 2,000 times (and applies <paramref name="keep"/> to each): the bytes one copy holds.</summary>
    private static void Many(string what, string json, Type type, Action<object>? compact)
    {
        var keep = new object[2000];
        var before = Live();
        for (var i = 0; i < keep.Length; i++)
        {
            keep[i] = type == typeof(ConnectorExpansion) ? System.Text.Json.JsonSerializer.Deserialize<ConnectorExpansion>(json)! : System.Text.Json.JsonSerializer.Deserialize(json, type, KubernetesJsonOptions)!;
            compact?.Invoke(keep[i]);
        }
        var bytes = (Live() - before) / (double)keep.Length;
        GC.KeepAlive(keep);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what}: {json.Length} bytes of JSON, {bytes:F0} bytes deserialised"));
    }

    private static readonly System.Text.Json.JsonSerializerOptions KubernetesJsonOptions = GetKubernetesJsonOptions();

    private static System.Text.Json.JsonSerializerOptions GetKubernetesJsonOptions()
    {
        System.Text.Json.JsonSerializerOptions? found = null;
        KubernetesJson.AddJsonOptions(o => found = o);
        return found!;
    }

    private static long Live()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static string RemoteName(int i) => $"d{i % Departments}.dept{i % Departments}.c{i}";

    private static V1Alpha1ManagedConnector Connector(int i) => new()
    {
        Metadata = new V1ObjectMeta { Name = $"c{i}", NamespaceProperty = $"dept{i % Departments}", Finalizers = new List<string> { ConnectApi.Finalizer } },
        Spec = new V1Alpha1ManagedConnectorSpec
        {
            ConnectorClass = "DatagenSource",
            Config = new Dictionary<string, string> { ["kafka.topic"] = $"dept{i % Departments}.orders{i}", ["quickstart"] = "ORDERS", ["output.data.format"] = "JSON" },
        },
    };
}
