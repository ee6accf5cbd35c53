using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using ConnectOperator.Emulator;
using ConnectOperator.Entities;
using ConnectOperator.Hosting;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Serilog.Core;
using Serilog.Events;

namespace ConnectOperator.Tests.Integration.Docs;

/// <summary>
/// Docs cannot rot: starts the environment hack/demo.sh starts (the shared test API server, the emulator with the
/// sample keys, an in-process operator; crds/ and samples/ applied), then runs every runnable block of docs/ with bash,
/// in file and block order, and checks exit code 0 and the expected output that follows a block. Cleans up after
/// itself: ManagedConnectors first (while the operator runs), then Departments, quotas, namespaces.
/// </summary>
[NonParallelizable]
public class HandbookCommandsTests
{
    private TestCluster _kube = null!;
    private WebApplication? _emulator;
    private WebApplication? _operator;
    private string _bin = null!;
    private string _emulatorUrl = null!;
    private readonly ConcurrentQueue<string> _logs = new();
    private bool _platformPreexisted;

    private static string Repo(string p) => Path.Combine(TestCluster.RepoRoot, p);

    [OneTimeSetUp]
    public async Task StartDemoEnvironment()
    {
        _kube = await TestCluster.GetAsync();
        await _kube.InstallCrdsAsync();
        // CrdAndSampleTests applies samples/platform to the shared API server and leaves it there; if it (or anything)
        // did, apply is idempotent and teardown leaves those platform objects as it found them.
        var existing = await _kube.KubectlAsync(new[] { "get", "departments.connect.ebs.io", "finance", "hr", "--ignore-not-found", "-o", "name" });
        _platformPreexisted = existing.Output.Contains("department", StringComparison.Ordinal);
        var stray = await _kube.KubectlAsync(new[] { "get", "managedconnectors", "-n", "finance", "-o", "name", "--ignore-not-found" });
        Assert.That(stray.Output.Trim(), Is.Empty.Or.Contains("No resources"), "ManagedConnectors left in namespace finance by another fixture");

        _emulator = EmulatorApp.Build(new EmulatorOptions
        {
            Urls = "http://127.0.0.1:0",
            EnableAdmin = true,
            ProvisioningDelay = TimeSpan.FromSeconds(1),
            Keys =
            {
                // The sample Secrets in samples/platform/10-credentials.yaml (FAKE values), as hack/demo.sh starts the emulator.
                new EmulatorApiKey("FAKEFINANCEKEY01", "fake-finance-secret-do-not-use-0000000000000000000000000000", ["env-fin001"], ["lkc-fin001"]),
                new EmulatorApiKey("FAKEHRKEY0000001", "fake-hr-secret-do-not-use-00000000000000000000000000000000", ["env-hr0001"], ["lkc-hr0001"]),
            },
        });
        await _emulator.StartAsync();
        _emulatorUrl = _emulator.Urls.First();

        foreach (var args in new[]
        {
            new[] { "apply", "-f", Repo("samples/platform/") },
            new[] { "apply", "-f", Repo("samples/finance/"), "-f", Repo("samples/hr/") },
        })
        {
            var (code, output) = await _kube.KubectlAsync(args);
            Assert.That(code, Is.EqualTo(0), "kubectl " + string.Join(' ', args) + "\n" + output);
        }

        _operator = OperatorHost.Build(new[]
        {
            "--Operator:Namespace=connect-operator-system",
            $"--Operator:ConfluentBaseUrl={_emulatorUrl}",
            "--Operator:AllowInsecureConfluentUrl=true",
            "--Operator:PollInterval=00:00:01",
            $"--Operator:MetricsPort={TestCluster.FreePort()}",
            "--Operator:WebhookPort=0",
            "--Operator:BindAddress=127.0.0.1",
            "--Operator:AutoRestartBackoffUnit=00:00:00.200",
            "--Operator:LeaderElection:LeaseDuration=00:00:03",
            "--Operator:LeaderElection:RenewDeadline=00:00:02",
            "--Operator:LeaderElection:RetryPeriod=00:00:00.500",
            "--Confluent:RetryBaseDelay=00:00:00.020",
            "--Confluent:RetryMaxDelay=00:00:00.200",
        }, _kube.Config, logSink: new Capture(_logs));
        await _operator.StartAsync();

        // `connect-operator` on PATH, as an installed binary would be.
        _bin = Directory.CreateTempSubdirectory("docs-bin-").FullName;
        var script = Path.Combine(_bin, "connect-operator");
        await File.WriteAllTextAsync(script, $"#!/bin/sh\nexec dotnet \"{Path.Combine(AppContext.BaseDirectory, "connect-operator.dll")}\" \"$@\"\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var ready = await _kube.KubectlAsync(new[] { "wait", "--for=condition=Ready", "managedconnectors", "--all", "-A", "--timeout=120s" });
        Assert.That(ready.Code, Is.EqualTo(0), "sample connectors not Ready:\n" + ready.Output + "\n" + string.Join("\n", _logs.TakeLast(20)));
    }

    [OneTimeTearDown]
    public async Task CleanUp()
    {
        try
        {
            foreach (var ns in new[] { "finance", "hr" })
                await _kube.KubectlAsync(new[] { "delete", "managedconnectors", "--all", "-n", ns, "--wait=true", "--timeout=60s" });
        }
        catch (Exception e) { TestContext.Progress.WriteLine("docs cleanup: " + e.Message); }
        if (_operator != null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try { await _operator.StopAsync(cts.Token); } catch (OperationCanceledException) { }
            await _operator.DisposeAsync();
        }
        foreach (var ns in new[] { "finance", "hr" })
        {
            // Nothing runs now: release what is left so the namespaces can go.
            var left = await _kube.KubectlAsync(new[] { "get", "managedconnectors", "-n", ns, "-o", "name" });
            foreach (var name in left.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(n => n.StartsWith("managedconnector", StringComparison.Ordinal)))
                await _kube.KubectlAsync(new[] { "patch", name, "-n", ns, "--type", "merge", "-p", "{\"metadata\":{\"finalizers\":null}}" });
        }
        await _kube.KubectlAsync(new[] { "delete", "--ignore-not-found", "--wait=false", "-f", Repo("samples/finance/"), "-f", Repo("samples/hr/") });
        if (!_platformPreexisted)
        {
            await _kube.KubectlAsync(new[] { "delete", "--ignore-not-found", "--wait=false", "-f", Repo("samples/platform/30-quotas.yaml"), "-f", Repo("samples/platform/20-departments.yaml"), "-f", Repo("samples/platform/10-credentials.yaml") });
            await _kube.KubectlAsync(new[] { "delete", "--ignore-not-found", "--wait=false", "-f", Repo("samples/platform/00-namespaces.yaml") });
        }
        if (_emulator != null)
        {
            await _emulator.StopAsync();
            await _emulator.DisposeAsync();
        }
        try { Directory.Delete(_bin, true); } catch (IOException) { }
    }

    /// <summary>
    /// Chapter 1's walk-through, run as Alice (user alice, group finance-devs, a bearer token of her own) under only the
    /// chart's department-editor role bound in finance and the per-department reader role, as chapter 1 binds them: the
    /// first steps succeed, the three "cannot" lines are Forbidden.
    /// </summary>
    [Test]
    public async Task The_department_member_walkthrough_runs_as_a_department_editor()
    {
        async Task Admin(params string[] args)
        {
            var (code, output) = await _kube.KubectlAsync(args);
            Assert.That(code, Is.EqualTo(0), "kubectl " + string.Join(' ', args) + "\n" + output);
        }
        // The chart's user roles (deploy/kustomize/base is checked against the rendered chart) and chapter 1's bindings.
        await Admin("apply", "-f", Repo("deploy/kustomize/base/user-roles.yaml"));
        await _kube.KubectlAsync(new[] { "delete", "rolebinding", "walk-finance-editors", "-n", "finance", "--ignore-not-found" });
        await _kube.KubectlAsync(new[] { "delete", "clusterrole,clusterrolebinding", "connect-dept-finance-reader", "--ignore-not-found" });
        await Admin("-n", "finance", "create", "rolebinding", "walk-finance-editors", "--clusterrole=connect-operator-department-editor", "--group=finance-devs");
        await Admin("create", "clusterrole", "connect-dept-finance-reader", "--verb=get",
            "--resource=departments.connect.ebs.io,connectorquotas.connect.ebs.io", "--resource-name=finance");
        await Admin("create", "clusterrolebinding", "connect-dept-finance-reader", "--clusterrole=connect-dept-finance-reader", "--group=finance-devs", "--group=finance-support");
        var alice = await _kube.CreateIdentityAsync("alice", "finance-devs");
        var env = new Dictionary<string, string>
        {
            ["KUBECONFIG"] = alice.KubeconfigPath,
            ["PATH"] = _bin + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["CONFLUENT_LOGS_TOKEN"] = "",
        };
        try
        {
            var block = DocBlocks.Parse(Repo("docs/handbook/01-roles.md")).Single(b => b.Code.Contains("# 1. My connectors", StringComparison.Ordinal)).Code;
            var cannot = false;
            var ran = 0;
            var failures = new List<string>();
            foreach (var raw in block.Split('\n'))
            {
                if (raw.StartsWith("# What I cannot do", StringComparison.Ordinal)) { cannot = true; continue; }
                var line = raw.Split(" #", 2)[0].Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                var (code, output) = await TestCluster.RunAsync("bash", new[] { "-c", line }, env, TimeSpan.FromMinutes(1));
                ran++;
                TestContext.Progress.WriteLine($"as alice: {line} -> exit {code}");
                if (!cannot && code != 0) failures.Add($"{line}: exit {code}\n{output}");
                if (cannot && (code == 0 || !output.Contains("Forbidden", StringComparison.OrdinalIgnoreCase) && !output.Contains("forbidden", StringComparison.Ordinal)))
                    failures.Add($"{line}: expected Forbidden, got exit {code}\n{output}");
            }
            Assert.That(ran, Is.GreaterThanOrEqualTo(8));
            Assert.That(failures, Is.Empty, string.Join("\n\n", failures));
        }
        finally
        {
            await _kube.KubectlAsync(new[] { "delete", "rolebinding", "walk-finance-editors", "-n", "finance", "--ignore-not-found" });
            await _kube.KubectlAsync(new[] { "delete", "clusterrole,clusterrolebinding", "connect-dept-finance-reader", "--ignore-not-found" });
            await _kube.KubectlAsync(new[] { "delete", "--ignore-not-found", "-f", Repo("deploy/kustomize/base/user-roles.yaml") });
        }
    }

    [Test]
    public void Docs_mark_the_commands_that_run_against_the_demo()
    {
        var runnable = DocBlocks.AllRunnable();
        Assert.That(runnable.Count, Is.GreaterThanOrEqualTo(20), "runnable blocks in docs/: " + string.Join(", ", runnable));
        Assert.That(runnable.Count(b => b.ExpectedOutput != null), Is.GreaterThanOrEqualTo(10), "blocks with expected output");
        Assert.That(DocBlocks.AllRunnable().Where(b => b.Info.StartsWith("sh", StringComparison.Ordinal) && !b.Info.Contains("demo", StringComparison.Ordinal)).Select(b => b.ToString()),
            Is.All.Contains("05-onboarding"), "only the dry-run onboarding blocks use the <!-- demo-test --> marker");
        foreach (var file in new[] { "01-roles", "04-lifecycle", "06-troubleshooting" })
            Assert.That(runnable.Any(b => b.File.Contains(file, StringComparison.Ordinal)), Is.True, $"docs/handbook/{file}*.md has runnable commands");
    }

    [Test]
    public async Task Every_runnable_command_in_docs_succeeds_against_the_demo_environment()
    {
        var failures = new List<string>();
        var env = new Dictionary<string, string>
        {
            ["KUBECONFIG"] = _kube.KubeconfigPath,
            ["EMU"] = _emulatorUrl,
            ["PATH"] = _bin + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["CONFLUENT_LOGS_TOKEN"] = "",
        };
        var ran = 0;
        foreach (var block in DocBlocks.AllRunnable())
        {
            var script = "set -euo pipefail\ncd " + TestCluster.RepoRoot + "\n" + block.Code + "\n";
            var (code, output) = await TestCluster.RunAsync("bash", new[] { "-c", script }, env, TimeSpan.FromMinutes(3));
            ran++;
            TestContext.Progress.WriteLine($"docs: {block} exit {code}");
            if (code != 0)
            {
                failures.Add($"{block}: exit {code}\n{block.Code}\n--- output\n{output}");
                continue;
            }
            if (block.ExpectedOutput is { } expected && DocBlocks.Missing(expected, output) is { Count: > 0 } missing)
                failures.Add($"{block}: expected lines missing: {string.Join(" | ", missing)}\n--- output\n{output}");
        }
        Assert.That(ran, Is.GreaterThan(0));
        Assert.That(failures, Is.Empty, string.Join("\n\n", failures));
    }

    /// <summary>Docs written on another branch at the same time (metrics); links to them resolve once merged.</summary>
    private static readonly HashSet<string> PendingFromOtherBranches = new(StringComparer.Ordinal) { "docs/metrics.md" };

    [Test]
    public void Relative_links_in_docs_resolve()
    {
        var broken = new List<string>();
        foreach (var file in DocBlocks.MarkdownFiles().Append(Repo("README.md")))
        {
            var text = File.ReadAllText(file);
            foreach (Match m in Regex.Matches(text, @"\]\((?<target>[^)#\s]+)(#[^)]*)?\)"))
            {
                var target = m.Groups["target"].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                var full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, target));
                if (PendingFromOtherBranches.Contains(Path.GetRelativePath(TestCluster.RepoRoot, full))) continue;
                if (!File.Exists(full) && !Directory.Exists(full)) broken.Add($"{Path.GetRelativePath(TestCluster.RepoRoot, file)} → {target}");
            }
        }
        Assert.That(broken, Is.Empty);
    }

    [Test]
    public void Handbook_chapters_have_diagrams_and_name_every_condition_reason()
    {
        var handbook = Directory.GetFiles(Repo("docs/handbook"), "*.md").Select(File.ReadAllText).ToList();
        Assert.That(handbook.Count(t => t.Contains("```mermaid", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(4));
        var all = string.Join("\n", handbook);
        // Every reason the ManagedConnector reconciler can write (read from the code, so a new reason needs a doc line).
        var code = string.Join("\n", Directory.GetFiles(Repo("src/ConnectOperator/Controllers"), "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText));
        var reasons = Regex.Matches(code, "Health\\.(Ready|Reconciling|Stalled)\\(\"(?<r>[A-Za-z]+)\"").Select(m => m.Groups["r"].Value)
            .Concat(Regex.Matches(code, "StallAsync\\([^;]*?\"(?<r>[A-Z][A-Za-z]+)\",").Select(m => m.Groups["r"].Value))
            .Concat(new[] { "NoDepartment", "NamespaceConflict", "PolicyViolation", "QuotaExceeded", "ConnectorFailed", "TaskFailed" })
            .Distinct().ToList();
        Assert.That(reasons.Count, Is.GreaterThan(15));
        Assert.That(reasons.Where(r => !all.Contains("`" + r + "`", StringComparison.Ordinal)), Is.Empty, "reasons not documented in docs/handbook");
        // Every alert of the chart has a runbook entry.
        var alerts = Regex.Matches(File.ReadAllText(Repo("charts/connect-operator/templates/prometheusrule.yaml")), "alert: (?<a>\\w+)").Select(m => m.Groups["a"].Value).ToList();
        Assert.That(alerts, Is.Not.Empty);
        Assert.That(alerts.Where(a => !all.Contains(a, StringComparison.Ordinal)), Is.Empty, "alerts without a runbook entry");
    }

    private sealed class Capture(ConcurrentQueue<string> lines) : ILogEventSink
    {
        public void Emit(LogEvent e) => lines.Enqueue(e.RenderMessage());
    }
}
