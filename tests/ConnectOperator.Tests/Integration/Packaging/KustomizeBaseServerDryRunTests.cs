using System.Text.RegularExpressions;
using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests.Integration.Packaging;

/// <summary>
/// The plain manifests of deploy/kustomize/base pass a server-side dry-run on a real API server, for every kind that
/// server serves (kinds it does not serve are listed in the output and skipped; kube-testenv serves all of them).
/// This is what checks the ValidatingWebhookConfiguration, including its CEL matchConditions, and the RBAC objects'
/// validation (roleRef, subjects, rules).
/// </summary>
[NonParallelizable]
public sealed class KustomizeBaseServerDryRunTests
{
    [Test]
    public async Task KustomizeBasePassesServerSideDryRun()
    {
        var cluster = await TestCluster.GetAsync();
        await cluster.InstallCrdsAsync();

        var (code, built) = await cluster.KubectlAsync(new[]
        {
            "kustomize", "--load-restrictor", "LoadRestrictionsNone", Path.Combine(TestCluster.RepoRoot, "deploy", "kustomize", "base"),
        });
        Assert.That(code, Is.EqualTo(0), built);

        var (rc, resources) = await cluster.KubectlAsync(new[] { "api-resources", "--no-headers" });
        Assert.That(rc, Is.EqualTo(0), resources);
        var served = resources.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last()).ToHashSet();

        var docs = Regex.Split(built, @"^---\s*$", RegexOptions.Multiline).Where(d => d.Trim().Length > 0).ToList();
        string KindOf(string d) => Regex.Match(d, @"^kind: (\S+)", RegexOptions.Multiline).Groups[1].Value;
        var checkable = docs.Where(d => served.Contains(KindOf(d))).ToList();
        TestContext.Out.WriteLine("not served by this API server, skipped: " +
                                  string.Join(", ", docs.Select(KindOf).Where(k => !served.Contains(k)).Distinct()));
        Assert.That(checkable.Select(KindOf), Does.Contain("ValidatingWebhookConfiguration").And.Contain("Service").And.Contain("Namespace"));
        if (cluster.Mode == "kube-testenv")
            Assert.That(checkable.Select(KindOf), Does.Contain("Deployment").And.Contain("PodDisruptionBudget").And.Contain("ClusterRole").And.Contain("RoleBinding"));

        // The namespace must exist for namespaced objects to dry-run; create it for real (idempotent).
        var ns = checkable.Single(d => KindOf(d) == "Namespace");
        (rc, var output) = await cluster.KubectlWithInputAsync(ns, "apply", "--server-side", "-f", "-");
        Assert.That(rc, Is.EqualTo(0), output);

        (rc, output) = await cluster.KubectlWithInputAsync(string.Join("\n---\n", checkable),
            "apply", "--server-side", "--dry-run=server", "--field-manager=packaging-test", "-f", "-");
        Assert.That(rc, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("validatingwebhookconfiguration.admissionregistration.k8s.io/connect-operator serverside-applied (server dry run)"));
    }
}
