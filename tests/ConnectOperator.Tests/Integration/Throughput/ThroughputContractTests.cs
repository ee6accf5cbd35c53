using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ConnectOperator.Confluent;
using ConnectOperator.Confluent.Metrics;
using ConnectOperator.Emulator;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Integration.Confluent;
using NJsonSchema;

namespace ConnectOperator.Tests.Integration.Throughput;

/// <summary>
/// The Metrics API v2 contract (<c>../shared/reference/confluent-cloud/metrics-v2.openapi.yaml</c>, read in place):
/// the request the client sends validates against QueryRequest, the emulator's answers against QueryResponse (200) and
/// ErrorResponse (400, 401). Also the emulator's semantics the operator relies on.
/// </summary>
[NonParallelizable]
public class ThroughputContractTests
{
    private static readonly string SpecPath = Path.Combine(TestCluster.RepoRoot, "..", "shared", "reference", "confluent-cloud", "metrics-v2.openapi.yaml");
    private JsonObject _spec = null!;
    private const string Query = "/v2/metrics/{dataset}/query";

    [OneTimeSetUp]
    public void LoadSpec()
    {
        if (!File.Exists(SpecPath))
            Assert.Ignore($"Metrics v2 spec not found at {Path.GetFullPath(SpecPath)}: the shared reference folder is absent, contract tests skipped.");
        _spec = ContractTests.YamlToJson(File.ReadAllText(SpecPath))!.AsObject();
    }

    private JsonNode Op => _spec["paths"]![Query]!["post"]!;
    private JsonNode RequestSchema => Op["requestBody"]!["content"]!["application/json"]!["schema"]!;
    private JsonNode ResponseSchema => Op["responses"]!["200"]!["content"]!["application/json"]!["schema"]!;
    private JsonNode ErrorSchema => Op["responses"]!["default"]!["content"]!["application/json"]!["schema"]!;

    [Test]
    public async Task Validator_rejects_bodies_that_break_the_spec()
    {
        Assert.That(await ValidateAsync(RequestSchema, """{"aggregations":[],"granularity":"PT1M","intervals":["x"]}"""), Is.Not.Empty, "minItems 1");
        Assert.That(await ValidateAsync(RequestSchema, """{"aggregations":[{"metric":"m"}],"granularity":"PT2M","intervals":["x"]}"""), Is.Not.Empty, "granularity enum");
        Assert.That(await ValidateAsync(ResponseSchema, """{"data":[{"timestamp":"2025-01-01T00:00:00Z"}]}"""), Is.Not.Empty, "value required");
        Assert.That(await ValidateAsync(ErrorSchema, """{"error":{"code":400}}"""), Is.Not.Empty, "the Connect error shape is not the Metrics one");
    }

    [Test]
    public async Task Client_request_and_emulator_responses_match_the_spec()
    {
        await using var emu = await EmulatorHost.StartAsync();
        var running = emu.State.Upsert("env-1", "lkc-1", "running", EmulatorHost.DatagenConfig("running", "2"), out _);
        var paused = emu.State.Upsert("env-1", "lkc-1", "paused", EmulatorHost.DatagenConfig("paused"), out _);
        paused.Paused = true;
        var recorder = new RecordingHandler(new SocketsHttpHandler());
        using var factory = new MetricsClientFactory(new MetricsClientOptions { BaseUrl = emu.BaseUrl, MaxRetries = 0 }, primaryHandler: recorder);
        var client = factory.Create(new ConnectCredentials(EmulatorHost.KeyA, EmulatorHost.SecretA));
        var minute = MetricsQuery.LastCompleteMinute(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));

        var sent = await client.QueryPerConnectorAsync(ConnectMetrics.SentRecords, [running.Id, paused.Id], minute);
        var received = await client.QueryPerConnectorAsync(ConnectMetrics.ReceivedRecords, [running.Id], minute);
        var dlq = await client.QueryPerConnectorAsync(ConnectMetrics.DeadLetterQueueRecords, [running.Id, paused.Id], minute);
        Assert.That(sent[running.Id], Is.GreaterThan(0));
        Assert.That(sent[paused.Id], Is.EqualTo(0));
        Assert.That(received.Keys, Is.EquivalentTo(new[] { running.Id }), "the filter selects the connectors asked for");
        Assert.That(received[running.Id], Is.GreaterThanOrEqualTo(sent[running.Id]));
        Assert.That(dlq[running.Id], Is.LessThan(10), "dead-letter queue stays small");
        var bad = Assert.ThrowsAsync<MetricsApiException>(() => factory.Create(new ConnectCredentials(EmulatorHost.KeyA, "wrong")).QueryPerConnectorAsync(ConnectMetrics.SentRecords, [running.Id], minute));
        Assert.That(bad!.IsUnauthorized, Is.True);
        Assert.That(bad.Message, Does.Not.Contain("wrong"));

