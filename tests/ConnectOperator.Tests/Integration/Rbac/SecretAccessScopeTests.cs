using ConnectOperator.Entities;
using ConnectOperator.Status;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Unit.Packaging;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Integration.Rbac;

/// <summary>
/// Issue 15 §3: the operator's identity reads Secrets only in its own namespace and in namespaces a Department claims
/// (through the secrets-reader RoleBinding), never elsewhere; until that RoleBinding exists, connectors that need a
/// Secret say why they wait.
/// </summary>
[NonParallelizable]
public class SecretAccessScopeTests
{
    [Test]
    public async Task The_operator_reads_Secrets_only_where_a_RoleBinding_lets_it_and_connectors_say_they_wait_until_then()
    {
        var kube = await TestCluster.GetAsync();
        if (kube.Mode != "kube-testenv") Assert.Ignore("needs bearer-token identities (kube-testenv)");
        var h = await OperatorHarness.StartAsync("sas");
        var release = "connect-operator-" + Guid.NewGuid().ToString("N")[..6];
        var reader = release + "-secrets-reader";
        var rendered = await Helm.TemplateAsync(release, h.OperatorNamespace, "--show-only", "templates/rbac.yaml");
        var docs = rendered.Documents("rbac");
        var sa = ((YamlSequenceNode)docs.Single(d => d.Str("kind") == "ClusterRoleBinding").Get("subjects")!).Children.Single().Str("name")!;
        var user = $"system:serviceaccount:{h.OperatorNamespace}:{sa}";
        var other = await kube.CreateNamespaceAsync("sas-other");
        try
        {
            var (code, output) = await kube.KubectlWithInputAsync(rendered.Stdout, "apply", "-f", "-");
            Assert.That(code, Is.EqualTo(0), output);
            await h.CreateSecretAsync(other, "not-yours", new() { ["password"] = "other-canary" });
            await h.CreateSecretAsync(h.Namespace, "pg-creds", new() { ["password"] = "dept-canary" });
            var identity = await kube.CreateServiceAccountIdentityAsync(h.OperatorNamespace, sa);

            // No SecretAccess settings: the operator creates no RoleBinding, as when it cannot (or the platform team binds by hand).
            await h.StartOperatorAsAsync(KubernetesClientConfiguration.BuildConfigFromConfigFile(identity.KubeconfigPath), null);
            var mc = h.Datagen("needs-secret");
            mc.Spec.SecretConfig.Add(new V1Alpha1SecretConfigEntry { Key = "some.password", SecretKeyRef = new V1Alpha1SecretKeyRef { Name = "pg-creds", Key = "password" } });
            await h.CreateAsync(mc);
            var waiting = await h.WaitForAsync("needs-secret", m => m.Status?.Conditions.FirstOrDefault(c => c.Type == ConditionTypes.Reconciling) is { Status: ConditionStatus.True, Reason: "WaitingForSecretAccess" },
                "Reconciling/WaitingForSecretAccess");
            Assert.That(waiting.Status!.Conditions.Single(c => c.Type == ConditionTypes.Reconciling).Message, Does.Contain(h.Namespace).And.Contain("RoleBinding"));
            await h.CreateAsync(h.Datagen("no-secret"));
            await h.WaitForAsync("no-secret", m => OperatorHarness.IsReady(m), "a connector without Secrets does not wait");

            Assert.That(await CanIAsync(kube, user, "get", "secrets", h.Namespace), Is.False, "no RoleBinding yet");
            Assert.That(await CanIAsync(kube, user, "list", "secrets", h.OperatorNamespace), Is.True, "its own namespace: credentials");

            // What the Department controller creates when it may (SecretAccessGrants), bound here by the platform team.
            await kube.Client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(new V1RoleBinding
            {
                Metadata = new V1ObjectMeta { Name = reader },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = reader },
                Subjects = new List<Rbacv1Subject> { new() { Kind = "ServiceAccount", Name = sa, NamespaceProperty = h.OperatorNamespace } },
            }, h.Namespace);
            await h.WaitForAsync("needs-secret", m => OperatorHarness.IsReady(m), "Ready once the RoleBinding exists", TimeSpan.FromSeconds(60));
            Assert.That(h.Remote("needs-secret")!.Config["some.password"], Is.EqualTo("dept-canary"));

            foreach (var verb in new[] { "get", "list", "watch" })
            {
                Assert.That(await CanIAsync(kube, user, verb, "secrets", h.Namespace), Is.True, "department namespace: " + verb);
                Assert.That(await CanIAsync(kube, user, verb, "secrets", other), Is.False, "unclaimed namespace: " + verb);
                Assert.That(await CanIAsync(kube, user, verb, "secrets", "kube-system"), Is.False, "kube-system: " + verb);
            }
            Assert.That(await CanIAsync(kube, user, "list", "secrets", null), Is.False, "all namespaces");
            foreach (var verb in new[] { "create", "update", "delete" })
                Assert.That(await CanIAsync(kube, user, verb, "secrets", h.Namespace), Is.False, "department namespace is read-only: " + verb);

            // `kubectl auth can-i --list` as the operator: Secrets only in its namespace and the department's.
            foreach (var (ns, expect) in new[] { (other, false), ("kube-system", false), ("default", false), (h.Namespace, true), (h.OperatorNamespace, true) })
            {
                var (rc, list) = await kube.KubectlAsync(new[] { "auth", "can-i", "--list", "-n", ns, "--as", user });
                Assert.That(rc, Is.EqualTo(0), list);
                var secretLines = list.Split('\n').Where(l => l.StartsWith("secrets ", StringComparison.Ordinal)).ToList();
                TestContext.Out.WriteLine($"auth can-i --list -n {ns}: {(secretLines.Count == 0 ? "no Secret access" : string.Join(" | ", secretLines.Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries)))))}");
                Assert.That(secretLines.Count > 0, Is.EqualTo(expect), $"can-i --list -n {ns}:\n{list}");
            }

            // And with its own token, not just as the admin's impersonation.
            var (getCode, getOut) = await kube.KubectlAsAsync(identity, "get", "secret", "not-yours", "-n", other);
            Assert.That(getCode, Is.Not.EqualTo(0));
            Assert.That(getOut, Does.Contain("Forbidden").Or.Contain("forbidden"));
        }
        finally
        {
            await h.DisposeAsync();
            await kube.KubectlWithInputAsync(rendered.Stdout, "delete", "--ignore-not-found", "-f", "-");
            try { await kube.Client.CoreV1.DeleteNamespaceAsync(other); } catch (Exception) { }
        }
    }

    /// <summary>`kubectl auth can-i VERB RESOURCE -n NS --as USER`: exit 0 is yes, 1 is no.</summary>
    internal static async Task<bool> CanIAsync(TestCluster kube, string user, string verb, string resource, string? ns, params string[] groups)
    {
        var args = new List<string> { "auth", "can-i", verb, resource, "--as", user };
        args.AddRange(ns is null ? new[] { "--all-namespaces" } : new[] { "-n", ns });
        foreach (var g in groups) args.AddRange(new[] { "--as-group", g });
        var (code, output) = await kube.KubectlAsync(args.ToArray());
        Assert.That(code, Is.AnyOf(0, 1), output);
        return code == 0;
    }
}
