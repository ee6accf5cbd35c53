using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Unit.Packaging;

/// <summary>deploy/: kustomize base, Argo CD, Flux and CI files.</summary>
public class DeployManifestsTests
{
    private static string Base => Path.Combine(PackagingFiles.Deploy, "kustomize", "base");

    public static IEnumerable<string> DeployYamlFiles()
        => Directory.GetFiles(PackagingFiles.Deploy, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(PackagingFiles.Deploy, f)).OrderBy(x => x, StringComparer.Ordinal);

    [TestCaseSource(nameof(DeployYamlFiles))]
    public void DeployFileIsValidYaml(string relative)
    {
        var docs = PackagingFiles.LoadDocuments(File.ReadAllText(Path.Combine(PackagingFiles.Deploy, relative)), relative);
        Assert.That(docs, Is.Not.Empty, relative);
    }

    [Test]
    public void KustomizationResourcesExistAndCrdsComeFromTheTopLevelFolder()
    {
        var k = PackagingFiles.LoadDocuments(File.ReadAllText(Path.Combine(Base, "kustomization.yaml")), "kustomization.yaml").Single();
        Assert.That(k.Str("namespace"), Is.EqualTo("connect-operator-system"));
        var resources = k.Get("resources").Strings();
        foreach (var r in resources)
            Assert.That(File.Exists(Path.GetFullPath(Path.Combine(Base, r))), Is.True, r);
        Assert.That(resources.Where(r => r.StartsWith("../../../crds/", StringComparison.Ordinal)).Select(Path.GetFileName),
            Is.EquivalentTo(Directory.GetFiles(Path.Combine(PackagingFiles.Root, "crds"), "*.yaml").Select(Path.GetFileName)));
    }

    private static List<YamlMappingNode> BuildBase()
    {
        var kubectl = new[] { "/usr/local/bin/kubectl", "/usr/bin/kubectl" }.FirstOrDefault(File.Exists)
                      ?? Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(p => Path.Combine(p, "kubectl")).FirstOrDefault(File.Exists);
        if (kubectl == null) Assert.Ignore("kubectl not installed: cannot run `kubectl kustomize`");

        var psi = new ProcessStartInfo(kubectl, new[] { "kustomize", "--load-restrictor", "LoadRestrictionsNone", Base })
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.That(p.WaitForExit(60_000), Is.True, "kubectl kustomize timed out");
        Assert.That(p.ExitCode, Is.EqualTo(0), stderr.Result);
        return PackagingFiles.LoadDocuments(stdout.Result, "kustomize build");
    }

    [Test]
    public void KustomizeBaseBuilds()
    {
        var docs = BuildBase();
        var kinds = docs.Select(d => d.Str("kind")).ToList();
        Assert.That(kinds.Count(k => k == "CustomResourceDefinition"), Is.EqualTo(3));
        Assert.That(kinds, Is.SupersetOf(new[] { "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
            "Service", "Deployment", "PodDisruptionBudget", "ValidatingWebhookConfiguration" }));
        foreach (var d in docs.Where(d => d.Str("kind") is "ServiceAccount" or "Role" or "RoleBinding" or "Service" or "Deployment" or "PodDisruptionBudget"))
            Assert.That(d.Str("metadata", "namespace"), Is.EqualTo("connect-operator-system"), d.Str("kind"));
    }

