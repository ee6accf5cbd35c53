using System.Text.RegularExpressions;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Unit.Packaging;

namespace ConnectOperator.Tests.Integration.Packaging;

/// <summary>
/// Each ci/ values file, rendered by Helm's engine with the CRDs included, is applied whole to the test API server
/// with server-side apply: schema validation of every object (built-in kinds, the chart's CRDs, and cert-manager /
/// Prometheus Operator kinds through the fixture CRDs), strict field validation (unknown fields are errors), CEL
/// matchConditions, and admission. It is a server dry-run: a real ValidatingWebhookConfiguration with failurePolicy
/// Fail and no operator behind it would refuse every ManagedConnector the other tests create on the shared server.
/// </summary>
[NonParallelizable]
public sealed class ChartServerSideApplyTests
{
    private static string FixtureCrds => Path.Combine(TestCluster.RepoRoot, "tests", "ConnectOperator.Tests", "Fixtures", "third-party-crds");

    public static IEnumerable<string> CiValuesFiles() => Helm.CiValuesFiles();

    [TestCaseSource(nameof(CiValuesFiles))]
    public async Task RenderingAppliesWholeServerSide(string file)
    {
        await Helm.RequireAsync();
        var cluster = await TestCluster.GetAsync();
        await InstallFixtureCrdsAsync(cluster);

        // One release per values file, each in its own namespace: cluster-scoped names must not collide either.
        var stem = file.Replace("-values.yaml", "", StringComparison.Ordinal);
        var ns = await cluster.CreateNamespaceAsync("chart-" + stem);
        var rendered = await Helm.TemplateAsync("co-" + stem, ns, "--include-crds", "-f", Helm.CiValues(file));
        var docs = Regex.Split(rendered.Stdout, @"^---\s*$", RegexOptions.Multiline)
            .Where(d => Regex.IsMatch(d, @"^kind:", RegexOptions.Multiline)).ToList();
        Assert.That(docs, Is.Not.Empty);

        // Namespaces the rendering writes into besides the release's (e.g. the dashboard ConfigMap's) must exist.
        foreach (var other in docs.Select(d => Regex.Match(d, @"^  namespace: (\S+)", RegexOptions.Multiline).Groups[1].Value)
                     .Where(n => n.Length > 0 && n != ns).Distinct())
        {
            var (c, o) = await cluster.KubectlWithInputAsync($"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {other}\n", "apply", "--server-side", "-f", "-");
            Assert.That(c, Is.EqualTo(0), o);
        }

        var served = await ServedKindsAsync(cluster);
        var missing = docs.Select(ApiKind).Where(k => !served.Contains(k)).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();
        var applicable = docs.Where(d => served.Contains(ApiKind(d))).ToList();

        // Apply what the server knows first, so a broken object shows up even while kinds are missing.
        var (code, output) = await cluster.KubectlWithInputAsync(string.Join("\n---\n", applicable),
            // --force-conflicts: other fixtures on the shared server may have applied objects of the same names (the
            // department roles); a dry-run owns nothing, and a conflict with them says nothing about the chart.
            "apply", "--server-side", "--force-conflicts", "--dry-run=server", "--field-manager=helm-chart-test", "-f", "-");
        TestContext.Out.WriteLine(output);
        Assert.That(code, Is.EqualTo(0), $"{file}: server-side apply refused the rendering:\n{output}");
        Assert.That(Regex.Matches(output, "serverside-applied").Count, Is.EqualTo(applicable.Count), output);

        Assert.That(missing, Is.Empty,
            $"{file}: the test API server ({cluster.Mode}) does not serve {string.Join(", ", missing)}, so the rendering could not be " +
            "applied whole. The kube-testenv server needs these kinds (apps/v1 Deployment, policy/v1 PodDisruptionBudget, " +
            "networking.k8s.io/v1 NetworkPolicy, rbac.authorization.k8s.io/v1), or run with KUBEBUILDER_ASSETS pointing at a real kube-apiserver.");
    }

    private static string ApiKind(string doc)
        => Regex.Match(doc, @"^apiVersion: (\S+)", RegexOptions.Multiline).Groups[1].Value + "/" +
           Regex.Match(doc, @"^kind: (\S+)", RegexOptions.Multiline).Groups[1].Value;

    /// <summary>"group/version/Kind" (core: "v1/Kind") for every kind the server serves.</summary>
    private static async Task<HashSet<string>> ServedKindsAsync(TestCluster cluster)
    {
        var (rc, resources) = await cluster.KubectlAsync(new[] { "api-resources", "--no-headers", "-o", "wide" });
        Assert.That(rc, Is.EqualTo(0), resources);
        // Columns: NAME [SHORTNAMES] APIVERSION NAMESPACED KIND VERBS [CATEGORIES]; NAMESPACED is true/false.
        var served = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in resources.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var i = Array.FindIndex(cols, c => c is "true" or "false");
            if (i >= 2 && i + 1 < cols.Length) served.Add(cols[i - 1] + "/" + cols[i + 1]);
        }
        return served;
    }

    private static async Task InstallFixtureCrdsAsync(TestCluster cluster)
    {
        var (code, output) = await cluster.KubectlAsync(new[] { "apply", "--server-side", "--force-conflicts", "-f", FixtureCrds });
        Assert.That(code, Is.EqualTo(0), "applying the third-party CRD fixtures failed:\n" + output);
        (code, output) = await cluster.KubectlAsync(new[] { "wait", "--for=condition=Established", "--timeout=60s", "-f", FixtureCrds });
        Assert.That(code, Is.EqualTo(0), "third-party CRD fixtures not Established:\n" + output);
    }
}
