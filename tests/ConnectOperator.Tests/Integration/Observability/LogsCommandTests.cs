using System.CommandLine;
using System.Net;
using System.Text;
using ConnectOperator.Cli;
using ConnectOperator.Emulator;
using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests.Integration.Observability;

/// <summary><c>connect-operator logs ns/name</c> against the real API server, the operator and the emulator's logs search.</summary>
[NonParallelizable]
public class LogsCommandTests
{
    private OperatorHarness _h = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _h = await OperatorHarness.StartAsync("logscli");
        await _h.StartOperatorAsync();
    }

    [OneTimeTearDown]
    public async Task TearDown() => await _h.DisposeAsync();

    private sealed record Result(int Exit, string Out, string Err)
    {
        public override string ToString() => $"exit {Exit}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    private async Task<Result> LogsAsync(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(LogsCommand.Create());
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await root.Parse(new[] { "logs", "--kubeconfig", _h.Kube.KubeconfigPath }.Concat(args).ToArray())
            .InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
        return new Result(exit, stdout.ToString(), stderr.ToString());
    }

    [Test]
    public async Task Prints_conditions_state_trace_events_and_Confluent_log_lines()
    {
        await _h.CreateAsync(_h.Datagen("hist", tasks: 2));
        var mc = await _h.WaitForAsync("hist", m => OperatorHarness.IsReady(m), "Ready");
        using (var http = new HttpClient())
        {
            var fail = await http.PostAsync($"{_h.EmulatorUrl}/emulator/environments/{OperatorHarness.Environment}/clusters/{OperatorHarness.Cluster}/connectors/{_h.RemoteName("hist")}/tasks/1/fail",
                new StringContent("{\"trace\":\"org.apache.kafka.connect.errors.ConnectException: upstream 503 for logs test\"}", Encoding.UTF8, "application/json"));
            Assert.That(fail.StatusCode, Is.EqualTo(HttpStatusCode.OK).Or.EqualTo(HttpStatusCode.Accepted).Or.EqualTo(HttpStatusCode.NoContent));
        }
        await _h.WaitUntilAsync(async () => (await _h.EventsAsync("hist")).Any(e => e.Reason == "Failed"), "Failed event");
        await _h.WaitUntilAsync(async () => (await _h.EventsAsync("hist")).Any(e => e.Reason == "Restarted"), "Restarted event");

        var r = await LogsAsync($"{_h.Namespace}/hist", "--logs-api-url", _h.EmulatorUrl, "--token", LogsSearchEndpoints.DefaultToken, "--since", "2h");
        Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain($"ManagedConnector {_h.Namespace}/hist"));
        Assert.That(r.Out, Does.Contain($"connectorId={mc.Status!.ConnectorId}"));
        Assert.That(r.Out, Does.Match("Ready=(True|False)  reason="));
        Assert.That(r.Out, Does.Contain("autoRestart: count="));
        var events = r.Out[r.Out.IndexOf("Events (oldest first):", StringComparison.Ordinal)..];
        Assert.That(events.IndexOf("Created", StringComparison.Ordinal), Is.LessThan(events.IndexOf("Failed", StringComparison.Ordinal)), "oldest first");
        Assert.That(events, Does.Contain("upstream 503 for logs test"), "the Failed event carries the task trace");
        Assert.That(r.Out, Does.Contain($"connector={mc.Status.ConnectorId}"), "the CRN names the connector");
        Assert.That(r.Out, Does.Match(@"ERROR\s+task-1\s+Task .*threw"), "the injected failure is in the Confluent log lines, even after the restart cleared it");
        Assert.That(r.Out, Does.Contain("provisioned"));
        Assert.That(r.Out, Does.Not.Contain(OperatorHarness.ApiSecret));
    }

    [Test]
    public async Task Without_token_Confluent_logs_are_skipped_and_no_request_is_made()
    {
        await _h.CreateAsync(_h.Datagen("notoken"));
        await _h.WaitForAsync("notoken", m => OperatorHarness.IsReady(m), "Ready");
        var r = await LogsAsync($"{_h.Namespace}/notoken", "--logs-api-url", "http://127.0.0.1:1");
        Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("not configured: pass --token or set CONFLUENT_LOGS_TOKEN"));
    }

    [Test]
    public async Task Wrong_token_and_rate_limit_are_reported_not_fatal()
    {
        await _h.CreateAsync(_h.Datagen("limits"));
        await _h.WaitForAsync("limits", m => OperatorHarness.IsReady(m), "Ready");
        var bad = await LogsAsync($"{_h.Namespace}/limits", "--logs-api-url", _h.EmulatorUrl, "--token", "wrong-token");
        Assert.That(bad.Exit, Is.EqualTo(0), bad.ToString());
        Assert.That(bad.Out, Does.Contain("logs search failed: HTTP 401"));
        var outputs = new List<string>();
        for (var i = 0; i < 6; i++)
            outputs.Add((await LogsAsync($"{_h.Namespace}/limits", "--logs-api-url", _h.EmulatorUrl, "--token", LogsSearchEndpoints.DefaultToken)).Out);
        Assert.That(outputs.Take(5).All(o => !o.Contains("rate limited", StringComparison.Ordinal)), Is.True, "5 searches per minute are allowed");
        Assert.That(outputs[5], Does.Contain("rate limited (5 searches per minute per connector)"));
    }

    [Test]
    public async Task Exit_codes_not_found_and_usage()
    {
        Assert.That((await LogsAsync($"{_h.Namespace}/does-not-exist")).Exit, Is.EqualTo(1));
        Assert.That((await LogsAsync("no-slash")).Exit, Is.EqualTo(2));
        Assert.That((await LogsAsync()).Exit, Is.EqualTo(2));
        Assert.That((await LogsAsync($"{_h.Namespace}/x", "--since", "5d")).Exit, Is.EqualTo(2));
        Assert.That((await LogsAsync($"{_h.Namespace}/x", "--bogus")).Exit, Is.EqualTo(2));
    }
}
