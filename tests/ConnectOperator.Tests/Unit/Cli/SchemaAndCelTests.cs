using ConnectOperator.Cli.Validation;

namespace ConnectOperator.Tests.Unit.Cli;

/// <summary>Schema and CEL checks against the CRDs embedded in the binary.</summary>
public class SchemaAndCelTests
{
    [Test]
    public void The_three_CRDs_are_embedded_and_match_crds_folder()
    {
        Assert.That(CrdSchemas.All.Select(s => s.Kind), Is.EquivalentTo(new[] { "Department", "ConnectorQuota", "ManagedConnector" }));
        Assert.That(CrdSchemas.All.Select(s => s.ApiVersion).Distinct(), Is.EqualTo(new[] { "connect.ebs.io/v1alpha1" }));
        var fromRepo = Directory.GetFiles(ValidateCli.Repo("crds"), "*.yaml")
            .SelectMany(f => CrdSchemas.FromCrdYaml(f, File.ReadAllText(f))).ToList();
        foreach (var embedded in CrdSchemas.All)
        {
            var repo = fromRepo.Single(s => s.Kind == embedded.Kind);
            Assert.That(Newtonsoft.Json.Linq.JToken.DeepEquals(repo.OpenApi, embedded.OpenApi), $"{embedded.Kind}: embedded schema differs from crds/");
        }
    }

    [Test]
    public void Every_CEL_rule_of_the_CRDs_is_evaluated_offline()
    {
        var inventory = CelRules.Inventory(CrdSchemas.All);
        Assert.That(inventory, Has.Count.EqualTo(4), string.Join("\n", inventory));
        Assert.That(inventory.Where(r => !r.Covered).Select(r => $"{r.Kind} {r.Path}: {r.Rule} ({r.NotCoveredReason})"), Is.Empty,
            "a new CEL rule needs a shape in CelRules (or list it as not covered in the validate help and docs)");
        Assert.That(inventory.Select(r => r.Path), Is.EquivalentTo(new[] { "<root>", "<root>", "<root>", "spec.secretConfig" }), "spec.config's rules are ConfigRules' (a map of untyped values has no CEL type)");
    }

    [Test]
    public void Transition_and_unknown_rules_are_reported_not_covered()
    {
        const string crd = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: things.example.com}
            spec:
              group: example.com
              scope: Namespaced
              names: {kind: Thing, plural: things}
              versions:
                - name: v1
                  served: true
                  storage: true
                  schema:
                    openAPIV3Schema:
                      type: object
                      properties:
                        spec:
                          type: object
                          x-kubernetes-validations:
                            - rule: self.size == oldSelf.size
                              message: immutable
                            - rule: self.size > 3 && self.size < 10
                              message: between
                            - rule: "!self.exists(k, k in ['a', 'b'])"
                              message: reserved
                          properties:
                            size: {type: integer}
            """;
        var schemas = CrdSchemas.FromCrdYaml("thing.yaml", crd).ToList();
        var inventory = CelRules.Inventory(schemas);
        Assert.That(inventory.Select(r => r.Covered), Is.EqualTo(new[] { false, false, true }));
        Assert.That(inventory[0].NotCoveredReason, Does.Contain("oldSelf"));
        Assert.That(inventory[1].NotCoveredReason, Does.Contain("not known"));
    }

    private static async Task<ValidateCli.Result> RunOneAsync(string yaml)
    {
        using var dir = new ValidateCli.TempDir(("x.yaml", yaml));
        return await ValidateCli.RunAsync("-f", dir.File("x.yaml"), "-o", "json");
    }

    private const string Head = "apiVersion: connect.ebs.io/v1alpha1\nkind: ManagedConnector\nmetadata:\n  name: c\n  namespace: hr\nspec:\n  connectorClass: DatagenSource\n";

    [TestCase("  tasksMax: \"2\"\n", "spec.tasksMax: Invalid value: \"string\": spec.tasksMax in body must be of type integer", 8, TestName = "quoted tasksMax is not an integer")]
    [TestCase("  tasksMax: 101\n", "spec.tasksMax in body should be less than or equal to 100", 8, TestName = "tasksMax above maximum")]
    [TestCase("  colour: blue\n", "unknown field \"spec.colour\"", 8, TestName = "unknown spec field")]
    [TestCase("  config:\n    name: x\n", "spec.config must not set reserved key(s)", 9, TestName = "reserved config key line is the key")]
    [TestCase("  config:\n    topics: [a, b]\n", "spec.config[topics]: a list is not allowed", 9, TestName = "list in config names the key")]
    [TestCase("  secretConfig:\n    - key: a\n      secretKeyRef: {name: s}\n", "spec.secretConfig[0].secretKeyRef.key: Required value", 10, TestName = "nested required field")]
    public async Task Schema_and_CEL_findings_use_the_API_server_wording_and_the_field_line(string specTail, string expected, int line)
    {
        var r = await RunOneAsync(Head + specTail);
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var f = r.Findings.FirstOrDefault(x => x.GetProperty("message").GetString()!.Contains(expected, StringComparison.Ordinal));
        Assert.That(f.ValueKind, Is.Not.EqualTo(System.Text.Json.JsonValueKind.Undefined), $"expected '{expected}'\n{r}");
        Assert.That(f.GetProperty("line").GetInt32(), Is.EqualTo(line), r.ToString());
    }

    [Test]
    public async Task Null_fields_are_dropped_as_the_API_server_does()
    {
        var r = await RunOneAsync(Head + "  config:\n  secretConfig: ~\n");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
    }

    [Test]
    public async Task Unknown_kind_of_our_group_is_a_finding_other_groups_are_ignored()
    {
        var r = await RunOneAsync("apiVersion: connect.ebs.io/v1alpha1\nkind: Connector\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\ndata: {a: b}\n");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Findings.Single().GetProperty("message").GetString(), Does.StartWith("no matches for kind \"Connector\" in version \"connect.ebs.io/v1alpha1\""));
        Assert.That(r.Json.GetProperty("objects").GetInt32(), Is.EqualTo(1));
    }

    [Test]
    public async Task Department_set_duplicates_are_reported()
    {
        var r = await RunOneAsync("apiVersion: connect.ebs.io/v1alpha1\nkind: Department\nmetadata: {name: d}\nspec:\n  namespaces: [a, b, a]\n  confluent:\n    environmentId: env-a\n    kafkaClusterId: lkc-a\n    serviceAccountId: sa-a\n    credentialsSecretRef: {name: s}\n");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Findings.Single().GetProperty("message").GetString(), Is.EqualTo("spec.namespaces[2]: Duplicate value: \"a\""));
    }
}
