using System.Text;
using System.Text.RegularExpressions;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Unit.Packaging;
using ConnectOperator.Webhooks;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Integration.Rbac;

/// <summary>
/// Issue 15 §3: the operator runs its whole lifecycle as the chart's ServiceAccount, with a bearer token and only the
/// RBAC the chart renders, in each certificate mode. Every API request it makes is recorded and checked against the
/// rendered rules both ways: each request is granted, and each grant is used or has a written reason.
/// </summary>
[NonParallelizable]
public class OperatorLeastPrivilegeTests
{
    private const string Lease = "connect-operator-leader";

    /// <summary>Grants the lifecycle below does not exercise, and why they exist. Keys: role|group|resource|verb|name (names templated).</summary>
    private static readonly Dictionary<string, string> UnusedWithReason = new()
    {
        ["operator|connect.ebs.io|managedconnectors|get|"] = "re-read after a 409 on a status or finalizer write; the cache serves every other read",
        ["operator|connect.ebs.io|departments|get|"] = "re-read after a 409 on a Department status write",
        ["operator|connect.ebs.io|connectorquotas|get|"] = "re-read after a 409 on a ConnectorQuota status write",
        ["operator||events|patch|"] = "a repeated Event is patched to bump its count; this run may not repeat one within the dedup window",
        ["operator|rbac.authorization.k8s.io|rolebindings|update|{reader}"] = "repairs the subjects of a department namespace's secrets-reader RoleBinding that someone edited",
        ["operator|rbac.authorization.k8s.io|rolebindings|delete|{reader}"] = "removes the binding from a namespace a Department gave up (done in this run) and replaces one whose roleRef points elsewhere",
        ["operator|rbac.authorization.k8s.io|clusterroles|bind|{reader}"] = "never a request: the API server's escalation check asks for it when the operator creates the RoleBinding",
        ["operator-namespace|coordination.k8s.io|leases|create|"] = "first start only; a Lease left by an earlier run in the namespace is reused",
        ["operator||configmaps|get|"] = "connect.ebs.io/offsets alter reads the offsets from the ConfigMap the spec names (OffsetsTests; not in this lifecycle)",
        ["operator||configmaps|create|"] = "connect.ebs.io/offsets list writes the offsets into the ConfigMap the spec names (OffsetsTests)",
        ["operator||configmaps|update|"] = "connect.ebs.io/offsets list rewrites that ConfigMap on a later list (OffsetsTests)",
    };

