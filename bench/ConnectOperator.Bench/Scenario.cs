using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConnectOperator.Emulator;
using ConnectOperator.Entities;
using ConnectOperator.Observability;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectOperator.Bench;

/// <summary>One measured run: its own API server, emulator, departments and operator process.</summary>
public sealed class Scenario : IAsyncDisposable
{
    private static readonly ResourceKind Mc = ResourceKind.For<V1Alpha1ManagedConnector>();
    private static readonly ResourceKind Dept = ResourceKind.For<V1Alpha1Department>(namespaced: false);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);
    private const int Parallelism = 4;
    private const string OperatorNamespace = "connect-operator-system";

    /// <summary><c>--gcdump path</c>: also collect a heap dump of the operator after convergence.</summary>
    public static string? GcDumpPath { get; set; }

    /// <summary><c>--changes k</c>: config changes timed from the patch to the Confluent PUT it causes, one at a time.</summary>
    public static int Changes { get; set; } = 100;

    private static readonly TimeSpan ChangeTimeout = TimeSpan.FromSeconds(30);

    private readonly int _n, _departments, _clusters;
    private readonly TestCluster _kube;
    private readonly KubeApiClient _api;
    private readonly WebApplication _emulator;
    private readonly EmulatorState _state;
    private OperatorProcess? _operator;

    private Scenario(int n, int departments, int clusters, TestCluster kube, WebApplication emulator)
    {
        _n = n;
        _departments = departments;
        _clusters = clusters;
        _kube = kube;
        _api = new KubeApiClient(kube.Client);
        _emulator = emulator;
        _state = emulator.Services.GetRequiredService<EmulatorState>();
    }

    public static async Task<Scenario> StartAsync(int n, int departments, int clusters, string id)
    {
        var kube = await TestCluster.StartAsync("bench-" + id);
        await kube.InstallCrdsAsync();
        var options = new EmulatorOptions { Urls = "http://127.0.0.1:0", EnableAdmin = true, MaxRecordedCalls = 200_000 };
        for (var c = 0; c < clusters; c++) options.Keys.Add(new EmulatorApiKey($"BENCHKEY{c}", $"bench-secret-{c}"));
        var emulator = EmulatorApp.Build(options);
        await emulator.StartAsync();
        var s = new Scenario(n, departments, clusters, kube, emulator);
        await s.SetUpTenantsAsync();
        return s;
    }

    private async Task SetUpTenantsAsync()
    {
        await _kube.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = OperatorNamespace } });
        for (var c = 0; c < _clusters; c++)
            await _kube.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
            {
                Metadata = new V1ObjectMeta { Name = $"cluster-{c}" },
                Data = new Dictionary<string, byte[]> { ["api-key"] = Encoding.UTF8.GetBytes($"BENCHKEY{c}"), ["api-secret"] = Encoding.UTF8.GetBytes($"bench-secret-{c}") },
            }, OperatorNamespace);
        for (var d = 0; d < _departments; d++)
        {
            await _kube.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = $"dept{d}" } });
            var c = d % _clusters;
            await _api.CreateAsync(Dept, null, new V1Alpha1Department
            {
                Metadata = new V1ObjectMeta { Name = $"dept{d}" },
                Spec = new V1Alpha1DepartmentSpec
                {
                    Namespaces = new List<string> { $"dept{d}" },
                    ConnectorNamePrefix = $"d{d}",
                    Confluent = new V1Alpha1DepartmentConfluent
                    {
                        EnvironmentId = $"env-bench{c}", KafkaClusterId = $"lkc-bench{c}", ServiceAccountId = $"sa-bench{d}",
                        CredentialsSecretRef = new V1Alpha1CredentialsSecretRef { Name = $"cluster-{c}" },
                    },
                    Policy = new V1Alpha1DepartmentPolicy { AllowedConnectorClasses = new List<string> { "DatagenSource" }, TopicPrefixes = new List<string> { $"dept{d}." } },
                },
            });
        }
    }

    private async Task<TimeSpan> StartOperatorAsync()
    {
        var op = await OperatorProcess.StartAsync(_kube.KubeconfigPath, new[]
        {
            $"--Operator:Namespace={OperatorNamespace}", $"--Operator:ConfluentBaseUrl={_emulator.Urls.First()}", "--Operator:AllowInsecureConfluentUrl=true",
            $"--Operator:PollInterval={PollInterval}", $"--Operator:Workers={Parallelism}", "--Operator:WebhookPort=0",
            "--Operator:LeaderElection:Identity=bench", "--Confluent:RateLimitPermitsPerSecond=1000", "--Confluent:RateLimitBurst=1000",
        }, TimeSpan.FromMilliseconds(50));
        _operator = op;
        // Ready is caches synced and the lease held: a replica that is not the leader reconciles nothing.
        while (true)
        {
            if (op.HasExited) throw new InvalidOperationException("operator exited");
            try
            {
                var lease = await _kube.Client.CoordinationV1.ReadNamespacedLeaseAsync("connect-operator-leader", OperatorNamespace);
                if (lease.Spec.HolderIdentity == "bench") return op.StartedFor;
            }
            catch (k8s.Autorest.HttpOperationException) { }
            await Task.Delay(50);
        }
    }

    private async Task StopOperatorAsync()
    {
        if (_operator is null) return;
        await _operator.DisposeAsync();
        _operator = null;
    }

    private V1Alpha1ManagedConnector Connector(int i)
    {
        var d = i % _departments;
        return new V1Alpha1ManagedConnector
        {
            Metadata = new V1ObjectMeta { Name = $"c{i}", NamespaceProperty = $"dept{d}" },
            Spec = new V1Alpha1ManagedConnectorSpec
            {
                ConnectorClass = "DatagenSource",
                Config = new Dictionary<string, string> { ["kafka.topic"] = $"dept{d}.orders{i}", ["quickstart"] = "ORDERS", ["output.data.format"] = "JSON" },
            },
        };
    }

    private static async Task ForEachAsync(int count, Func<int, Task> body)
        => await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) => await body(i));

    public async Task<RunResult> RunAsync()
    {
        await StartOperatorAsync();

        // 1. Convergence. The departments' first reconciles are over before the create phase's counters start.
        await _operator!.WaitIdleAsync(TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(2));
        await using var ready = new ReadyWatch(_api);
        var metricsBefore = await _operator.MetricsAsync();
        var callsBefore = _state.Calls.Count;
        var sw = Stopwatch.StartNew();
        await ForEachAsync(_n, i => _api.CreateAsync(Mc, Connector(i).Metadata.NamespaceProperty, Connector(i)));
        while (ready.Ready < _n)
        {
            if (sw.Elapsed > TimeSpan.FromMinutes(30)) throw new TimeoutException($"not converged after 30 min ({ready.Ready}/{_n})");
            _operator!.ThrowIfExited();
            await Task.Delay(100);
        }
        var convergence = sw.Elapsed;
        var createCalls = _state.Calls.Skip(callsBefore).Count(c => c.Method is "POST" or "PUT");

        // 2. Steady state: let in-flight refreshes settle, then count calls over three intervals. The API-server writes
        // and reconciles of the create phase are counted up to the end of the settling: what a new connector costs,
        // including the status write once the poll sees it RUNNING.
        await Task.Delay(PollInterval * 2);
        var steadyStart = _state.Calls.Count;
        var metricsCreated = await _operator.MetricsAsync();
        await Task.Delay(PollInterval * 3);
        var steady = _state.Calls.Skip(steadyStart).ToList();
        var metricsSteady = await _operator.MetricsAsync();
        var createWrites = KubeApiWrites.Between(metricsBefore, metricsCreated);
        static double Reconciles(string m) => OperatorProcess.Series(m, MetricNames.ReconcileTotal).Where(x => x.Labels.GetValueOrDefault("kind") == "ManagedConnector").Sum(x => x.Value);
        var reconcilesPerCreate = (Reconciles(metricsCreated) - Reconciles(metricsBefore)) / _n;
        var steadyKubeWrites = KubeApiWrites.Between(metricsCreated, metricsSteady);
        Console.Error.WriteLine($"bench: API-server requests while creating: {KubeApiWrites.Describe(metricsBefore, metricsCreated)}");
        Console.Error.WriteLine($"bench: API-server requests in steady state: {KubeApiWrites.Describe(metricsCreated, metricsSteady)}");
        var lists = steady.Count(c => c.Method == "GET" && c.Route == "connectors?expand");
        var steadyWrites = steady.Count(c => c.Method != "GET");
        var (anon, peak) = _operator!.Rss();
        var heap = await _operator.ManagedHeapMbAsync();
        if (Environment.GetEnvironmentVariable("BENCH_HOLD_SECONDS") is { } hold)
        {
            Console.Error.WriteLine($"bench: holding the operator (pid {_operator!.Id}) for {hold} s");
            await Task.Delay(TimeSpan.FromSeconds(int.Parse(hold, CultureInfo.InvariantCulture)));
        }
        if (GcDumpPath is { } dump)
        {
            // Where the heap goes, for tuning: dotnet-gcdump (a global tool) writes the live object graph.
            var (code, output) = await TestCluster.RunAsync("dotnet-gcdump", new[] { "collect", "-p", _operator!.Id.ToString(CultureInfo.InvariantCulture), "-o", dump }, timeout: TimeSpan.FromMinutes(5));
            Console.Error.WriteLine($"bench: gcdump {dump} ({code}) {output.Trim()}");
        }

        // 3. From a change to its Confluent call, with every other connector in sync.
        var changeLatencies = await ChangeLatenciesAsync(ready);

        // Calls per connector on update and delete, on a sample of ten.
        var sample = Enumerable.Range(0, Math.Min(10, _n)).ToList();
        var before = _state.Calls.Count;
        foreach (var i in sample)
            await _api.PatchAsync<V1Alpha1ManagedConnector>(Mc, $"dept{i % _departments}", $"c{i}", "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"}}}", PatchKind.Merge);
        await WaitAsync(() => sample.All(i => _state.Find($"env-bench{i % _departments % _clusters}", $"lkc-bench{i % _departments % _clusters}", $"d{i % _departments}.dept{i % _departments}.c{i}")?.Config["quickstart"] == "USERS"));
        var updateCalls = _state.Calls.Skip(before).Count(c => c.Method is "PUT" or "POST") / (double)sample.Count;
        before = _state.Calls.Count;
        foreach (var i in sample) await _api.DeleteAsync(Mc, $"dept{i % _departments}", $"c{i}");
        await WaitAsync(() => sample.All(i => _state.Find($"env-bench{i % _departments % _clusters}", $"lkc-bench{i % _departments % _clusters}", $"d{i % _departments}.dept{i % _departments}.c{i}") is null));
        var deleteCalls = _state.Calls.Skip(before).Count(c => c.Method == "DELETE") / (double)sample.Count;

        // 4. Start-up with N objects present (caches synced and leader acquired).
        await StopOperatorAsync();
        await Task.Delay(TimeSpan.FromSeconds(16));   // the killed leader's lease must expire first (15 s)
        var startup = await StartOperatorAsync();
        // A restart is a burst of its own: every object listed at once, every connector reconciled and the Confluent
        // lists read whole. The peak of the restarted operator once it has gone through them all.
        await _operator!.WaitIdleAsync(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10));
        var (_, restartPeak) = _operator.Rss();
        await StopOperatorAsync();

        // The floor: the same API server, N status writes, the operator's parallelism, nothing else running.
        var all = (await _api.ListAsync<V1Alpha1ManagedConnector>(Mc)).Items;
        sw.Restart();
        await Parallel.ForEachAsync(all, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (m, ct) =>
            await _api.PatchAsync<V1Alpha1ManagedConnector>(Mc, m.Metadata.NamespaceProperty, m.Metadata.Name,
                "{\"status\":{\"lastSyncTime\":\"" + DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) + "\"}}", PatchKind.Merge, "status", ct));
        var floor = sw.Elapsed * _n / Math.Max(1, all.Count);

        return new RunResult(_n, _departments, _clusters, convergence, floor, lists / 3.0 / _clusters, steadyWrites,
            createCalls / (double)_n, updateCalls, deleteCalls, peak, anon, heap, startup, restartPeak)
        {
            WritesPerCreate = createWrites.Per(_n),
            ReconcilesPerCreate = reconcilesPerCreate,
            SteadyKubeWrites = steadyKubeWrites.Metadata + steadyKubeWrites.Status + steadyKubeWrites.Events + steadyKubeWrites.Other,
            ChangeLatencyMs = changeLatencies,
        };
    }

    /// <summary>
    /// Patches the config of <see cref="Changes"/> connectors spread over the N (not the ten the update sample uses), one
    /// at a time, and times each from the patch request to the emulator receiving the PUT of that connector's config.
    /// From the request, not from its answer: the API server sends the answer and the watch event together, and the
    /// operator's PUT often arrives before the bench has read the answer (from the answer: -15 to +9 ms at N=100), so
    /// only the time from the request is well defined; it includes the patch's own round trip. Both are logged. The
    /// next change waits until the connector is Ready at its new generation again and every other one still is. A change
    /// whose PUT does not come within 30 s counts as 30 s.
    /// </summary>
    private async Task<IReadOnlyList<double>> ChangeLatenciesAsync(ReadyWatch ready)
    {
        var k = Math.Min(Changes, _n - 10);
        var fromAnswer = new List<double>();
        var fromSend = new List<double>();
        for (var j = 0; j < k; j++)
        {
            var i = 10 + (int)((long)j * (_n - 10) / k);
            var d = i % _departments;
            var remote = $"d{d}.dept{d}.c{i}";
            var put = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnCall(CallRecord c)
            {
                if (c.Method == "PUT" && c.Connector == remote) put.TrySetResult(c.ReceivedAt);
            }
            _state.CallReceived += OnCall;
            try
            {
                var sent = DateTimeOffset.UtcNow;
                var patched = await _api.PatchAsync<V1Alpha1ManagedConnector>(Mc, $"dept{d}", $"c{i}", "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"}}}", PatchKind.Merge);
                var answered = DateTimeOffset.UtcNow;
                if (await Task.WhenAny(put.Task, Task.Delay(ChangeTimeout)) == put.Task)
                {
                    fromAnswer.Add((put.Task.Result - answered).TotalMilliseconds);
                    fromSend.Add((put.Task.Result - sent).TotalMilliseconds);
                }
                else
                {
                    Console.Error.WriteLine($"bench: no PUT for {remote} within {ChangeTimeout.TotalSeconds} s of its change");
                    fromAnswer.Add(ChangeTimeout.TotalMilliseconds);
                    fromSend.Add(ChangeTimeout.TotalMilliseconds);
                }
                await WaitAsync(() => ready.IsReadyAt($"dept{d}", $"c{i}", patched.Metadata.Generation ?? 0) && ready.Ready >= _n);
            }
            finally
            {
                _state.CallReceived -= OnCall;
            }
        }
        string Summary(IReadOnlyList<double> v) => string.Create(CultureInfo.InvariantCulture,
            $"min {v.DefaultIfEmpty(double.NaN).Min():F1}, p50 {RunResult.Percentile(v, 0.5):F1}, p90 {RunResult.Percentile(v, 0.9):F1}, p99 {RunResult.Percentile(v, 0.99):F1}, max {v.DefaultIfEmpty(double.NaN).Max():F1}");
        Console.Error.WriteLine($"bench: change → PUT (ms) over {fromSend.Count} changes, from the patch request: {Summary(fromSend)}; from its answer: {Summary(fromAnswer)}");
        return fromSend;
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("bench wait timed out");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopOperatorAsync();
        await _emulator.StopAsync();
        await _emulator.DisposeAsync();
        await _kube.DisposeAsync();
    }
}
