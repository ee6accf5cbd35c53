using System.Diagnostics;
using System.Globalization;
using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Bench;

/// <summary>
/// The operator binary (Release build) as its own process, the way it runs in a pod: its own GC heap and thread pool,
/// so neither the bench's load generator nor the in-process emulator shares them and what is measured is the operator.
/// </summary>
public sealed class OperatorProcess : IAsyncDisposable
{
    /// <summary>Extra environment for the operator process (e.g. GC knobs while tuning memory): <c>--operator-env K=V,K=V</c>.</summary>
    public static Dictionary<string, string> ExtraEnvironment { get; } = new();

    private readonly Process _process;
    private readonly Stopwatch _started;

    public int MetricsPort { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Time since the process was started.</summary>
    public TimeSpan StartedFor => _started.Elapsed;

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _tail;

    private OperatorProcess(Process process, Stopwatch started, int metricsPort, System.Collections.Concurrent.ConcurrentQueue<string> tail)
    {
        _process = process;
        _started = started;
        MetricsPort = metricsPort;
        _tail = tail;
    }

    /// <summary>Throws, with the operator's last lines of output, if it has exited: a run must not wait on a dead operator.</summary>
    public void ThrowIfExited()
    {
        if (_process.HasExited) throw new InvalidOperationException($"operator exited with {_process.ExitCode}:\n{string.Join('\n', _tail)}");
    }

    /// <summary>Starts <c>connect-operator run</c> with <paramref name="args"/> and returns once <c>/readyz</c> answers (caches synced).</summary>
    public static async Task<OperatorProcess> StartAsync(string kubeconfig, IEnumerable<string> args, TimeSpan poll)
    {
        // BENCH_OPERATOR_DLL: measure another build of the operator, e.g. a ReadyToRun publish or a NativeAOT executable.
        var dll = Environment.GetEnvironmentVariable("BENCH_OPERATOR_DLL")
                  ?? Path.Combine(TestCluster.RepoRoot, "src", "ConnectOperator", "bin", "Release", "net10.0", "connect-operator.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"build the operator first: dotnet build -c Release ({dll} missing)");
        var metricsPort = TestCluster.FreePort();
        // A native (NativeAOT) build is started directly, a managed one through the dotnet host.
        var native = !dll.EndsWith(".dll", StringComparison.Ordinal);
        var psi = new ProcessStartInfo(native ? dll : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (!native) psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("run");
        psi.ArgumentList.Add($"--Operator:MetricsPort={metricsPort}");
        psi.ArgumentList.Add("--Operator:BindAddress=127.0.0.1");
        psi.ArgumentList.Add("--Serilog:MinimumLevel:Default=Warning");
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["KUBECONFIG"] = kubeconfig;
        foreach (var kv in ExtraEnvironment) psi.Environment[kv.Key] = kv.Value;
        var sw = Stopwatch.StartNew();
        var process = Process.Start(psi)!;
        // The last lines of output, to say why when the operator exits.
        var tail = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(string? line)
        {
            if (line is null) return;
            tail.Enqueue(line);
            while (tail.Count > 60) tail.TryDequeue(out _);
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var op = new OperatorProcess(process, sw, metricsPort, tail);
        using var http = new HttpClient();
        while (true)
        {
            op.ThrowIfExited();
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{metricsPort}/readyz")).IsSuccessStatusCode) return op;
            }
            catch (HttpRequestException) { }
            await Task.Delay(poll);
        }
    }

    /// <summary>Peak RSS, and the private (anonymous) part now: RSS also counts the runtime's mapped DLLs, shared between processes.</summary>
    public (double AnonMb, double PeakMb) Rss()
    {
        var status = File.ReadAllLines($"/proc/{_process.Id}/status");
        double Kb(string key) => double.Parse(status.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return (Kb("RssAnon") / 1024, Kb("VmHWM") / 1024);
    }

    /// <summary>One sample of the operator's own Prometheus metrics, as text.</summary>
    public async Task<string> MetricsAsync()
    {
        using var http = new HttpClient();
        return await http.GetStringAsync($"http://127.0.0.1:{MetricsPort}/metrics");
    }

    /// <summary>
    /// Waits until the operator is idle: no work queued and no reconcile finished for <paramref name="quiet"/>. A
    /// latency measured while the first pass over 10,000 objects is still writing their status measures that pass.
    /// </summary>
    public async Task WaitIdleAsync(TimeSpan quiet, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        double last = -1;
        var since = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            var text = await MetricsAsync();
            var reconciles = Sample(text, "connect_operator_reconcile_total") ?? 0;
            var depth = Sample(text, "connect_operator_workqueue_depth") ?? 0;
            if (reconciles != last || depth > 0) { last = reconciles; since.Restart(); }
            else if (since.Elapsed >= quiet) return;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        throw new TimeoutException($"the operator did not become idle within {timeout}");
    }

    /// <summary>
    /// The sum of the samples of <paramref name="series"/> in a Prometheus text exposition, over all label sets, or one
    /// label set when <paramref name="series"/> spells it out (<c>name{label="value"}</c>); null when there is none.
    /// </summary>
    public static double? Sample(string metrics, string series)
    {
        double? sum = null;
        foreach (var line in metrics.Split('\n'))
            if (line.StartsWith(series + " ", StringComparison.Ordinal) || (!series.EndsWith('}') && line.StartsWith(series + "{", StringComparison.Ordinal)))
                sum = (sum ?? 0) + double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        return sum;
    }

    /// <summary>Every sample of the family <paramref name="name"/> in a Prometheus text exposition, with its labels.</summary>
    public static IEnumerable<(IReadOnlyDictionary<string, string> Labels, double Value)> Series(string metrics, string name)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length <= name.Length || line[name.Length] is not ('{' or ' ')) continue;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            var end = name.Length;
            if (line[name.Length] == '{')
            {
                // name{a="x",b="y"} value: values are label values the operator writes (no escaped quotes in them).
                end = line.IndexOf('}', name.Length);
                foreach (var pair in line[(name.Length + 1)..end].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = pair.IndexOf('=');
                    labels[pair[..eq]] = pair[(eq + 1)..].Trim('"');
                }
                end++;
            }
            yield return (labels, double.Parse(line[end..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
        }
    }

    public async Task<double> ManagedHeapMbAsync() => (Sample(await MetricsAsync(), "dotnet_total_memory_bytes") ?? double.NaN) / (1 << 20);

    public async ValueTask DisposeAsync()
    {
        try { _process.Kill(true); await _process.WaitForExitAsync(); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
