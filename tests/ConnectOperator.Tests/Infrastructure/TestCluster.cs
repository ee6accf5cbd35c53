using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Infrastructure;

/// <summary>
/// One real Kubernetes API server for the whole test run. Preference order, as in the README:
/// 1. KUBEBUILDER_ASSETS (real kube-apiserver + etcd, as controller-runtime's envtest uses);
/// 2. the project's own hack/kube-testenv (built from Debian packages on first use);
/// 3. a clear error saying how to get either.
/// kube-testenv.sh runs with this process's environment, so KUBE_TESTENV_CACHE (default ~/.cache/kube-testenv) selects
/// its cache. Both enforce RBAC; <see cref="Client"/> and <see cref="KubeconfigPath"/> are system:masters, and
/// <see cref="CreateIdentityAsync"/> gives an identity with only what RBAC grants it.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static TestCluster? _shared;

    private readonly List<Process> _processes = new();
    private readonly Func<Task>? _stop;
    private readonly Func<string, string[], Task<TestIdentity>> _newIdentity;

    public string KubeconfigPath { get; }
    public string Mode { get; }
    public KubernetesClientConfiguration Config { get; }
    public IKubernetes Client { get; }

    private TestCluster(string kubeconfigPath, string mode, Func<Task>? stop, Func<string, string[], Task<TestIdentity>> newIdentity,
        IEnumerable<Process>? processes = null)
    {
        KubeconfigPath = kubeconfigPath;
        Mode = mode;
        _stop = stop;
        _newIdentity = newIdentity;
        if (processes != null) _processes.AddRange(processes);
        Config = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfigPath);
        Client = new Kubernetes(Config);
    }

    /// <summary>The shared cluster, started on first use and stopped by <see cref="GlobalTeardown"/>.</summary>
    public static async Task<TestCluster> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _shared ??= await StartAsync();
        }
        finally { Gate.Release(); }
    }

    internal static async Task StopSharedAsync()
    {
        if (_shared != null) await _shared.DisposeAsync();
        _shared = null;
    }

    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "ConnectOperator.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find ConnectOperator.sln above " + AppContext.BaseDirectory);
    }

    /// <summary>A new, separate API server (benchmarks start one per size); <paramref name="instance"/> names its run dir.</summary>
    public static async Task<TestCluster> StartAsync(string? instance = null)
    {
        var assets = Environment.GetEnvironmentVariable("KUBEBUILDER_ASSETS");
        if (!string.IsNullOrEmpty(assets) && File.Exists(Path.Combine(assets, "kube-apiserver")) && File.Exists(Path.Combine(assets, "etcd")))
            return await StartEnvtestAsync(assets);

        var script = Path.Combine(RepoRoot, "hack", "kube-testenv", "kube-testenv.sh");
        if (File.Exists(script))
            return await StartKubeTestenvAsync(script, instance);

        throw new InvalidOperationException(
            "No Kubernetes API server for integration tests. Either set KUBEBUILDER_ASSETS to a folder holding kube-apiserver and etcd " +
            "(e.g. `setup-envtest use -p path`), or restore hack/kube-testenv/kube-testenv.sh (it builds one from Debian packages).");
    }

    private static async Task<TestCluster> StartKubeTestenvAsync(string script, string? instance)
    {
        var runDir = Path.Combine(Path.GetTempPath(), $"connect-operator-testenv-{Environment.ProcessId}{(instance is null ? "" : "-" + instance)}");
        var env = new Dictionary<string, string> { ["KUBE_TESTENV_DIR"] = runDir };
        var (code, output) = await RunAsync("bash", new[] { script, "start" }, env, TimeSpan.FromMinutes(20));
        if (code != 0) throw new InvalidOperationException($"kube-testenv start failed ({code}):\n{output}");
        var kubeconfig = Path.Combine(runDir, "kubeconfig");
        if (!File.Exists(kubeconfig)) throw new InvalidOperationException($"kube-testenv did not write {kubeconfig}:\n{output}");
        return new TestCluster(kubeconfig, "kube-testenv", async () =>
        {
            await RunAsync("bash", new[] { script, "stop" }, env, TimeSpan.FromMinutes(1));
            try { Directory.Delete(runDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }, async (user, groups) =>
        {
            // the server re-reads its token file on change, so the identity works from the next request on
            var (rc, path) = await RunAsync("bash", new[] { script, "kubeconfig", user, string.Join(",", groups) }, env, TimeSpan.FromSeconds(30));
            path = path.Trim();
            if (rc != 0 || !File.Exists(path)) throw new InvalidOperationException($"kube-testenv kubeconfig {user} failed ({rc}):\n{path}");
            var token = System.Text.RegularExpressions.Regex.Match(await File.ReadAllTextAsync(path), @"token: ""([0-9a-f]+)""").Groups[1].Value;
            return new TestIdentity(user, IdentityGroups(user, groups), token, path);
        });
    }

    /// <summary>The groups a token for <paramref name="user"/> carries, as the API server sees them (service accounts get theirs).</summary>
    private static string[] IdentityGroups(string user, string[] groups)
    {
        var all = new List<string>();
        var sa = System.Text.RegularExpressions.Regex.Match(user, "^system:serviceaccount:([^:]+):[^:]+$");
        if (sa.Success) all.AddRange(new[] { "system:serviceaccounts", "system:serviceaccounts:" + sa.Groups[1].Value });
        all.AddRange(groups);
        all.Add("system:authenticated");
        return all.Distinct().ToArray();
    }

    /// <summary>
    /// A new identity on this cluster: <paramref name="user"/> with <paramref name="groups"/> (plus
    /// system:authenticated; a user named system:serviceaccount:NS:NAME also gets system:serviceaccounts and
    /// system:serviceaccounts:NS, as a real service-account token). It has no rights beyond what RBAC grants it
    /// (the bootstrap roles give every authenticated user discovery and self access reviews only). Use
    /// <see cref="KubectlAsAsync"/>, <see cref="ClientFor"/>, or the returned kubeconfig with any client.
    /// With kube-testenv it is a bearer token; with KUBEBUILDER_ASSETS the kubeconfig impersonates the identity
    /// with the admin token (kubectl honours that, KubernetesClient does not).
    /// </summary>
    public Task<TestIdentity> CreateIdentityAsync(string user, params string[] groups) => _newIdentity(user, groups);

    /// <summary>The identity of service account <paramref name="name"/> in <paramref name="ns"/> (the ServiceAccount object itself is not needed).</summary>
    public Task<TestIdentity> CreateServiceAccountIdentityAsync(string ns, string name)
        => _newIdentity($"system:serviceaccount:{ns}:{name}", Array.Empty<string>());

    /// <summary>Shortcut: a kubeconfig file acting as <paramref name="user"/> with <paramref name="groups"/>.</summary>
    public async Task<string> KubeconfigForAsync(string user, params string[] groups) => (await CreateIdentityAsync(user, groups)).KubeconfigPath;

    /// <summary>Runs kubectl as <paramref name="identity"/>; returns exit code and combined output.</summary>
    public Task<(int Code, string Output)> KubectlAsAsync(TestIdentity identity, params string[] args)
        => RunAsync("kubectl", args, new Dictionary<string, string> { ["KUBECONFIG"] = identity.KubeconfigPath }, TimeSpan.FromMinutes(1));

    /// <summary>A KubernetesClient acting as <paramref name="identity"/> (kube-testenv only: needs a real token).</summary>
    public IKubernetes ClientFor(TestIdentity identity)
        => new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(identity.KubeconfigPath));

    /// <summary>Starts etcd and kube-apiserver the way controller-runtime's envtest does (token auth as system:masters), with RBAC like kube-testenv.</summary>
    private static async Task<TestCluster> StartEnvtestAsync(string assets)
    {
        var dir = Directory.CreateTempSubdirectory("connect-operator-envtest-").FullName;
        int etcdPort = FreePort(), peerPort = FreePort(), apiPort = FreePort();
        var etcd = StartProcess(Path.Combine(assets, "etcd"), new[]
        {
            "--data-dir", Path.Combine(dir, "etcd"), "--listen-client-urls", $"http://127.0.0.1:{etcdPort}",
            "--advertise-client-urls", $"http://127.0.0.1:{etcdPort}", "--listen-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--unsafe-no-fsync",
        }, Path.Combine(dir, "etcd.log"));

        using var rsa = RSA.Create(2048);
        var saKey = Path.Combine(dir, "sa.key");
        await File.WriteAllTextAsync(saKey, rsa.ExportRSAPrivateKeyPem());
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await File.WriteAllTextAsync(Path.Combine(dir, "tokens.csv"), $"{token},admin,admin,system:masters\n");
        var api = StartProcess(Path.Combine(assets, "kube-apiserver"), new[]
        {
            "--etcd-servers", $"http://127.0.0.1:{etcdPort}", "--secure-port", apiPort.ToString(), "--bind-address", "127.0.0.1",
            "--cert-dir", Path.Combine(dir, "certs"), "--token-auth-file", Path.Combine(dir, "tokens.csv"),
            "--authorization-mode", "RBAC", "--service-account-issuer", "https://envtest.local",
            "--service-account-key-file", saKey, "--service-account-signing-key-file", saKey,
            "--service-cluster-ip-range", "10.0.0.0/24", "--disable-admission-plugins", "ServiceAccount",
        }, Path.Combine(dir, "apiserver.log"));

        var kubeconfig = Path.Combine(dir, "kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters: [{"{"}name: envtest, cluster: {"{"}server: "https://127.0.0.1:{apiPort}", insecure-skip-tls-verify: true{"}"}{"}"}]
            users: [{"{"}name: admin, user: {"{"}token: "{token}"{"}"}{"}"}]
            contexts: [{"{"}name: envtest, context: {"{"}cluster: envtest, user: admin, namespace: default{"}"}{"}"}]
            current-context: envtest
            """);
        var cluster = new TestCluster(kubeconfig, "envtest", () =>
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
            return Task.CompletedTask;
        }, async (user, groups) =>
        {
            // kube-apiserver reads --token-auth-file once, so identities are impersonated by the admin
            var all = IdentityGroups(user, groups).Where(g => g != "system:authenticated").ToArray();
            var path = Path.Combine(dir, $"kubeconfig-{Guid.NewGuid():N}");
            var yaml = new System.Text.StringBuilder()
                .AppendLine("apiVersion: v1").AppendLine("kind: Config")
                .AppendLine("clusters:").AppendLine("- name: envtest")
                .AppendLine($"  cluster: {{server: \"https://127.0.0.1:{apiPort}\", insecure-skip-tls-verify: true}}")
                .AppendLine("users:").AppendLine("- name: admin").AppendLine("  user:")
                .AppendLine($"    token: \"{token}\"").AppendLine($"    as: \"{user}\"");
            if (all.Length > 0) yaml.AppendLine("    as-groups:").AppendJoin("", all.Select(g => $"    - \"{g}\"\n"));
            yaml.AppendLine("contexts:").AppendLine("- name: envtest").AppendLine("  context: {cluster: envtest, user: admin, namespace: default}")
                .AppendLine("current-context: envtest");
            await File.WriteAllTextAsync(path, yaml.ToString());
            return new TestIdentity(user, IdentityGroups(user, groups), token, path);
        }, new[] { api, etcd });
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await cluster.Client.CoreV1.ReadNamespaceAsync("default");
                return cluster;
            }
            catch (Exception) when (sw.Elapsed < TimeSpan.FromSeconds(90))
            {
                await Task.Delay(500);
            }
        }
    }

    private static Process StartProcess(string file, string[] args, string logFile)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + file);
        var log = new StreamWriter(logFile) { AutoFlush = true };
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    public static int FreePort()
    {
        var l = new TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args, IDictionary<string, string>? env = null, TimeSpan? timeout = null, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin != null, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        if (stdin != null)
        {
            await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(true); throw new TimeoutException($"{file} {string.Join(' ', args)} timed out"); }
        return (p.ExitCode, (await stdout) + (await stderr));
    }

    /// <summary>Runs kubectl against this cluster; returns exit code and combined output.</summary>
    public Task<(int Code, string Output)> KubectlWithInputAsync(string stdin, params string[] args)
        => RunAsync("kubectl", args, new Dictionary<string, string> { ["KUBECONFIG"] = KubeconfigPath }, TimeSpan.FromMinutes(1), stdin);

    public Task<(int Code, string Output)> KubectlAsync(params string[] args)
        => RunAsync("kubectl", args, new Dictionary<string, string> { ["KUBECONFIG"] = KubeconfigPath }, TimeSpan.FromMinutes(1));

    /// <summary>Applies every CRD in crds/ and waits until each is Established. Idempotent.</summary>
    public async Task InstallCrdsAsync()
    {
        // Explicit arrays: with loose strings C# picks the (stdin, params args) overload and "apply" becomes stdin.
        var (code, output) = await KubectlAsync(new[] { "apply", "--server-side", "--force-conflicts", "-f", Path.Combine(RepoRoot, "crds") });
        if (code != 0) throw new InvalidOperationException("applying crds/ failed:\n" + output);
        (code, output) = await KubectlAsync(new[] { "wait", "--for=condition=Established", "--timeout=60s", "-f", Path.Combine(RepoRoot, "crds") });
        if (code != 0) throw new InvalidOperationException("CRDs not Established:\n" + output);
    }

    /// <summary>A fresh namespace with a unique name, for test isolation.</summary>
    public async Task<string> CreateNamespaceAsync(string prefix, IDictionary<string, string>? labels = null)
    {
        var name = $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name, Labels = labels } });
        return name;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            try { if (!p.HasExited) { p.Kill(true); await p.WaitForExitAsync(); } } catch (InvalidOperationException) { }
            p.Dispose();
        }
        if (_stop != null) await _stop();
    }
}

/// <summary>An identity created by <see cref="TestCluster.CreateIdentityAsync"/>: its user name, every group it carries, its bearer token and a kubeconfig using it.</summary>
public sealed record TestIdentity(string User, IReadOnlyList<string> Groups, string Token, string KubeconfigPath);