    [TestCase(WebhookOptions.SelfManagedMode)]
    [TestCase(WebhookOptions.CertManagerMode)]
    public async Task The_chart_ServiceAccount_runs_the_lifecycle_with_only_the_rendered_RBAC_and_uses_every_grant(string mode)
    {
        var kube = await TestCluster.GetAsync();
        if (kube.Mode != "kube-testenv") Assert.Ignore("needs bearer-token identities (kube-testenv); envtest identities are impersonated, which KubernetesClient ignores");
        // A second namespace the Department claims and later gives up: its RoleBinding must come and go.
        var extraNs = await kube.CreateNamespaceAsync("lp-extra");
        var h = await OperatorHarness.StartAsync("lp", d => d.Spec.Namespaces.Add(extraNs), quota: new V1Alpha1QuotaAmounts { Connectors = 10, Tasks = 20, TasksPerConnector = 5 });
        var id = Guid.NewGuid().ToString("N")[..6];
        var release = "connect-operator-" + id;   // contains the chart name: the full name is the release name
        var tlsSecret = release + "-tls";
        var reader = release + "-secrets-reader";
        var port = TestCluster.FreePort();
        var rendered = await Helm.TemplateAsync(release, h.OperatorNamespace, "--show-only", "templates/rbac.yaml",
            "--set", "webhook.certMode=" + mode, "--set", "webhook.secretName=" + tlsSecret, "--set", "webhook.configurationName=" + release,
            "--set", "operator.leaderElection.leaseName=" + Lease);
        var docs = rendered.Documents("rbac " + mode);
        var sa = docs.Single(d => d.Str("kind") == "ClusterRoleBinding").Get("subjects") is YamlSequenceNode s ? s.Children.Single().Str("name")! : throw new InvalidOperationException();
        try
        {
            var (code, output) = await kube.KubectlWithInputAsync(rendered.Stdout, "apply", "-f", "-");
            Assert.That(code, Is.EqualTo(0), output);

            var identity = await kube.CreateServiceAccountIdentityAsync(h.OperatorNamespace, sa);
            var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(identity.KubeconfigPath);
            Assert.That((config.ClientCertificateData, config.ClientCertificateFilePath), Is.EqualTo(((string?)null, (string?)null)), "a bearer token only, no admin certificate");
            Assert.That(config.AccessToken, Is.Not.Empty);

            string? caPem = null, caKeyPem = null;
            if (mode == WebhookOptions.CertManagerMode)
            {
                // Stands in for cert-manager: a CA-signed serving certificate in the Secret, and the CA injected into the configuration.
                (caPem, caKeyPem) = CertificateAuthority.CreateCa("lp-ca", DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
                await WriteTlsSecretAsync(kube, h.OperatorNamespace, tlsSecret, caPem, caKeyPem, create: true);
            }
            await CreateWebhookConfigurationAsync(kube, release, port, h.Namespace, caPem);

            var recorder = new ApiRequestRecorder();
            var extra = new List<string>
            {
                $"--Operator:WebhookPort={port}", $"--Webhook:CertMode={mode}", $"--Webhook:SecretName={tlsSecret}", $"--Webhook:ConfigurationName={release}",
                $"--Webhook:Url=https://127.0.0.1:{port}", "--Webhook:CheckInterval=00:00:01", $"--Operator:LeaderElection:LeaseName={Lease}",
                $"--Operator:SecretAccess:ClusterRole={reader}", $"--Operator:SecretAccess:ServiceAccount={sa}",
            };
            // Self-managed: a serving certificate that is due for renewal every 10 s, so the run includes rotations (the CA stays).
            if (mode == WebhookOptions.SelfManagedMode) extra.AddRange(new[] { "--Webhook:CertificateValidity=00:00:40", "--Webhook:RotateBefore=00:00:30" });
            await h.StartOperatorAsAsync(config, recorder, null, extra.ToArray());

            await RunLifecycleAsync(h, kube);

            if (mode == WebhookOptions.SelfManagedMode)
                await h.WaitUntilAsync(() => Task.FromResult(h.LogLines.Count(l => l.Contains("webhook certificate: re-issued")) >= 2), "two certificate rotations", TimeSpan.FromSeconds(40));
            else
            {
                // cert-manager renews: the operator picks the new certificate up from the Secret.
                await WriteTlsSecretAsync(kube, h.OperatorNamespace, tlsSecret, caPem!, caKeyPem!, create: false);
                await h.WaitUntilAsync(() => Task.FromResult(h.LogLines.Count(l => l.Contains("webhook certificate loaded from Secret")) >= 2), "renewed certificate loaded", TimeSpan.FromSeconds(20));
            }
            await ExpectDenialAsync(h, "after the certificate changed");

            foreach (var name in new[] { "gen", "cdc" }) await h.Api.DeleteAsync(OperatorHarness.ConnectorKind, h.Namespace, name);
            await h.WaitUntilAsync(async () => (await h.Api.ListAsync<V1Alpha1ManagedConnector>(OperatorHarness.ConnectorKind, h.Namespace)).Items.Count == 0, "connectors deleted");
            Assert.That(h.Remote("gen"), Is.Null, "deleted in Confluent");

            await h.WaitUntilAsync(async () => (await kube.Client.RbacAuthorizationV1.ListNamespacedRoleBindingAsync(extraNs)).Items.Any(b => b.Metadata.Name == reader),
                "RoleBinding in the second namespace");
            var deptKind = ResourceKind.For<V1Alpha1Department>(namespaced: false);
            await h.Api.PatchAsync<V1Alpha1Department>(deptKind, null, h.Department, $"{{\"spec\":{{\"namespaces\":[\"{h.Namespace}\"]}}}}", PatchKind.Merge);
            await h.WaitUntilAsync(async () => (await kube.Client.RbacAuthorizationV1.ListNamespacedRoleBindingAsync(extraNs)).Items.All(b => b.Metadata.Name != reader),
                "RoleBinding removed from the namespace the Department gave up");
            await h.WaitUntilAsync(async () => (await h.Api.GetAsync<V1Alpha1Department>(deptKind, null, h.Department)).Status?.SecretAccessNamespaces?.SequenceEqual(new[] { h.Namespace }) == true,
                "status.secretAccessNamespaces follows");

            var rb = await kube.Client.RbacAuthorizationV1.ReadNamespacedRoleBindingAsync(reader, h.Namespace);
            Assert.That((rb.RoleRef.Kind, rb.RoleRef.Name), Is.EqualTo(("ClusterRole", reader)));
            Assert.That(rb.Subjects.Select(x => $"{x.Kind}/{x.NamespaceProperty}/{x.Name}"), Is.EqualTo(new[] { $"ServiceAccount/{h.OperatorNamespace}/{sa}" }));

            // Message and exception only: trace and span ids are hex and may contain "403".
            var forbidden = h.LogLines.Where(l =>
            {
                using var doc = System.Text.Json.JsonDocument.Parse(l);
                var text = string.Join("\n", new[] { "@m", "@x" }.Select(p => doc.RootElement.TryGetProperty(p, out var v) ? v.GetString() : null));
                return Regex.IsMatch(text, @"(?<![0-9A-Za-z.:])403(?![0-9A-Za-z])|forbidden", RegexOptions.IgnoreCase);
            }).ToList();
            Assert.That(forbidden, Is.Empty, "the operator's log mentions a 403:\n" + string.Join("\n", forbidden.Take(5)));

            // The operator serves every Department of the cluster, and the shared test API server may hold others (the
            // samples' finance and hr): their namespaces are department namespaces too, bound the same way.
            var others = (await h.Api.ListAsync<V1Alpha1Department>(ResourceKind.For<V1Alpha1Department>(namespaced: false))).Items
                .Where(d => d.Metadata.Name != h.Department).SelectMany(d => d.Spec.Namespaces);
            CheckRequestsAgainstRules(recorder.Requests.ToList(), docs, h, new[] { h.Namespace, extraNs }.Concat(others).Distinct().ToArray(), release, reader, mode);
        }
        finally
        {
            try { await kube.Client.AdmissionregistrationV1.DeleteValidatingWebhookConfigurationAsync(release); } catch (Exception) { }
            await h.DisposeAsync();
            await kube.KubectlWithInputAsync(rendered.Stdout, "delete", "--ignore-not-found", "-f", "-");
            try { await kube.Client.CoreV1.DeleteNamespaceAsync(extraNs); } catch (Exception) { }
        }
    }

    private static async Task RunLifecycleAsync(OperatorHarness h, TestCluster kube)
    {
        await ExpectDenialAsync(h, "at start");

        // A connector with a Secret: the operator reads it through the RoleBinding it created in the department namespace.
        await h.CreateSecretAsync(h.Namespace, "pg-creds", new() { ["password"] = "first-canary-7c1" });
        await h.CreateAsync(h.PostgresWithSecret("cdc", "pg-creds"));
        await h.WaitForAsync("cdc", m => OperatorHarness.IsReady(m), "Ready (with a Secret)");
        Assert.That(h.Remote("cdc")!.Config["database.password"], Is.EqualTo("first-canary-7c1"));
        await h.Api.PatchAsync<V1Secret>(ResourceKind.Secret, h.Namespace, "pg-creds",
            "{\"data\":{\"password\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes("second-canary-9d2")) + "\"}}", PatchKind.Merge);
        await h.WaitUntilAsync(() => Task.FromResult(h.Remote("cdc")!.Config["database.password"] == "second-canary-9d2"), "rotated password in Confluent");

        // create, update, pause, resume, restart, failure
        await h.CreateAsync(h.Datagen("gen"));
        await h.WaitForAsync("gen", m => OperatorHarness.IsReady(m), "Ready");
        await h.PatchAsync("gen", "{\"spec\":{\"tasksMax\":2}}");
        await h.WaitForAsync("gen", m => OperatorHarness.IsReady(m) && m.Metadata.Generation == 2, "Ready at generation 2");
        await h.PatchAsync("gen", "{\"spec\":{\"state\":\"Paused\"}}");
        await h.WaitForAsync("gen", m => OperatorHarness.IsReady(m, "Paused"), "Ready/Paused");
        await h.PatchAsync("gen", "{\"spec\":{\"state\":\"Running\"}}");
        await h.WaitForAsync("gen", m => OperatorHarness.IsReady(m) && m.Status!.ConnectorState == "RUNNING", "Ready/Running again");
        await h.PatchAsync("gen", "{\"metadata\":{\"annotations\":{\"connect.ebs.io/restart\":\"lp-1\"}}}");
        await h.WaitForAsync("gen", m => m.Status!.RestartAnnotation == "lp-1", "restart recorded");
        Assert.That(h.Remote("gen")!.RestartCount, Is.EqualTo(1));
        Assert.That(h.State.FailTask(OperatorHarness.Environment, OperatorHarness.Cluster, h.RemoteName("gen"), 1, "java.lang.IllegalStateException: injected for test"), Is.True);
        await h.WaitForAsync("gen", m => OperatorHarness.IsReady(m) && m.Status!.AutoRestart?.Count == 1, "auto-restarted and Ready");
        Assert.That((await h.EventsAsync("gen")).Select(e => e.Reason), Does.Contain("Paused").And.Contain("Restarted"));
    }

    /// <summary>The webhook refuses a connector outside the department's topic prefixes (dry run: nothing is stored).</summary>
    private static async Task ExpectDenialAsync(OperatorHarness h, string when)
    {
        var bad = h.Datagen("denied", topic: "nope.x");
        var json = KubernetesJson.Serialize(bad);
        await h.WaitUntilAsync(async () =>
        {
            var (code, output) = await h.Kube.KubectlWithInputAsync(json, "apply", "--dry-run=server", "-f", "-");
            return code != 0 && output.Contains("denied the request");
        }, "webhook denial " + when, TimeSpan.FromSeconds(30));
    }

    private static async Task WriteTlsSecretAsync(TestCluster kube, string ns, string name, string caPem, string caKeyPem, bool create)
    {
        var (cert, key) = CertificateAuthority.CreateServing(caPem, caKeyPem, new[] { "127.0.0.1", "localhost" }, DateTimeOffset.UtcNow, TimeSpan.FromHours(1));
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = name }, Type = "kubernetes.io/tls",
            Data = new Dictionary<string, byte[]> { ["tls.crt"] = Encoding.UTF8.GetBytes(cert), ["tls.key"] = Encoding.UTF8.GetBytes(key), ["ca.crt"] = Encoding.UTF8.GetBytes(caPem) },
        };
        if (create) await kube.Client.CoreV1.CreateNamespacedSecretAsync(secret, ns);
        else await kube.Client.CoreV1.ReplaceNamespacedSecretAsync(secret, name, ns);
    }

    /// <summary>As the chart installs it, but with a URL the test API server can reach, and only for this test's namespace.</summary>
    private static Task CreateWebhookConfigurationAsync(TestCluster kube, string name, int port, string ns, string? caPem)
        => kube.Client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(new V1ValidatingWebhookConfiguration
        {
            Metadata = new V1ObjectMeta { Name = name },
            Webhooks = new List<V1ValidatingWebhook>
            {
                new()
                {
                    Name = "managedconnectors.validate.connect.ebs.io", SideEffects = "None", AdmissionReviewVersions = new List<string> { "v1" },
                    // Ignore: a call that fails while the certificate changes hands must not fail the lifecycle; denials prove it answers.
                    FailurePolicy = "Ignore", TimeoutSeconds = 5,
                    ClientConfig = new Admissionregistrationv1WebhookClientConfig
                    {
                        Url = $"https://127.0.0.1:{port}/validate/managedconnectors",
                        CaBundle = caPem is null ? null : Encoding.UTF8.GetBytes(caPem),
                    },
                    NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = ns } },
                    Rules = new List<V1RuleWithOperations> { new() { ApiGroups = new List<string> { "connect.ebs.io" }, ApiVersions = new List<string> { "v1alpha1" },
                        Operations = new List<string> { "CREATE", "UPDATE" }, Resources = new List<string> { "managedconnectors" } } },
                },
            },
        });

    private static void CheckRequestsAgainstRules(List<ApiRequest> requests, List<YamlMappingNode> docs, OperatorHarness h, string[] departmentNamespaces,
        string release, string reader, string mode)
    {
        // Where each rendered role applies: the ClusterRole everywhere, the Role in the operator's namespace, the secrets
        // reader in the department namespace (through the RoleBinding the operator created there).
        var operatorRole = Grant.Of("operator", docs.Single(d => d.Str("kind") == "ClusterRole" && d.Str("metadata", "name") == release));
        var nsRole = Grant.Of("operator-namespace", docs.Single(d => d.Str("kind") == "Role"));
        var readerRole = Grant.Of("secrets-reader", docs.Single(d => d.Str("kind") == "ClusterRole" && d.Str("metadata", "name") == reader));
        // system:basic-user (bootstrap, every authenticated user): the access reviews behind "may I watch Secrets there yet?".
        var bootstrap = new List<Grant> { new("system:basic-user", "authorization.k8s.io", "selfsubjectaccessreviews", "create", "") };

        IEnumerable<Grant> Applicable(ApiRequest r)
        {
            foreach (var g in operatorRole) yield return g;
            foreach (var g in bootstrap) yield return g;
            if (r.Namespace == h.OperatorNamespace) foreach (var g in nsRole) yield return g;
            if (departmentNamespaces.Contains(r.Namespace)) foreach (var g in readerRole) yield return g;
        }

        string Where(string ns) => ns == h.OperatorNamespace ? "<operator ns>" : ns == h.Namespace ? "<department ns>" : departmentNamespaces.Contains(ns) ? "<department ns 2>" : ns;
        var rows = requests.GroupBy(r => (r.Verb, r.Group, r.FullResource, Ns: Where(r.Namespace), Name: r.Name.Replace(release, "<release>"), r.Status))
            .Select(g => (g.Key, Count: g.Count(), By: Applicable(g.First()).FirstOrDefault(x => x.Covers(g.First()))))
            .OrderBy(x => x.Key.Group).ThenBy(x => x.Key.FullResource).ThenBy(x => x.Key.Verb).ToList();
        var table = new StringBuilder($"API requests of the operator ({mode}), {requests.Count} in all:\n");
        table.AppendLine($"{"verb",-7} {"group",-30} {"resource",-34} {"namespace",-17} {"name",-32} {"status",6} {"count",5}  granted by");
        foreach (var (k, count, by) in rows)
            table.AppendLine($"{k.Verb,-7} {(k.Group.Length == 0 ? "core" : k.Group),-30} {k.FullResource,-34} {k.Ns,-17} {k.Name,-32} {k.Status,6} {count,5}  {by?.ToString() ?? "NOTHING"}");

        var used = new HashSet<Grant>();
        foreach (var r in requests) foreach (var g in Applicable(r).Where(g => g.Covers(r))) used.Add(g);
        var all = operatorRole.Concat(nsRole).Concat(readerRole).ToList();
        string Key(Grant g) => $"{g.Role}|{g.Group}|{g.Resource}|{g.Verb}|{g.Name.Replace(reader, "{reader}")}";
        var unused = all.Where(g => !used.Contains(g)).ToList();
        table.AppendLine("granted but not requested in this run:");
        foreach (var g in unused) table.AppendLine($"  {g}  -- {UnusedWithReason.GetValueOrDefault(Key(g), "NO REASON")}");
        TestContext.Out.WriteLine(table.ToString());

        Assert.Multiple(() =>
        {
            Assert.That(requests.Where(r => r.Status is 401 or 403), Is.Empty, "requests refused by the API server");
            Assert.That(rows.Where(r => r.By is null).Select(r => r.Key.ToString()), Is.Empty, "requests no rendered rule grants");
            Assert.That(unused.Select(Key).Where(k => !UnusedWithReason.ContainsKey(k)), Is.Empty, "grants neither used nor explained");
            Assert.That(UnusedWithReason.Keys.Where(k => !all.Select(Key).Contains(k) && !(mode == WebhookOptions.CertManagerMode && k.Contains("webhook"))), Is.Empty,
                "reasons for grants the chart does not render (stale)");
        });
    }
}
