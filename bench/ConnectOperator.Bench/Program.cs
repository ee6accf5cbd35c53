// ConnectOperator benchmark harness (issue: scale and resilience). Measures, on the real test API server, the
// Confluent emulator and the operator binary (Release, as its own process):
//   1. convergence time for N ManagedConnectors, and the API-server floor (a plain loop of N status writes);
//   2. Confluent API calls: per poll interval in steady state, and per connector on create/update/delete;
//   3. operator peak RSS and managed heap;
//   4. start-up time to ready (caches synced, leader acquired) with N objects present;
//   5. API-server writes and reconcile passes per new connector (the operator's own counters, scraped);
//   6. latency from a ManagedConnector change to its Confluent PUT while the others are in sync.
// Usage: dotnet run -c Release --project bench/ConnectOperator.Bench -- [--sizes 100,1000] [--runs 3] [--departments 20] [--clusters 2] [--changes 100]
//        dotnet run -c Release --project bench/ConnectOperator.Bench -- admission [connectors] [iterations]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConnectOperator.Bench;

foreach (var kv in Arg("--operator-env", "").Split(',', StringSplitOptions.RemoveEmptyEntries))
    OperatorProcess.ExtraEnvironment[kv.Split('=', 2)[0]] = kv.Split('=', 2)[1];

// `admission [connectors] [iterations]`: webhook decision latency with the cache full (see AdmissionBench).
if (args.Length > 0 && args[0] == "admission") return await AdmissionBench.RunAsync(args[1..]);
// `memory`: bytes per cached connector and per poll-snapshot entry, as received and as kept (MemoryProbe).
if (args.Length > 0 && args[0] == "memory") return await MemoryProbe.RunAsync(args[1..]);
// `admission-http [connectors] [requests/s] [seconds]`: the same end to end over HTTPS at a steady rate (AdmissionHttpBench).
if (args.Length > 0 && args[0] == "admission-http") return await AdmissionHttpBench.RunAsync(args[1..]);

var sizes = Arg("--sizes", "100,1000").Split(',').Select(int.Parse).ToArray();
var runs = int.Parse(Arg("--runs", "3"), CultureInfo.InvariantCulture);
var departments = int.Parse(Arg("--departments", "20"), CultureInfo.InvariantCulture);
var clusters = int.Parse(Arg("--clusters", "2"), CultureInfo.InvariantCulture);
var output = Arg("--out", "");
if (Arg("--gcdump", "") is { Length: > 0 } gcdump) Scenario.GcDumpPath = gcdump;
Scenario.Changes = int.Parse(Arg("--changes", "100"), CultureInfo.InvariantCulture);
var results = new List<RunResult>();
foreach (var n in sizes)
    for (var run = 1; run <= runs; run++)
    {
        Console.Error.WriteLine($"bench: N={n} run {run}/{runs}");
        await using var scenario = await Scenario.StartAsync(n, departments, clusters, $"n{n}r{run}");
        results.Add(await scenario.RunAsync());
        Console.Error.WriteLine("bench: " + results[^1]);
    }

