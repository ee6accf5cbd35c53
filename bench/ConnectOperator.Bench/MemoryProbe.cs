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
/// live bytes. `memory` (the object is created first, so it is real API-server output).
/// </summary>
public static class MemoryProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        await using var kube = await TestCluster.StartAsync("bench-memory");
        await kube.InstallCrdsAsync();
        var api = new KubeApiClient(kube.Client);
        var kind = ResourceKind.For<V1Alpha1ManagedConnector>();
        await kube.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "dept0" } });

        // A converged object, as the operator leaves it: finalizer, and a Ready status with one running task.
        var now = DateTime.UtcNow;
        var created = await api.CreateAsync(kind, "dept0", Connector());
        created.Status = new V1Alpha1ManagedConnectorStatus
        {
            ObservedGeneration = 1, Department = "dept0", ConnectorName = RemoteName, ConnectorId = "lcc-00000001",
            ConnectorState = "RUNNING", LastSyncTime = now, ConfigHash = "9e3779b97f4a7c15",
            Tasks = new List<V1Alpha1TaskStatus> { new() { Id = 0, State = "RUNNING" } },
            Conditions = new List<Condition>
            {
                new() { Type = ConditionTypes.Ready, Status = ConditionStatus.True, Reason = "Running", Message = $"connector {RemoteName} is RUNNING with 1/1 tasks running", LastTransitionTime = now, ObservedGeneration = 1 },
                new() { Type = ConditionTypes.Reconciling, Status = ConditionStatus.False, Reason = "Running", Message = "", LastTransitionTime = now, ObservedGeneration = 1 },
                new() { Type = ConditionTypes.Stalled, Status = ConditionStatus.False, Reason = "Running", Message = "", LastTransitionTime = now, ObservedGeneration = 1 },
            },
        };
        await api.ReplaceAsync(kind, "dept0", created.Metadata.Name, created, "status");

        // The object and its parts, each deserialised 2,000 times: which part of a cached object costs what.
        var sample = await api.GetAsync<V1Alpha1ManagedConnector>(kind, "dept0", created.Metadata.Name);
        sample.Metadata.ManagedFields = null;
        var whole = KubernetesJson.Serialize(sample);
        Console.WriteLine($"one converged object, managedFields dropped: {whole.Length} bytes of JSON");
        Many("whole object", whole, j => KubernetesJson.Deserialize<V1Alpha1ManagedConnector>(j));
        Many("metadata", KubernetesJson.Serialize(sample.Metadata), j => KubernetesJson.Deserialize<V1ObjectMeta>(j));
        Many("spec", KubernetesJson.Serialize(sample.Spec), j => KubernetesJson.Deserialize<V1Alpha1ManagedConnectorSpec>(j));
        Many("status", KubernetesJson.Serialize(sample.Status), j => KubernetesJson.Deserialize<V1Alpha1ManagedConnectorStatus>(j));
        Many("one condition", KubernetesJson.Serialize(sample.Status!.Conditions[0]), j => KubernetesJson.Deserialize<Condition>(j));
        var pool = new StringPool();
        Many("whole object, as the operator caches it (CacheTransforms)", whole, j => KubernetesJson.Deserialize<V1Alpha1ManagedConnector>(j), o => CacheTransforms.Compact(o, pool));

        // The same connector as one cluster's poll returns it (expand=id,info,status), read as the poller reads it.
        var emulator = EmulatorApp.Build(new EmulatorOptions { Urls = "http://127.0.0.1:0", Keys = { new EmulatorApiKey("PROBEKEY", "probe-secret") } });
        await emulator.StartAsync();
        using var factory = new ConnectClientFactory(new ConnectClientOptions { BaseUrl = emulator.Urls.First() });
        var client = factory.Create("PROBEKEY", "probe-secret");
        var cluster = new ClusterRef("env-probe", "lkc-probe");
        await client.CreateConnectorAsync(cluster, RemoteName, new Dictionary<string, string>
        {
            ["name"] = RemoteName, ["connector.class"] = "DatagenSource", ["kafka.topic"] = "dept0.orders0", ["quickstart"] = "ORDERS",
            ["output.data.format"] = "JSON", ["tasks.max"] = "1", ["kafka.auth.mode"] = "SERVICE_ACCOUNT", ["kafka.service.account.id"] = "sa-0",
        });
        string remote;
        using (var listed = await client.OpenConnectorListAsync(cluster))
        {
            if (!await listed.ReadAsync()) throw new InvalidOperationException("the emulator listed no connector");
            remote = System.Text.Encoding.UTF8.GetString(listed.Raw);
        }
        Console.WriteLine($"one connector as Confluent lists it (expand=id,info,status): {remote.Length} bytes of JSON");
        static ConnectorExpansion Read(string json) => ConnectClient.ReadExpansion(System.Text.Encoding.UTF8.GetBytes(json));
        Many("as listed", remote, Read);
        Many("as the poll snapshot keeps it (RemoteConnectorPoller.Compact)", remote, Read, o => RemoteConnectorPoller.Compact(o, pool));
        await emulator.StopAsync();
        return 0;
    }

    /// <summary>Reads <paramref name="json"/> 2,000 times (then applies <paramref name="compact"/> to each copy): the bytes one copy holds.</summary>
    private static void Many<T>(string what, string json, Func<string, T> read, Action<T>? compact = null)
    {
        var keep = new T[2000];
        var before = Live();
        for (var i = 0; i < keep.Length; i++)
        {
            keep[i] = read(json);
            compact?.Invoke(keep[i]);
        }
        var bytes = (Live() - before) / (double)keep.Length;
        GC.KeepAlive(keep);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what}: {json.Length} bytes of JSON, {bytes:F0} bytes deserialised"));
    }

    private static long Live()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private const string RemoteName = "d0.dept0.c0";

    private static V1Alpha1ManagedConnector Connector() => new()
    {
        Metadata = new V1ObjectMeta { Name = "c0", NamespaceProperty = "dept0", Finalizers = new List<string> { ConnectApi.Finalizer } },
        Spec = new V1Alpha1ManagedConnectorSpec
        {
            ConnectorClass = "DatagenSource",
            Config = new Dictionary<string, string> { ["kafka.topic"] = "dept0.orders0", ["quickstart"] = "ORDERS", ["output.data.format"] = "JSON" },
        },
    };
}
