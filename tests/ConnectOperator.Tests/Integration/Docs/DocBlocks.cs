using System.Text.RegularExpressions;

namespace ConnectOperator.Tests.Integration.Docs;

/// <summary>A fenced code block of a Markdown file under docs/.</summary>
public sealed record DocBlock(string File, int Line, string Info, string Code, bool Runnable, string? ExpectedOutput)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>
/// Finds the runnable commands in docs/: fenced blocks whose info string is <c>sh demo</c> (or <c>bash demo</c>), or any
/// block right after an HTML comment <c>&lt;!-- demo-test --&gt;</c>. A <c>```text</c> block that directly follows a runnable
/// block holds expected output: each non-empty line must appear in the output (a <c>…</c> in a line stands for anything;
/// the pieces around it must appear in order on one line).
/// </summary>
public static partial class DocBlocks
{
    public static string DocsRoot => Path.Combine(Infrastructure.TestCluster.RepoRoot, "docs");

    public static IReadOnlyList<string> MarkdownFiles() =>
        Directory.EnumerateFiles(DocsRoot, "*.md", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal).ToList();

    public static IReadOnlyList<DocBlock> Parse(string path)
    {
        var rel = Path.GetRelativePath(Infrastructure.TestCluster.RepoRoot, path);
        var lines = File.ReadAllLines(path);
        var blocks = new List<DocBlock>();
        var marked = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].Trim();
            if (trimmed == "<!-- demo-test -->") { marked = true; continue; }
            var open = Fence().Match(lines[i]);
            if (!open.Success)
            {
                if (trimmed.Length > 0) marked = false;
                continue;
            }
            var fence = open.Groups["fence"].Value;
            var info = open.Groups["info"].Value.Trim();
            var start = i + 1;
            var body = new List<string>();
            for (i++; i < lines.Length && !lines[i].TrimStart().StartsWith(fence, StringComparison.Ordinal); i++) body.Add(lines[i]);
            var words = info.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var runnable = marked || (words.Length >= 2 && words[0] is "sh" or "bash" && words.Contains("demo"));
            blocks.Add(new DocBlock(rel, start, info, string.Join("\n", body), runnable, null));
            marked = false;
        }
        // Attach expected output: a ```text block directly after a runnable block (only blank lines between).
        for (var b = 0; b + 1 < blocks.Count; b++)
        {
            if (!blocks[b].Runnable || blocks[b + 1].Info != "text") continue;
            var endOfRunnable = blocks[b].Line + blocks[b].Code.Split('\n').Length;   // the closing fence line (0-based index)
            var between = lines.Skip(endOfRunnable + 1).Take(blocks[b + 1].Line - 2 - endOfRunnable);
            if (between.All(string.IsNullOrWhiteSpace)) blocks[b] = blocks[b] with { ExpectedOutput = blocks[b + 1].Code };
        }
        return blocks;
    }

    public static IReadOnlyList<DocBlock> AllRunnable() => MarkdownFiles().SelectMany(Parse).Where(b => b.Runnable).ToList();

    /// <summary>The expected lines missing from <paramref name="output"/>.</summary>
    public static IReadOnlyList<string> Missing(string expected, string output)
    {
        var outLines = output.Split('\n');
        var missing = new List<string>();
        foreach (var raw in expected.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0) continue;
            var parts = line.Split('…').Select(p => Regex.Replace(p.Trim(), "\\s+", " ")).Where(p => p.Length > 0).ToArray();
            bool Matches(string o)
            {
                var text = Regex.Replace(o, "\\s+", " ");
                var at = 0;
                foreach (var p in parts)
                {
                    var k = text.IndexOf(p, at, StringComparison.Ordinal);
                    if (k < 0) return false;
                    at = k + p.Length;
                }
                return true;
            }
            if (!outLines.Any(Matches)) missing.Add(line);
        }
        return missing;
    }

    [GeneratedRegex("^\\s*(?<fence>```+|~~~+)(?<info>[^`]*)$")]
    private static partial Regex Fence();
}
