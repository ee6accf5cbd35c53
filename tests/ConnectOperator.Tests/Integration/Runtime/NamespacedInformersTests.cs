using System.Collections.Concurrent;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Integration.Rbac;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Runtime;

/// <summary>Per-namespace Secret informers: added and removed at run time, and started only once RBAC allows them.</summary>
[NonParallelizable]
public class NamespacedInformersTests
{
    [Test]
    public async Task A_namespace_is_watched_once_access_is_granted_and_forgotten_when_removed_without_a_denied_request()
    {
        var kube = await TestCluster.GetAsync();
        if (kube.Mode != "kube-testenv") Assert.Ignore("needs bearer-token identities (kube-testenv)");
        var home = await kube.CreateNamespaceAsync("nsi-home");
        var dept = await kube.CreateNamespaceAsync("nsi-dept");
        var sa = "nsi-" + Guid.NewGuid().ToString("N")[..6];
        var reader = sa + "-reader";
        try
        {
            foreach (var ns in new[] { home, dept })
                await kube.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" }, StringData = new Dictionary<string, string> { ["k"] = ns } }, ns);
            await kube.Client.RbacAuthorizationV1.CreateClusterRoleAsync(new V1ClusterRole
            {
                Metadata = new V1ObjectMeta { Name = reader },
                Rules = new List<V1PolicyRule> { new() { ApiGroups = new List<string> { "" }, Resources = new List<string> { "secrets" }, Verbs = new List<string> { "get", "list", "watch" } } },
            });
            V1RoleBinding Binding() => new()
            {
                Metadata = new V1ObjectMeta { Name = reader },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = reader },
                Subjects = new List<Rbacv1Subject> { new() { Kind = "ServiceAccount", Name = sa, NamespaceProperty = home } },
            };
            await kube.Client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(Binding(), home);
            var identity = await kube.CreateServiceAccountIdentityAsync(home, sa);
            var recorder = new ApiRequestRecorder();
            using var api = new KubeApiClient(KubernetesClientConfiguration.BuildConfigFromConfigFile(identity.KubeconfigPath), observer: recorder);
            var secrets = new NamespacedInformers<V1Secret>(api, ResourceKind.Secret, home) { AccessRetry = TimeSpan.FromMilliseconds(200) };
            var added = new ConcurrentQueue<string>();
            secrets.AddEventHandler(new ResourceEventHandler<V1Secret> { OnAdd = s => added.Enqueue(s.Metadata.NamespaceProperty) });
            using var cts = new CancellationTokenSource();
            var run = secrets.RunAsync(cts.Token);

            await secrets.WaitForSyncAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
            Assert.That(secrets.Get(home, "s"), Is.Not.Null);
            secrets.SetNamespaces(new[] { dept });
            await Task.Delay(1000);
            Assert.That(secrets.IsVisible(dept), Is.False, "no RoleBinding in the namespace yet");
            Assert.That(secrets.Get(dept, "s"), Is.Null);

            await kube.Client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(Binding(), dept);
            await Eventually(() => secrets.IsVisible(dept), "visible once bound");
            Assert.That(secrets.Get(dept, "s"), Is.Not.Null);
            Assert.That(added, Does.Contain(dept), "handlers registered before the namespace was added see its objects");

            secrets.SetNamespaces(Array.Empty<string>());
            await Eventually(() => !secrets.IsVisible(dept), "forgotten when no Department claims it");
            Assert.That(secrets.IsVisible(home), Is.True);

            cts.Cancel();
            await run;
            Assert.That(recorder.Requests.Where(r => r.Status is 401 or 403), Is.Empty, "waiting for access must not be a stream of denied requests");
            Assert.That(recorder.Requests.Where(r => r.Resource == "secrets").Select(r => r.Namespace).Distinct(), Is.EquivalentTo(new[] { home, dept }), "never cluster-wide");
        }
        finally
        {
            try { await kube.Client.RbacAuthorizationV1.DeleteClusterRoleAsync(reader); } catch (Exception) { }
            foreach (var ns in new[] { home, dept }) try { await kube.Client.CoreV1.DeleteNamespaceAsync(ns); } catch (Exception) { }
        }
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("timed out: " + what);
            await Task.Delay(100);
        }
    }
}
