using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Unit.Packaging;

/// <summary>
/// The chart rendered by Helm's own engine (<see cref="Helm"/>): lint --strict and template for every values file in
/// ci/, and each fix of issue 15 checked on the rendered objects. Skipped, with the reason, where no helm is found.
/// </summary>
public class ChartRenderTests
{
    private const string Ns = "connect-operator-system";

    public static IEnumerable<string> CiValuesFiles() => Helm.CiValuesFiles();

    [Test]
    public void CiHoldsTheValuesFilesAPlatformTeamNeeds()
        => Assert.That(CiValuesFiles(), Is.SupersetOf(new[]
        {
            "default-values.yaml", "cert-manager-values.yaml", "monitoring-values.yaml", "two-replicas-values.yaml",
            "custom-serviceaccount-values.yaml", "openshift-values.yaml", "platform-values.yaml",
        }));

    [TestCaseSource(nameof(CiValuesFiles))]
    public async Task LintStrictPasses(string file)
    {
        var r = await Helm.RunAsync("lint", PackagingFiles.Chart, "--strict", "-n", Ns, "-f", Helm.CiValues(file));
        Assert.That(r.Code, Is.EqualTo(0), r.Stdout + r.Stderr);
        Assert.That(r.Stdout, Does.Contain("0 chart(s) failed"));
        Assert.That(r.Stdout, Does.Not.Contain("[WARNING]").And.Not.Contain("[ERROR]"));
    }

    [TestCaseSource(nameof(CiValuesFiles))]
    public async Task RendersWellFormedObjects(string file)
    {
        var docs = (await Helm.TemplateAsync("connect-operator", Ns, "-f", Helm.CiValues(file))).Documents(file);
        Assert.That(docs.Select(Kind), Is.SupersetOf(new[]
        {
            "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment", "ValidatingWebhookConfiguration",
        }));
        foreach (var d in docs)
        {
            Assert.That(d.Str("apiVersion"), Is.Not.Null.And.Not.Empty, file);
            var name = d.Str("metadata", "name");
            Assert.That(name, Does.Match("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$").And.Length.LessThanOrEqualTo(253), $"{file}: {Kind(d)} name");
            if (!ClusterScoped(Kind(d)) && Kind(d) != "ConfigMap")
                Assert.That(d.Str("metadata", "namespace"), Is.EqualTo(Ns), $"{file}: {Kind(d)} {name}");
            Assert.That(d.Str("metadata", "labels", "app.kubernetes.io/instance"), Is.EqualTo("connect-operator"), $"{file}: {Kind(d)} {name}");
        }
        Assert.That(docs.Select(d => Kind(d) + "/" + d.Str("metadata", "name")), Is.Unique, file);

        // The pieces that point at each other agree.
        var deploy = docs.Single(d => Kind(d) == "Deployment");
        var env = Env(deploy);
        var vwc = docs.Single(d => Kind(d) == "ValidatingWebhookConfiguration");
        Assert.That(env["Webhook__ConfigurationName"], Is.EqualTo(vwc.Str("metadata", "name")));
        var svc = docs.Single(d => Kind(d) == "Service");
        Assert.That(env["Webhook__ServiceName"], Is.EqualTo(svc.Str("metadata", "name")));
        foreach (var hook in Seq(vwc.Get("webhooks")))
            Assert.That(hook.Str("clientConfig", "service", "name"), Is.EqualTo(svc.Str("metadata", "name")));
        var sa = deploy.Str("spec", "template", "spec", "serviceAccountName");
        foreach (var binding in docs.Where(d => Kind(d) is "ClusterRoleBinding" or "RoleBinding"))
            Assert.That(Seq(binding.Get("subjects")).Single().Str("name"), Is.EqualTo(sa), file);
    }

    // ---- fixes ----

    [TestCase(1, "0.6")]
    [TestCase(5, "3")]
    [TestCase(7, "4.2")]
    [TestCase(30, "18")]
    public async Task WebhookSlowAlertFiresAtSixtyPercentOfTheTimeout(int timeoutSeconds, string threshold)
    {
        // The old template used integer division: timeoutSeconds 1 gave a threshold of 0 (always firing).
        var docs = (await Helm.TemplateAsync("connect-operator", Ns, "--set", "monitoring.prometheusRule.enabled=true",
            "--set", $"webhook.timeoutSeconds={timeoutSeconds}")).Documents("prometheusrule");
        var expr = Alerts(docs)["ConnectWebhookSlow"];
        Assert.That(expr.TrimEnd(), Does.EndWith("> " + threshold));
    }

