using System.CommandLine;
using System.Text.RegularExpressions;
using ConnectOperator.Cli;
using ConnectOperator.Emulator;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Unit.Packaging;
using k8s;

namespace ConnectOperator.Tests.Integration.Rbac;

/// <summary>
/// Issue 15 §3: the chart's user roles, bound as the handbook says, answer `kubectl auth can-i --as` exactly as the
/// can-i matrix of docs/handbook/01-roles.md claims; and a department editor's `connect-operator logs` works with
/// nothing but the editor role.
/// </summary>
[NonParallelizable]
public class UserRoleTests
{
    private OperatorHarness _h = null!;
    private string _release = "", _rendered = "", _other = "", _id = "";
    private readonly Dictionary<string, (string User, string Group)> _subjects = new();

    [OneTimeSetUp]
    public async Task SetUpAsync()
    {
        _h = await OperatorHarness.StartAsync("roles");
        await _h.StartOperatorAsync();
        _id = Guid.NewGuid().ToString("N")[..6];
        _release = "connect-operator-" + _id;
        _other = await _h.Kube.CreateNamespaceAsync("roles-other");
        _rendered = (await Helm.TemplateAsync(_release, _h.OperatorNamespace, "--show-only", "templates/user-roles.yaml")).Stdout;
        var (code, output) = await _h.Kube.KubectlWithInputAsync(_rendered, "apply", "-f", "-");
        Assert.That(code, Is.EqualTo(0), output);

        _subjects["department editor"] = ($"alice-{_id}", $"devs-{_id}");
        _subjects["department viewer"] = ($"victor-{_id}", $"support-{_id}");
        _subjects["platform admin"] = ($"pat-{_id}", $"platform-{_id}");
        // As 01-roles.md tells the platform team to bind them.
        await KubectlOkAsync("-n", _h.Namespace, "create", "rolebinding", $"editors-{_id}", $"--clusterrole={_release}-department-editor", $"--group=devs-{_id}");
        await KubectlOkAsync("-n", _h.Namespace, "create", "rolebinding", $"viewers-{_id}", $"--clusterrole={_release}-department-viewer", $"--group=support-{_id}");
        await KubectlOkAsync("create", "clusterrolebinding", $"platform-{_id}", $"--clusterrole={_release}-platform-admin", $"--group=platform-{_id}");
    }

    [OneTimeTearDown]
    public async Task TearDownAsync()
    {
        await _h.Kube.KubectlAsync("delete", "clusterrolebinding", $"platform-{_id}", "--ignore-not-found");
        await _h.Kube.KubectlWithInputAsync(_rendered, "delete", "--ignore-not-found", "-f", "-");
        try { await _h.Client.CoreV1.DeleteNamespaceAsync(_other); } catch (Exception) { }
        await _h.DisposeAsync();
    }

    private async Task KubectlOkAsync(params string[] args)
    {
        var (code, output) = await _h.Kube.KubectlAsync(args);
        Assert.That(code, Is.EqualTo(0), $"kubectl {string.Join(' ', args)}:\n{output}");
    }

