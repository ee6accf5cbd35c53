using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Unit.Packaging;

/// <summary>
/// Structural checks of the chart templates without a helm binary: each template parses as YAML once template
/// actions are made opaque, renders only known kinds, and the operator's RBAC covers what the operator does.
/// </summary>
public class ChartTemplateTests
{
    /// <summary>Kinds the chart may render, with their apiVersion. Built-in kinds every cluster understands.</summary>
    private static readonly Dictionary<string, string> BuiltInKinds = new()
    {
        ["ServiceAccount"] = "v1",
        ["Service"] = "v1",
        ["ConfigMap"] = "v1",
        ["Secret"] = "v1",
        ["Deployment"] = "apps/v1",
        ["PodDisruptionBudget"] = "policy/v1",
        ["NetworkPolicy"] = "networking.k8s.io/v1",
        ["ClusterRole"] = "rbac.authorization.k8s.io/v1",
        ["ClusterRoleBinding"] = "rbac.authorization.k8s.io/v1",
        ["Role"] = "rbac.authorization.k8s.io/v1",
        ["RoleBinding"] = "rbac.authorization.k8s.io/v1",
        ["ValidatingWebhookConfiguration"] = "admissionregistration.k8s.io/v1",
    };

    /// <summary>Kinds from third-party CRDs, and the values switch that must guard them.</summary>
    private static readonly Dictionary<string, (string ApiVersion, string Guard)> OptionalKinds = new()
    {
        ["Issuer"] = ("cert-manager.io/v1", "webhook.certMode \"cert-manager\""),
        ["Certificate"] = ("cert-manager.io/v1", "webhook.certMode \"cert-manager\""),
        ["ServiceMonitor"] = ("monitoring.coreos.com/v1", ".Values.monitoring.serviceMonitor.enabled"),
        ["PrometheusRule"] = ("monitoring.coreos.com/v1", ".Values.monitoring.prometheusRule.enabled"),
    };

    public static IEnumerable<string> TemplateFiles()
        => Directory.GetFiles(Path.Combine(PackagingFiles.Chart, "templates"), "*.yaml")
            .Select(Path.GetFileName).OrderBy(x => x, StringComparer.Ordinal)!;

