using System.Collections.Concurrent;
using System.Text;
using ConnectOperator.Confluent;
using ConnectOperator.Emulator;
using ConnectOperator.Entities;
using ConnectOperator.Hosting;
using ConnectOperator.Runtime;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace ConnectOperator.Tests.Infrastructure;

/// <summary>
/// End-to-end rig: the shared real API server, an in-process Confluent emulator, a fresh operator namespace and one or
/// more in-process operator instances. Each harness gets its own department with unique names, so fixtures never see
/// each other's objects as their own.
/// </summary>
public sealed class OperatorHarness : IAsyncDisposable
{
    public const string ApiKey = "EMUKEY1", ApiSecret = "emu-secret-canary-8d1f";
    public const string Environment = "env-emu1", Cluster = "lkc-emu1";

    public TestCluster Kube { get; }
    public WebApplication Emulator { get; }
    public EmulatorState State { get; }
    public string EmulatorUrl { get; }
    public string OperatorNamespace { get; }
    public string Department { get; }
    public string Prefix { get; }
    public string Namespace { get; }
    public KubeApiClient Api { get; }
    public IKubernetes Client => Kube.Client;
    public ClusterRef ClusterRef { get; } = new(Environment, Cluster);

    /// <summary>Every log line every operator instance wrote, as the JSON it would print.</summary>
    public ConcurrentQueue<string> LogLines { get; } = new();

    private readonly List<OperatorInstance> _instances = new();

    private OperatorHarness(TestCluster kube, WebApplication emulator, string operatorNamespace, string department, string ns)
    {
        Kube = kube;
        Emulator = emulator;
        State = emulator.Services.GetRequiredService<EmulatorState>();
        EmulatorUrl = emulator.Urls.First();
        OperatorNamespace = operatorNamespace;
        Department = department;
        Prefix = department;
        Namespace = ns;
        Api = new KubeApiClient(kube.Client);
    }

    public static async Task<OperatorHarness> StartAsync(string name, Action<V1Alpha1Department>? department = null, V1Alpha1QuotaAmounts? quota = null)
    {
        var kube = await TestCluster.GetAsync();
        await kube.InstallCrdsAsync();
        var emulator = EmulatorApp.Build(new EmulatorOptions
        {
            Urls = "http://127.0.0.1:0",
            EnableAdmin = true,
            Keys = { new EmulatorApiKey(ApiKey, ApiSecret, new[] { Environment }, new[] { Cluster }) },
        });
        await emulator.StartAsync();
        var suffix = Guid.NewGuid().ToString("N")[..5];
        var opNs = await kube.CreateNamespaceAsync($"cop-{name}");
        var ns = await kube.CreateNamespaceAsync($"{name}-apps");
        var h = new OperatorHarness(kube, emulator, opNs, $"{name}-{suffix}", ns);
        await h.CreateSecretAsync(opNs, "confluent-credentials", new() { ["api-key"] = ApiKey, ["api-secret"] = ApiSecret });
        var dept = new V1Alpha1Department
        {
            Metadata = new V1ObjectMeta { Name = h.Department },
            Spec = new V1Alpha1DepartmentSpec
            {
                DisplayName = name,
                Namespaces = new List<string> { ns },
                ConnectorNamePrefix = h.Prefix,
                Confluent = new V1Alpha1DepartmentConfluent
                {
                    EnvironmentId = Environment, KafkaClusterId = Cluster, ServiceAccountId = "sa-emu1",
                    CredentialsSecretRef = new V1Alpha1CredentialsSecretRef { Name = "confluent-credentials" },
                },
                Policy = new V1Alpha1DepartmentPolicy
                {
                    // An empty list allows no class: name the ones the tests use.
                    AllowedConnectorClasses = new List<string> { "DatagenSource", "HttpSink", "PostgresCdcSource", "S3_SINK" },
                    TopicPrefixes = new List<string> { "app." },
                    AllowedHosts = new List<string> { "*.db.internal", "api.example.com" },
                },
            },
        };
        department?.Invoke(dept);
        await h.Api.CreateAsync(ResourceKind.For<V1Alpha1Department>(namespaced: false), null, dept);
        if (quota != null)
            await h.Api.CreateAsync(ResourceKind.For<V1Alpha1ConnectorQuota>(namespaced: false), null, new V1Alpha1ConnectorQuota
            {
                Metadata = new V1ObjectMeta { Name = h.Department + "-quota" },
                Spec = new V1Alpha1ConnectorQuotaSpec { DepartmentRef = new V1Alpha1DepartmentRef { Name = h.Department }, Hard = quota },
            });
        return h;
    }

    public sealed class OperatorInstance(WebApplication app, string identity)
    {
        public WebApplication App { get; } = app;
        public string Identity { get; } = identity;
        public bool Stopped { get; set; }
        public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();
    }