    [TestCase("--set", "serviceAccount.create=false")]
    [TestCase("--set", "serviceAccount.create=false,serviceAccount.name=")]
    public async Task SchemaRefusesAnExistingServiceAccountWithoutAName(string flag, string value)
    {
        var r = await Helm.TryTemplateAsync("connect-operator", Ns, flag, value);
        Assert.That(r.Code, Is.Not.EqualTo(0));
        Assert.That(r.Stderr, Does.Contain("values don't meet the specifications of the schema").And.Contain("/serviceAccount"), r.Stderr);
        Assert.That(r.Stderr, Does.Contain("name"), r.Stderr);

        var ok = await Helm.TemplateAsync("connect-operator", Ns, "--set", "serviceAccount.create=false,serviceAccount.name=platform-sa");
        var docs = ok.Documents("custom sa");
        Assert.That(docs.Any(d => Kind(d) == "ServiceAccount"), Is.False);
        Assert.That(docs.Single(d => Kind(d) == "Deployment").Str("spec", "template", "spec", "serviceAccountName"), Is.EqualTo("platform-sa"));
    }

    [Test]
    public async Task LeaderElectionOffWithSeveralReplicasFailsTheRender()
    {
        var r = await Helm.TryTemplateAsync("connect-operator", Ns, "--set", "operator.leaderElection.enabled=false");
        Assert.That(r.Code, Is.Not.EqualTo(0), "two replicas without leader election rendered");
        Assert.That(r.Stderr, Does.Contain("operator.leaderElection.enabled=false with replicaCount=2"));

        var one = await Helm.TemplateAsync("connect-operator", Ns, "--set", "operator.leaderElection.enabled=false,replicaCount=1");
        Assert.That(Env(one.Documents("one").Single(d => Kind(d) == "Deployment"))["Operator__LeaderElection__Enabled"], Is.EqualTo("false"));
    }

    [Test]
    public async Task TwoReleasesInOneClusterShareNoClusterScopedName()
    {
        var all = new[] { "--set", "webhook.certMode=cert-manager" };
        var a = (await Helm.TemplateAsync("team-a", "ns-a")).Documents("a");
        var b = (await Helm.TemplateAsync("team-b", "ns-b")).Documents("b");
        var c = (await Helm.TemplateAsync("team-c", "ns-c", all)).Documents("c");
        string[] Names(List<YamlMappingNode> docs) => docs.Where(d => ClusterScoped(Kind(d))).Select(d => Kind(d) + "/" + d.Str("metadata", "name")).ToArray();
        Assert.That(Names(a), Has.Length.EqualTo(7), "ClusterRole, secrets-reader ClusterRole, ClusterRoleBinding, 3 user ClusterRoles, ValidatingWebhookConfiguration");
        Assert.That(Names(a).Intersect(Names(b)), Is.Empty);
        Assert.That(Names(a).Intersect(Names(c)), Is.Empty);
        Assert.That(Names(a), Does.Contain("ValidatingWebhookConfiguration/team-a-connect-operator")
            .And.Contain("ClusterRole/team-a-connect-operator-department-editor").And.Contain("ClusterRole/team-a-connect-operator-secrets-reader"));
        Assert.That(Env(a.Single(d => Kind(d) == "Deployment"))["Operator__SecretAccess__ClusterRole"], Is.EqualTo("team-a-connect-operator-secrets-reader"));

        // The operator patches the configuration it is told about, and may touch only that one.
        var cluster = Rules(a.Single(d => Kind(d) == "ClusterRole" && d.Str("metadata", "name") == "team-a-connect-operator"));
        var vwcRule = cluster.Single(r => r.Resources.Contains("validatingwebhookconfigurations"));
        Assert.That(vwcRule.Names, Is.EqualTo(new[] { "team-a-connect-operator" }));
        Assert.That(Env(a.Single(d => Kind(d) == "Deployment"))["Webhook__ConfigurationName"], Is.EqualTo("team-a-connect-operator"));
    }

    [Test]
    public async Task DefaultReleaseKeepsTheDocumentedWebhookConfigurationName()
    {
        // deploy/kustomize/base and the docs use release "connect-operator": its names do not change.
        var docs = (await Helm.TemplateAsync("connect-operator", Ns)).Documents("default");
        Assert.That(docs.Single(d => Kind(d) == "ValidatingWebhookConfiguration").Str("metadata", "name"), Is.EqualTo("connect-operator"));
        var explicitName = (await Helm.TemplateAsync("x", Ns, "--set", "webhook.configurationName=my-hooks")).Documents("explicit");
        Assert.That(explicitName.Single(d => Kind(d) == "ValidatingWebhookConfiguration").Str("metadata", "name"), Is.EqualTo("my-hooks"));
        Assert.That(Env(explicitName.Single(d => Kind(d) == "Deployment"))["Webhook__ConfigurationName"], Is.EqualTo("my-hooks"));
    }