    /// <summary>
    /// The base is the chart's defaults for release connect-operator in connect-operator-system: same operator
    /// settings, same names of cluster-scoped objects, same RBAC grants, same PDB and webhook configuration.
    /// </summary>
    [Test]
    public async Task KustomizeBaseMatchesTheRenderedChart()
    {
        var docs = BuildBase();
        var chart = (await Helm.TemplateAsync("connect-operator", "connect-operator-system")).Documents("chart defaults");
        static string Id(YamlNode d) => d.Str("kind") + "/" + d.Str("metadata", "name");

        var kinds = new[] { "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ServiceAccount", "Service", "Deployment",
            "PodDisruptionBudget", "ValidatingWebhookConfiguration" };
        Assert.That(docs.Where(d => kinds.Contains(d.Str("kind"))).Select(Id),
            Is.EquivalentTo(chart.Where(d => kinds.Contains(d.Str("kind"))).Select(Id)));

        Assert.That(EnvNames(docs.Single(d => d.Str("kind") == "Deployment")),
            Is.EquivalentTo(EnvNames(chart.Single(d => d.Str("kind") == "Deployment"))));

        foreach (var role in chart.Where(d => d.Str("kind") is "ClusterRole" or "Role"))
        {
            var baseRole = docs.Single(d => Id(d) == Id(role));
            Assert.That(ChartRenderTests.Flatten(ChartRenderTests.Rules(baseRole)),
                Is.EquivalentTo(ChartRenderTests.Flatten(ChartRenderTests.Rules(role))), Id(role) + " differs from the chart");
        }

        var pdb = docs.Single(d => d.Str("kind") == "PodDisruptionBudget");
        var chartPdb = chart.Single(d => d.Str("kind") == "PodDisruptionBudget");
        Assert.That((pdb.Str("spec", "minAvailable"), pdb.Str("spec", "maxUnavailable")),
            Is.EqualTo((chartPdb.Str("spec", "minAvailable"), chartPdb.Str("spec", "maxUnavailable"))));

        // kustomize sorts keys: compare as JSON trees.
        var baseHooks = PackagingFiles.ToJson(docs.Single(d => d.Str("kind") == "ValidatingWebhookConfiguration").Get("webhooks")!);
        var chartHooks = PackagingFiles.ToJson(chart.Single(d => d.Str("kind") == "ValidatingWebhookConfiguration").Get("webhooks")!);
        Assert.That(Newtonsoft.Json.Linq.JToken.DeepEquals(baseHooks, chartHooks), Is.True, $"webhooks differ:\nbase:  {baseHooks}\nchart: {chartHooks}");
    }

    private static List<string> EnvNames(YamlNode deployment)
        => ((YamlSequenceNode)((YamlSequenceNode)deployment.Get("spec", "template", "spec", "containers")!).Children.Single().Get("env")!)
            .Children.Select(e => e.Str("name")!).ToList();

    [Test]
    public void ArgoCdHasOneApplicationAndOneProjectPerDepartmentAndAnApplicationSet()
    {
        foreach (var dept in new[] { "finance", "hr" })
        {
            var app = PackagingFiles.LoadDocuments(File.ReadAllText(Path.Combine(PackagingFiles.Deploy, "argocd", "applications", $"connect-{dept}.yaml")), dept).Single();
            Assert.That(app.Str("kind"), Is.EqualTo("Application"));
            Assert.That(app.Str("spec", "source", "path"), Is.EqualTo($"departments/{dept}"));
            Assert.That(app.Str("spec", "destination", "namespace"), Is.EqualTo(dept));
            Assert.That(app.Str("spec", "project"), Is.EqualTo($"connect-{dept}"), "one project per department (issue 16)");
        }
        var sets = PackagingFiles.LoadDocuments(File.ReadAllText(Path.Combine(PackagingFiles.Deploy, "argocd", "applicationset.yaml")), "appset");
        Assert.That(sets.Select(s => s.Str("kind")), Is.All.EqualTo("ApplicationSet"));
        Assert.That(sets.Select(s => s.Str("metadata", "name")), Is.EqualTo(new[] { "connect-department-projects", "connect-departments" }));
        foreach (var set in sets)
        {
            var git = ((YamlSequenceNode)set.Get("spec", "generators")!).Children.Single().Get("git")!;
            Assert.That(((YamlSequenceNode)git.Get("files")!).Children.Single().Str("path"), Is.EqualTo("platform/departments/*.yaml"));
        }
        // The one project that may create cluster-scoped objects is the platform team's, and only our two kinds.
        var platform = PackagingFiles.LoadDocuments(File.ReadAllText(Path.Combine(PackagingFiles.Deploy, "argocd", "appproject.yaml")), "appproject").Single();
        Assert.That(platform.Str("metadata", "name"), Is.EqualTo("connect-platform"));
        Assert.That(((YamlSequenceNode)platform.Get("spec", "clusterResourceWhitelist")!).Children.Select(c => c.Str("group") + "/" + c.Str("kind")),
            Is.EquivalentTo(new[] { "connect.ebs.io/Department", "connect.ebs.io/ConnectorQuota" }));
    }

    [TestCase("github-actions-validate.yaml")]
    [TestCase("gitlab-ci-validate.yml")]
    public void CiRunsValidateWithThePlatformPolicy(string file)
    {
        var text = File.ReadAllText(Path.Combine(PackagingFiles.Deploy, "ci", file));
        Assert.That(text, Does.Contain("ghcr.io/ebs/connect-operator-validate:"), "the validate image: the operator image's native executable refuses validate");
        Assert.That(text, Does.Match(@"validate -f /work/departments -f /work/platform/departments -f /work/platform/quotas"));
        Assert.That(text, Does.Contain("--departments /work/platform/departments").And.Contain("--quotas /work/platform/quotas").And.Contain("--output json"));
    }
}
