namespace ConnectOperator.Tests.Unit.Cli;

/// <summary>Output formats and exit codes: 0 valid, 1 invalid (including unreadable YAML), 2 usage error.</summary>
public class OutputAndExitCodeTests
{
    private const string Bad = "apiVersion: connect.ebs.io/v1alpha1\nkind: ManagedConnector\nmetadata:\n  name: pg-orders\n  namespace: finance\nspec:\n  connectorClass: DatagenSource\n  state: Stopped\n";

    [Test]
    public async Task Json_output_has_the_agreed_shape()
    {
        using var dir = new ValidateCli.TempDir(("bad.yaml", Bad));
        var r = await ValidateCli.RunAsync("-f", dir.Path, "--output", "json");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var json = r.Json;
        Assert.That(json.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "valid", "files", "objects", "findings", "notes" }));
        Assert.That(json.GetProperty("valid").GetBoolean(), Is.False);
        Assert.That(json.GetProperty("files").GetInt32(), Is.EqualTo(1));
        Assert.That(json.GetProperty("objects").GetInt32(), Is.EqualTo(1));
        var f = r.Findings.Single();
        Assert.That(f.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "file", "line", "kind", "namespace", "name", "field", "rule", "message" }));
        Assert.That(f.GetProperty("file").GetString(), Is.EqualTo(dir.File("bad.yaml")));
        Assert.That(f.GetProperty("line").GetInt32(), Is.EqualTo(8));
        Assert.That(f.GetProperty("kind").GetString(), Is.EqualTo("ManagedConnector"));
        Assert.That(f.GetProperty("namespace").GetString(), Is.EqualTo("finance"));
        Assert.That(f.GetProperty("name").GetString(), Is.EqualTo("pg-orders"));
        Assert.That(f.GetProperty("field").GetString(), Is.EqualTo("spec.state"));
        Assert.That(f.GetProperty("rule").GetString(), Is.EqualTo("schema"));
        Assert.That(f.GetProperty("message").GetString(), Is.EqualTo("spec.state: Unsupported value: \"Stopped\": supported values: \"Running\", \"Paused\""));
        Assert.That(r.Err, Is.Empty);
    }

    [Test]
    public async Task Text_output_is_one_finding_per_line_with_file_line_and_object_then_a_summary()
    {
        using var dir = new ValidateCli.TempDir(("bad.yaml", Bad));
        var r = await ValidateCli.RunAsync("-f", dir.Path);

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var lines = r.Out.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.That(lines[0], Is.EqualTo($"{dir.File("bad.yaml")}:8: ManagedConnector finance/pg-orders: spec.state: Unsupported value: \"Stopped\": supported values: \"Running\", \"Paused\" [schema]"));
        Assert.That(lines[^1], Is.EqualTo("validate: 1 file(s), 1 object(s): 1 finding(s), invalid"));
    }

    [Test]
    public async Task Unreadable_yaml_is_a_parse_finding_with_exit_1()
    {
        using var dir = new ValidateCli.TempDir(("broken.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n labels: {a: b}\n"), ("ok.yml", Bad.Replace("  state: Stopped\n", "")));
        var r = await ValidateCli.RunAsync("-f", dir.Path, "-o", "json");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var f = r.Findings.Single();
        Assert.That(f.GetProperty("rule").GetString(), Is.EqualTo("parse"));
        Assert.That(f.GetProperty("file").GetString(), Is.EqualTo(dir.File("broken.yaml")));
        Assert.That(f.GetProperty("line").GetInt32(), Is.GreaterThanOrEqualTo(2));
        Assert.That(r.Json.GetProperty("files").GetInt32(), Is.EqualTo(2), "folders are read recursively for .yaml and .yml");
    }

    [Test]
    public async Task Yaml_the_parser_cannot_place_is_still_a_parse_finding()
    {
        using var dir = new ValidateCli.TempDir(("broken.yaml", "apiVersion: v1\nkind: [unclosed\nmetadata: {name: x}\n"));
        var r = await ValidateCli.RunAsync("-f", dir.Path, "-o", "json");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Findings.Single().GetProperty("rule").GetString(), Is.EqualTo("parse"));
    }

    [Test]
    public async Task A_name_YAML_reads_as_a_boolean_is_reported()
    {
        using var dir = new ValidateCli.TempDir(("n.yaml", Bad.Replace("name: pg-orders", "name: n").Replace("Stopped", "Paused")));
        var r = await ValidateCli.RunAsync("-f", dir.Path, "-o", "json");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Findings.Single().GetProperty("message").GetString(), Does.StartWith("metadata.name: Invalid value: false: must be a string"));
    }

    [Test]
    public async Task Valid_input_exits_0()
    {
        using var dir = new ValidateCli.TempDir(("ok.yaml", Bad.Replace("Stopped", "Paused")));
        var r = await ValidateCli.RunAsync("-f", dir.File("ok.yaml"));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out.TrimEnd(), Does.EndWith("validate: 1 file(s), 1 object(s): valid"));
    }

    [TestCase(new string[0], "-f/--filename is required", TestName = "missing -f")]
    [TestCase(new[] { "-f" }, "-f/--filename is required", TestName = "-f without a value")]
    [TestCase(new[] { "-f", "/nonexistent/connectors" }, "does not exist", TestName = "nonexistent path")]
    [TestCase(new[] { "-f", "SAMPLES", "--departments", "/nonexistent/departments" }, "does not exist", TestName = "nonexistent departments path")]
    [TestCase(new[] { "-f", "SAMPLES", "--output", "xml" }, "--output must be text or json", TestName = "bad output format")]
    [TestCase(new[] { "-f", "SAMPLES", "--quotas", "SAMPLES", "--bogus" }, "unknown argument", TestName = "unknown option")]
    public async Task Usage_errors_exit_2(string[] args, string message)
    {
        var r = await ValidateCli.RunAsync(args.Select(a => a == "SAMPLES" ? ValidateCli.Repo("samples/hr") : a).ToArray());
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain(message));
        Assert.That(r.Out, Is.Empty);
    }
}