    /// <summary>The rows of the can-i matrix in the handbook: (verb resource, where, answers by role).</summary>
    private static List<(string VerbResource, string Where, Dictionary<string, bool> Answers)> Matrix()
    {
        var lines = File.ReadAllLines(Path.Combine(TestCluster.RepoRoot, "docs", "handbook", "01-roles.md"));
        var start = Array.FindIndex(lines, l => l.StartsWith("<!-- can-i-matrix", StringComparison.Ordinal));
        Assert.That(start, Is.GreaterThanOrEqualTo(0), "01-roles.md has no <!-- can-i-matrix --> table");
        var table = lines.Skip(start + 1).TakeWhile(l => l.StartsWith('|')).Select(l => l.Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToList();
        var roles = table[0][2..];
        return table.Skip(2).Select(r => (Regex.Match(r[0], "`(?<v>[^`]*)`").Groups["v"].Value, r[1],
            roles.Select((role, i) => (role, r[2 + i] == "yes")).ToDictionary(x => x.role, x => x.Item2))).ToList();
    }

    [Test]
    public async Task The_handbook_can_i_matrix_is_what_the_API_server_answers_for_each_role()
    {
        var matrix = Matrix();
        Assert.That(matrix, Has.Count.GreaterThanOrEqualTo(25));
        Assert.That(matrix.SelectMany(r => r.Answers.Keys).Distinct(), Is.EquivalentTo(_subjects.Keys));
        var wrong = new List<string>();
        var printed = new System.Text.StringBuilder("can-i matrix (doc = API server unless marked):\n");
        foreach (var (verbResource, where, answers) in matrix)
        {
            var parts = verbResource.Split(' ');
            var ns = where switch
            {
                "own namespace" => _h.Namespace,
                "another namespace" => _other,
                "all namespaces" or "cluster" => null,
                _ => throw new InvalidOperationException("unknown scope in the matrix: " + where),
            };
            printed.Append($"  {verbResource,-36} {where,-18}");
            foreach (var (role, expected) in answers)
            {
                var (user, group) = _subjects[role];
                // kubectl reads RESOURCE/NAME: a subresource goes in --subresource
                var resource = parts[1].Split('/');
                var args = new List<string> { "auth", "can-i", parts[0], resource[0], "--as", user, "--as-group", group };
                if (resource.Length > 1) args.AddRange(new[] { "--subresource", resource[1] });
                args.AddRange(where == "all namespaces" ? new[] { "--all-namespaces" } : ns is null ? Array.Empty<string>() : new[] { "-n", ns });
                var (code, output) = await _h.Kube.KubectlAsync(args.ToArray());
                Assert.That(code, Is.AnyOf(0, 1), output);
                var actual = code == 0;
                printed.Append($" {role}={(actual ? "yes" : "no")}{(actual == expected ? "" : " (DOC SAYS " + (expected ? "yes" : "no") + ")")}");
                if (actual != expected) wrong.Add($"{role}: can-i {verbResource} ({where}) is {(actual ? "yes" : "no")}, the handbook says {(expected ? "yes" : "no")}");
            }
            printed.AppendLine();
        }
        TestContext.Out.WriteLine(printed.ToString());
        Assert.That(wrong, Is.Empty);
    }

    [Test]
    public async Task Connect_operator_logs_works_with_only_the_department_editor_role()
    {
        if (_h.Kube.Mode != "kube-testenv") Assert.Ignore("needs a bearer-token identity (kube-testenv)");
        var (user, group) = _subjects["department editor"];
        var alice = await _h.Kube.CreateIdentityAsync(user, group);
        await _h.CreateAsync(_h.Datagen("mine"));
        var mc = await _h.WaitForAsync("mine", m => OperatorHarness.IsReady(m) && m.Status!.KafkaClusterId != null, "Ready with its cluster in status");
        Assert.That((mc.Status!.EnvironmentId, mc.Status.KafkaClusterId), Is.EqualTo((OperatorHarness.Environment, OperatorHarness.Cluster)));

        var (code, denied) = await _h.Kube.KubectlAsAsync(alice, "get", "department", _h.Department);
        Assert.That(code, Is.Not.EqualTo(0), "the editor cannot read its Department: " + denied);

        var root = new RootCommand("test");
        root.Subcommands.Add(LogsCommand.Create());
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await root.Parse(new[] { "logs", "--kubeconfig", alice.KubeconfigPath, $"{_h.Namespace}/mine", "--logs-api-url", _h.EmulatorUrl,
                "--token", LogsSearchEndpoints.DefaultToken, "--since", "1h" })
            .InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
        var output = stdout.ToString();
        TestContext.Out.WriteLine(output + stderr);
        Assert.That(exit, Is.EqualTo(0), stderr.ToString());
        Assert.That(output, Does.Contain($"department={_h.Department}"));
        Assert.That(output, Does.Contain($"connectorId={mc.Status.ConnectorId}"));
        Assert.That(output, Does.Not.Contain("cannot list Events"));
        Assert.That(output, Does.Contain("Created"), "its Events");
        Assert.That(output, Does.Contain($"environment={OperatorHarness.Environment}/cloud-cluster={OperatorHarness.Cluster}/connector={mc.Status.ConnectorId}"));
        Assert.That(output, Does.Not.Contain("not readable"));
        Assert.That(output, Does.Not.Contain("logs search failed"), "the search for the connector's Confluent log lines was made and answered");
    }
}