    /// <summary>The command-line settings of an operator instance for this harness (leader election on, short timings).</summary>
    public string[] OperatorArgs(string identity, int metricsPort, params string[] extraArgs)
    {
        return new[]
        {
            $"--Operator:Namespace={OperatorNamespace}",
            $"--Operator:ConfluentBaseUrl={EmulatorUrl}",
            "--Operator:AllowInsecureConfluentUrl=true",   // the emulator serves plain http on loopback
            "--Operator:PollInterval=00:00:01",
            "--Operator:Workers=4",
            $"--Operator:MetricsPort={metricsPort}",
            "--Operator:WebhookPort=0",
            "--Operator:BindAddress=127.0.0.1",
            "--Operator:AutoRestartBackoffUnit=00:00:00.200",
            "--Operator:AutoRestartResetAfter=00:00:05",
            $"--Operator:LeaderElection:Identity={identity}",
            $"--Operator:LeaderElection:LeaseNamespace={OperatorNamespace}",
            "--Operator:LeaderElection:LeaseDuration=00:00:03",
            "--Operator:LeaderElection:RenewDeadline=00:00:02",
            "--Operator:LeaderElection:RetryPeriod=00:00:00.500",
            "--Confluent:RetryBaseDelay=00:00:00.020",
            "--Confluent:RetryMaxDelay=00:00:00.200",
            "--Confluent:AttemptTimeout=00:00:05",
            "--Confluent:TotalTimeout=00:00:20",
            "--Confluent:RateLimitPermitsPerSecond=200",
            "--Confluent:RateLimitBurst=200",
            "--Confluent:BreakerMinimumThroughput=1000",
        }.Concat(extraArgs).ToArray();
    }

    /// <summary>Starts one operator instance in-process (leader election on, short timings).</summary>
    public async Task<OperatorInstance> StartOperatorAsync(string? identity = null, params string[] extraArgs)
    {
        identity ??= "op-" + Guid.NewGuid().ToString("N")[..6];
        var args = OperatorArgs(identity, TestCluster.FreePort(), extraArgs);
        var app = OperatorHost.Build(args, Kube.Config, logSink: new CapturingSink(LogLines));
        await app.StartAsync();
        var instance = new OperatorInstance(app, identity);
        lock (_instances) _instances.Add(instance);
        return instance;
    }

    /// <summary>
    /// Starts an operator instance that talks to the API server with <paramref name="kubernetes"/> (e.g. a ServiceAccount's
    /// bearer token) instead of the admin certificate; <paramref name="observer"/>, if given, sees every API request it makes.
    /// </summary>
    public async Task<OperatorInstance> StartOperatorAsAsync(KubernetesClientConfiguration kubernetes, DelegatingHandler? observer, string? identity = null,
        params string[] extraArgs)
    {
        identity ??= "op-" + Guid.NewGuid().ToString("N")[..6];
        var args = OperatorArgs(identity, TestCluster.FreePort(), extraArgs);
        var app = OperatorHost.Build(args, kubernetes,
            configure: observer is null ? null : b => b.Services.AddSingleton(_ => new KubeApiClient(kubernetes, observer: observer)),
            logSink: new CapturingSink(LogLines));
        await app.StartAsync();
        var instance = new OperatorInstance(app, identity);
        lock (_instances) _instances.Add(instance);
        return instance;
    }

    public static async Task StopOperatorAsync(OperatorInstance instance)
    {
        if (instance.Stopped) return;
        instance.Stopped = true;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try { await instance.App.StopAsync(cts.Token); } catch (OperationCanceledException) { }
        await instance.App.DisposeAsync();
    }

