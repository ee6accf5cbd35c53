using System.Text.RegularExpressions;

namespace ConnectOperator.Tests.Unit.Cli;

/// <summary>The shipped samples: the good ones validate clean, every invalid one is refused with its <c># expect:</c> text.</summary>
public class SampleManifestsTests
{
    /// <summary>
    /// samples/invalid files whose rule `validate` does not check offline, with the reason. Empty today: every schema
    /// and CEL rule the samples exercise is covered. A file listed here must NOT produce its expected message, so the
    /// list is kept honest when coverage grows.
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string> NotCoveredOffline = new Dictionary<string, string>();

    [TestCase("samples/platform")]
    [TestCase("samples/finance")]
    [TestCase("samples/hr")]
    public async Task Sample_folder_validates_clean(string folder)
    {
        var r = await ValidateCli.RunAsync("-f", ValidateCli.Repo(folder), "--departments", ValidateCli.Repo("samples/platform"), "--quotas", ValidateCli.Repo("samples/platform"));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain(": valid"));
    }

    [Test]
    public async Task All_good_samples_together_validate_clean_and_are_counted()
    {
        var r = await ValidateCli.RunAsync("-f", ValidateCli.Repo("samples/platform"), "-f", ValidateCli.Repo("samples/finance"), "-f", ValidateCli.Repo("samples/hr"),
            "--departments", ValidateCli.Repo("samples/platform"), "--quotas", ValidateCli.Repo("samples/platform"), "--output", "json");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Json.GetProperty("valid").GetBoolean(), Is.True);
        Assert.That(r.Json.GetProperty("files").GetInt32(), Is.EqualTo(9));
        Assert.That(r.Json.GetProperty("objects").GetInt32(), Is.EqualTo(9), "2 Departments, 2 ConnectorQuotas, 5 ManagedConnectors (one from a custom plugin); Namespaces and Secrets are not counted");
        Assert.That(r.Findings, Is.Empty);
    }

    public static IEnumerable<TestCaseData> InvalidSamples()
        => Directory.GetFiles(ValidateCli.Repo("samples/invalid"), "*.yaml").Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName("invalid sample " + Path.GetFileName(f)));

    [Test]
    public void There_are_invalid_samples()
        => Assert.That(InvalidSamples().Count(), Is.GreaterThanOrEqualTo(14));

    [TestCaseSource(nameof(InvalidSamples))]
    public async Task Invalid_sample_is_refused_with_its_expected_message(string name)
    {
        var path = Path.Combine(ValidateCli.Repo("samples/invalid"), name);
        var text = await File.ReadAllTextAsync(path);
        var m = Regex.Match(text.Split('\n')[0], @"^# expect: (.+?)\s*$");
        Assert.That(m.Success, $"{name}: first line must be '# expect: <message>'");
        var expect = m.Groups[1].Value;

        // With the sample Departments too, as a department repository's CI runs it.
        var r = await ValidateCli.RunAsync("-f", path, "--departments", ValidateCli.Repo("samples/platform"), "--quotas", ValidateCli.Repo("samples/platform"), "--output", "json");
        var matching = r.Findings.Where(f => f.GetProperty("message").GetString()!.Contains(expect, StringComparison.Ordinal)).ToList();
        if (NotCoveredOffline.TryGetValue(name, out var reason))
        {
            Assert.That(matching, Is.Empty, $"{name} is listed as not covered offline ({reason}) but is now reported: remove it from the list");
            return;
        }
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(matching, Is.Not.Empty, $"no finding contains '{expect}'\n{r}");
        var finding = matching[0];
        Assert.That(finding.GetProperty("rule").GetString(), Is.AnyOf("schema", "cel"));
        Assert.That(finding.GetProperty("file").GetString(), Is.EqualTo(path));
        Assert.That(finding.GetProperty("line").GetInt32(), Is.GreaterThan(1).And.LessThanOrEqualTo(text.Split('\n').Length), "points into the document, not at the comment");
        Assert.That(finding.GetProperty("name").GetString(), Is.EqualTo(Regex.Match(text, @"(?m)^  name: (\S+)").Groups[1].Value));
    }

    public static IEnumerable<TestCaseData> WebhookSamples()
        => Directory.GetFiles(ValidateCli.Repo("samples/invalid/webhook"), "*.yaml").Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName("webhook sample " + Path.GetFileName(f)));

    /// <summary>
    /// samples/invalid/webhook: schema-valid manifests that break department policy or quota. The webhook refuses them at
    /// apply time; `validate` must refuse them in the pull request already, with the very same message.
    /// </summary>
    [TestCaseSource(nameof(WebhookSamples))]
    public async Task Policy_and_quota_samples_are_refused_offline_with_the_webhooks_message(string name)
    {
        var path = Path.Combine(ValidateCli.Repo("samples/invalid/webhook"), name);
        var expect = Regex.Match((await File.ReadAllTextAsync(path)).Split('\n')[0], @"^# expect: (.+?)\s*$").Groups[1].Value;
        Assert.That(expect, Is.Not.Empty, $"{name}: first line must be '# expect: <message>'");
        var r = await ValidateCli.RunAsync("-f", path, "--departments", ValidateCli.Repo("samples/platform"), "--quotas", ValidateCli.Repo("samples/platform"), "--output", "json");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var finding = r.Findings.FirstOrDefault(f => f.GetProperty("message").GetString()!.Contains(expect, StringComparison.Ordinal));
        Assert.That(finding.ValueKind, Is.Not.EqualTo(System.Text.Json.JsonValueKind.Undefined), $"no finding contains '{expect}'\n{r}");
        Assert.That(finding.GetProperty("rule").GetString(), Is.AnyOf("policy", "quota", "config"));
    }
}