    [Test]
    public async Task StringTagsNeedSetStringAndDecimalsNeedSetJson()
    {
        // --set types "20241204" as a number and "0.8" as a string; the schema refuses both, as the README explains.
        var tag = await Helm.TryTemplateAsync("connect-operator", Ns, "--set", "image.tag=20241204");
        Assert.That(tag.Code, Is.Not.EqualTo(0));
        Assert.That(tag.Stderr, Does.Contain("/image/tag"));
        var tagOk = await Helm.TemplateAsync("connect-operator", Ns, "--set-string", "image.tag=20241204");
        Assert.That(Container(tagOk.Documents("tag").Single(d => Kind(d) == "Deployment")).Str("image"),
            Is.EqualTo("ghcr.io/ebs/connect-operator:20241204"));

        var threshold = await Helm.TryTemplateAsync("connect-operator", Ns, "--set", "monitoring.prometheusRule.enabled=true",
            "--set", "monitoring.prometheusRule.quotaThreshold=0.8");
        Assert.That(threshold.Code, Is.Not.EqualTo(0));
        Assert.That(threshold.Stderr, Does.Contain("/monitoring/prometheusRule/quotaThreshold"));
        var thresholdOk = await Helm.TemplateAsync("connect-operator", Ns, "--set", "monitoring.prometheusRule.enabled=true",
            "--set-json", "monitoring.prometheusRule.quotaThreshold=0.8");
        Assert.That(Alerts(thresholdOk.Documents("threshold"))["ConnectQuotaNearlyExhausted"].TrimEnd(), Does.EndWith("> 0.8"));

        var readme = File.ReadAllText(Path.Combine(PackagingFiles.Chart, "README.md"));
        Assert.That(readme, Does.Contain("--set-string image.tag=").And.Contain("--set-json monitoring.prometheusRule.quotaThreshold="));
    }

    [Test]
    public async Task CertManagerModeSignsTheServingCertificateWithALongLivedCa()
    {
        var docs = (await Helm.TemplateAsync("connect-operator", Ns, "-f", Helm.CiValues("cert-manager-values.yaml"))).Documents("cm");
        var issuers = docs.Where(d => Kind(d) == "Issuer").ToDictionary(d => d.Str("metadata", "name")!);
        var certs = docs.Where(d => Kind(d) == "Certificate").ToDictionary(d => d.Str("metadata", "name")!);
        Assert.That(issuers, Has.Count.EqualTo(2));
        Assert.That(certs, Has.Count.EqualTo(2));

        var selfSigned = issuers.Values.Single(i => i.Get("spec", "selfSigned") != null);
        var caCert = certs.Values.Single(c => c.Str("spec", "isCA") == "true");
        var serving = certs.Values.Single(c => c.Str("spec", "isCA") != "true");
        var caIssuer = issuers.Values.Single(i => i.Get("spec", "ca") != null);

        Assert.That(caCert.Str("spec", "issuerRef", "name"), Is.EqualTo(selfSigned.Str("metadata", "name")), "self-signed Issuer -> CA");
        Assert.That(caIssuer.Str("spec", "ca", "secretName"), Is.EqualTo(caCert.Str("spec", "secretName")), "CA -> CA Issuer");
        Assert.That(serving.Str("spec", "issuerRef", "name"), Is.EqualTo(caIssuer.Str("metadata", "name")), "CA Issuer -> serving");
        Assert.That(serving.Str("spec", "secretName"), Is.EqualTo("connect-operator-webhook-tls"));
        Assert.That(serving.Str("spec", "secretName"), Is.Not.EqualTo(caCert.Str("spec", "secretName")));
        Assert.That(Hours(caCert.Str("spec", "duration")!), Is.GreaterThan(2 * Hours(serving.Str("spec", "duration")!)),
            "the CA must outlive serving certificates, or their renewal changes caBundle");
        Assert.That(caCert.Str("spec", "privateKey", "rotationPolicy"), Is.EqualTo("Never"));

        var vwc = docs.Single(d => Kind(d) == "ValidatingWebhookConfiguration");
        Assert.That(vwc.Str("metadata", "annotations", "cert-manager.io/inject-ca-from"), Is.EqualTo($"{Ns}/{serving.Str("metadata", "name")}"));
        Assert.That(Env(docs.Single(d => Kind(d) == "Deployment"))["Webhook__CertMode"], Is.EqualTo("cert-manager"));
    }