    public Task CreateSecretAsync(string ns, string name, Dictionary<string, string> data)
        => Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = name },
            Data = data.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value)),
        }, ns);

    public static readonly ResourceKind ConnectorKind = ResourceKind.For<V1Alpha1ManagedConnector>();

    public V1Alpha1ManagedConnector Datagen(string name, string topic = "app.orders", int tasks = 1) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
        Spec = new V1Alpha1ManagedConnectorSpec
        {
            ConnectorClass = "DatagenSource",
            TasksMax = tasks,
            Config = new Dictionary<string, string> { ["kafka.topic"] = topic, ["quickstart"] = "ORDERS", ["output.data.format"] = "JSON" },
        },
    };

    /// <summary>A Postgres CDC source whose <c>database.password</c> comes from key <c>password</c> of Secret <paramref name="secret"/>.</summary>
    public V1Alpha1ManagedConnector PostgresWithSecret(string name, string secret) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
        Spec = new V1Alpha1ManagedConnectorSpec
        {
            ConnectorClass = "PostgresCdcSource",
            Config = new Dictionary<string, string>
            {
                ["database.hostname"] = "pg.db.internal", ["database.port"] = "5432", ["database.user"] = "cdc", ["database.dbname"] = "orders",
                ["topic.prefix"] = "app", ["database.server.name"] = "app", ["table.include.list"] = "public.orders", ["output.data.format"] = "JSON",
            },
            SecretConfig = new List<V1Alpha1SecretConfigEntry> { new() { Key = "database.password", SecretKeyRef = new V1Alpha1SecretKeyRef { Name = secret, Key = "password" } } },
        },
    };

    public Task<V1Alpha1ManagedConnector> CreateAsync(V1Alpha1ManagedConnector mc)
        => Api.CreateAsync(ConnectorKind, mc.Metadata.NamespaceProperty ?? Namespace, mc);

    public Task<V1Alpha1ManagedConnector?> GetAsync(string name, string? ns = null)
        => Api.TryGetAsync<V1Alpha1ManagedConnector>(ConnectorKind, ns ?? Namespace, name);

    public Task<V1Alpha1ManagedConnector> PatchAsync(string name, string mergePatch, string? ns = null)
        => Api.PatchAsync<V1Alpha1ManagedConnector>(ConnectorKind, ns ?? Namespace, name, mergePatch, PatchKind.Merge);

    public string RemoteName(string name, string? ns = null) => $"{Prefix}.{ns ?? Namespace}.{name}";

    public EmulatedConnector? Remote(string name, string? ns = null) => State.Find(Environment, Cluster, RemoteName(name, ns));

    /// <summary>Waits until <paramref name="condition"/> holds for the ManagedConnector; fails with its last status.</summary>
    public async Task<V1Alpha1ManagedConnector> WaitForAsync(string name, Func<V1Alpha1ManagedConnector, bool> condition, string what, TimeSpan? timeout = null, string? ns = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        V1Alpha1ManagedConnector? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await GetAsync(name, ns);
            if (last != null && condition(last)) return last;
            await Task.Delay(200);
        }
        Assert.Fail($"timed out waiting for {what} on {name}; last status: {(last?.Status is null ? "none" : KubernetesJson.Serialize(last.Status))}");
        throw new InvalidOperationException();
    }

    public static bool IsReady(V1Alpha1ManagedConnector mc, string reason = "Running")
        => mc.Status?.ObservedGeneration == mc.Metadata.Generation
           && mc.Status?.Conditions.FirstOrDefault(c => c.Type == ConditionTypes.Ready) is { Status: ConditionStatus.True } r && r.Reason == reason;

    public static bool IsStalled(V1Alpha1ManagedConnector mc, string reason)
        => mc.Status?.ObservedGeneration == mc.Metadata.Generation
           && mc.Status?.Conditions.FirstOrDefault(c => c.Type == ConditionTypes.Stalled) is { Status: ConditionStatus.True } s && s.Reason == reason;

    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(200);
        }
        Assert.Fail("timed out waiting for " + what);
    }

    public async Task<IList<Corev1Event>> EventsAsync(string name, string? ns = null)
        => (await Client.CoreV1.ListNamespacedEventAsync(ns ?? Namespace, fieldSelector: $"involvedObject.name={name}")).Items;

    public async ValueTask DisposeAsync()
    {
        // Delete the connectors while an operator still runs, so finalizers are released; then stop everything.
        try
        {
            var running = _instances.Any(i => !i.Stopped);
            if (running)
            {
                var list = await Api.ListAsync<V1Alpha1ManagedConnector>(ConnectorKind, Namespace);
                foreach (var mc in list.Items) await Api.DeleteAsync(ConnectorKind, Namespace, mc.Metadata.Name);
                await WaitUntilAsync(async () => (await Api.ListAsync<V1Alpha1ManagedConnector>(ConnectorKind, Namespace)).Items.Count == 0, "connectors deleted", TimeSpan.FromSeconds(30));
            }
        }
        catch (Exception e) { TestContext.Progress.WriteLine("harness cleanup: " + e.Message); }
        foreach (var i in _instances.ToList()) await StopOperatorAsync(i);
        try
        {
            // Nothing runs now: release leftovers so the namespaces can go.
            foreach (var mc in (await Api.ListAsync<V1Alpha1ManagedConnector>(ConnectorKind, Namespace)).Items)
                await Api.PatchAsync<V1Alpha1ManagedConnector>(ConnectorKind, Namespace, mc.Metadata.Name, "{\"metadata\":{\"finalizers\":null}}", PatchKind.Merge);
            await Api.DeleteAsync(ResourceKind.For<V1Alpha1ConnectorQuota>(namespaced: false), null, Department + "-quota");
        }
        catch (Exception) { /* best effort */ }
        try { await Api.DeleteAsync(ResourceKind.For<V1Alpha1Department>(namespaced: false), null, Department); } catch (Exception) { }
        try { await Client.CoreV1.DeleteNamespaceAsync(Namespace); await Client.CoreV1.DeleteNamespaceAsync(OperatorNamespace); } catch (Exception) { }
        await Emulator.StopAsync();
        await Emulator.DisposeAsync();
    }

    /// <summary>Renders each event as the operator's stdout would (compact JSON).</summary>
    private sealed class CapturingSink(ConcurrentQueue<string> lines) : ILogEventSink
    {
        private readonly RenderedCompactJsonFormatter _formatter = new();

        public void Emit(LogEvent logEvent)
        {
            using var w = new StringWriter();
            _formatter.Format(logEvent, w);
            lines.Enqueue(w.ToString());
        }
    }
}
