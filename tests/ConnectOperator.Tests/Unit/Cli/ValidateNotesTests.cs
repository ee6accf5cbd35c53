namespace ConnectOperator.Tests.Unit.Cli;

/// <summary>validate says per file what it could not check, and a broken object does not distort policy or quota.</summary>
public class ValidateNotesTests
{
    private static string Mc(string ns, string name, string? cls, int tasks, string topic, string extra = "")
        => $"apiVersion: connect.ebs.io/v1alpha1\nkind: ManagedConnector\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n"
           + (cls is null ? "" : $"  connectorClass: {cls}\n") + $"  tasksMax: {tasks}\n{extra}  config:\n    kafka.topic: {topic}\n";

    [Test]
    public async Task Without_departments_each_file_says_policy_and_quota_were_not_checked()
    {
        using var dir = new ValidateCli.TempDir(("a.yaml", Mc("hr", "a", "DatagenSource", 1, "hr.a")), ("b.yaml", Mc("hr", "b", "DatagenSource", 1, "hr.b")));
        var r = await ValidateCli.RunAsync("-f", dir.Path);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Out, Does.Contain($"note: {dir.File("a.yaml")}: department policy and quota were not checked"));
        Assert.That(r.Out, Does.Contain($"note: {dir.File("b.yaml")}: department policy and quota were not checked"));

        var json = await ValidateCli.RunAsync("-f", dir.Path, "-o", "json");
        Assert.That(json.Json.GetProperty("notes").GetArrayLength(), Is.EqualTo(2), json.ToString());
    }

    [Test]
    public async Task With_a_department_but_no_quota_the_file_says_quota_was_not_checked()
    {
        using var dir = new ValidateCli.TempDir(("a.yaml", Mc("hr", "a", "DatagenSource", 1, "hr.a")));
        var r = await ValidateCli.RunAsync("-f", dir.Path, "--departments", ValidateCli.Repo("samples/platform/20-departments.yaml"));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Out, Does.Contain($"note: {dir.File("a.yaml")}: quota was not checked: no ConnectorQuota for department hr given"));
        Assert.That(r.Out, Does.Not.Contain("policy and quota were not checked"));
    }

    [Test]
    public async Task With_departments_and_quotas_there_is_no_note()
    {
        using var dir = new ValidateCli.TempDir(("a.yaml", Mc("hr", "a", "DatagenSource", 1, "hr.a")));
        var r = await ValidateCli.RunAsync("-f", dir.Path, "--departments", ValidateCli.Repo("samples/platform"), "--quotas", ValidateCli.Repo("samples/platform"));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Out, Does.Not.Contain("note:"));
    }

    [Test]
    public async Task A_missing_class_is_the_schema_finding_only()
    {
        using var dir = new ValidateCli.TempDir(("a.yaml", Mc("hr", "a", null, 1, "hr.a")));
        var r = await ValidateCli.RunAsync("-f", dir.Path, "--departments", ValidateCli.Repo("samples/platform"), "--quotas", ValidateCli.Repo("samples/platform"));
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Out, Does.Contain("spec.connectorClass: Required value"));
        Assert.That(r.Out, Does.Not.Contain("is not allowed for department"));
    }

    [Test]
    public async Task An_object_that_fails_the_schema_is_not_counted_toward_quota()
    {
        // hr allows 8 tasks in all: four good 2-task connectors use them; a fifth with an unknown field would be refused
        // by the API server before it took 2 more, so no good one may be reported over quota because of it.
        var good = Enumerable.Range(1, 4).Select(i => Mc("hr", $"g{i}", "DatagenSource", 2, $"hr.g{i}"));
        var broken = Mc("hr", "a-broken", "DatagenSource", 2, "hr.x", "  colour: blue\n");
        using var dir = new ValidateCli.TempDir(("c.yaml", string.Join("---\n", good.Append(broken))));
        var r = await ValidateCli.RunAsync("-f", dir.Path, "--departments", ValidateCli.Repo("samples/platform"), "--quotas", ValidateCli.Repo("samples/platform"), "-o", "json");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Findings.Select(f => f.GetProperty("rule").GetString()), Has.None.EqualTo("quota"), r.ToString());
        Assert.That(r.Findings.Select(f => f.GetProperty("name").GetString()), Is.All.EqualTo("a-broken"));
    }
}
