using k8s;
using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests.Integration.Runtime;

/// <summary>
/// The test API server enforces RBAC the way a real cluster does, and serves the kinds the chart renders, so tests
/// can run code under a restricted identity (TestCluster.CreateIdentityAsync) and trust a 403 or a "no".
/// </summary>
public sealed class TestEnvRbacTests
{
    private static string Id() => Guid.NewGuid().ToString("N")[..6];

    private static async Task Apply(TestCluster cluster, string yaml)
    {
        var (rc, output) = await cluster.KubectlWithInputAsync(yaml, "apply", "-f", "-");
        Assert.That(rc, Is.EqualTo(0), output);
    }

    private static string SecretsReader(string ns, string sa) => $"""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {"{"}name: secrets-reader, namespace: {ns}{"}"}
        rules:
        - apiGroups: [""]
          resources: [secrets]
          verbs: [get, list]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {"{"}name: secrets-reader, namespace: {ns}{"}"}
        roleRef: {"{"}apiGroup: rbac.authorization.k8s.io, kind: Role, name: secrets-reader{"}"}
        subjects:
        - kind: ServiceAccount
          name: {sa}
          namespace: {ns}
        """;

    [Test]
    public async Task ServiceAccountWithoutGrantsIsForbiddenToListSecrets()
    {
        var cluster = await TestCluster.GetAsync();
        var ns = await cluster.CreateNamespaceAsync("rbac-none");
        var sa = await cluster.CreateServiceAccountIdentityAsync(ns, "nobody");

        var (rc, output) = await cluster.KubectlAsAsync(sa, "get", "secrets", "-n", ns);
        Assert.That(rc, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain($"User \"system:serviceaccount:{ns}:nobody\" cannot list resource \"secrets\""));

        if (cluster.Mode == "kube-testenv") // with KUBEBUILDER_ASSETS identities are kubectl impersonation only
        {
            var ex = Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => cluster.ClientFor(sa).CoreV1.ListNamespacedSecretAsync(ns));
            Assert.That((int)ex!.Response.StatusCode, Is.EqualTo(403));
        }

