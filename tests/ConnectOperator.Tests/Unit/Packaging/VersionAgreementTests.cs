using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ConnectOperator.Tests.Unit.Packaging;

/// <summary>
/// One version everywhere: Directory.Build.props' Version is what the binary reports, the chart's version and appVersion
/// (the default image tag), and every pinned image tag in the repository. A release bumps it in one place and this test
/// lists what else still names the old one.
/// </summary>
public class VersionAgreementTests
{
    private static string Version
    {
        get
        {
            var props = XDocument.Load(Path.Combine(PackagingFiles.Root, "Directory.Build.props"));
            var v = props.Descendants("Version").Single().Value.Trim();
            Assert.That(v, Does.Match(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$"), "semantic version");
            return v;
        }
    }

    [Test]
    public void Chart_version_and_appVersion_are_the_version()
    {
        var chart = PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Chart, "Chart.yaml"));
        Assert.That((string?)chart["version"], Is.EqualTo(Version));
        Assert.That((string?)chart["appVersion"], Is.EqualTo(Version));
        var values = PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Chart, "values.yaml"));
        Assert.That((string?)values["image"]!["tag"], Is.Empty, "the image tag defaults to appVersion; a pinned tag here would drift");
    }

    [Test]
    public void Every_pinned_operator_image_tag_is_the_version()
    {
        var image = new Regex(@"(?:ghcr\.io/ebs|[\w./-]+/ebs)/connect-operator(?:-validate)?:(?<tag>[\w.<>-]+)");
        var newTag = new Regex(@"^\s*(?:newTag|tag):\s*""?(?<tag>[\w.-]+)""?\s*$", RegexOptions.Multiline);
        var wrong = new List<string>();
        var files = new[] { "deploy", "charts", "docs", "samples" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(PackagingFiles.Root, d), "*", SearchOption.AllDirectories))
            .Append(Path.Combine(PackagingFiles.Root, "README.md"))
            .Where(f => f.EndsWith(".yaml") || f.EndsWith(".yml") || f.EndsWith(".md"));
        var seen = 0;
        foreach (var f in files)
        {
            var text = File.ReadAllText(f);
            var tags = image.Matches(text).Select(m => m.Groups["tag"].Value)
                .Concat(text.Contains("connect-operator") ? newTag.Matches(text).Select(m => m.Groups["tag"].Value) : [])
                .Where(t => t is not ("<version>" or "<tag>") && t.Length > 0);
            foreach (var t in tags)
            {
                seen++;
                if (t != Version) wrong.Add($"{Path.GetRelativePath(PackagingFiles.Root, f)}: {t}");
            }
        }
        Assert.That(seen, Is.GreaterThan(0), "the search found the pinned tags");
        Assert.That(wrong, Is.Empty, $"image tags other than {Version}");
    }

    [Test]
    public void The_binary_reports_the_version()
    {
        var informational = typeof(ConnectOperator.Cli.RunCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.That(informational.Split('+')[0], Is.EqualTo(Version));

        var dll = Path.Combine(AppContext.BaseDirectory, "connect-operator.dll");
        var psi = new ProcessStartInfo("dotnet", [dll, "--version"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        Assert.That(p.WaitForExit(30_000), Is.True);
        Assert.That(p.ExitCode, Is.Zero, p.StandardError.ReadToEnd());
        Assert.That(stdout.Trim().Split('+')[0], Is.EqualTo(Version), "`connect-operator --version` (build metadata after + is the commit)");
    }
}
