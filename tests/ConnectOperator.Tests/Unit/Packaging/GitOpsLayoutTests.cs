using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ConnectOperator.Tests.Infrastructure;
using Newtonsoft.Json.Linq;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Unit.Packaging;

/// <summary>
/// The central config repository's layout is one thing: handbook chapter 3 describes it, samples/connect-config is an
/// example of it, deploy/ci validates it, deploy/argocd and deploy/flux sync it. The shipped CI command lines run against
/// the example; the Argo CD ApplicationSets are rendered for its two Departments (the git files generator and its Go
/// template, implemented here for the subset the files use), the department AppProjects are built from their kustomize
/// base with the generated patches, and Argo CD's destination check shows that finance cannot sync into hr.
/// </summary>
public class GitOpsLayoutTests
{
    private static string Example => Path.Combine(TestCluster.RepoRoot, "samples", "connect-config");
    private static string Deploy(string p) => Path.Combine(PackagingFiles.Deploy, p);

    // ---------- CI: the shipped command lines, run against the example repository ----------

    /// <summary>The `validate …` argument list of a CI file, as the validate image receives it (paths under /work).</summary>
    public static IReadOnlyList<string> ValidateArguments(string ciFile)
    {
        var root = new YamlStream();
        root.Load(new StringReader(File.ReadAllText(ciFile)));
        var scalars = new List<string>();
        void Walk(YamlNode n)
        {
            switch (n)
            {
                case YamlScalarNode s: scalars.Add(s.Value ?? ""); break;
                case YamlSequenceNode q: foreach (var c in q.Children) Walk(c); break;
                case YamlMappingNode m: foreach (var kv in m.Children) Walk(kv.Value); break;
            }
        }
        Walk(root.Documents[0].RootNode);
        var commands = scalars.Select(s => s.Replace("\\\n", " ").Replace('\n', ' '))
            .Select(s => Regex.Match(s, @"(?<![\w-])validate\s+-f\s.*?--output\s+json")).Where(m => m.Success).Select(m => m.Value).ToList();
        Assert.That(commands, Has.Count.EqualTo(1), ciFile + ": exactly one validate command line");
        return commands[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private static async Task<(int Code, string Output)> RunValidateAsync(IEnumerable<string> args, string repo)
    {
        // The JIT build of the same program the validate image runs (the operator's native executable refuses validate).
        var dll = Path.Combine(AppContext.BaseDirectory, "connect-operator.dll");
        Assert.That(File.Exists(dll), Is.True, dll);
        var mapped = args.Select(a => a.StartsWith("/work", StringComparison.Ordinal) ? repo + a["/work".Length..] : a);
        return await TestCluster.RunAsync("dotnet", new[] { dll }.Concat(mapped), timeout: TimeSpan.FromMinutes(2));
    }

    [TestCase("github-actions-validate.yaml")]
    [TestCase("gitlab-ci-validate.yml")]
    public async Task The_shipped_CI_command_validates_the_example_repository(string file)
    {
        var args = ValidateArguments(Deploy(Path.Combine("ci", file)));
        Assert.That(args[0], Is.EqualTo("validate"));
        foreach (var path in args.Where(a => a.StartsWith("/work/", StringComparison.Ordinal)))
            Assert.That(Directory.Exists(Path.Combine(Example, path["/work/".Length..])), Is.True, $"{file} names {path}, which the layout does not have");

        var (code, output) = await RunValidateAsync(args, Example);
        Assert.That(code, Is.EqualTo(0), output);
        var json = JsonDocument.Parse(output[output.IndexOf('{')..]).RootElement;
        Assert.That(json.GetProperty("valid").GetBoolean(), Is.True, output);
        Assert.That(json.GetProperty("objects").GetInt32(), Is.EqualTo(9), "5 ManagedConnectors (one a custom plugin), 2 Departments, 2 ConnectorQuotas");
    }

    [Test]
    public async Task The_shipped_CI_command_fails_a_pull_request_that_breaks_policy_or_quota()
    {
        var copy = Directory.CreateTempSubdirectory("connect-config-").FullName;
        try
        {
            CopyTree(Example, copy);
            // A finance connector to a host finance has no network path to, and hr's quota lowered below its use.
            File.WriteAllText(Path.Combine(copy, "departments", "finance", "ledger-from-hr-db.yaml"), """
                apiVersion: connect.ebs.io/v1alpha1
                kind: ManagedConnector
                metadata:
                  name: ledger-from-hr-db
                  namespace: finance
                spec:
                  connectorClass: PostgresCdcSource
                  config:
                    database.hostname: db1.hr.internal
                    database.port: "5432"
                    database.user: reader
                    database.dbname: ledger
                    database.server.name: finance.ledger
                    output.data.format: JSON
                """);
            var quota = Path.Combine(copy, "platform", "quotas", "hr.yaml");
            File.WriteAllText(quota, File.ReadAllText(quota).Replace("connectors: 5", "connectors: 1"));

            var (code, output) = await RunValidateAsync(ValidateArguments(Deploy("ci/github-actions-validate.yaml")), copy);
            Assert.That(code, Is.EqualTo(1), output);
            Assert.That(output, Does.Contain("db1.hr.internal").And.Contain("exceeded quota hr"));
        }
        finally { Directory.Delete(copy, true); }
    }

    // ---------- the layout itself ----------

    [Test]
    public void The_example_repository_has_the_documented_layout_and_its_files_match_the_samples()
    {
        foreach (var dir in new[] { "platform/departments", "platform/quotas", "departments/finance", "departments/hr", "argocd/department-project" })
            Assert.That(Directory.Exists(Path.Combine(Example, dir)), Is.True, dir);
        Assert.That(File.Exists(Path.Combine(Example, "CODEOWNERS")), Is.True, "CODEOWNERS (who approves what)");
        foreach (var dept in new[] { "finance", "hr" })
            foreach (var f in Directory.GetFiles(Path.Combine(TestCluster.RepoRoot, "samples", dept), "*.yaml"))
                Assert.That(File.ReadAllText(Path.Combine(Example, "departments", dept, Path.GetFileName(f))), Is.EqualTo(File.ReadAllText(f)),
                    $"samples/connect-config/departments/{dept}/{Path.GetFileName(f)} is a copy of samples/{dept}/");
        foreach (var f in Directory.GetFiles(Deploy("argocd/department-project")))
            Assert.That(File.ReadAllText(Path.Combine(Example, "argocd", "department-project", Path.GetFileName(f))), Is.EqualTo(File.ReadAllText(f)),
                "samples/connect-config/argocd/department-project is a copy of deploy/argocd/department-project");
        // One Department per file (the git files generator reads one object per file), named after the file.
        foreach (var f in Directory.GetFiles(Path.Combine(Example, "platform", "departments")))
        {
            var d = PackagingFiles.YamlFileToJson(f);
            Assert.That((string?)d["kind"], Is.EqualTo("Department"));
            Assert.That((string?)d["metadata"]!["name"] + ".yaml", Is.EqualTo(Path.GetFileName(f)));
        }
    }

    [Test]
    public void Argo_CD_and_Flux_sync_the_folders_of_that_layout()
    {
        var sets = PackagingFiles.LoadDocuments(File.ReadAllText(Deploy("argocd/applicationset.yaml")), "appset").Select(PackagingFiles.ToJson).ToList();
        foreach (var set in sets)
        {
            var gen = set["spec"]!["generators"]!.Single()["git"]!;
            Assert.That((string?)gen["files"]!.Single()["path"], Is.EqualTo("platform/departments/*.yaml"));
        }
        var platform = PackagingFiles.YamlFileToJson(Deploy("argocd/applications/connect-platform.yaml"));
        Assert.That((string?)platform["spec"]!["source"]!["path"], Is.EqualTo("platform"));
        Assert.That((string?)platform["spec"]!["project"], Is.EqualTo("connect-platform"));
        Assert.That(platform["metadata"]!["finalizers"], Is.Null, "the platform Application must not cascade-delete Departments");
        foreach (var p in Regex.Matches(File.ReadAllText(Deploy("flux/connect-config.yaml")), @"path: \./(?<p>\S+)").Select(m => m.Groups["p"].Value))
            Assert.That(Directory.Exists(Path.Combine(Example, p)), Is.True, "deploy/flux path " + p);
        foreach (var dept in new[] { "finance", "hr" })
            Assert.That((string?)PackagingFiles.YamlFileToJson(Deploy($"argocd/applications/connect-{dept}.yaml"))["spec"]!["source"]!["path"], Is.EqualTo($"departments/{dept}"));
    }

    // ---------- Argo CD: the ApplicationSets rendered for two departments ----------

    /// <summary>The Applications an ApplicationSet with a git files generator makes for the given Department files.</summary>
    public static List<JObject> RenderApplicationSet(JToken set, IEnumerable<string> departmentFiles)
    {
        Assert.That((bool?)set["spec"]!["goTemplate"], Is.True);
        var generator = set["spec"]!["generators"]!.Single()["git"]!;
        Assert.That(generator["files"], Is.Not.Null, "git files generator");
        var apps = new List<JObject>();
        foreach (var file in departmentFiles)
        {
            var parameters = (JObject)PackagingFiles.YamlFileToJson(file);
            // The git files generator adds the file's path under .path (argo-cd applicationset/generators/git.go).
            var rel = "platform/departments/" + Path.GetFileName(file);
            parameters["path"] = new JObject
            {
                ["path"] = "platform/departments",
                ["basename"] = "departments",
                ["filename"] = Path.GetFileName(file),
                ["basenameNormalized"] = "departments",
                ["filenameNormalized"] = Path.GetFileName(file).Replace('.', '-'),
                ["segments"] = new JArray(rel.Split('/').SkipLast(1)),
            };
            var app = (JObject)RenderStrings(set["spec"]!["template"]!.DeepClone(), parameters);
            app["apiVersion"] = "argoproj.io/v1alpha1";
            app["kind"] = "Application";
            apps.Add(app);
        }
        return apps;
    }

    private static JToken RenderStrings(JToken node, JToken parameters)
    {
        switch (node)
        {
            case JObject o:
                foreach (var p in o.Properties().ToList()) p.Value = RenderStrings(p.Value, parameters);
                return o;
            case JArray a:
                for (var i = 0; i < a.Count; i++) a[i] = RenderStrings(a[i], parameters);
                return a;
            case JValue { Type: JTokenType.String } v:
                return new JValue(GoTemplate.Render((string)v!, parameters));
            default:
                return node;
        }
    }

    /// <summary>
    /// The department's AppProject as Argo CD builds it: the kustomize base argocd/department-project with the
    /// Application's spec.source.kustomize.patches added to its kustomization (as argo-cd util/kustomize does), then
    /// `kubectl kustomize`.
    /// </summary>
    private static JToken BuildProject(JObject projectApp)
    {
        var kubectl = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(p => Path.Combine(p, "kubectl")).FirstOrDefault(File.Exists);
        if (kubectl == null) Assert.Ignore("kubectl not installed: cannot run `kubectl kustomize`");
        var source = projectApp["spec"]!["source"]!;
        Assert.That((string?)source["path"], Is.EqualTo("argocd/department-project"));
        var dir = Directory.CreateTempSubdirectory("department-project-").FullName;
        try
        {
            CopyTree(Path.Combine(Example, "argocd", "department-project"), dir);
            var k = new StringBuilder(File.ReadAllText(Path.Combine(dir, "kustomization.yaml")));
            k.Append("patches:\n");
            foreach (var patch in source["kustomize"]!["patches"]!)
            {
                k.Append("  - target:\n");
                foreach (var t in (JObject)patch["target"]!) k.Append($"      {t.Key}: {t.Value}\n");
                k.Append("    patch: ").Append(JsonSerializer.Serialize((string)patch["patch"]!)).Append('\n');
            }
            File.WriteAllText(Path.Combine(dir, "kustomization.yaml"), k.ToString());
            var (code, output) = TestCluster.RunAsync(kubectl, new[] { "kustomize", dir }, timeout: TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
            Assert.That(code, Is.EqualTo(0), "kubectl kustomize:\n" + output + "\n" + k);
            return PackagingFiles.ToJson(PackagingFiles.LoadDocuments(output, "kustomize").Single());
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// Argo CD's check of one resource against the Application's project (argo-cd pkg/apis/application/v1alpha1,
    /// AppProject.IsDestinationPermitted / IsGroupKindPermitted): a namespaced resource's own namespace (or the
    /// Application's destination namespace when it has none) must glob-match a destination's namespace, and its kind must
    /// be in namespaceResourceWhitelist; a cluster-scoped resource must be in clusterResourceWhitelist.
    /// </summary>
    public static string? Refusal(JToken project, JToken app, string group, string kind, string? ns, bool clusterScoped)
    {
        var spec = project["spec"]!;
        bool Listed(string list) => (spec[list] as JArray ?? new JArray()).Any(e =>
            Glob((string?)e["group"] ?? "", group) && Glob((string?)e["kind"] ?? "", kind));
        if (clusterScoped)
            return Listed("clusterResourceWhitelist") ? null : $"resource {group}:{kind} is not permitted in project {project["metadata"]!["name"]}";
        if (!Listed("namespaceResourceWhitelist")) return $"resource {group}:{kind} is not permitted in project {project["metadata"]!["name"]}";
        var server = (string)app["spec"]!["destination"]!["server"]!;
        var effective = ns ?? (string)app["spec"]!["destination"]!["namespace"]!;
        var ok = (spec["destinations"] as JArray ?? new JArray()).Any(d => Glob((string?)d["server"] ?? "", server) && Glob((string?)d["namespace"] ?? "", effective));
        return ok ? null : $"namespace {effective} is not permitted in project '{project["metadata"]!["name"]}'";
    }

    /// <summary>Argo CD matches destinations with gobwas/glob: '*' any run of characters, '?' one, '[...]' a class.</summary>
    public static bool Glob(string pattern, string value)
    {
        if (pattern.StartsWith('!')) return !Glob(pattern[1..], value);
        var re = "^" + Regex.Replace(Regex.Escape(pattern).Replace(@"\[", "[").Replace(@"\]", "]"), @"\\\*|\\\?", m => m.Value == @"\*" ? ".*" : ".") + "$";
        return Regex.IsMatch(value, re);
    }

    [Test]
    public void Glob_matches_as_Argo_CD_matches_destination_namespaces()
    {
        Assert.That(Glob("finance", "finance"), Is.True);
        Assert.That(Glob("finance", "hr"), Is.False);
        Assert.That(Glob("finance-*", "finance-dev"), Is.True);
        Assert.That(Glob("finance-*", "hr"), Is.False);
        Assert.That(Glob("*", "hr"), Is.True);
        Assert.That(Glob("", "hr"), Is.False);
    }

    [Test]
    public void Each_department_gets_a_project_of_its_own_namespaces_and_finance_cannot_target_hr()
    {
        var sets = PackagingFiles.LoadDocuments(File.ReadAllText(Deploy("argocd/applicationset.yaml")), "appset").Select(PackagingFiles.ToJson).ToList();
        var departments = Directory.GetFiles(Path.Combine(Example, "platform", "departments"), "*.yaml").Order(StringComparer.Ordinal).ToList();
        Assert.That(departments.Select(Path.GetFileName), Is.EqualTo(new[] { "finance.yaml", "hr.yaml" }));

        var projectApps = RenderApplicationSet(sets.Single(s => (string?)s["metadata"]!["name"] == "connect-department-projects"), departments);
        var departmentApps = RenderApplicationSet(sets.Single(s => (string?)s["metadata"]!["name"] == "connect-departments"), departments);
        Assert.That(projectApps.Select(a => (string?)a["metadata"]!["name"]), Is.EqualTo(new[] { "connect-project-finance", "connect-project-hr" }));
        Assert.That(departmentApps.Select(a => (string?)a["metadata"]!["name"]), Is.EqualTo(new[] { "connect-finance", "connect-hr" }));

        var platformProject = PackagingFiles.YamlFileToJson(Deploy("argocd/appproject.yaml"));
        var projects = new Dictionary<string, JToken>();
        foreach (var pa in projectApps)
        {
            Assert.That((string?)pa["spec"]!["project"], Is.EqualTo("connect-platform"));
            var project = BuildProject(pa);
            Assert.That((string?)project["kind"], Is.EqualTo("AppProject"));
            // The project Application itself may create the AppProject (namespaced, in argocd) under connect-platform.
            Assert.That(Refusal(platformProject, pa, "argoproj.io", "AppProject", (string?)project["metadata"]!["namespace"], false), Is.Null);
            projects[(string)project["metadata"]!["name"]!] = project;
        }
        Assert.That(projects.Keys, Is.EquivalentTo(new[] { "connect-finance", "connect-hr" }));

        foreach (var (dept, file) in new[] { "finance", "hr" }.Zip(departments))
        {
            var project = projects["connect-" + dept];
            var namespaces = PackagingFiles.YamlFileToJson(file)["spec"]!["namespaces"]!.Select(n => (string)n!).ToList();
            Assert.That(project["spec"]!["destinations"]!.Select(d => (string?)d["namespace"]), Is.EqualTo(namespaces), $"{dept}: destinations are exactly its namespaces");
            Assert.That(project["spec"]!["destinations"]!.Select(d => (string?)d["server"]), Is.All.EqualTo("https://kubernetes.default.svc"));
            Assert.That(project["spec"]!["clusterResourceWhitelist"], Is.Empty, $"{dept}: nothing cluster-scoped");
            var app = departmentApps.Single(a => (string?)a["metadata"]!["name"] == "connect-" + dept);
            Assert.That((string?)app["spec"]!["project"], Is.EqualTo("connect-" + dept));
            Assert.That((string?)app["spec"]!["source"]!["path"], Is.EqualTo("departments/" + dept));
            Assert.That(Directory.Exists(Path.Combine(Example, "departments", dept)), Is.True);
        }

        var finance = departmentApps.Single(a => (string?)a["metadata"]!["name"] == "connect-finance");
        var financeProject = projects["connect-finance"];
        // What finance needs is permitted ...
        Assert.Multiple(() =>
        {
            Assert.That(Refusal(financeProject, finance, "connect.ebs.io", "ManagedConnector", "finance", false), Is.Null);
            Assert.That(Refusal(financeProject, finance, "connect.ebs.io", "ManagedConnector", null, false), Is.Null, "no namespace: the Application's");
            Assert.That(Refusal(financeProject, finance, "", "Secret", "finance", false), Is.Null);
            Assert.That(Refusal(financeProject, finance, "bitnami.com", "SealedSecret", "finance", false), Is.Null);
            Assert.That(Refusal(financeProject, finance, "external-secrets.io", "ExternalSecret", "finance", false), Is.Null);
            // ... and a file in departments/finance/ with `namespace: hr` is refused, whatever the Application's destination.
            Assert.That(Refusal(financeProject, finance, "connect.ebs.io", "ManagedConnector", "hr", false), Is.EqualTo("namespace hr is not permitted in project 'connect-finance'"));
            Assert.That(Refusal(financeProject, finance, "", "Secret", "hr", false), Does.Contain("namespace hr is not permitted"));
            Assert.That(Refusal(financeProject, finance, "", "Secret", "connect-operator-system", false), Does.Contain("not permitted"), "not the operator's credentials");
            // Nothing cluster-scoped, nothing outside the whitelist.
            Assert.That(Refusal(financeProject, finance, "connect.ebs.io", "Department", null, true), Does.Contain("not permitted"));
            Assert.That(Refusal(financeProject, finance, "connect.ebs.io", "ConnectorQuota", null, true), Does.Contain("not permitted"));
            Assert.That(Refusal(financeProject, finance, "", "Namespace", null, true), Does.Contain("not permitted"));
            Assert.That(Refusal(financeProject, finance, "rbac.authorization.k8s.io", "RoleBinding", "finance", false), Does.Contain("not permitted"));
            Assert.That(Refusal(financeProject, finance, "argoproj.io", "AppProject", "argocd", false), Does.Contain("not permitted"));
        });
    }

    [Test]
    public void Go_template_subset_renders_as_Argo_CD_would()
    {
        var p = JObject.Parse("""{"metadata":{"name":"finance"},"spec":{"namespaces":["finance","finance-batch"]}}""");
        Assert.That(GoTemplate.Render("connect-{{ .metadata.name }}", p), Is.EqualTo("connect-finance"));
        Assert.That(GoTemplate.Render("{{ index .spec.namespaces 1 }}", p), Is.EqualTo("finance-batch"));
        Assert.That(GoTemplate.Render("a:\n{{- range .spec.namespaces }}\n- {{ . }}\n{{- end }}\nb", p), Is.EqualTo("a:\n- finance\n- finance-batch\nb"));
        Assert.Throws<InvalidOperationException>(() => GoTemplate.Render("{{ .metadata.nope }}", p), "missingkey=error");
        Assert.Throws<InvalidOperationException>(() => GoTemplate.Render("{{ toYaml .spec }}", p), "unknown functions are not guessed");
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target, true);
        }
    }

    /// <summary>
    /// The part of Go's text/template the ApplicationSets use: {{ .a.b }}, {{ . }}, {{ index .a N }}, {{ range .a }} …
    /// {{ end }}, and the {{- / -}} whitespace trim markers; missing keys are errors (goTemplateOptions missingkey=error).
    /// Anything else throws, so a template change that needs more is noticed rather than rendered wrongly.
    /// </summary>
    public static class GoTemplate
    {
        private abstract record Node;
        private sealed record Text(string Value) : Node;
        private sealed record Action(string Expr) : Node;
        private sealed record Range(string Expr, List<Node> Body) : Node;

        public static string Render(string template, JToken data)
        {
            var pos = 0;
            var nodes = Parse(Tokens(template), ref pos, topLevel: true);
            var sb = new StringBuilder();
            Emit(nodes, data, data, sb);
            return sb.ToString();
        }

        private static List<(bool IsAction, string Value)> Tokens(string t)
        {
            var list = new List<(bool, string)>();
            var i = 0;
            while (i < t.Length)
            {
                var open = t.IndexOf("{{", i, StringComparison.Ordinal);
                if (open < 0) { list.Add((false, t[i..])); break; }
                var text = t[i..open];
                var close = t.IndexOf("}}", open, StringComparison.Ordinal);
                if (close < 0) throw new InvalidOperationException("unclosed action");
                var inner = t[(open + 2)..close];
                if (inner.StartsWith("- ", StringComparison.Ordinal)) { text = text.TrimEnd(); inner = inner[1..]; }
                var trimAfter = inner.EndsWith(" -", StringComparison.Ordinal);
                if (trimAfter) inner = inner[..^1];
                list.Add((false, text));
                list.Add((true, inner.Trim()));
                i = close + 2;
                if (trimAfter) while (i < t.Length && char.IsWhiteSpace(t[i])) i++;
            }
            return list;
        }

        private static List<Node> Parse(List<(bool IsAction, string Value)> tokens, ref int pos, bool topLevel)
        {
            var nodes = new List<Node>();
            while (pos < tokens.Count)
            {
                var (isAction, value) = tokens[pos++];
                if (!isAction) { if (value.Length > 0) nodes.Add(new Text(value)); continue; }
                if (value == "end")
                {
                    if (topLevel) throw new InvalidOperationException("{{ end }} without {{ range }}");
                    return nodes;
                }
                if (value.StartsWith("range ", StringComparison.Ordinal))
                {
                    var body = Parse(tokens, ref pos, topLevel: false);
                    nodes.Add(new Range(value["range ".Length..].Trim(), body));
                    continue;
                }
                nodes.Add(new Action(value));
            }
            if (!topLevel) throw new InvalidOperationException("{{ range }} without {{ end }}");
            return nodes;
        }

        private static void Emit(List<Node> nodes, JToken root, JToken dot, StringBuilder sb)
        {
            foreach (var n in nodes)
            {
                switch (n)
                {
                    case Text t: sb.Append(t.Value); break;
                    case Action a: sb.Append(Scalar(Eval(a.Expr, root, dot))); break;
                    case Range r:
                        if (Eval(r.Expr, root, dot) is not JArray items) throw new InvalidOperationException($"range over a non-list: {r.Expr}");
                        foreach (var item in items) Emit(r.Body, root, item, sb);
                        break;
                }
            }
        }

        private static JToken Eval(string expr, JToken root, JToken dot)
        {
            var words = expr.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 3 && words[0] == "index" && int.TryParse(words[2], out var k))
                return Eval(words[1], root, dot) is JArray arr && k < arr.Count ? arr[k] : throw new InvalidOperationException($"index out of range: {expr}");
            if (words.Length != 1 || !words[0].StartsWith('.')) throw new InvalidOperationException($"unsupported template action {{{{ {expr} }}}}");
            if (words[0] == ".") return dot;
            var current = dot;
            foreach (var key in words[0][1..].Split('.'))
                current = (current as JObject)?[key] ?? throw new InvalidOperationException($"map has no entry for key \"{key}\" ({expr})");
            return current;
        }

        private static string Scalar(JToken v) => v is JValue { Value: { } o } ? Convert.ToString(o, System.Globalization.CultureInfo.InvariantCulture)! : throw new InvalidOperationException("not a scalar: " + v);
    }
}