    /// <summary>
    /// Exactly what the operator calls (src/ConnectOperator: informers, KubeApiClient Get/Create/Replace/Patch): the
    /// old chart also granted namespaces, events.k8s.io, update on departments and managedconnectors, the
    /// /finalizers subresources and patch on status and on the webhook configuration, none of which the code uses.
    /// </summary>
    [TestCase("self-managed")]
    [TestCase("cert-manager")]
    public async Task OperatorRbacIsExactlyWhatTheOperatorCalls(string mode)
    {
        var docs = (await Helm.TemplateAsync("connect-operator", Ns, "--set", "webhook.certMode=" + mode)).Documents(mode);
        var cluster = Flatten(Rules(docs.Single(d => Kind(d) == "ClusterRole" && d.Str("metadata", "name") == "connect-operator")));
        var expected = new List<string>();
        foreach (var res in new[] { "managedconnectors", "departments", "connectorquotas" })
        {
            expected.AddRange(new[] { "get", "list", "watch" }.Select(v => $"connect.ebs.io|{res}|{v}|"));
            expected.Add($"connect.ebs.io|{res}/status|update|");
        }
        expected.Add("connect.ebs.io|managedconnectors|patch|");
        // No Secret access cluster-wide: RoleBindings to the secrets reader in department namespaces, bind on it by name.
        expected.Add("rbac.authorization.k8s.io|rolebindings|create|");
        expected.AddRange(new[] { "get", "update", "delete" }.Select(v => $"rbac.authorization.k8s.io|rolebindings|{v}|connect-operator-secrets-reader"));
        expected.Add("rbac.authorization.k8s.io|clusterroles|bind|connect-operator-secrets-reader");
        expected.AddRange(new[] { "create", "patch" }.Select(v => $"|events|{v}|"));
        expected.AddRange(new[] { "get", "create", "update" }.Select(v => $"|configmaps|{v}|"));   // connect.ebs.io/offsets list and alter
        if (mode == "self-managed")
            expected.AddRange(new[] { "get", "update" }.Select(v => $"admissionregistration.k8s.io|validatingwebhookconfigurations|{v}|connect-operator"));
        Assert.That(cluster, Is.EquivalentTo(expected));

        var role = Flatten(Rules(docs.Single(d => Kind(d) == "Role")));
        var expectedRole = new List<string>
        {
            "coordination.k8s.io|leases|get|connect-operator-leader", "coordination.k8s.io|leases|update|connect-operator-leader", "coordination.k8s.io|leases|create|",
        };
        // both modes: credentials (informer) and the webhook's certificate, in its own namespace only
        expectedRole.AddRange(new[] { "get", "list", "watch" }.Select(v => $"|secrets|{v}|"));
        if (mode == "self-managed") expectedRole.AddRange(new[] { "|secrets|update|connect-operator-webhook-tls", "|secrets|create|" });
        Assert.That(role, Is.EquivalentTo(expectedRole));

        var reader = Flatten(Rules(docs.Single(d => Kind(d) == "ClusterRole" && d.Str("metadata", "name") == "connect-operator-secrets-reader")));
        Assert.That(reader, Is.EquivalentTo(new[] { "get", "list", "watch" }.Select(v => $"|secrets|{v}|")));
        Assert.That(docs.Where(d => Kind(d) is "ClusterRoleBinding" or "RoleBinding").Select(d => d.Str("roleRef", "name")),
            Has.None.EqualTo("connect-operator-secrets-reader"), "the chart never binds the secrets reader itself: the operator does, per department namespace");
    }

