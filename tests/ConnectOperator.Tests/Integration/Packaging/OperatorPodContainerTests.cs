using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using ConnectOperator.Emulator;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Unit.Packaging;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Integration.Packaging;

/// <summary>
/// The operator image run as the chart's Deployment runs it, with Testcontainers: the ServiceAccount token, ca.crt and
/// namespace mounted where the kubelet mounts them, KUBERNETES_SERVICE_HOST/PORT naming the API server, and the
/// command, arguments, environment, user, read-only root filesystem, capabilities, no-new-privileges and /tmp taken
/// from the Deployment Helm renders, under only the RBAC the chart renders. The container shares the host's network
/// (as a pod shares its node's routes to the API server): the test API server's certificate is issued for 127.0.0.1,
/// and the emulator and the webhook Service's address are on the host's loopback.
/// <para>
/// It has an API server of its own: the chart's webhook configuration (failurePolicy Fail) would otherwise judge
/// every object the other tests create on the shared one.
/// </para>
/// </summary>
[NonParallelizable]
public sealed class OperatorPodContainerTests
{
    private const string ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
    private const string ApiKey = "PODKEY1", ApiSecret = "pod-secret-canary-51c2", Environment = "env-pod1", Cluster = "lkc-pod1";

    [Test]
    public async Task The_image_run_as_its_pod_reconciles_answers_admission_and_survives_a_token_rotation()
    {
        var image = await OperatorImage.BuildAsync();
        await Helm.RequireAsync();

        await using var cluster = await TestCluster.StartAsync("image-pod");
        if (cluster.Mode != "kube-testenv")
            Assert.Ignore($"needs kube-testenv (bearer tokens from a file that can be edited, to revoke one); this run uses {cluster.Mode}");
        await cluster.InstallCrdsAsync();

        var emulator = EmulatorApp.Build(new EmulatorOptions
        {
            Urls = "http://127.0.0.1:0",
            Keys = { new EmulatorApiKey(ApiKey, ApiSecret, new[] { Environment }, new[] { Cluster }) },
        });
        await emulator.StartAsync();
        await using var _ = emulator;

        var ns = await cluster.CreateNamespaceAsync("co-pod");
        var apps = await cluster.CreateNamespaceAsync("pod-apps");
        int metricsPort = TestCluster.FreePort(), webhookPort = TestCluster.FreePort();

        // Values a platform team would set; everything about how the container runs comes from the rendering.
        var rendered = await Helm.TemplateAsync("co-pod", ns,
            "--set", "replicaCount=1",
            "--set", $"operator.metricsPort={metricsPort}",
            "--set", $"operator.webhookPort={webhookPort}",
            // The test API server calls the Service's ClusterIP at the Service port (it has no kube-proxy to map a
            // port to the pod's), so the Service port is the container's.
            "--set", $"service.webhookPort={webhookPort}",
            "--set-string", $"operator.confluentBaseUrl={emulator.Urls.First()}",
            // The emulator speaks plain HTTP; only tests and demos may (the schema refuses http otherwise).
            "--set", "operator.allowInsecureConfluentUrl=true",
            "--set-string", "operator.pollInterval=00:00:02");
        var docs = Regex.Split(rendered.Stdout, @"^---\s*$", RegexOptions.Multiline).Where(d => Regex.IsMatch(d, @"^kind:", RegexOptions.Multiline)).ToList();
        var deployment = rendered.Documents("rendering").Single(d => Scalar(d, "kind") == "Deployment");
        var podSpec = Map(Map(Map(deployment, "spec"), "template"), "spec");

        // No Service IPs here: the Service gets the address the container really listens on (the host's loopback).
        docs = docs.Select(d => Regex.IsMatch(d, @"^kind: Service\s*$", RegexOptions.Multiline)
            ? Regex.Replace(d, @"^spec:\s*$", "spec:\n  clusterIP: 127.0.0.1", RegexOptions.Multiline)
            : d).ToList();
        var (code, output) = await cluster.KubectlWithInputAsync(string.Join("\n---\n", docs), "apply", "--server-side", "--field-manager=helm", "-f", "-");
        Assert.That(code, Is.Zero, "applying the rendered chart: " + output);

        // What the kubelet mounts: the ServiceAccount's token, the cluster CA, the namespace.
        var serviceAccount = Scalar(podSpec, "serviceAccountName")!;
        var first = await cluster.CreateServiceAccountIdentityAsync(ns, serviceAccount);
        var saDir = Directory.CreateTempSubdirectory("co-pod-sa-").FullName;
        // The container runs as the rendered non-root user: the directory and files must be readable by it (0755/0644, as the kubelet mounts them).
        File.SetUnixFileMode(saDir, (UnixFileMode)0b111_101_101);
        var projected = new Dictionary<string, string>
        {
            ["token"] = first.Token,
            ["ca.crt"] = string.Concat(cluster.Config.SslCaCerts!.Select(c => c.ExportCertificatePem() + "\n")),
            ["namespace"] = ns,
        };
        ProjectVolume(saDir, projected);

        var api = new Uri(cluster.Config.Host);
        var pod = PodRun.From(podSpec, ns, new Dictionary<string, string>
        {
            ["KUBERNETES_SERVICE_HOST"] = api.Host,
            ["KUBERNETES_SERVICE_PORT"] = api.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        TestContext.Out.WriteLine($"container as rendered: user {pod.User}, read-only root {pod.ReadOnlyRoot}, cap-drop [{string.Join(",", pod.CapDrop)}], " +
            $"security-opt [{string.Join(",", pod.SecurityOpt)}], tmpfs [{string.Join(",", pod.Tmpfs.Select(t => t.Key + ":" + t.Value))}], " +
            $"memory {pod.MemoryBytes}, command {string.Join(' ', pod.Command.Concat(pod.Args))}");
        Assert.That(pod.User, Does.Not.StartWith("0:").And.Not.EqualTo("0"), "runAsNonRoot");

        // Testcontainers speaks Docker API 1.44; Debian 12's engine (20.10) stops at 1.41. Its settings are read once, from
        // the environment, so this comes before any of them.
        if (string.IsNullOrEmpty(System.Environment.GetEnvironmentVariable("DOCKER_API_VERSION")))
        {
            var (rc0, version) = await OperatorImage.DockerAsync("version", "--format", "{{.Server.APIVersion}}");
            if (rc0 == 0 && Version.TryParse(version.Trim(), out var v) && v < new Version(1, 44))
                System.Environment.SetEnvironmentVariable("DOCKER_API_VERSION", v.ToString());
        }
        TestcontainersSettings.ResourceReaperEnabled = false;   // Ryuk's image cannot be pulled here; the container is disposed below
        var container = new ContainerBuilder(image)
            .WithImagePullPolicy(_ => false)   // built here; there is no registry to pull from
            .WithEntrypoint(pod.Command.ToArray())
            .WithCommand(pod.Args.ToArray())
            .WithEnvironment(pod.Environment)
            .WithBindMount(saDir, ServiceAccountDir, AccessMode.ReadOnly)
            .WithCreateParameterModifier(p =>
            {
                p.User = pod.User;
                p.HostConfig.NetworkMode = "host";
                p.HostConfig.ReadonlyRootfs = pod.ReadOnlyRoot;
                p.HostConfig.CapDrop = pod.CapDrop;
                p.HostConfig.CapAdd = pod.CapAdd;
                p.HostConfig.SecurityOpt = pod.SecurityOpt;
                p.HostConfig.Tmpfs = pod.Tmpfs;
                if (pod.MemoryBytes > 0) p.HostConfig.Memory = pod.MemoryBytes;
                if (pod.NanoCpus > 0) p.HostConfig.NanoCPUs = pod.NanoCpus;
            })
            .Build();
        await using var __ = container;
        var kube = new KubeApiClient(cluster.Client);
        try
        {
            await container.StartAsync();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await Eventually(async () => (await http.GetAsync($"http://127.0.0.1:{metricsPort}/readyz")).StatusCode == HttpStatusCode.OK, "/readyz ok", TimeSpan.FromSeconds(60));
            Assert.That(await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/healthz"), Is.EqualTo("ok"));

            // The Department goes through the webhook (failurePolicy Fail): it is created once the operator has put its CA in place.
            await cluster.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
            {
                Metadata = new V1ObjectMeta { Name = "confluent-credentials" },
                Data = new Dictionary<string, byte[]> { ["api-key"] = Encoding.UTF8.GetBytes(ApiKey), ["api-secret"] = Encoding.UTF8.GetBytes(ApiSecret) },
            }, ns);
            var department = "pod-" + Guid.NewGuid().ToString("N")[..5];
            await Eventually(async () =>
            {
                try
                {
                    await kube.CreateAsync(ResourceKind.For<V1Alpha1Department>(namespaced: false), null, Department(department, apps));
                    return true;
                }
                catch (k8s.Autorest.HttpOperationException e) when (e.Response.Content.Contains("webhook", StringComparison.Ordinal))
                {
                    TestContext.Out.WriteLine("department not admitted yet: " + e.Response.Content);
                    return false;
                }
            }, "the Department admitted through the webhook Service", TimeSpan.FromSeconds(60));

            var connectors = ResourceKind.For<V1Alpha1ManagedConnector>();
            await kube.CreateAsync(connectors, apps, Datagen("orders", apps));
            await WaitReadyAsync(kube, apps, "orders");

            // The webhook answers, and denies, through the Service.
            var denied = Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(async () =>
                await kube.CreateAsync(connectors, apps, Datagen("not-allowed", apps, connectorClass: "S3_SINK")));
            Assert.That(denied!.Response.Content, Does.Contain("admission webhook \\\"managedconnectors.validate.connect.ebs.io\\\" denied the request"));

            // The kubelet replaces a projected token well before it expires; the old one may then be revoked.
            var second = await cluster.CreateServiceAccountIdentityAsync(ns, serviceAccount);
            projected["token"] = second.Token;
            ProjectVolume(saDir, projected);
            await Task.Delay(ConnectOperator.Hosting.ServiceAccountTokenFile.RecheckAfter * 2);
            RevokeToken(cluster, first.Token);
            var (rc, raw) = await cluster.KubectlAsAsync(first, "get", "--raw", "/api");
            Assert.That(rc, Is.Not.Zero, "the first token must be revoked for this to mean anything: " + raw);
            Assert.That(raw, Does.Contain("Unauthorized"));

            await kube.CreateAsync(connectors, apps, Datagen("after-rotation", apps));
            await WaitReadyAsync(kube, apps, "after-rotation");
            await kube.PatchAsync<V1Alpha1ManagedConnector>(connectors, apps, "orders", """{"spec":{"state":"Paused"}}""", PatchKind.Merge);
            await WaitReadyAsync(kube, apps, "orders", "Paused");

            var (stdout, stderr) = await container.GetLogsAsync();
            Assert.That(stdout + stderr, Does.Not.Contain("Unauthorized").And.Not.Contain("\"StatusCode\":401"), "no request went out with the revoked token");
            Assert.That(await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/healthz"), Is.EqualTo("ok"));
        }
        finally
        {
            try
            {
                var (stdout, stderr) = await container.GetLogsAsync();
                TestContext.Out.WriteLine("--- operator container log ---\n" + Tail(stdout + stderr, 20_000));
            }
            catch (Exception e) { TestContext.Out.WriteLine("no container log: " + e.Message); }
            try { Directory.Delete(saDir, true); } catch (IOException) { }
        }
    }

    private static async Task WaitReadyAsync(KubeApiClient kube, string ns, string name, string reason = "Running")
    {
        V1Alpha1ManagedConnector? last = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            last = await kube.TryGetAsync<V1Alpha1ManagedConnector>(ResourceKind.For<V1Alpha1ManagedConnector>(), ns, name);
            if (last != null && OperatorHarness.IsReady(last, reason)) return;
            await Task.Delay(500);
        }
        Assert.Fail($"{ns}/{name} not Ready ({reason}); last status: {(last?.Status is null ? "none" : KubernetesJson.Serialize(last.Status))}");
    }

    private static V1Alpha1Department Department(string name, string ns) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1Alpha1DepartmentSpec
        {
            DisplayName = "Pod test",
            Namespaces = new List<string> { ns },
            ConnectorNamePrefix = name,
            Confluent = new V1Alpha1DepartmentConfluent
            {
                EnvironmentId = Environment, KafkaClusterId = Cluster, ServiceAccountId = "sa-pod1",
                CredentialsSecretRef = new V1Alpha1CredentialsSecretRef { Name = "confluent-credentials" },
            },
            Policy = new V1Alpha1DepartmentPolicy
            {
                AllowedConnectorClasses = new List<string> { "DatagenSource" },
                TopicPrefixes = new List<string> { "app." },
            },
        },
    };

    private static V1Alpha1ManagedConnector Datagen(string name, string ns, string connectorClass = "DatagenSource") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1Alpha1ManagedConnectorSpec
        {
            ConnectorClass = connectorClass,
            TasksMax = 1,
            Config = new Dictionary<string, string> { ["kafka.topic"] = "app." + name, ["quickstart"] = "ORDERS", ["output.data.format"] = "JSON" },
        },
    };