        Assert.That(recorder.Exchanges, Has.Count.EqualTo(4));
        foreach (var x in recorder.Exchanges)
        {
            Assert.That(x.Path, Is.EqualTo("/v2/metrics/cloud/query"));
            Assert.That(await ValidateAsync(RequestSchema, x.RequestBody), Is.Empty, "request: " + x.RequestBody);
            var schema = x.Status == 200 ? ResponseSchema : ErrorSchema;
            Assert.That(await ValidateAsync(schema, x.ResponseBody), Is.Empty, $"{x.Status}: {x.ResponseBody}");
        }
        Assert.That(recorder.Exchanges.Select(x => x.Status), Is.EqualTo(new[] { 200, 200, 200, 401 }));
        Assert.That(emu.State.CountCalls("POST", "v2/metrics/{dataset}/query"), Is.EqualTo(4), "metrics calls are counted like the Connect routes");
    }

    [Test]
    public async Task Grouped_format_and_malformed_requests_answer_in_spec_shape()
    {
        await using var emu = await EmulatorHost.StartAsync();
        var c = emu.State.Upsert("env-1", "lkc-1", "gen", EmulatorHost.DatagenConfig("gen"), out _);
        using var http = new HttpClient { BaseAddress = new Uri(emu.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("key-a:secret-a"u8.ToArray()));
        async Task<(int, string)> Post(string body)
        {
            using var r = await http.PostAsync("/v2/metrics/cloud/query", new StringContent(body, Encoding.UTF8, "application/json"));
            return ((int)r.StatusCode, await r.Content.ReadAsStringAsync());
        }

        var grouped = $$"""
            {"aggregations":[{"metric":"io.confluent.kafka.connect/sent_records","agg":"SUM"}],"group_by":["resource.connector.id"],
             "filter":{"op":"OR","filters":[{"field":"resource.connector.id","op":"EQ","value":"{{c.Id}}"},{"field":"resource.connector.id","op":"EQ","value":"lcc-none"}]},
             "granularity":"PT1M","intervals":["2025-03-04T10:00:00Z/PT3M"],"format":"GROUPED"}
            """;
        var (status, body) = await Post(grouped);
        Assert.That(status, Is.EqualTo(200), body);
        Assert.That(await ValidateAsync(ResponseSchema, body), Is.Empty, body);
        var data = JsonNode.Parse(body)!["data"]!.AsArray();
        Assert.That(data, Has.Count.EqualTo(1));
        Assert.That(data[0]!["resource.connector.id"]!.GetValue<string>(), Is.EqualTo(c.Id));
        Assert.That(data[0]!["points"]!.AsArray(), Has.Count.EqualTo(3), "one point per minute");
        Assert.That(MetricsQuery.Parse(body)[c.Id], Is.GreaterThan(0));

        foreach (var malformed in new[]
        {
            "not json",
            """{"aggregations":[{"metric":"io.confluent.kafka.connect/sent_records"}],"granularity":"PT1M"}""",
            """{"aggregations":[{"metric":"io.confluent.kafka.connect/nope"}],"granularity":"PT1M","intervals":["2025-03-04T10:00:00Z/PT1M"]}""",
            """{"aggregations":[{"metric":"io.confluent.kafka.connect/sent_records"}],"granularity":"PT1M","intervals":["yesterday"]}""",
            """{"aggregations":[{"metric":"io.confluent.kafka.connect/sent_records"}],"granularity":"PT1M","intervals":["2025-03-04T10:00:00Z/PT1M"],"format":"GROUPED"}""",
            """{"aggregations":[{"metric":"io.confluent.kafka.connect/sent_records"}],"granularity":"PT1M","intervals":["2025-03-04T10:00:00Z/PT1M"],"filter":{"op":"LIKE"}}""",
        })
        {
            var (s, b) = await Post(malformed);
            Assert.That(s, Is.EqualTo(400), malformed + " → " + b);
            Assert.That(await ValidateAsync(ErrorSchema, b), Is.Empty, b);
            Assert.That(JsonNode.Parse(b)!["errors"]![0]!["detail"]!.GetValue<string>(), Is.Not.Empty);
        }
    }

    /// <summary>The Metrics spec's Filter is recursive, so components are kept as <c>definitions</c> (not inlined).</summary>
    private async Task<List<string>> ValidateAsync(JsonNode schema, string body)
    {
        var doc = Rewrite(schema)!.AsObject();
        var definitions = new JsonObject();
        foreach (var (name, s) in _spec["components"]!["schemas"]!.AsObject()) definitions[name] = Rewrite(s);
        doc["definitions"] = definitions;
        var jsonSchema = await JsonSchema.FromJsonAsync(doc.ToJsonString());
        return jsonSchema.Validate(body).Select(e => $"{e.Kind} at {e.Path}").ToList();
    }

    private static JsonNode? Rewrite(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(kv.Key,
            kv.Key == "$ref" && kv.Value is JsonValue r ? JsonValue.Create(r.GetValue<string>().Replace("#/components/schemas/", "#/definitions/", StringComparison.Ordinal)) : Rewrite(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Rewrite).ToArray()),
        _ => node?.DeepClone(),
    };

    private sealed record Exchange(string Path, int Status, string RequestBody, string ResponseBody);

    private sealed class RecordingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public List<Exchange> Exchanges { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var requestBody = request.Content == null ? "" : await request.Content.ReadAsStringAsync(ct);
            var response = await base.SendAsync(request, ct);
            await response.Content.LoadIntoBufferAsync(ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            lock (Exchanges) Exchanges.Add(new Exchange(request.RequestUri!.AbsolutePath, (int)response.StatusCode, requestBody, body));
            return response;
        }
    }
}