    [Test]
    public async Task WebhookPortIsSetInOnePlace()
    {
        var docs = (await Helm.TemplateAsync("connect-operator", Ns, "--set", "operator.webhookPort=10250,networkPolicy.enabled=true")).Documents("port");
        var c = Container(docs.Single(d => Kind(d) == "Deployment"));
        var webhookPort = Seq(c.Get("ports")).Single(p => p.Str("name") == "webhook");
        Assert.That(webhookPort.Str("containerPort"), Is.EqualTo("10250"));
        Assert.That(Env(docs.Single(d => Kind(d) == "Deployment"))["Operator__WebhookPort"], Is.EqualTo("10250"));
        var svcPort = Seq(docs.Single(d => Kind(d) == "Service").Get("spec", "ports")).Single(p => p.Str("name") == "webhook");
        Assert.That(svcPort.Str("targetPort"), Is.EqualTo("webhook"));
        Assert.That(svcPort.Str("port"), Is.EqualTo("443"));
        var np = docs.Single(d => Kind(d) == "NetworkPolicy");
        Assert.That(Seq(np.Get("spec", "ingress")).SelectMany(i => Seq(i.Get("ports"))).Select(p => p.Str("port")), Does.Contain("10250"));

        var readme = File.ReadAllText(Path.Combine(PackagingFiles.Chart, "README.md"));
        Assert.That(readme, Does.Contain("10250").And.Contain("GKE"));
    }

    [Test]
    public async Task PodDisruptionBudgetNeverBlocksADrain()
    {
        var one = (await Helm.TemplateAsync("connect-operator", Ns, "--set", "replicaCount=1")).Documents("one");
        var pdb = one.Single(d => Kind(d) == "PodDisruptionBudget");
        Assert.That(pdb.Str("spec", "maxUnavailable"), Is.EqualTo("1"));
        Assert.That(pdb.Get("spec", "minAvailable"), Is.Null);

        var pinned = await Helm.TryTemplateAsync("connect-operator", Ns, "--set", "replicaCount=1,podDisruptionBudget.minAvailable=1");
        Assert.That(pinned.Code, Is.Not.EqualTo(0), "minAvailable 1 at one replica blocks every drain");
        Assert.That(pinned.Stderr, Does.Contain("podDisruptionBudget.minAvailable=1 with replicaCount=1"));

        var two = (await Helm.TemplateAsync("connect-operator", Ns, "-f", Helm.CiValues("two-replicas-values.yaml"))).Documents("two");
        var pdb2 = two.Single(d => Kind(d) == "PodDisruptionBudget");
        Assert.That(pdb2.Str("spec", "minAvailable"), Is.EqualTo("1"));
        Assert.That(pdb2.Get("spec", "maxUnavailable"), Is.Null, "the API server refuses both fields");
    }

    [Test]
    public async Task OpenShiftLeavesTheIdsToTheSecurityContextConstraint()
    {
        var dflt = Deployment((await Helm.TemplateAsync("connect-operator", Ns)).Documents("default"));
        Assert.That(dflt.Str("spec", "template", "spec", "securityContext", "runAsUser"), Is.EqualTo("1654"));
        Assert.That(dflt.Str("spec", "template", "spec", "securityContext", "fsGroup"), Is.EqualTo("1654"));

        var os = Deployment((await Helm.TemplateAsync("connect-operator", Ns, "-f", Helm.CiValues("openshift-values.yaml"))).Documents("openshift"));
        var pod = (YamlMappingNode)os.Get("spec", "template", "spec", "securityContext")!;
        var keys = pod.Children.Keys.Select(k => ((YamlScalarNode)k).Value).ToList();
        Assert.That(keys, Has.None.AnyOf("runAsUser", "runAsGroup", "fsGroup"));
        Assert.That(pod.Str("runAsNonRoot"), Is.EqualTo("true"));
        var container = (YamlMappingNode)Container(os).Get("securityContext")!;
        Assert.That(container.Children.Keys.Select(k => ((YamlScalarNode)k).Value), Has.None.AnyOf("runAsUser", "runAsGroup"));
        Assert.That(container.Str("allowPrivilegeEscalation"), Is.EqualTo("false"));
    }

    [Test]
    public async Task NetworkPolicyIsOptionalAndOpensOnlyTheTwoPorts()
    {
        var dflt = (await Helm.TemplateAsync("connect-operator", Ns)).Documents("default");
        Assert.That(dflt.Any(d => Kind(d) == "NetworkPolicy"), Is.False, "off by default");

        var docs = (await Helm.TemplateAsync("connect-operator", Ns, "-f", Helm.CiValues("platform-values.yaml"))).Documents("platform");
        var np = docs.Single(d => Kind(d) == "NetworkPolicy");
        Assert.That(np.Get("spec", "policyTypes").Strings(), Is.EqualTo(new[] { "Ingress" }));
        Assert.That(np.Get("spec", "podSelector", "matchLabels"), Is.EqualTo(Deployment(docs).Get("spec", "selector", "matchLabels")));
        var ingress = Seq(np.Get("spec", "ingress"));
        var ports = ingress.Select(i => Seq(i.Get("ports")).Single().Str("port")).ToList();
        Assert.That(ports, Is.EquivalentTo(new[] { "10250", "8080" }));
        Assert.That(ingress.All(i => Seq(i.Get("from")).Count > 0), Is.True, "platform-values restricts both");
    }