    /// <summary>
    /// Writes the files as the kubelet's atomic writer lays out a projected volume: each version in its own hidden
    /// directory, <c>..data</c> a symlink to the current one, swapped by a rename, and each file a symlink through it.
    /// </summary>
    private static void ProjectVolume(string dir, IReadOnlyDictionary<string, string> files)
    {
        const UnixFileMode dirMode = (UnixFileMode)0b111_101_101, fileMode = (UnixFileMode)0b110_100_100;
        var version = Path.Combine(dir, ".." + DateTime.UtcNow.ToString("yyyy_MM_dd_HH_mm_ss.fffffff", System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(version);
        File.SetUnixFileMode(version, dirMode);
        foreach (var (name, content) in files)
        {
            File.WriteAllText(Path.Combine(version, name), content);
            File.SetUnixFileMode(Path.Combine(version, name), fileMode);
        }
        var data = Path.Combine(dir, "..data");
        var old = File.Exists(data) || Directory.Exists(data) ? new FileInfo(data).LinkTarget : null;
        var tmp = Path.Combine(dir, "..data_tmp");
        File.CreateSymbolicLink(tmp, Path.GetFileName(version));
        // rename(2) itself (File.Move refuses a link to a directory): the switch is atomic for a reader.
        if (Rename(tmp, data) != 0) throw new IOException($"rename {tmp} {data}: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        foreach (var name in files.Keys)
            if (!File.Exists(Path.Combine(dir, name)) && new FileInfo(Path.Combine(dir, name)).LinkTarget is null)
                File.CreateSymbolicLink(Path.Combine(dir, name), Path.Combine("..data", name));
        if (old != null) Directory.Delete(Path.Combine(dir, old), recursive: true);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int Rename(string from, string to);

    /// <summary>kube-testenv re-reads its token file on change (hack/kube-testenv/README.md); without the line, the token is refused.</summary>
    private static void RevokeToken(TestCluster cluster, string token)
    {
        var file = Path.Combine(Path.GetDirectoryName(cluster.KubeconfigPath)!, "tokens.csv");
        var kept = File.ReadAllLines(file).Where(l => !l.StartsWith(token + ",", StringComparison.Ordinal));
        File.WriteAllLines(file + ".tmp", kept);
        File.Move(file + ".tmp", file, overwrite: true);
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition()) return;
            }
            catch (HttpRequestException e) { last = e; }
            catch (TaskCanceledException e) { last = e; }
            await Task.Delay(500);
        }
        Assert.Fail($"timed out waiting for {what}{(last is null ? "" : ": " + last.Message)}");
    }

    private static string Tail(string s, int n) => s.Length <= n ? s : "…" + s[^n..];

    internal static YamlMappingNode Map(YamlMappingNode node, string key)
        => node.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlMappingNode m ? m : new YamlMappingNode();

    internal static string? Scalar(YamlMappingNode node, string key)
        => node.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s ? s.Value : null;

    internal static IEnumerable<YamlNode> Seq(YamlMappingNode node, string key)
        => node.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlSequenceNode s ? s.Children : [];
}

/// <summary>
/// How a container runtime runs the Deployment's one container, read from its rendered pod spec: what the kubelet
/// would hand to the runtime (limits, not requests: requests are for the scheduler). Security settings, env sources and
/// volumes this does not translate fail the test rather than being dropped.
/// </summary>
internal sealed record PodRun(
    IReadOnlyList<string> Command, IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Environment, string User, bool ReadOnlyRoot,
    IList<string> CapDrop, IList<string> CapAdd, IList<string> SecurityOpt, IDictionary<string, string> Tmpfs, long MemoryBytes, long NanoCpus)
{
    public static PodRun From(YamlMappingNode podSpec, string ns, IDictionary<string, string> kubeletEnvironment)
    {
        var containers = OperatorPodContainerTests.Seq(podSpec, "containers").Cast<YamlMappingNode>().ToList();
        Assert.That(containers, Has.Count.EqualTo(1), "one container per operator pod");
        var c = containers[0];
        Assert.That(OperatorPodContainerTests.Seq(podSpec, "initContainers"), Is.Empty, "init containers are not run here");

        var env = new Dictionary<string, string>(kubeletEnvironment);
        foreach (var e in OperatorPodContainerTests.Seq(c, "env").Cast<YamlMappingNode>())
        {
            var name = OperatorPodContainerTests.Scalar(e, "name")!;
            if (OperatorPodContainerTests.Scalar(e, "value") is { } value) env[name] = value;
            else
            {
                var field = OperatorPodContainerTests.Scalar(OperatorPodContainerTests.Map(OperatorPodContainerTests.Map(e, "valueFrom"), "fieldRef"), "fieldPath");
                env[name] = field switch
                {
                    "metadata.namespace" => ns,
                    _ => throw new AssertionException($"env {name}: valueFrom {field ?? "(not a fieldRef)"} is not translated for the container"),
                };
            }
        }

        // The container's securityContext overrides the pod's, field by field, as the kubelet applies them.
        var pod = OperatorPodContainerTests.Map(podSpec, "securityContext");
        var own = OperatorPodContainerTests.Map(c, "securityContext");
        string? Field(string key) => OperatorPodContainerTests.Scalar(own, key) ?? OperatorPodContainerTests.Scalar(pod, key);
        var uid = Field("runAsUser");
        var gid = Field("runAsGroup");
        if (Field("runAsNonRoot") == "true")
            Assert.That(uid, Is.Not.Null.And.Not.EqualTo("0"), "runAsNonRoot needs a numeric non-root runAsUser (the image's user is not checked here)");
        var user = uid is null ? "" : gid is null ? uid : $"{uid}:{gid}";
        var seccomp = OperatorPodContainerTests.Scalar(OperatorPodContainerTests.Map(own, "seccompProfile"), "type")
            ?? OperatorPodContainerTests.Scalar(OperatorPodContainerTests.Map(pod, "seccompProfile"), "type");
        Assert.That(seccomp, Is.Null.Or.EqualTo("RuntimeDefault"), "only the runtime's default seccomp profile is translated (it is Docker's default)");
        var caps = OperatorPodContainerTests.Map(own, "capabilities");
        var securityOpt = new List<string>();
        if (Field("allowPrivilegeEscalation") == "false") securityOpt.Add("no-new-privileges");

        // emptyDir volumes become tmpfs (the kubelet's medium: Memory; sizeLimit kept).
        var volumes = OperatorPodContainerTests.Seq(podSpec, "volumes").Cast<YamlMappingNode>().ToDictionary(v => OperatorPodContainerTests.Scalar(v, "name")!);
        var tmpfs = new Dictionary<string, string>();
        foreach (var m in OperatorPodContainerTests.Seq(c, "volumeMounts").Cast<YamlMappingNode>())
        {
            var volume = volumes[OperatorPodContainerTests.Scalar(m, "name")!];
            Assert.That(volume.Children.ContainsKey(new YamlScalarNode("emptyDir")), Is.True, "only emptyDir volumes are translated");
            var size = OperatorPodContainerTests.Scalar(OperatorPodContainerTests.Map(volume, "emptyDir"), "sizeLimit");
            tmpfs[OperatorPodContainerTests.Scalar(m, "mountPath")!] = size is null ? "" : $"size={new ResourceQuantity(size).ToInt64()}";
        }
        var limits = OperatorPodContainerTests.Map(OperatorPodContainerTests.Map(c, "resources"), "limits");
        var memory = OperatorPodContainerTests.Scalar(limits, "memory");
        var cpu = OperatorPodContainerTests.Scalar(limits, "cpu");

        return new PodRun(
            OperatorPodContainerTests.Seq(c, "command").Select(n => ((YamlScalarNode)n).Value!).ToList(),
            OperatorPodContainerTests.Seq(c, "args").Select(n => ((YamlScalarNode)n).Value!).ToList(),
            env, user, Field("readOnlyRootFilesystem") == "true",
            OperatorPodContainerTests.Seq(caps, "drop").Select(n => ((YamlScalarNode)n).Value!).ToList(),
            OperatorPodContainerTests.Seq(caps, "add").Select(n => ((YamlScalarNode)n).Value!).ToList(),
            securityOpt, tmpfs, memory is null ? 0 : new ResourceQuantity(memory).ToInt64(),
            cpu is null ? 0 : (long)(new ResourceQuantity(cpu).ToDecimal() * 1_000_000_000m));
    }
}