var md = Report.Markdown(results, string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
Console.WriteLine(md);
if (output.Length > 0) await File.WriteAllTextAsync(output, md);
return 0;

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

namespace ConnectOperator.Bench
{
    public sealed record RunResult(int N, int Departments, int Clusters, TimeSpan Convergence, TimeSpan Floor, double ListCallsPerClusterPerInterval,
        int SteadyWriteCalls, double CreateCallsPerConnector, double UpdateCallsPerConnector, double DeleteCallsPerConnector,
        double PeakRssMb, double PrivateRssMb, double ManagedHeapMb, TimeSpan StartupToReady, double RestartPeakRssMb)
    {
        public double Ratio => Convergence / Floor;

        /// <summary>The operator's API-server writes while N connectors were created, divided by N (lease renewals left out).</summary>
        public KubeApiWrites WritesPerCreate { get; init; } = new(0, 0, 0, 0);

        /// <summary>ManagedConnector reconcile passes while N connectors were created, divided by N.</summary>
        public double ReconcilesPerCreate { get; init; }

        /// <summary>API-server writes (Events included, lease renewals not) over three poll intervals in steady state.</summary>
        public double SteadyKubeWrites { get; init; }

        /// <summary>Milliseconds from each config change's patch request to the Confluent PUT it caused.</summary>
        public IReadOnlyList<double> ChangeLatencyMs { get; init; } = Array.Empty<double>();

        public double ChangeLatencyP50 => Percentile(ChangeLatencyMs, 0.50);
        public double ChangeLatencyP99 => Percentile(ChangeLatencyMs, 0.99);

        /// <summary>Nearest rank; NaN for no samples.</summary>
        public static double Percentile(IReadOnlyList<double> values, double p)
        {
            if (values.Count == 0) return double.NaN;
            var sorted = values.Order().ToList();
            return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
        }
    }

    public static class Report
    {
        public static string Markdown(IReadOnlyList<RunResult> results, string args)
        {
            var sb = new StringBuilder();
            sb.AppendLine($"Machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
            sb.AppendLine($"Command: `dotnet run -c Release --project bench/ConnectOperator.Bench -- {args}`");
            sb.AppendLine();
            sb.AppendLine("| N | runs | convergence (s) | API-server floor (s) | ratio | list calls / cluster / interval | steady write calls | calls per create | per update | per delete | peak RSS (MB) | private RSS (MB) | managed heap (MB) | start-up to ready (s) | peak RSS after a restart (MB) | API writes / new connector: metadata | status | events | total without events | reconciles / new connector | steady API writes | change → PUT p50 (ms) | p99 (ms) |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var g in results.GroupBy(r => r.N))
            {
                double Med(Func<RunResult, double> f) { var v = g.Select(f).Order().ToList(); return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2; }
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {g.Key} | {g.Count()} | {Med(r => r.Convergence.TotalSeconds):F1} | {Med(r => r.Floor.TotalSeconds):F1} | {Med(r => r.Ratio):F1} | {Med(r => r.ListCallsPerClusterPerInterval):F2} | {Med(r => r.SteadyWriteCalls):F0} | {Med(r => r.CreateCallsPerConnector):F2} | {Med(r => r.UpdateCallsPerConnector):F2} | {Med(r => r.DeleteCallsPerConnector):F2} | {Med(r => r.PeakRssMb):F0} | {Med(r => r.PrivateRssMb):F0} | {Med(r => r.ManagedHeapMb):F0} | {Med(r => r.StartupToReady.TotalSeconds):F1} | {Med(r => r.RestartPeakRssMb):F0} | {Med(r => r.WritesPerCreate.Metadata):F2} | {Med(r => r.WritesPerCreate.Status):F2} | {Med(r => r.WritesPerCreate.Events):F2} | {Med(r => r.WritesPerCreate.WithoutEvents):F2} | {Med(r => r.ReconcilesPerCreate):F2} | {Med(r => r.SteadyKubeWrites):F0} | {Med(r => r.ChangeLatencyP50):F0} | {Med(r => r.ChangeLatencyP99):F0} |"));
            }
            sb.AppendLine();
            sb.AppendLine("Medians over the runs. Convergence: from the first create until every ManagedConnector is Ready. Floor: a plain loop writing N status updates to the same API server with the operator's parallelism (4). Peak RSS is VmHWM of the operator process; private RSS is RssAnon after convergence (RSS also counts the mapped runtime DLLs); managed heap is the GC heap size after convergence. Peak RSS after a restart: the operator restarted with the N objects present, once it has reconciled them all. "
                + "API writes / new connector: the operator's connect_operator_kube_api_requests_total (write verbs, every attempt, 409s included, lease renewals left out) from the first create until two poll intervals after convergence, divided by N; metadata = ManagedConnector finalizer/metadata patches, status = its status subresource, total without events = those two plus any other object's writes. "
                + "Reconciles / new connector: connect_operator_reconcile_total{kind=\"ManagedConnector\"} over the same window, divided by N. Steady API writes: the same counter's writes (Events included, lease renewals not) over the three steady-state poll intervals. "
                + "Change → PUT: one ManagedConnector's spec.config patched at a time, the others in sync; from the patch request to the emulator receiving that connector's PUT (nearest-rank percentiles over --changes samples, 100 by default).");
            return sb.ToString();
        }
    }
}