    [Test]
    public async Task DepartmentRolesReadEventsAndNeverWriteStatus()
    {
        var docs = (await Helm.TemplateAsync("connect-operator", Ns)).Documents("default");
        var roles = docs.Where(d => Kind(d) == "ClusterRole").ToDictionary(d => d.Str("metadata", "name")!);
        foreach (var name in new[] { "connect-operator-department-editor", "connect-operator-department-viewer" })
        {
            var rules = Flatten(Rules(roles[name]));
            foreach (var verb in new[] { "get", "list", "watch" })
                Assert.That(rules, Does.Contain($"|events|{verb}|"), $"{name}: {verb} events");
            Assert.That(rules.Where(r => r.Contains("/status|") && !r.Contains("|get|") && !r.Contains("|list|") && !r.Contains("|watch|")),
                Is.Empty, name + " must not write status");
        }
        Assert.That(roles.Keys, Does.Contain("connect-operator-platform-admin"));
        Assert.That(Flatten(Rules(roles["connect-operator-department-viewer"])).Any(r => r.StartsWith("|secrets|", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task GrafanaDashboardShipsAndTheReadmeSaysSo()
    {
        var docs = (await Helm.TemplateAsync("connect-operator", Ns, "-f", Helm.CiValues("monitoring-values.yaml"))).Documents("monitoring");
        var cm = docs.Single(d => Kind(d) == "ConfigMap");
        Assert.That(cm.Str("metadata", "labels", "grafana_dashboard"), Is.EqualTo("1"));
        var json = Newtonsoft.Json.Linq.JObject.Parse(cm.Str("data", "connect-operator.json")!);
        Assert.That(json["panels"], Is.Not.Null);
        var readme = File.ReadAllText(Path.Combine(PackagingFiles.Chart, "README.md"));
        Assert.That(readme, Does.Not.Contain("No Grafana dashboard"));
    }

    // ---- helpers ----

    internal static string Kind(YamlNode d) => d.Str("kind") ?? "";

    internal static bool ClusterScoped(string kind) => kind is "ClusterRole" or "ClusterRoleBinding" or "ValidatingWebhookConfiguration"
        or "CustomResourceDefinition" or "Namespace";

    private static List<YamlNode> Seq(YamlNode? n) => n is YamlSequenceNode s ? s.Children.ToList() : new List<YamlNode>();

    private static YamlMappingNode Deployment(List<YamlMappingNode> docs) => docs.Single(d => Kind(d) == "Deployment");

    private static YamlNode Container(YamlNode deployment) => Seq(deployment.Get("spec", "template", "spec", "containers")).Single();

    private static Dictionary<string, string?> Env(YamlNode deployment)
        => Seq(Container(deployment).Get("env")).ToDictionary(e => e.Str("name")!, e => e.Str("value"));

    private static Dictionary<string, string> Alerts(List<YamlMappingNode> docs)
        => Seq(docs.Single(d => Kind(d) == "PrometheusRule").Get("spec", "groups")).SelectMany(g => Seq(g.Get("rules")))
            .ToDictionary(r => r.Str("alert")!, r => r.Str("expr")!);

    internal sealed record Rule(List<string> Groups, List<string> Resources, List<string> Verbs, List<string> Names);

    internal static List<Rule> Rules(YamlNode role) => Seq(role.Get("rules")).Select(r => new Rule(
        r.Get("apiGroups").Strings(), r.Get("resources").Strings(), r.Get("verbs").Strings(), r.Get("resourceNames").Strings())).ToList();

    /// <summary>One "group|resource|verb|name" line per grant, so rule sets compare regardless of how rules are grouped.</summary>
    internal static List<string> Flatten(IEnumerable<Rule> rules)
        => rules.SelectMany(r => from g in r.Groups
                                 from res in r.Resources
                                 from v in r.Verbs
                                 from n in r.Names.Count == 0 ? new[] { "" } : r.Names.ToArray()
                                 select $"{g}|{res}|{v}|{n}").ToList();

    private static double Hours(string goDuration)
    {
        Assert.That(goDuration, Does.Match(@"^\d+h$"), "durations here are whole hours");
        return double.Parse(goDuration.TrimEnd('h'), CultureInfo.InvariantCulture);
    }
}