    [Test]
    public void ChartHasTheExpectedTemplates()
    {
        Assert.That(TemplateFiles(), Is.SupersetOf(new[]
        {
            "deployment.yaml", "service.yaml", "serviceaccount.yaml", "pdb.yaml", "rbac.yaml", "user-roles.yaml",
            "webhook.yaml", "certificate.yaml", "servicemonitor.yaml", "prometheusrule.yaml",
        }));
        Assert.That(File.Exists(Path.Combine(PackagingFiles.Chart, "templates", "_helpers.tpl")), Is.True);
        Assert.That(File.Exists(Path.Combine(PackagingFiles.Chart, "templates", "NOTES.txt")), Is.True);
        var chart = PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Chart, "Chart.yaml"));
        Assert.That((string?)chart["apiVersion"], Is.EqualTo("v2"));
        Assert.That((string?)chart["name"], Is.EqualTo("connect-operator"));
    }

    [Test]
    public void StripperHandlesTrimmingWholeLineAndInlineActions()
    {
        var stripped = PackagingFiles.StripTemplateActions(
            "{{- if .Values.x }}\nmetadata:\n  name: {{ include \"n\" . }}-x\n  labels:\n    {{- include \"l\" . | nindent 4 }}\n" +
            "  note: \"{{`{{ $labels.a }}`}} and {{ \"}}\" }}\"\n{{- end }}\n");
        Assert.That(stripped, Is.EqualTo(
            "metadata:\n  name: TEMPLATE_VALUE-x\n  labels:\n  note: \"TEMPLATE_VALUE and TEMPLATE_VALUE\"\n"));
        Assert.Throws<InvalidOperationException>(() => PackagingFiles.StripTemplateActions("a: {{ oops\n"));
    }

    [TestCaseSource(nameof(TemplateFiles))]
    public void TemplateParsesAsYamlAndRendersKnownKinds(string file)
    {
        var raw = File.ReadAllText(Path.Combine(PackagingFiles.Chart, "templates", file));
        var docs = PackagingFiles.LoadTemplate(file);
        Assert.That(docs, Is.Not.Empty, file + " renders no document");
        foreach (var doc in docs)
        {
            var kind = doc.Str("kind");
            var apiVersion = doc.Str("apiVersion");
            Assert.That(kind, Is.Not.Null.And.Not.Empty, file + ": document without kind");
            Assert.That(doc.Str("metadata", "name"), Is.Not.Null.And.Not.Empty, $"{file}: {kind} without metadata.name");
            if (BuiltInKinds.TryGetValue(kind!, out var expected))
            {
                Assert.That(apiVersion, Is.EqualTo(expected), $"{file}: {kind}");
            }
            else if (OptionalKinds.TryGetValue(kind!, out var opt))
            {
                Assert.That(apiVersion, Is.EqualTo(opt.ApiVersion), $"{file}: {kind}");
                // A CRD-backed kind is rendered only when its values switch is on, so a default install works on a
                // cluster without cert-manager or the Prometheus Operator.
                var firstAction = raw.Split('\n').First(l => l.TrimStart().StartsWith("{{", StringComparison.Ordinal));
                Assert.That(firstAction, Does.StartWith("{{- if").And.Contain(opt.Guard),
                    $"{file}: {kind} must be wrapped in {{{{- if {opt.Guard} }}}}");
            }
            else
            {
                Assert.Fail($"{file}: unknown kind {apiVersion}/{kind}");
            }

            var clusterScoped = kind is "ClusterRole" or "ClusterRoleBinding" or "ValidatingWebhookConfiguration";
            Assert.That(doc.Str("metadata", "namespace"), clusterScoped ? Is.Null : Is.EqualTo(PackagingFiles.Placeholder),
                $"{file}: {kind} metadata.namespace (namespaced kinds take .Release.Namespace, cluster-scoped none)");
        }
    }

    private static YamlMappingNode Deployment() => PackagingFiles.LoadTemplate("deployment.yaml").Single();

    private static YamlMappingNode OperatorContainer()
        => (YamlMappingNode)((YamlSequenceNode)Deployment().Get("spec", "template", "spec", "containers")!).Children.Single();

    [Test]
    public void DeploymentRunsTheOperatorHardened()
    {
        var c = OperatorContainer();
        Assert.That(c.Get("command").Strings(), Is.EqualTo(new[] { "/app/connect-operator" }));
        Assert.That(c.Get("args").Strings(), Is.EqualTo(new[] { "run" }));
        Assert.That(c.Str("livenessProbe", "httpGet", "path"), Is.EqualTo("/healthz"));
        Assert.That(c.Str("readinessProbe", "httpGet", "path"), Is.EqualTo("/readyz"));
        var ports = ((YamlSequenceNode)c.Get("ports")!).Children.Select(p => (p.Str("name"), p.Str("containerPort"))).ToList();
        Assert.That(ports.Select(p => p.Item1), Is.EquivalentTo(new[] { "http", "webhook" }));

        var mounts = ((YamlSequenceNode)c.Get("volumeMounts")!).Children.Select(m => m.Str("mountPath"));
        Assert.That(mounts, Does.Contain("/tmp"), "the root FS is read-only: /tmp must be an emptyDir");
        var spec = Deployment().Get("spec", "template", "spec")!;
        Assert.That(((YamlSequenceNode)spec.Get("volumes")!).Children.Any(v => v.Get("emptyDir") != null), Is.True);
        Assert.That(spec.Get("topologySpreadConstraints"), Is.Not.Null);

        // The securityContext comes from values: check the defaults there.
        var values = PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Chart, "values.yaml"));
        var sc = values["securityContext"]!;
        Assert.That((bool)sc["runAsNonRoot"]!, Is.True);
        Assert.That((bool)sc["readOnlyRootFilesystem"]!, Is.True);
        Assert.That((bool)sc["allowPrivilegeEscalation"]!, Is.False);
        Assert.That(sc["capabilities"]!["drop"]!.Select(x => (string)x!), Is.EqualTo(new[] { "ALL" }));
        Assert.That((string)sc["seccompProfile"]!["type"]!, Is.EqualTo("RuntimeDefault"));
        Assert.That((int)values["podSecurityContext"]!["runAsUser"]!, Is.EqualTo(1654));
        Assert.That(values["resources"]!["requests"], Is.Not.Null);
        Assert.That(values["resources"]!["limits"], Is.Not.Null);
    }

    [Test]
    public void DeploymentSetsEveryOperatorSetting()
    {
        var env = ((YamlSequenceNode)OperatorContainer().Get("env")!).Children.Select(e => e.Str("name")!).ToList();
        Assert.That(env, Is.SupersetOf(new[]
        {
            "Operator__Namespace", "Operator__PollInterval", "Operator__Workers", "Operator__ConfluentBaseUrl",
            "Operator__LeaderElection__Enabled", "Operator__LeaderElection__LeaseName", "Operator__LeaderElection__LeaseNamespace",
            "Operator__MetricsPort", "Operator__WebhookPort", "Serilog__MinimumLevel__Default",
            "Webhook__CertMode", "Webhook__SecretName", "Webhook__ConfigurationName", "Webhook__ServiceName",
        }));
        Assert.That(env, Is.Unique);
        var ns = ((YamlSequenceNode)OperatorContainer().Get("env")!).Children.Single(e => e.Str("name") == "Operator__Namespace");
        Assert.That(ns.Str("valueFrom", "fieldRef", "fieldPath"), Is.EqualTo("metadata.namespace"));
    }

    [Test]
    public void ServiceExposesWebhookAndMetrics()
    {
        var svc = PackagingFiles.LoadTemplate("service.yaml").Single();
        var ports = ((YamlSequenceNode)svc.Get("spec", "ports")!).Children.ToDictionary(p => p.Str("name")!, p => p.Str("targetPort"));
        Assert.That(ports, Is.EquivalentTo(new Dictionary<string, string?> { ["webhook"] = "webhook", ["metrics"] = "http" }));
        var values = PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Chart, "values.yaml"));
        Assert.That((int)values["service"]!["webhookPort"]!, Is.EqualTo(443));
        Assert.That((int)values["service"]!["metricsPort"]!, Is.EqualTo(8080));
    }

    [Test]
    public void WebhookConfigurationMatchesTheOperatorsEndpoints()
    {
        var vwc = PackagingFiles.LoadTemplate("webhook.yaml").Single();
        var hooks = ((YamlSequenceNode)vwc.Get("webhooks")!).Children.ToDictionary(h => h.Str("clientConfig", "service", "path")!);
        Assert.That(hooks.Keys, Is.EquivalentTo(new[] { "/validate/managedconnectors", "/validate/departments", "/validate/connectorquotas" }));
        foreach (var (path, hook) in hooks)
        {
            var resource = path["/validate/".Length..];
            var rule = ((YamlSequenceNode)hook.Get("rules")!).Children.Single();
            Assert.That(rule.Get("resources").Strings(), Is.EqualTo(new[] { resource }), path);
            Assert.That(rule.Get("apiGroups").Strings(), Is.EqualTo(new[] { "connect.ebs.io" }), path);
            Assert.That(rule.Get("operations").Strings(), Is.EquivalentTo(resource == "departments" ? new[] { "CREATE", "UPDATE", "DELETE" } : new[] { "CREATE", "UPDATE" }), path);
            Assert.That(hook.Get("admissionReviewVersions").Strings(), Is.EqualTo(new[] { "v1" }), path);
            Assert.That(hook.Str("sideEffects"), Is.EqualTo("None"), path);
            Assert.That(hook.Get("clientConfig", "caBundle"), Is.Null, path + ": caBundle is injected, never templated");
        }
        var mc = hooks["/validate/managedconnectors"];
        var sel = ((YamlSequenceNode)mc.Get("namespaceSelector", "matchExpressions")!).Children.Single();
        Assert.That(sel.Str("key"), Is.EqualTo("kubernetes.io/metadata.name"));
        Assert.That(sel.Str("operator"), Is.EqualTo("NotIn"));
        Assert.That(mc.Get("matchConditions"), Is.Not.Null);

        var raw = File.ReadAllText(Path.Combine(PackagingFiles.Chart, "templates", "webhook.yaml"));
        Assert.That(raw, Does.Contain("cert-manager.io/inject-ca-from"));
        var values = PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Chart, "values.yaml"));
        Assert.That((string)values["webhook"]!["failurePolicy"]!, Is.EqualTo("Fail"));
        Assert.That((int)values["webhook"]!["timeoutSeconds"]!, Is.EqualTo(5));
    }

    // ---- RBAC ----

    private sealed record Rule(List<string> Groups, List<string> Resources, List<string> Verbs, List<string> ResourceNames);

    private static List<Rule> RulesOf(YamlMappingNode role)
        => ((YamlSequenceNode)role.Get("rules")!).Children.Select(r => new Rule(
            r.Get("apiGroups").Strings(), r.Get("resources").Strings(), r.Get("verbs").Strings(), r.Get("resourceNames").Strings())).ToList();

    private static (List<Rule> ClusterRole, List<Rule> Role) OperatorRbac()
    {
        var docs = PackagingFiles.LoadTemplate("rbac.yaml");
        // The first ClusterRole is the operator's; the second is the secrets reader it binds per department namespace.
        return (RulesOf(docs.First(d => d.Str("kind") == "ClusterRole")), RulesOf(docs.Single(d => d.Str("kind") == "Role")));
    }

    private static bool Allows(IEnumerable<Rule> rules, string group, string resource, string verb, string? name = null)
        => rules.Any(r => r.Groups.Contains(group) && r.Resources.Contains(resource) && r.Verbs.Contains(verb)
                          && (r.ResourceNames.Count == 0 || (name != null && r.ResourceNames.Contains(name))));

    /// <summary>What the operator does, cluster-wide: (group, resource, verb). ChartRenderTests checks the exact set.</summary>
    public static IEnumerable<TestCaseData> OperatorClusterActions()
    {
        foreach (var res in new[] { "managedconnectors", "departments", "connectorquotas" })
            foreach (var verb in new[] { "get", "list", "watch" })
                yield return new TestCaseData("connect.ebs.io", res, verb);
        yield return new TestCaseData("connect.ebs.io", "managedconnectors", "patch"); // finalizer (merge patch)
        foreach (var res in new[] { "managedconnectors/status", "departments/status", "connectorquotas/status" })
            yield return new TestCaseData("connect.ebs.io", res, "update");
        yield return new TestCaseData("rbac.authorization.k8s.io", "rolebindings", "create");   // secrets reader per department namespace
        foreach (var verb in new[] { "create", "patch" })
            yield return new TestCaseData("", "events", verb);
    }

    [TestCaseSource(nameof(OperatorClusterActions))]
    public void OperatorClusterRoleCovers(string group, string resource, string verb)
        => Assert.That(Allows(OperatorRbac().ClusterRole, group, resource, verb), Is.True,
            $"operator ClusterRole must allow {verb} {resource}.{group}");

    [Test]
    public void OperatorRbacCoversWebhookCertAndLeaderElection()
    {
        var (cluster, role) = OperatorRbac();
        foreach (var verb in new[] { "get", "update" })
            Assert.That(Allows(cluster, "admissionregistration.k8s.io", "validatingwebhookconfigurations", verb, PackagingFiles.Placeholder), Is.True, verb);
        foreach (var verb in new[] { "get", "create", "update" })
            Assert.That(Allows(role, "coordination.k8s.io", "leases", verb, PackagingFiles.Placeholder), Is.True, "leases " + verb);
        Assert.That(Allows(role, "", "secrets", "create"), Is.True, "self-managed mode creates the webhook TLS Secret");
        Assert.That(Allows(role, "", "secrets", "update", PackagingFiles.Placeholder), Is.True);
        foreach (var verb in new[] { "get", "list", "watch" })
            Assert.That(Allows(role, "", "secrets", verb), Is.True, "both modes read credentials and the webhook TLS Secret in the operator namespace: " + verb);
    }

    [Test]
    public void OperatorRbacIsLeastPrivilege()
    {
        var (cluster, role) = OperatorRbac();
        foreach (var r in cluster.Concat(role))
        {
            Assert.That(r.Groups.Concat(r.Resources).Concat(r.Verbs), Has.None.EqualTo("*"), "no wildcards");
            Assert.That(r.Verbs, Has.None.EqualTo("deletecollection").And.None.EqualTo("escalate"));
            // delete and bind only on the one RoleBinding name and the one ClusterRole it may bind
            if (r.Verbs.Contains("delete") || r.Verbs.Contains("bind"))
                Assert.That(r.ResourceNames, Has.Count.EqualTo(1), "delete/bind by name only");
        }
        foreach (var verb in new[] { "get", "list", "watch", "create", "update", "patch", "delete" })
            Assert.That(Allows(cluster, "", "secrets", verb), Is.False, "no Secret access cluster-wide; found " + verb);
        Assert.That(Allows(cluster, "connect.ebs.io", "connectorquotas", "update"), Is.False, "quotas get no finalizer");
        Assert.That(cluster.Where(r => r.Resources.Contains("validatingwebhookconfigurations")).All(r => r.ResourceNames.Count == 1), Is.True,
            "the operator may only touch its own ValidatingWebhookConfiguration");
        Assert.That(Allows(cluster, "coordination.k8s.io", "leases", "update"), Is.False, "leases only in the operator namespace");
        // Grants the operator's code never uses (checked against its KubeApiClient calls).
        Assert.That(cluster.Any(r => r.Resources.Contains("namespaces")), Is.False, "namespaces");
        Assert.That(cluster.Any(r => r.Groups.Contains("events.k8s.io")), Is.False, "events.k8s.io");
        Assert.That(cluster.Any(r => r.Resources.Any(x => x.EndsWith("/finalizers", StringComparison.Ordinal))), Is.False, "/finalizers");
        Assert.That(cluster.Any(r => r.Resources.Any(x => x.EndsWith("/status", StringComparison.Ordinal)) && r.Verbs.Contains("patch")), Is.False, "patch on status");
        Assert.That(Allows(cluster, "connect.ebs.io", "departments", "update"), Is.False, "update on departments");
        Assert.That(Allows(cluster, "admissionregistration.k8s.io", "validatingwebhookconfigurations", "patch", PackagingFiles.Placeholder), Is.False);
    }

    [Test]
    public void UserFacingRolesAggregateWhereTheyFit()
    {
        // Names are templated (release full name), so the roles are told apart by position; ChartRenderTests checks names.
        var docs = PackagingFiles.LoadTemplate("user-roles.yaml");
        Assert.That(docs, Has.Count.EqualTo(3));
        var roles = new Dictionary<string, YamlMappingNode>
        {
            ["connect-department-editor"] = docs[0], ["connect-department-viewer"] = docs[1], ["connect-platform-admin"] = docs[2],
        };

        var editor = RulesOf(roles["connect-department-editor"]);
        foreach (var verb in new[] { "get", "list", "watch", "create", "update", "patch", "delete" })
        {
            Assert.That(Allows(editor, "connect.ebs.io", "managedconnectors", verb), Is.True, "editor mc " + verb);
            Assert.That(Allows(editor, "", "secrets", verb), Is.True, "editor secrets " + verb);
        }
        Assert.That(Allows(editor, "connect.ebs.io", "departments", "update"), Is.False);
        Assert.That(roles["connect-department-editor"].Str("metadata", "labels", "rbac.authorization.k8s.io/aggregate-to-edit"), Is.EqualTo("true"));

        var viewer = RulesOf(roles["connect-department-viewer"]);
        Assert.That(Allows(viewer, "connect.ebs.io", "managedconnectors", "list"), Is.True);
        Assert.That(Allows(viewer, "connect.ebs.io", "managedconnectors", "update"), Is.False);
        Assert.That(viewer.Any(r => r.Resources.Contains("secrets")), Is.False, "viewers never read Secrets");
        Assert.That(Allows(viewer, "", "events", "list"), Is.True, "viewers read the operator's Events");
        Assert.That(Allows(editor, "", "events", "list"), Is.True, "editors read the operator's Events");
        Assert.That(Allows(editor, "connect.ebs.io", "managedconnectors/status", "update") || Allows(editor, "connect.ebs.io", "managedconnectors/status", "patch"),
            Is.False, "status is the operator's");
        Assert.That(roles["connect-department-viewer"].Str("metadata", "labels", "rbac.authorization.k8s.io/aggregate-to-view"), Is.EqualTo("true"));

        var admin = RulesOf(roles["connect-platform-admin"]);
        foreach (var verb in new[] { "get", "list", "watch", "create", "update", "patch", "delete" })
        {
            Assert.That(Allows(admin, "connect.ebs.io", "departments", verb), Is.True, "admin departments " + verb);
            Assert.That(Allows(admin, "connect.ebs.io", "connectorquotas", verb), Is.True, "admin quotas " + verb);
            Assert.That(Allows(admin, "connect.ebs.io", "managedconnectors", verb), Is.True, "admin mc " + verb);
        }
        Assert.That(roles["connect-platform-admin"].Get("metadata", "labels", "rbac.authorization.k8s.io/aggregate-to-admin"), Is.Null,
            "platform rights must not leak into every namespace admin");
    }

    [Test]
    public void PrometheusRuleHasTheRequiredAlertsOnKnownMetrics()
    {
        var rule = PackagingFiles.LoadTemplate("prometheusrule.yaml").Single();
        var rules = ((YamlSequenceNode)rule.Get("spec", "groups")!).Children
            .SelectMany(g => ((YamlSequenceNode)g.Get("rules")!).Children).ToList();
        var alerts = rules.ToDictionary(r => r.Str("alert")!, r => r.Str("expr")!);
        Assert.That(alerts.Keys, Is.SupersetOf(new[]
        {
            "ConnectConnectorFailed", "ConnectConnectorFlapping", "ConnectConnectorAutoRestartExhausted", "ConnectQuotaNearlyExhausted",
            "ConnectOperatorReconcileErrors", "ConnectOperatorNoLeader", "ConnectConfluentApiThrottled", "ConnectConfluentApiErrors",
            "ConnectWebhookErrors",
        }));
        Assert.That(rules.Single(r => r.Str("alert") == "ConnectConnectorFailed").Str("for"), Is.EqualTo("5m"));
        // The names the operator really exports (ConnectOperator.Observability.MetricNames; the integration test
        // Integration/Observability checks that every one of them is on a live /metrics).
        var known = ConnectOperator.Observability.MetricNames.SeriesNames().ToList();
        foreach (var (name, expr) in alerts)
        {
            var used = System.Text.RegularExpressions.Regex.Matches(expr, @"connect_operator_[a-z_]+").Select(m => m.Value).ToList();
            Assert.That(used, Is.Not.Empty, name);
            Assert.That(used, Is.SubsetOf(known), name + " uses a metric the operator does not export");
        }
    }
}
