using System.Text.RegularExpressions;
using System.Xml.Linq;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Unit.Packaging;

/// <summary>What goes into the build is pinned and audited: lock files restored in locked mode, NuGet's audit on, no dead pins, images pinnable by digest.</summary>
public sealed class SupplyChainTests
{
    private static string Root => PackagingFiles.Root;

    private static IEnumerable<string> Projects()
        => Directory.EnumerateFiles(Root, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !p.Contains("/.artifacts/", StringComparison.Ordinal) && !p.Contains("/node_modules/", StringComparison.Ordinal)
                        && !p.Contains("/bin/", StringComparison.Ordinal) && !p.Contains("/obj/", StringComparison.Ordinal)
                        && !p.Contains("/hack/", StringComparison.Ordinal));

    private static string? Property(string file, string name)
        => XDocument.Load(file).Descendants(name).Select(e => e.Value.Trim()).FirstOrDefault();

    [Test]
    public void Every_package_pin_is_used_by_a_project()
    {
        var pinned = XDocument.Load(Path.Combine(Root, "Directory.Packages.props")).Descendants("PackageVersion").Select(e => (string)e.Attribute("Include")!).ToList();
        var used = Projects().SelectMany(p => XDocument.Load(p).Descendants("PackageReference").Select(e => (string)e.Attribute("Include")!)).ToHashSet();
        Assert.That(pinned.Where(p => !used.Contains(p)), Is.Empty, "pins no project references (central management without transitive pinning: they pin nothing)");
        Assert.That(pinned, Is.Unique);
    }

    [Test]
    public void Restores_are_locked_and_audited()
    {
        var props = Path.Combine(Root, "Directory.Build.props");
        Assert.That(Property(props, "RestorePackagesWithLockFile"), Is.EqualTo("true"));
        Assert.That(Property(props, "NuGetAudit"), Is.EqualTo("true"));
        Assert.That(Property(props, "NuGetAuditMode"), Is.EqualTo("all"), "transitive packages too");
        var notErrors = Property(props, "WarningsNotAsErrors")!.Split(';');
        Assert.That(notErrors, Has.None.EqualTo("NU1903").And.None.EqualTo("NU1904"), "high and critical advisories fail the src/ build");
        foreach (var project in Projects())
            Assert.That(File.Exists(Path.Combine(Path.GetDirectoryName(project)!, "packages.lock.json")), Is.True, $"{project}: no packages.lock.json committed");
        foreach (var shipped in new[] { "src/ConnectOperator", "src/ConnectOperator.Confluent" })
            Assert.That(File.Exists(Path.Combine(Root, shipped, "packages.linux-x64-aot.lock.json")), Is.True, $"{shipped}: no lock file for the NativeAOT restore");

        var test = File.ReadAllText(Path.Combine(Root, "hack", "test.sh"));
        Assert.That(test, Does.Match(@"dotnet restore ConnectOperator\.sln --locked-mode"));
        Assert.That(test, Does.Contain("export RestoreLockedMode=true"));
        Assert.That(test, Does.Match(@"dotnet build ConnectOperator\.sln [^\n]*--no-restore"));

        var dockerfile = File.ReadAllText(Path.Combine(Root, "Dockerfile"));
        var restores = Regex.Matches(dockerfile, @"^RUN dotnet restore .*$", RegexOptions.Multiline).Select(m => m.Value).ToList();
        Assert.That(restores, Has.Count.EqualTo(2).And.All.Contain("--locked-mode"));
        Assert.That(dockerfile, Does.Contain("packages.lock.json").And.Contain("packages.linux-x64-aot.lock.json"));
    }

    [Test]
    public void The_Dockerfile_says_how_to_pin_its_bases_by_digest()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Root, "Dockerfile"));
        Assert.That(dockerfile, Does.Match(@"--build-arg RUNTIME_IMAGE=\S+@sha256:"));
        foreach (var arg in new[] { "AOT_SDK_IMAGE", "SDK_IMAGE", "RUNTIME_IMAGE", "VALIDATE_RUNTIME_IMAGE" })
            Assert.That(Regex.IsMatch(dockerfile, $@"^ARG {arg}=", RegexOptions.Multiline), Is.True, arg + " is a build argument, so it can be given by digest");
    }

    [Test]
    public async Task The_chart_pulls_the_operator_image_by_digest_when_given_one()
    {
        const string digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        var r = await Helm.TemplateAsync("connect-operator", "connect-operator-system", "--set-string", "image.tag=1.4.0", "--set-string", "image.digest=" + digest);
        var deployment = r.Documents("digest").Single(d => ((YamlScalarNode)d.Children[new YamlScalarNode("kind")]).Value == "Deployment");
        Assert.That(r.Stdout, Does.Contain($"image: \"ghcr.io/ebs/connect-operator:1.4.0@{digest}\""));
        Assert.That(r.Stdout, Does.Contain("app.kubernetes.io/version: \"1.4.0\""), "the label keeps the tag (a digest is not a valid label value)");
        Assert.That(deployment, Is.Not.Null);
        var bad = await Helm.TryTemplateAsync("connect-operator", "connect-operator-system", "--set-string", "image.digest=latest");
        Assert.That(bad.Code, Is.Not.Zero, "the schema refuses what is not a sha256 digest");
        Assert.That(File.ReadAllText(Path.Combine(PackagingFiles.Chart, "README.md")), Does.Contain("## Pinning images by digest"));
    }
}