        // the same identity may still discover the API (system:discovery, bound to system:authenticated)
        (rc, output) = await cluster.KubectlAsAsync(sa, "get", "--raw", "/version");
        Assert.That(rc, Is.EqualTo(0), output);
    }

    [Test]
    public async Task UnknownBearerTokenIsUnauthorized()
    {
        var cluster = await TestCluster.GetAsync();
        if (cluster.Mode != "kube-testenv") Assert.Ignore("bearer tokens are kube-testenv's");
        var sa = await cluster.CreateServiceAccountIdentityAsync("default", "forged");
        var forged = sa with { KubeconfigPath = sa.KubeconfigPath + ".forged" };
        await File.WriteAllTextAsync(forged.KubeconfigPath, (await File.ReadAllTextAsync(sa.KubeconfigPath)).Replace(sa.Token, new string('0', sa.Token.Length)));

        var (rc, output) = await cluster.KubectlAsAsync(forged, "get", "--raw", "/version");
        Assert.That(rc, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("Unauthorized"));
    }

    [Test]
    public async Task IdentitiesAreWhoTheySayAndReviewsAnswerForOthers()
    {
        var cluster = await TestCluster.GetAsync();
        var ns = await cluster.CreateNamespaceAsync("rbac-who");
        var dev = await cluster.CreateIdentityAsync($"dev-{Id()}", "team-a", "team-b");

        var (rc, output) = await cluster.KubectlAsAsync(dev, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}");
        Assert.That(rc, Is.EqualTo(0), output);
        Assert.That(output, Is.EqualTo($"{dev.User} [\"team-a\",\"team-b\",\"system:authenticated\"]"));
        var kubeconfig = await cluster.KubeconfigForAsync($"system:serviceaccount:{ns}:app");
        (rc, output) = await cluster.KubectlAsync(new[] { "--kubeconfig", kubeconfig, "auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}" });
        Assert.That(output, Is.EqualTo($"[\"system:serviceaccounts\",\"system:serviceaccounts:{ns}\",\"system:authenticated\"]"));

        await Apply(cluster, SecretsReader(ns, "reader"));
        foreach (var (who, expected) in new[] { ($"system:serviceaccount:{ns}:reader", "true"), ($"system:serviceaccount:{ns}:other", "false") })
        {
            (rc, output) = await cluster.KubectlWithInputAsync($$"""
                apiVersion: authorization.k8s.io/v1
                kind: SubjectAccessReview
                spec:
                  user: "{{who}}"
                  groups: [system:serviceaccounts, "system:serviceaccounts:{{ns}}", system:authenticated]
                  resourceAttributes: {namespace: "{{ns}}", verb: list, resource: secrets}
                """, "create", "-f", "-", "-o", "jsonpath={.status.allowed}");
            Assert.That(rc, Is.EqualTo(0), output);
            Assert.That(output is "" ? "false" : output, Is.EqualTo(expected), who);
        }
    }

    [Test]
    public async Task TokenRequestTokenActsAsTheServiceAccount()
    {
        var cluster = await TestCluster.GetAsync();
        if (cluster.Mode != "kube-testenv") Assert.Ignore("swaps the bearer token of a kube-testenv identity");
        var ns = await cluster.CreateNamespaceAsync("rbac-token");
        await Apply(cluster, SecretsReader(ns, "reader"));
        var (rc, output) = await cluster.KubectlAsync(new[] { "create", "serviceaccount", "reader", "-n", ns });
        Assert.That(rc, Is.EqualTo(0), output);
        (rc, var token) = await cluster.KubectlAsync(new[] { "create", "token", "reader", "-n", ns });
        Assert.That(rc, Is.EqualTo(0), token);

        // an identity's kubeconfig with the issued token in place of its own
        var carrier = await cluster.CreateIdentityAsync($"carrier-{Id()}");
        var asReader = carrier with { KubeconfigPath = carrier.KubeconfigPath + ".reader" };
        await File.WriteAllTextAsync(asReader.KubeconfigPath, (await File.ReadAllTextAsync(carrier.KubeconfigPath)).Replace(carrier.Token, token.Trim()));
        (rc, output) = await cluster.KubectlAsAsync(asReader, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");
        Assert.That(output, Is.EqualTo($"system:serviceaccount:{ns}:reader"));
        (rc, output) = await cluster.KubectlAsAsync(asReader, "get", "secrets", "-n", ns);
        Assert.That(rc, Is.EqualTo(0), output);
        (rc, output) = await cluster.KubectlAsAsync(asReader, "get", "configmaps", "-n", ns);
        Assert.That(output, Does.Contain("Forbidden"));

        (rc, output) = await cluster.KubectlAsync(new[] { "create", "token", "missing", "-n", ns });
        Assert.That(rc, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("serviceaccounts \"missing\" not found"));
    }

    [Test]
    public async Task RoleBindingGrantsSecretsInItsNamespaceOnly()
    {
        var cluster = await TestCluster.GetAsync();
        var ns = await cluster.CreateNamespaceAsync("rbac-granted");
        var other = await cluster.CreateNamespaceAsync("rbac-other");
        var sa = await cluster.CreateServiceAccountIdentityAsync(ns, "reader");
        await Apply(cluster, SecretsReader(ns, "reader"));

        var (rc, output) = await cluster.KubectlAsAsync(sa, "get", "secrets", "-n", ns);
        Assert.That(rc, Is.EqualTo(0), output);

        (rc, output) = await cluster.KubectlAsAsync(sa, "get", "secrets", "-n", other);
        Assert.That(rc, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("Forbidden"));

        (rc, output) = await cluster.KubectlAsAsync(sa, "get", "secrets", "-A");
        Assert.That(rc, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("cannot list resource \"secrets\" in API group \"\" at the cluster scope"));

        // get and list only: creating is still refused
        (rc, output) = await cluster.KubectlAsAsync(sa, "create", "secret", "generic", "x", "-n", ns, "--from-literal=a=b");
        Assert.That(rc, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("cannot create resource \"secrets\""));
    }

    [Test]
    public async Task AuthCanIAsServiceAccountWithoutGrantsSaysNo()
    {
        var cluster = await TestCluster.GetAsync();
        var (rc, output) = await cluster.KubectlAsync(new[] { "auth", "can-i", "get", "secrets", "--as=system:serviceaccount:default:nobody" });
        Assert.That(output.Trim(), Is.EqualTo("no"));
        Assert.That(rc, Is.EqualTo(1));

        (rc, output) = await cluster.KubectlAsync(new[] { "auth", "can-i", "get", "secrets" });
        Assert.That(output.Trim(), Is.EqualTo("yes"));
        Assert.That(rc, Is.EqualTo(0));
    }

    [Test]
    public async Task AuthCanIListShowsWhatRbacGrants()
    {
        var cluster = await TestCluster.GetAsync();
        var ns = await cluster.CreateNamespaceAsync("rbac-list");
        await Apply(cluster, SecretsReader(ns, "reader"));
        var user = $"--as=system:serviceaccount:{ns}:reader";

        var (rc, output) = await cluster.KubectlAsync(new[] { "auth", "can-i", "--list", "-n", ns, user });
        Assert.That(rc, Is.EqualTo(0), output);
        var lines = output.Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.That(lines, Does.Contain("secrets [] [] [get list]"), output);
        Assert.That(lines, Does.Contain("selfsubjectaccessreviews.authorization.k8s.io [] [] [create]"), output);
        Assert.That(output, Does.Not.Contain("configmaps"));

        (rc, output) = await cluster.KubectlAsync(new[] { "auth", "can-i", "--list", "-n", "default", user });
        Assert.That(rc, Is.EqualTo(0), output);
        Assert.That(output, Does.Not.Contain("secrets"));
    }

    [Test]
    public async Task ImpersonationNeedsTheImpersonateVerb()
    {
        var cluster = await TestCluster.GetAsync();
        var ns = await cluster.CreateNamespaceAsync("rbac-imp");
        await Apply(cluster, SecretsReader(ns, "reader"));
        var plain = await cluster.CreateIdentityAsync($"plain-{Id()}", "team-a");

        var (rc, output) = await cluster.KubectlAsAsync(plain, "get", "secrets", "-n", ns, $"--as=system:serviceaccount:{ns}:reader");
        Assert.That(rc, Is.Not.EqualTo(0), output);
        // 1.36's filter tries constrained impersonation (impersonate-on:...) first, then the impersonate verb
        Assert.That(output, Does.Contain($"User \"{plain.User}\" cannot impersonate"));

        var name = $"impersonator-{Id()}";
        await Apply(cluster, $"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {"{"}name: {name}{"}"}
            rules:
            - apiGroups: [""]
              resources: [serviceaccounts]
              verbs: [impersonate]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {"{"}name: {name}{"}"}
            roleRef: {"{"}apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {name}{"}"}
            subjects:
            - {"{"}kind: User, apiGroup: rbac.authorization.k8s.io, name: {plain.User}{"}"}
            """);
        (rc, output) = await cluster.KubectlAsAsync(plain, "get", "secrets", "-n", ns, $"--as=system:serviceaccount:{ns}:reader");
        Assert.That(rc, Is.EqualTo(0), output);
    }

    [Test]
    public async Task RbacWritersCannotEscalateWithoutEscalateOrBind()
    {
        var cluster = await TestCluster.GetAsync();
        var ns = await cluster.CreateNamespaceAsync("rbac-esc");
        var writer = await cluster.CreateIdentityAsync($"rbac-writer-{Id()}");
        // the writer may manage roles and bindings in ns, nothing else
        await Apply(cluster, $"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {"{"}name: rbac-writer, namespace: {ns}{"}"}
            rules:
            - apiGroups: [rbac.authorization.k8s.io]
              resources: [roles, rolebindings]
              verbs: [get, list, create, update, patch, delete]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {"{"}name: rbac-writer, namespace: {ns}{"}"}
            roleRef: {"{"}apiGroup: rbac.authorization.k8s.io, kind: Role, name: rbac-writer{"}"}
            subjects:
            - {"{"}kind: User, apiGroup: rbac.authorization.k8s.io, name: {writer.User}{"}"}
            """);

        // a Role within the writer's own rights is fine
        var (rc, output) = await cluster.KubectlAsAsync(writer, "create", "role", "list-roles", "-n", ns, "--verb=list", "--resource=roles.rbac.authorization.k8s.io");
        Assert.That(rc, Is.EqualTo(0), output);

        // reading secrets is not among them
        (rc, output) = await cluster.KubectlAsAsync(writer, "create", "role", "read-secrets", "-n", ns, "--verb=get", "--resource=secrets");
        Assert.That(rc, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("is attempting to grant RBAC permissions not currently held"));

        // nor is binding a ClusterRole that grants more (edit)
        (rc, output) = await cluster.KubectlAsAsync(writer, "create", "rolebinding", "edit-me", "-n", ns, "--clusterrole=edit", $"--user={writer.User}");
        Assert.That(rc, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("is attempting to grant RBAC permissions not currently held"));

        // with escalate on roles and bind on the edit ClusterRole, both are allowed
        await Apply(cluster, $"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {"{"}name: rbac-writer-plus, namespace: {ns}{"}"}
            rules:
            - apiGroups: [rbac.authorization.k8s.io]
              resources: [roles]
              verbs: [escalate]
            - apiGroups: [rbac.authorization.k8s.io]
              resources: [clusterroles]
              verbs: [bind]
              resourceNames: [edit]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {"{"}name: rbac-writer-plus, namespace: {ns}{"}"}
            roleRef: {"{"}apiGroup: rbac.authorization.k8s.io, kind: Role, name: rbac-writer-plus{"}"}
            subjects:
            - {"{"}kind: User, apiGroup: rbac.authorization.k8s.io, name: {writer.User}{"}"}
            """);
        (rc, output) = await cluster.KubectlAsAsync(writer, "create", "role", "read-secrets", "-n", ns, "--verb=get", "--resource=secrets");
        Assert.That(rc, Is.EqualTo(0), output);
        (rc, output) = await cluster.KubectlAsAsync(writer, "create", "rolebinding", "edit-me", "-n", ns, "--clusterrole=edit", $"--user={writer.User}");
        Assert.That(rc, Is.EqualTo(0), output);
        // bind was granted for edit only
        (rc, output) = await cluster.KubectlAsAsync(writer, "create", "rolebinding", "admin-me", "-n", ns, "--clusterrole=admin", $"--user={writer.User}");
        Assert.That(rc, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("is attempting to grant RBAC permissions not currently held"));
    }

    [Test]
    public async Task AggregationRuleGathersLabelledClusterRoles()
    {
        var cluster = await TestCluster.GetAsync();
        var ns = await cluster.CreateNamespaceAsync("rbac-agg");
        var id = Id();
        await Apply(cluster, $"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {"{"}name: agg-{id}{"}"}
            aggregationRule:
              clusterRoleSelectors:
              - matchLabels: {"{"}example.com/aggregate-to-agg-{id}: "true"{"}"}
            rules: []
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: agg-{id}-configmaps
              labels: {"{"}example.com/aggregate-to-agg-{id}: "true"{"}"}
            rules:
            - apiGroups: [""]
              resources: [configmaps]
              verbs: [get, list]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {"{"}name: agg, namespace: {ns}{"}"}
            roleRef: {"{"}apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: agg-{id}{"}"}
            subjects:
            - {"{"}kind: ServiceAccount, name: app, namespace: {ns}{"}"}
            """);
        var asApp = $"--as=system:serviceaccount:{ns}:app";
        await Eventually(async () => (await cluster.KubectlAsync(new[] { "auth", "can-i", "list", "configmaps", "-n", ns, asApp })).Output.Trim() == "yes",
            "the aggregated ClusterRole never granted list configmaps");
        var (rc, output) = await cluster.KubectlAsync(new[] { "get", "clusterrole", $"agg-{id}", "-o", "jsonpath={.rules[0].resources}" });
        Assert.That(output, Is.EqualTo("[\"configmaps\"]"));
        (_, output) = await cluster.KubectlAsync(new[] { "auth", "can-i", "list", "secrets", "-n", ns, asApp });
        Assert.That(output.Trim(), Is.EqualTo("no"));

        // the built-in user-facing roles aggregate too: view reads configmaps and deployments but not secrets
        var viewer = $"--as=system:serviceaccount:{ns}:viewer";
        (rc, output) = await cluster.KubectlAsync(new[] { "create", "rolebinding", "viewer", "-n", ns, "--clusterrole=view", $"--serviceaccount={ns}:viewer" });
        Assert.That(rc, Is.EqualTo(0), output);
        foreach (var (verb, resource, expected) in new[] { ("list", "configmaps", "yes"), ("watch", "deployments.apps", "yes"), ("get", "secrets", "no"), ("create", "configmaps", "no") })
        {
            (_, output) = await cluster.KubectlAsync(new[] { "auth", "can-i", verb, resource, "-n", ns, viewer });
            Assert.That(output.Trim(), Is.EqualTo(expected), $"view: {verb} {resource}");
        }

        // dropping the label takes the rules out again
        (rc, output) = await cluster.KubectlAsync(new[] { "label", "clusterrole", $"agg-{id}-configmaps", $"example.com/aggregate-to-agg-{id}-" });
        Assert.That(rc, Is.EqualTo(0), output);
        await Eventually(async () => (await cluster.KubectlAsync(new[] { "auth", "can-i", "list", "configmaps", "-n", ns, asApp })).Output.Trim() == "no",
            "the aggregated ClusterRole kept the rules of a ClusterRole no longer selected");
    }

    [Test]
    public async Task AggregationRuleNeedsClusterAdminRights()
    {
        var cluster = await TestCluster.GetAsync();
        var id = Id();
        var writer = await cluster.CreateIdentityAsync($"cr-writer-{id}");
        await Apply(cluster, $"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {"{"}name: cr-writer-{id}{"}"}
            rules:
            - apiGroups: [rbac.authorization.k8s.io]
              resources: [clusterroles]
              verbs: [create]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {"{"}name: cr-writer-{id}{"}"}
            roleRef: {"{"}apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr-writer-{id}{"}"}
            subjects:
            - {"{"}kind: User, apiGroup: rbac.authorization.k8s.io, name: {writer.User}{"}"}
            """);
        var (rc, output) = await cluster.KubectlWithInputAsync($$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: "gather-{{id}}" }
            aggregationRule:
              clusterRoleSelectors:
              - matchLabels: {rbac.authorization.k8s.io/aggregate-to-admin: "true"}
            """, "create", "--kubeconfig", writer.KubeconfigPath, "-f", "-");
        Assert.That(rc, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("must have cluster-admin privileges to use the aggregationRule"));
    }

    [Test]
    public async Task ChartWorkloadKindsAreServed()
    {
        var cluster = await TestCluster.GetAsync();
        var ns = await cluster.CreateNamespaceAsync("kinds");
        await Apply(cluster, $"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {"{"}name: app, namespace: {ns}{"}"}
            spec:
              selector: {"{"}matchLabels: {"{"}app: x{"}"}{"}"}
              template:
                metadata: {"{"}labels: {"{"}app: x{"}"}{"}"}
                spec:
                  containers: [{"{"}name: c, image: example.invalid/app:1{"}"}]
            ---
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {"{"}name: app, namespace: {ns}{"}"}
            spec:
              minAvailable: 1
              selector: {"{"}matchLabels: {"{"}app: x{"}"}{"}"}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {"{"}name: app, namespace: {ns}{"}"}
            spec:
              podSelector: {"{"}matchLabels: {"{"}app: x{"}"}{"}"}
              policyTypes: [Ingress]
            """);
        var (rc, output) = await cluster.KubectlAsync(new[] { "get", "deployment,pdb,networkpolicy", "-n", ns, "-o", "name" });
        Assert.That(rc, Is.EqualTo(0), output);
        Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EquivalentTo(new[]
        {
            "deployment.apps/app", "poddisruptionbudget.policy/app", "networkpolicy.networking.k8s.io/app",
        }));
        (rc, output) = await cluster.KubectlAsync(new[] { "get", "deployment", "app", "-n", ns, "-o", "jsonpath={.spec.replicas} {.spec.strategy.type}" });
        Assert.That(output, Is.EqualTo("1 RollingUpdate"));

        // a Deployment whose selector does not match its template is refused, as upstream
        (rc, output) = await cluster.KubectlWithInputAsync($$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: bad, namespace: {{ns}} }
            spec:
              selector: {matchLabels: {app: x} }
              template:
                metadata: {labels: {app: other} }
                spec:
                  containers: [{name: c, image: example.invalid/app:1}]
            """, "create", "-f", "-");
        Assert.That(rc, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("`selector` does not match template `labels`"));
    }

    private static async Task Eventually(Func<Task<bool>> condition, string message)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(message);
            await Task.Delay(200);
        }
    }
}
