// Admission latency with 10,000 ManagedConnectors in the cache (plain Stopwatch; no BenchmarkDotNet).
// dotnet run -c Release --project bench/ConnectOperator.Bench -- admission [connectors] [iterations]
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Webhooks;
using k8s;
using k8s.Models;

namespace ConnectOperator.Bench;

public static class AdmissionBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var connectors = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
        var iterations = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5_000;
        const int departments = 20;

        var depts = Enumerable.Range(0, departments).Select(d => new V1Alpha1Department
        {
            Metadata = new V1ObjectMeta { Name = $"dept{d}" },
            Spec = new V1Alpha1DepartmentSpec
            {
                Namespaces = new List<string> { $"ns{d}a", $"ns{d}b" },
                Confluent = new V1Alpha1DepartmentConfluent { CredentialsSecretRef = new V1Alpha1CredentialsSecretRef { Name = "c" } },
                Policy = new V1Alpha1DepartmentPolicy { AllowedConnectorClasses = new List<string> { "DatagenSource" }, TopicPrefixes = new List<string> { $"d{d}." }, AllowedHosts = new List<string> { "*.db.internal" } },
            },
        }).ToList();
        var quotas = depts.Select(d => new V1Alpha1ConnectorQuota
        {
            Metadata = new V1ObjectMeta { Name = d.Metadata.Name + "-q" },
            Spec = new V1Alpha1ConnectorQuotaSpec { DepartmentRef = new V1Alpha1DepartmentRef { Name = d.Metadata.Name }, Hard = new V1Alpha1QuotaAmounts { Connectors = connectors, Tasks = connectors * 10, TasksPerConnector = 10 } },
        }).ToList();
        V1Alpha1ManagedConnector Mc(int i, string? name = null) => new()
        {
            Metadata = new V1ObjectMeta { Name = name ?? $"c{i}", NamespaceProperty = $"ns{i % departments}{(i % 2 == 0 ? "a" : "b")}", ResourceVersion = "1" },
            Spec = new V1Alpha1ManagedConnectorSpec { ConnectorClass = "DatagenSource", TasksMax = 1, Config = new Dictionary<string, string> { ["kafka.topic"] = $"d{i % departments}.orders" } },
        };

        var di = await Synced(depts);
        var qi = await Synced(quotas);
        var ci = await Synced(Enumerable.Range(0, connectors).Select(i => Mc(i)).ToList());
        var tenants = new TenantDirectory(di, qi, ci);
        var ledger = new ReservationLedger(TimeProvider.System, TimeSpan.FromSeconds(30));
        var decider = new AdmissionDecider(tenants, ledger, new WebhookOptions(), "connect-operator-system");

        AdmissionRequest Req(int i) => new()
        {
            Uid = i.ToString(), Operation = "CREATE", DryRun = true,   // dry run: every iteration sees the same usage
            Object = JsonDocument.Parse(KubernetesJson.Serialize(Mc(i, $"new{i}"))).RootElement.Clone(),
        };
        var requests = Enumerable.Range(0, iterations).Select(Req).ToList();
        for (var i = 0; i < Math.Min(500, iterations); i++) decider.Decide(AdmissionDecider.ManagedConnectors, requests[i]);   // warm-up

        var samples = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            var t = Stopwatch.GetTimestamp();
            var r = decider.Decide(AdmissionDecider.ManagedConnectors, requests[i]);
            samples[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            if (!r.Allowed) throw new InvalidOperationException("unexpected denial: " + r.Status?.Message);
        }
        Array.Sort(samples);
        double P(double q) => samples[Math.Min(samples.Length - 1, (int)Math.Ceiling(q * samples.Length) - 1)];
        Console.WriteLine($"ManagedConnector CREATE admission, {connectors} connectors cached in {departments} departments, {iterations} requests");
        Console.WriteLine($"p50 {P(0.50):F3} ms  p90 {P(0.90):F3} ms  p99 {P(0.99):F3} ms  max {samples[^1]:F3} ms");
        return 0;
    }

    private static async Task<Informer<T>> Synced<T>(List<T> items) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var informer = new Informer<T>(new StaticListerWatcher<T>(items), new InformerOptions { ResyncPeriod = TimeSpan.Zero });
        _ = informer.RunAsync(CancellationToken.None);
        await informer.WaitForSyncAsync(CancellationToken.None);
        return informer;
    }
}

internal sealed class StaticListerWatcher<T>(List<T> items) : IListerWatcher<T>
{
    public Task<ListResult<T>> ListAsync(CancellationToken ct) => Task.FromResult(new ListResult<T>(items, "1"));

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, int timeoutSeconds, [EnumeratorCancellation] CancellationToken ct)
    {
        await Task.Delay(Timeout.Infinite, ct);
        yield break;
    }
}
