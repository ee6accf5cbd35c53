using ConnectOperator.Cli.Logs;
using ConnectOperator.Hosting;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace ConnectOperator.Tests.Unit.Logs;

[NonParallelizable]   // SecretValueRegistry is process-wide
public class SecretRedactionEnricherTests
{
    private const string Canary = "canary-unit-9f3e2a71";

    private sealed class Capture : ILogEventSink
    {
        public readonly List<string> Lines = new();
        public void Emit(LogEvent e)
        {
            using var w = new StringWriter();
            new RenderedCompactJsonFormatter().Format(e, w);
            Lines.Add(w.ToString());
        }
    }

    private static (Serilog.ILogger Log, Capture Sink) Logger(bool withEnricher = true)
    {
        var sink = new Capture();
        var lc = new LoggerConfiguration().MinimumLevel.Verbose();
        if (withEnricher) lc = lc.Enrich.With(new SecretRedactionEnricher());
        return (lc.WriteTo.Sink(sink).CreateLogger(), sink);
    }

    [Test]
    public void Sensitive_property_names_are_redacted_in_properties_and_rendered_message()
    {
        var (log, sink) = Logger();
        log.Information("connecting with {Password} as {User}", "hunter2-not-registered", "alice");
        Assert.That(sink.Lines[0], Does.Not.Contain("hunter2-not-registered"));
        Assert.That(sink.Lines[0], Does.Contain("[REDACTED]"));
        Assert.That(sink.Lines[0], Does.Contain("alice"));
    }

    [Test]
    public void Registered_values_are_scrubbed_from_any_string_property_however_nested()
    {
        SecretValueRegistry.Register(Canary);
        var (log, sink) = Logger();
        log.Warning("call failed: {Error}", $"400 Bad Request: database.password={Canary} rejected");
        log.Information("config {@Config}", new Dictionary<string, string> { ["connection.url"] = $"jdbc://u:{Canary}@db", ["database.password"] = "other-value-xyz" });
        log.Information("list {@Items}", new[] { "a", Canary });
        log.Information("obj {@Obj}", new { Name = "x", Nested = new { Text = "p=" + Canary } });
        var all = string.Join("\n", sink.Lines);
        Assert.That(all, Does.Not.Contain(Canary));
        Assert.That(all, Does.Not.Contain("other-value-xyz"), "a dictionary key that looks sensitive redacts its value");
        Assert.That(all, Does.Contain("jdbc://u:[REDACTED]@db"));
    }

    [Test]
    public void Without_the_enricher_the_canary_would_leak_so_the_test_can_fail()
    {
        SecretValueRegistry.Register(Canary);
        var (log, sink) = Logger(withEnricher: false);
        log.Warning("call failed: {Error}", "secret is " + Canary);
        Assert.That(sink.Lines[0], Does.Contain(Canary));
    }

    [Test]
    public void Scope_properties_and_identifiers_stay_readable()
    {
        var (log, sink) = Logger();
        log.ForContext("connector", "s3-ledger-archive").ForContext("namespace", "finance").Information("reconciled {Request}", "finance/s3-ledger-archive");
        Assert.That(sink.Lines[0], Does.Contain("\"connector\":\"s3-ledger-archive\""));
        Assert.That(sink.Lines[0], Does.Contain("finance/s3-ledger-archive"));
    }

    [Test]
    public void Short_and_masked_values_are_not_registered()
    {
        var before = SecretValueRegistry.Count;
        SecretValueRegistry.Register("1");
        SecretValueRegistry.Register("****************");
        Assert.That(SecretValueRegistry.Count, Is.EqualTo(before));
    }

    [Test]
    public void Cli_scrubber_redacts_sensitive_pairs_and_registered_values()
    {
        SecretValueRegistry.Register(Canary);
        var text = LogScrubber.Scrub($"Failed: connection.password={Canary} ; \"api.token\": \"tok-123456\" ; host=db.finance.internal; trace {Canary}");
        Assert.That(text, Does.Not.Contain(Canary));
        Assert.That(text, Does.Not.Contain("tok-123456"));
        Assert.That(text, Does.Contain("host=db.finance.internal"));
        Assert.That(LogScrubber.Scrub("Secret finance/s3 has no key api-secret"), Is.EqualTo("Secret finance/s3 has no key api-secret"));
    }

    [TestCase("30m", 30 * 60)]
    [TestCase("2h", 2 * 3600)]
    [TestCase("3d", 72 * 3600)]
    [TestCase("90s", 90)]
    public void Since_parses(string text, int seconds) => Assert.That(ConnectorLogsReport.ParseSince(text), Is.EqualTo(TimeSpan.FromSeconds(seconds)));

    [TestCase("4d")]
    [TestCase("73h")]
    [TestCase("0m")]
    [TestCase("1w")]
    [TestCase("h")]
    public void Since_rejects_beyond_retention_or_garbage(string text) => Assert.That(ConnectorLogsReport.ParseSince(text), Is.Null);

    [Test]
    public void Connector_crn_names_environment_cluster_and_connector()
    {
        Assert.That(LogsSearchClient.ConnectorCrn(null, "env-fin001", "lkc-fin001", "lcc-abc12"),
            Is.EqualTo("crn://confluent.cloud/environment=env-fin001/cloud-cluster=lkc-fin001/connector=lcc-abc12"));
        Assert.That(LogsSearchClient.ConnectorCrn("org-1", "env-a", "lkc-a", "lcc-x"), Does.StartWith("crn://confluent.cloud/organization=org-1/"));
    }

    [Test]
    public void The_sink_scrubs_what_the_enricher_cannot_reach_template_text_and_exceptions()
    {
        SecretValueRegistry.Register(Canary);
        using var output = new StringWriter();
        var log = new LoggerConfiguration().Enrich.With(new SecretRedactionEnricher())
            .WriteTo.Sink(new ScrubbingSink(new RenderedCompactJsonFormatter(), output)).CreateLogger();
#pragma warning disable Serilog004 // the careless template is the point of this test
        log.Error(new InvalidOperationException("failed with " + Canary), "careless template " + Canary);
#pragma warning restore Serilog004
        var line = output.ToString();
        Assert.That(line, Does.Not.Contain(Canary));
        Assert.That(line, Does.Contain("careless template [REDACTED]").And.Contain("failed with [REDACTED]"));
    }
}
