using System.Text.Json;
using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests.Integration.Docs;

/// <summary>
/// Every <c>```mermaid</c> block of every Markdown file in the repository is parsed by Mermaid's own parser
/// (<c>mermaid.parse</c>, the npm package pinned in <c>mermaid/package-lock.json</c>, run headless under jsdom by
/// <c>mermaid/parse-mermaid.mjs</c>). A block Mermaid cannot parse renders as an error box on GitHub and in every viewer.
/// The packages are installed with <c>npm ci</c> into <c>.artifacts/mermaid</c> (ignored by Git; hack/test.sh does it before
/// the tests, this test does it itself if needed). Skipped only when node or npm is not installed.
/// </summary>
[NonParallelizable]
public class MermaidTests
{
    private static string ScriptDir => Path.Combine(TestCluster.RepoRoot, "tests", "ConnectOperator.Tests", "Integration", "Docs", "mermaid");

    /// <summary>Where node_modules lives: MERMAID_MODULES, else .artifacts/mermaid of the checkout.</summary>
    private static string ModulesDir => Environment.GetEnvironmentVariable("MERMAID_MODULES") is { Length: > 0 } d ? d : Path.Combine(TestCluster.RepoRoot, ".artifacts", "mermaid");

    public sealed record MermaidBlock(string File, int Line, string Code)
    {
        public string Id => $"{File}:{Line}";
    }

    /// <summary>Markdown files of the repository (not build output, caches or node_modules).</summary>
    public static IReadOnlyList<string> RepositoryMarkdown()
    {
        var skip = new[] { "/.git/", "/.artifacts/", "/node_modules/", "/bin/", "/obj/", "/TestResults/" };
        return Directory.EnumerateFiles(TestCluster.RepoRoot, "*.md", SearchOption.AllDirectories)
            .Where(f => !skip.Any(s => f.Replace('\\', '/').Contains(s, StringComparison.Ordinal)))
            .OrderBy(f => f, StringComparer.Ordinal).ToList();
    }

    public static IReadOnlyList<MermaidBlock> Blocks() => RepositoryMarkdown()
        .SelectMany(DocBlocks.Parse)
        .Where(b => b.Info.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() == "mermaid")
        .Select(b => new MermaidBlock(b.File, b.Line, b.Code)).ToList();

    private static async Task<string> ParserAsync()
    {
        if (!OnPath("node") || !OnPath("npm")) Assert.Ignore("node and npm are not installed: the Mermaid blocks cannot be parsed with Mermaid's parser (apt-get install nodejs npm)");
        var modules = ModulesDir;
        Directory.CreateDirectory(modules);
        var lockFile = Path.Combine(ScriptDir, "package-lock.json");
        var installedLock = Path.Combine(modules, "package-lock.json");
        var installed = File.Exists(Path.Combine(modules, "node_modules", "mermaid", "package.json")) && File.Exists(installedLock)
                        && File.ReadAllText(installedLock) == File.ReadAllText(lockFile);
        if (!installed)
        {
            File.Copy(Path.Combine(ScriptDir, "package.json"), Path.Combine(modules, "package.json"), overwrite: true);
            File.Copy(lockFile, installedLock, overwrite: true);
            var (code, output) = await TestCluster.RunAsync("bash", new[] { "-c", "cd \"$1\" && npm ci --ignore-scripts --no-audit --no-fund", "npm-ci", modules },
                timeout: TimeSpan.FromMinutes(5));
            Assert.That(code, Is.EqualTo(0), "npm ci of mermaid + jsdom into " + modules + " failed (is the npm registry reachable?):\n" + output);
        }
        return modules;
    }

    private static bool OnPath(string tool) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(p => File.Exists(Path.Combine(p, tool)));

    private static async Task<List<(string Id, bool Ok, string? Error)>> ParseAsync(IEnumerable<(string Id, string Code)> blocks)
    {
        var modules = await ParserAsync();
        var input = Path.Combine(Path.GetTempPath(), $"mermaid-blocks-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(input, JsonSerializer.Serialize(blocks.Select(b => new Dictionary<string, string> { ["id"] = b.Id, ["code"] = b.Code })));
        try
        {
            var (code, output) = await TestCluster.RunAsync("node", new[] { Path.Combine(ScriptDir, "parse-mermaid.mjs"), modules, input }, timeout: TimeSpan.FromMinutes(2));
            var results = output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("{\"id\"", StringComparison.Ordinal))
                .Select(l => JsonDocument.Parse(l).RootElement)
                .Select(e => (e.GetProperty("id").GetString()!, e.GetProperty("ok").GetBoolean(), e.TryGetProperty("error", out var err) ? err.GetString() : null)).ToList();
            Assert.That(code is 0 or 1, Is.True, "parse-mermaid.mjs did not run:\n" + output);
            return results;
        }
        finally { File.Delete(input); }
    }

    [Test]
    public void Finds_the_mermaid_blocks_of_the_repository()
    {
        var blocks = Blocks();
        Assert.That(blocks.Count, Is.GreaterThanOrEqualTo(7), string.Join(", ", blocks.Select(b => b.Id)));
        Assert.That(blocks.Select(b => b.File), Has.Some.EqualTo("docs/handbook/03-gitops.md"));
        Assert.That(blocks.Select(b => b.File), Has.Some.EqualTo("docs/architecture.md"));
    }

    [Test]
    public async Task The_parser_refuses_a_broken_diagram()
    {
        // The fault 03-gitops.md had: a ';' inside a sequence message ends the statement.
        var results = await ParseAsync(new[]
        {
            ("good", "sequenceDiagram\n  A->>B: review (CODEOWNERS, required for new hosts)\n"),
            ("semicolon", "sequenceDiagram\n  A->>B: review (CODEOWNERS; required for new classes, hosts)\n"),
            ("garbage", "flowchart TD\n  A -->\n"),
        });
        Assert.That(results.Select(r => (r.Id, r.Ok)), Is.EqualTo(new[] { ("good", true), ("semicolon", false), ("garbage", false) }),
            string.Join("\n", results));
    }

    [Test]
    public async Task Every_mermaid_block_in_the_repository_parses()
    {
        var blocks = Blocks();
        var results = await ParseAsync(blocks.Select(b => (b.Id, b.Code)));
        Assert.That(results.Select(r => r.Id), Is.EquivalentTo(blocks.Select(b => b.Id)), "one result per block");
        var failures = results.Where(r => !r.Ok).Select(r => $"{r.Id}: {r.Error}").ToList();
        Assert.That(failures, Is.Empty, string.Join("\n\n", failures));
    }
}
