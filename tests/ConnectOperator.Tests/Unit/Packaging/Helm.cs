using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Unit.Packaging;

/// <summary>
/// Helm's own template engine and linter for the chart tests: <c>helm</c> on the PATH, else the shared
/// helm-template tool next to the repository (../shared/tools/helm-template, Helm's packages built from Debian's Go
/// packages; its build.sh prints the binary's path and caches it). Neither: the test is skipped and says how to get one.
/// </summary>
internal static class Helm
{
    public sealed record Result(int Code, string Stdout, string Stderr)
    {
        public List<YamlMappingNode> Documents(string what) => PackagingFiles.LoadDocuments(Stdout, what);
    }

    private static readonly Lazy<Task<(string? Path, string Why)>> Binary = new(LocateAsync);

    internal static string SharedToolDir => Path.GetFullPath(Path.Combine(PackagingFiles.Root, "..", "shared", "tools", "helm-template"));

    public static async Task<string> RequireAsync()
    {
        var (path, why) = await Binary.Value;
        if (path is null) Assert.Ignore(why);
        return path!;
    }

    private static async Task<(string?, string)> LocateAsync()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "helm")).FirstOrDefault(File.Exists);
        if (onPath != null) return (onPath, "");

        var build = Path.Combine(SharedToolDir, "build.sh");
        if (!File.Exists(build))
            return (null, "no helm: install helm (https://helm.sh/docs/intro/install/) so that it is on the PATH, or put the " +
                          $"helm-template tool at {SharedToolDir} (its build.sh builds Helm's template engine from Debian packages)");

        // A cold build downloads Debian packages and compiles for a few minutes; later calls print the cached path at once.
        var (code, stdout, stderr) = await RunProcessAsync("bash", new[] { build }, TimeSpan.FromMinutes(20));
        var path = stdout.Trim().Split('\n').LastOrDefault()?.Trim();
        if (code != 0 || string.IsNullOrEmpty(path) || !File.Exists(path))
            return (null, $"no helm on the PATH, and {build} failed (exit {code}); fix that or install helm.\n{Tail(stderr, 2000)}");
        return (path, "");
    }

    /// <summary>Runs helm (or helm-template) with these arguments, from the repository root.</summary>
    public static async Task<Result> RunAsync(params string[] args)
    {
        var bin = await RequireAsync();
        var (code, stdout, stderr) = await RunProcessAsync(bin, args, TimeSpan.FromMinutes(2));
        return new Result(code, stdout, stderr);
    }

    /// <summary><c>helm template RELEASE charts/connect-operator -n NS ...</c>; fails the test if rendering fails.</summary>
    public static async Task<Result> TemplateAsync(string release, string ns, params string[] extra)
    {
        var r = await TryTemplateAsync(release, ns, extra);
        Assert.That(r.Code, Is.EqualTo(0), $"helm template {string.Join(' ', extra)} failed:\n{r.Stderr}");
        return r;
    }

    public static Task<Result> TryTemplateAsync(string release, string ns, params string[] extra)
        => RunAsync(new[] { "template", release, PackagingFiles.Chart, "-n", ns }.Concat(extra).ToArray());

    public static IEnumerable<string> CiValuesFiles()
        => Directory.GetFiles(Path.Combine(PackagingFiles.Chart, "ci"), "*-values.yaml").Select(Path.GetFileName).OrderBy(x => x, StringComparer.Ordinal)!;

    public static string CiValues(string file) => Path.Combine(PackagingFiles.Chart, "ci", file);

    private static string Tail(string s, int n) => s.Length <= n ? s : "..." + s[^n..];

    private static async Task<(int, string, string)> RunProcessAsync(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = PackagingFiles.Root,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} timed out after {timeout}");
        }
        return (p.ExitCode, await stdout, await stderr);
    }
}
