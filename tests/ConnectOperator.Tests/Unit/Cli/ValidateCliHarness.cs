using System.CommandLine;
using System.Text.Json;
using ConnectOperator.Cli;
using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests.Unit.Cli;

/// <summary>Runs <c>connect-operator validate</c> in-process, through the real command line parser.</summary>
internal static class ValidateCli
{
    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public JsonElement Json => JsonDocument.Parse(Out).RootElement;

        public IReadOnlyList<JsonElement> Findings => Json.GetProperty("findings").EnumerateArray().ToList();

        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    public static string Repo(string relative) => Path.Combine(TestCluster.RepoRoot, relative);

    public static async Task<Result> RunAsync(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(ValidateCommand.Create());
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await root.Parse(new[] { "validate" }.Concat(args).ToArray())
            .InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
        return new Result(exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A temporary folder with the given files; deleted on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public TempDir(params (string Name, string Text)[] files)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "validate-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
            foreach (var (name, text) in files)
            {
                var full = System.IO.Path.Combine(Path, name);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
                System.IO.File.WriteAllText(full, text);
            }
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    /// <summary>1-based line of the first line of <paramref name="text"/> containing <paramref name="needle"/>.</summary>
    public static int LineOf(string text, string needle, int after = 0)
    {
        var lines = text.Split('\n');
        for (var i = after; i < lines.Length; i++)
            if (lines[i].Contains(needle, StringComparison.Ordinal)) return i + 1;
        throw new AssertionException($"'{needle}' not found");
    }
}
