using ConnectOperator.Confluent;

namespace ConnectOperator.Tests.Unit.Confluent;

public class ConfigRedactorTests
{
    [TestCase("database.password", true)]
    [TestCase("DATABASE.PASSWORD", true)]
    [TestCase("aws.secret.access.key", true)]
    [TestCase("kafka.api.key", true)]
    [TestCase("kafka.api.secret", true)]
    [TestCase("bearer.token", true)]
    [TestCase("gcs.credentials.config", true)]
    [TestCase("ssl.keystore.location", true)] // contains "key": over-redaction is the safe side
    [TestCase("topics", false)]
    [TestCase("database.hostname", false)]
    [TestCase("tasks.max", false)]
    public void IsSensitiveKey(string key, bool expected) =>
        Assert.That(ConfigRedactor.Default.IsSensitiveKey(key), Is.EqualTo(expected));

    [Test]
    public void Redact_replaces_only_sensitive_values()
    {
        var redacted = ConfigRedactor.Default.Redact(new Dictionary<string, string>
        {
            ["database.password"] = "hunter2", ["topics"] = "orders", ["kafka.api.secret"] = "s3cr3t",
        });
        Assert.That(redacted["database.password"], Is.EqualTo(ConfigRedactor.RedactedValue));
        Assert.That(redacted["kafka.api.secret"], Is.EqualTo(ConfigRedactor.RedactedValue));
        Assert.That(redacted["topics"], Is.EqualTo("orders"));
        Assert.That(string.Join(",", redacted.Values), Does.Not.Contain("hunter2").And.Not.Contain("s3cr3t"));
    }

    [Test]
    public void Scrub_removes_sensitive_values_echoed_in_text_but_keeps_others()
    {
        var config = new Dictionary<string, string> { ["database.password"] = "hunter2-long", ["topics"] = "orders", ["x.token"] = "tok" };
        var text = "Invalid value hunter2-long for configuration database.password on topic orders (tok)";
        var scrubbed = ConfigRedactor.Default.Scrub(text, config)!;
        Assert.That(scrubbed, Does.Not.Contain("hunter2-long").And.Not.Contain("(tok)"));
        Assert.That(scrubbed, Does.Contain("orders").And.Contain(ConfigRedactor.RedactedValue));
    }

    [Test]
    public void Extra_patterns_and_keys()
    {
        var r = new ConfigRedactor(extraPatterns: ["jaas"], extraKeys: ["my.private"]);
        Assert.That(r.IsSensitiveKey("sasl.jaas.config"), Is.True);
        Assert.That(r.IsSensitiveKey("my.private"), Is.True);
        Assert.That(r.IsSensitiveKey("topics"), Is.False);
    }

    [TestCase("****************", true)]
    [TestCase("****", true)]
    [TestCase("", false)]
    [TestCase("**x*", false)]
    public void IsMasked(string v, bool expected) => Assert.That(ConfigRedactor.IsMasked(v), Is.EqualTo(expected));
}
