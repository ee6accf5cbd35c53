using Newtonsoft.Json.Linq;
using NJsonSchema;

namespace ConnectOperator.Tests.Unit.Packaging;

/// <summary>values.yaml agrees with values.schema.json, and the schema refuses broken values.</summary>
public class ChartValuesSchemaTests
{
    private static async Task<JsonSchema> SchemaAsync()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(PackagingFiles.Chart, "values.schema.json"));
        Assert.That(JObject.Parse(text)["$schema"]?.ToString(), Is.EqualTo("http://json-schema.org/draft-07/schema#"));
        return await JsonSchema.FromJsonAsync(text);
    }

    private static JObject DefaultValues() => (JObject)PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Chart, "values.yaml"));

    [Test]
    public async Task DefaultValuesValidateAgainstSchema()
    {
        var schema = await SchemaAsync();
        var errors = schema.Validate(DefaultValues());
        Assert.That(errors.Select(e => e.ToString()), Is.Empty);
    }

    [Test]
    public void DefaultValuesMatchTheOperatorFacts()
    {
        var v = DefaultValues();
        Assert.That((int)v["replicaCount"]!, Is.EqualTo(2));
        Assert.That((string)v["image"]!["repository"]!, Is.EqualTo("ghcr.io/ebs/connect-operator"));
        Assert.That((bool)v["operator"]!["leaderElection"]!["enabled"]!, Is.True);
        Assert.That((string)v["operator"]!["leaderElection"]!["leaseName"]!, Is.EqualTo("connect-operator-leader"));
        Assert.That((string)v["operator"]!["confluentBaseUrl"]!, Is.EqualTo("https://api.confluent.cloud"));
        Assert.That((int)v["operator"]!["metricsPort"]!, Is.EqualTo(8080));
        Assert.That((int)v["operator"]!["webhookPort"]!, Is.EqualTo(9443));
        Assert.That((string)v["webhook"]!["secretName"]!, Is.EqualTo("connect-operator-webhook-tls"));
        Assert.That((string)v["webhook"]!["configurationName"]!, Is.Empty, "defaults to the release's full name: cluster-scoped, one per release");
        Assert.That((string)v["webhook"]!["certMode"]!, Is.EqualTo("self-managed"), "the default install must not need cert-manager");
        Assert.That((bool)v["monitoring"]!["serviceMonitor"]!["enabled"]!, Is.False, "the default install must not need the Prometheus Operator");
        Assert.That((bool)v["monitoring"]!["prometheusRule"]!["enabled"]!, Is.False);
        Assert.That((int)v["podDisruptionBudget"]!["maxUnavailable"]!, Is.EqualTo(1), "never blocks a drain, even at one replica");
        Assert.That(v["podDisruptionBudget"]!["minAvailable"], Is.Null);
    }

    public static IEnumerable<TestCaseData> BrokenValues()
    {
        yield return new TestCaseData((Action<JObject>)(v => v["webhook"]!["certMode"] = "vault"), "certMode").SetName("certMode not in enum");
        yield return new TestCaseData((Action<JObject>)(v => v["replicaCount"] = "two"), "replicaCount").SetName("replicaCount is a string");
        yield return new TestCaseData((Action<JObject>)(v => v["replicaCount"] = 0), "replicaCount").SetName("replicaCount below minimum");
        yield return new TestCaseData((Action<JObject>)(v => ((JObject)v["webhook"]!).Remove("certMode")), "certMode").SetName("certMode missing");
        yield return new TestCaseData((Action<JObject>)(v => v["replicas"] = 3), "replicas").SetName("unknown top-level key");
        yield return new TestCaseData((Action<JObject>)(v => v["operator"]!["pollInterval"] = "30s"), "pollInterval").SetName("pollInterval not a TimeSpan");
        yield return new TestCaseData((Action<JObject>)(v => v["operator"]!["logLevel"] = "Trace"), "logLevel").SetName("logLevel not in enum");
        yield return new TestCaseData((Action<JObject>)(v => v["image"]!["pullPolicy"] = "Sometimes"), "pullPolicy").SetName("pullPolicy not in enum");
        yield return new TestCaseData((Action<JObject>)(v => v["securityContext"]!["allowPrivilegeEscalation"] = true), "allowPrivilegeEscalation").SetName("privilege escalation allowed");
        yield return new TestCaseData((Action<JObject>)(v => v["monitoring"]!["serviceMonitor"]!["enabled"] = "yes"), "enabled").SetName("serviceMonitor.enabled not boolean");
        yield return new TestCaseData((Action<JObject>)(v => v["operator"]!["confluentBaseUrl"] = "http://api.confluent.cloud"), "confluentBaseUrl").SetName("plain http Confluent URL");
    }

    [TestCaseSource(nameof(BrokenValues))]
    public async Task BrokenValuesFailValidation(Action<JObject> breakIt, string expectedProperty)
    {
        var schema = await SchemaAsync();
        var values = DefaultValues();
        breakIt(values);
        var errors = schema.Validate(values).ToList();
        Assert.That(errors, Is.Not.Empty, "the schema accepted broken values");
        var all = string.Join("\n", errors.Select(e => e.ToString() + " " + e.Path + " " + e.Property));
        Assert.That(all, Does.Contain(expectedProperty));
    }

    [Test]
    public async Task A_plain_http_Confluent_url_needs_allowInsecureConfluentUrl()
    {
        var schema = await SchemaAsync();
        var values = DefaultValues();
        values["operator"]!["confluentBaseUrl"] = "http://127.0.0.1:5000";
        Assert.That(schema.Validate(values), Is.Not.Empty);
        values["operator"]!["allowInsecureConfluentUrl"] = true;
        Assert.That(schema.Validate(values).Select(e => e.ToString()), Is.Empty);
    }

    [Test]
    public async Task BrokenValuesFileFailsValidation()
    {
        var schema = await SchemaAsync();
        var broken = PackagingFiles.ToJson(PackagingFiles.LoadDocuments(
            "replicaCount: 2\nwebhook:\n  certMode: manual\n", "broken values")[0]);
        var errors = schema.Validate(broken).Select(e => e.ToString()).ToList();
        Assert.That(errors, Is.Not.Empty);
        Assert.That(string.Join("\n", errors), Does.Contain("certMode"));
    }
}
