using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ConnectOperator.Emulator;
using ConnectOperator.Entities;
using ConnectOperator.Hosting;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Webhooks;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectOperator.Bench;

/// <summary>
/// Admission latency end to end, as the API server sees it: AdmissionReview POSTs over HTTPS (kept-alive TLS, the
/// operator's self-managed certificate) to a real operator whose caches hold N ManagedConnectors from a real API server,
/// sent at a steady rate. The operator runs as its own process (<see cref="OperatorProcess"/>), so the load generator's
/// allocations and threads are not counted against it. `admission-http [connectors] [requestsPerSecond] [seconds]`.
/// </summary>
public static class AdmissionHttpBench
{
    private const int Departments = 20;

    public static async Task<int> RunAsync(string[] args)
    {
        var n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var rate = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50;
        var seconds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 30;

        await using var kube = await TestCluster.StartAsync("bench-admission");
        await kube.InstallCrdsAsync();
        var api = new KubeApiClient(kube.Client);
        var emulator = EmulatorApp.Build(new EmulatorOptions { Urls = "http://127.0.0.1:0", Keys = { new EmulatorApiKey("BENCHKEY", "bench-secret") } });
        await emulator.StartAsync();
        const string opNs = "connect-operator-system";
        await kube.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = opNs } });
        await kube.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "creds" },
            Data = new Dictionary<string, byte[]> { ["api-key"] = Encoding.UTF8.GetBytes("BENCHKEY"), ["api-secret"] = Encoding.UTF8.GetBytes("bench-secret") },
        }, opNs);
        for (var d = 0; d < Departments; d++)
        {
            await kube.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = $"dept{d}" } });
            // Suspended: the reconcilers leave Confluent alone, so the measurement sees only admission work.
            await api.CreateAsync(ResourceKind.For<V1Alpha1Department>(namespaced: false), null, new V1Alpha1Department
            {
                Metadata = new V1ObjectMeta { Name = $"dept{d}" },
                Spec = new V1Alpha1DepartmentSpec
                {
                    Namespaces = new List<string> { $"dept{d}" }, Suspend = true,
                    Confluent = new V1Alpha1DepartmentConfluent { EnvironmentId = "env-bench", KafkaClusterId = "lkc-bench", ServiceAccountId = "sa-bench", CredentialsSecretRef = new V1Alpha1CredentialsSecretRef { Name = "creds" } },
                    Policy = new V1Alpha1DepartmentPolicy { AllowedConnectorClasses = new List<string> { "DatagenSource" }, TopicPrefixes = new List<string> { $"dept{d}." } },
                },
            });
            await api.CreateAsync(ResourceKind.For<V1Alpha1ConnectorQuota>(namespaced: false), null, new V1Alpha1ConnectorQuota
            {
                Metadata = new V1ObjectMeta { Name = $"dept{d}" },
                Spec = new V1Alpha1ConnectorQuotaSpec { DepartmentRef = new V1Alpha1DepartmentRef { Name = $"dept{d}" }, Hard = new V1Alpha1QuotaAmounts { Connectors = n, Tasks = n * 10, TasksPerConnector = 10 } },
            });
        }
        var mcKind = ResourceKind.For<V1Alpha1ManagedConnector>();
        await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await api.CreateAsync(mcKind, $"dept{i % Departments}", Connector(i, $"c{i}"), ct));

        // The operator as its own process, as in a pod: the load generator below must not share its heap or thread pool.
        var port = TestCluster.FreePort();
        await using var op = await OperatorProcess.StartAsync(kube.KubeconfigPath, new[]
        {
            $"--Operator:Namespace={opNs}", $"--Operator:ConfluentBaseUrl={emulator.Urls.First()}", "--Operator:AllowInsecureConfluentUrl=true", $"--Operator:WebhookPort={port}",
        }, TimeSpan.FromMilliseconds(200));   // ready: every informer has listed, so the cache holds all n connectors
        await op.WaitIdleAsync(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10));   // the first pass writes every connector's status

        using var http = new HttpClient(new SocketsHttpHandler
        {
            // The operator's own self-signed certificate; the API server would trust it through caBundle.
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        });
        var url = $"https://127.0.0.1:{port}{WebhookRoutes.PathFor("managedconnectors")}";
        HttpContent Body(int i) => JsonContent.Create(new AdmissionReview
        {
            Request = new AdmissionRequest
            {
                Uid = Guid.NewGuid().ToString(), Operation = "CREATE", DryRun = true, Namespace = $"dept{i % Departments}", Name = $"new{i}",
                Kind = new GroupVersionKind { Group = ConnectApi.Group, Version = ConnectApi.Version, Kind = V1Alpha1ManagedConnector.KubeKind },
                Resource = new GroupVersionResource { Group = ConnectApi.Group, Version = ConnectApi.Version, Resource = "managedconnectors" },
                Object = JsonDocument.Parse(KubernetesJson.Serialize(Connector(i, $"new{i}"))).RootElement.Clone(),
            },
        });
        for (var i = 0; i < 200; i++) (await http.PostAsync(url, Body(i))).EnsureSuccessStatusCode();   // warm-up

        var gcBefore = GcCounts(await op.MetricsAsync());
        var total = rate * seconds;
        var samples = new double[total];
        var sw = Stopwatch.StartNew();
        var tasks = new List<Task>();
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            if (due > sw.Elapsed) await Task.Delay(due - sw.Elapsed);
            var k = i;
            tasks.Add(Task.Run(async () =>
            {
                using var body = Body(k);
                await body.LoadIntoBufferAsync();   // the API server has its request ready too: time only the round trip
                var t = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync(url, body);
                var review = await response.Content.ReadFromJsonAsync<AdmissionReview>();
                samples[k] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                if (review?.Response?.Allowed != true) throw new InvalidOperationException("unexpected denial: " + review?.Response?.Status?.Message);
            }));
        }
        await Task.WhenAll(tasks);
        Array.Sort(samples);
        double P(double q) => samples[Math.Min(samples.Length - 1, (int)Math.Ceiling(q * samples.Length) - 1)];
        Console.WriteLine($"ManagedConnector CREATE admission over HTTPS, {n} connectors cached, {rate} requests/s for {seconds} s ({total} requests)");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"p50 {P(0.50):F3} ms  p90 {P(0.90):F3} ms  p99 {P(0.99):F3} ms  max {samples[^1]:F3} ms"));
        Console.WriteLine($"operator garbage collections during the run (gen0/gen1/gen2): {string.Join('/', GcCounts(await op.MetricsAsync()).Zip(gcBefore, (a, b) => a - b))}");
        var (_, peak) = op.Rss();
        var heap = await op.ManagedHeapMbAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"operator peak RSS {peak:F0} MB, managed heap {heap:F0} MB"));
        await emulator.StopAsync();
        return 0;
    }

    private static double[] GcCounts(string metrics)
        => Enumerable.Range(0, 3).Select(g => OperatorProcess.Sample(metrics, $"dotnet_collection_count_total{{generation=\"{g}\"}}") ?? 0).ToArray();

    private static V1Alpha1ManagedConnector Connector(int i, string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = $"dept{i % Departments}" },
        Spec = new V1Alpha1ManagedConnectorSpec
        {
            ConnectorClass = "DatagenSource",
            Config = new Dictionary<string, string> { ["kafka.topic"] = $"dept{i % Departments}.orders", ["quickstart"] = "ORDERS", ["output.data.format"] = "JSON" },
        },
    };
}
