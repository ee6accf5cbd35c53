using ConnectOperator.Confluent;
using ConnectOperator.Emulator;
using Microsoft.Extensions.Logging;

namespace ConnectOperator.Tests.Integration.Confluent;

/// <summary>Runs a scenario with canary secrets and asserts none reaches a log line or an exception message.</summary>
[NonParallelizable]
public class SecretLeakTests
{
    private static readonly string[] Canaries = ["CANARY-kafka-secret-7f3a", "CANARY-db-pass-91b2", "CANARYKEY4711", "CANARY-api-secret-0c0c"];

    [Test]
    public async Task No_canary_secret_in_logs_or_exceptions()
    {
        await using var emu = await EmulatorHost.StartAsync(o => o.Keys.Add(new EmulatorApiKey("canary-key", "CANARY-api-secret-0c0c")));
        var capture = new CapturingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(capture));
        using var factory = new ConnectClientFactory(emu.FastOptions(o => o.MaxRetries = 1), loggerFactory);
        var client = factory.Create("canary-key", "CANARY-api-secret-0c0c");
        var cluster = EmulatorHost.Cluster;
        var config = new Dictionary<string, string>
        {
            ["name"] = "pg", ["connector.class"] = "PostgresCdcSource", ["kafka.auth.mode"] = "KAFKA_API_KEY",
            ["kafka.api.key"] = "CANARYKEY4711", ["kafka.api.secret"] = "CANARY-kafka-secret-7f3a",
            ["database.hostname"] = "db", ["database.port"] = "5432", ["database.user"] = "u", ["database.password"] = "CANARY-db-pass-91b2",
            ["database.dbname"] = "d", ["database.server.name"] = "s", ["output.data.format"] = "JSON",
        };
        var exceptions = new List<Exception>();
        async Task Capture(Func<Task> f)
        {
            try { await f(); }
            catch (Exception e) { exceptions.Add(e); }
        }

        await client.CreateConnectorAsync(cluster, "pg", config);
        await client.PutConfigAsync(cluster, "pg", config);
        await client.ValidateConfigAsync(cluster, "PostgresCdcSource", config);
        await client.ReadConnectorListAsync(cluster);
        // Vendor echoes the request body (config values) in its error message: must be scrubbed.
        emu.State.InjectErrors(new ErrorFault { Status = 400, Count = 1, EchoRequestBody = true, Message = "bad config", Route = "config" });
        await Capture(() => client.PutConfigAsync(cluster, "pg", config));
        emu.State.InjectErrors(new ErrorFault { Status = 500, Shape = "flat", Count = 2, EchoRequestBody = true, Route = "validate" });
        await Capture(() => client.ValidateConfigAsync(cluster, "PostgresCdcSource", config));
        await Capture(() => client.CreateConnectorAsync(cluster, "pg", config)); // 409
        var invalid = new Dictionary<string, string>(config);
        invalid.Remove("database.hostname");
        await Capture(() => client.CreateConnectorAsync(cluster, "pg2", invalid)); // 400
        await Capture(() => factory.Create("canary-key", "wrong").GetOffsetsAsync(cluster, "pg")); // 401

        Assert.That(exceptions, Has.Count.EqualTo(5));
        var echoed = (ConfluentApiException)exceptions[0];
        Assert.That(echoed.VendorMessage, Does.Contain(ConfigRedactor.RedactedValue), "the echo path must have been exercised");
        Assert.That(echoed.VendorMessage, Does.Contain("5432"), "non-secret values are kept");

        var texts = capture.Lines.Concat(exceptions.SelectMany(e => new[] { e.Message, e.ToString(), (e as ConfluentApiException)?.VendorMessage ?? "" })).ToList();
        Assert.That(capture.Lines, Is.Not.Empty);
        foreach (var canary in Canaries)
            Assert.That(texts.Where(t => t.Contains(canary, StringComparison.Ordinal)), Is.Empty, $"canary {canary} leaked");
    }
}
