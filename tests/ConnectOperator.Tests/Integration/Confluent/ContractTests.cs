using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConnectOperator.Confluent;
using ConnectOperator.Emulator;
using ConnectOperator.Tests.Infrastructure;
using NJsonSchema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Integration.Confluent;

/// <summary>
/// Every response the client exercises against the emulator is validated against the Connect v1 spec
/// (<c>../shared/reference/confluent-cloud/connect-v1.openapi.yaml</c>, read in place, never copied): status code
/// declared for the operation, body valid against the operation's response schema. Also: the emulator's route set
/// equals the spec's paths (restart routes are the documented exception).
/// </summary>
[NonParallelizable]
public class ContractTests
{
    private static readonly string SpecPath = Path.Combine(TestCluster.RepoRoot, "..", "shared", "reference", "confluent-cloud", "connect-v1.openapi.yaml");
    private JsonObject _spec = null!;

    [OneTimeSetUp]
    public void LoadSpec()
    {
        if (!File.Exists(SpecPath))
            Assert.Ignore($"Connect v1 spec not found at {Path.GetFullPath(SpecPath)}: the shared reference folder is absent, contract tests skipped.");
        _spec = YamlToJson(File.ReadAllText(SpecPath))!.AsObject();
    }

    [Test]
    public async Task Validator_rejects_bodies_that_break_the_spec()
    {
        var status = _spec["paths"]![EmulatorApp.Prefix + "/connectors/{connector_name}/status"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!;
        Assert.That(await ValidateAsync(status, """{"name":"x"}"""), Is.Not.Empty, "missing required connector/type");
        Assert.That(await ValidateAsync(status, """{"name":"x","type":"sink","connector":{"state":"BOGUS","worker_id":"w"}}"""), Is.Not.Empty, "state not in enum");
        Assert.That(await ValidateAsync(status, """{"name":"x","type":"sink","connector":{"state":"RUNNING","worker_id":"w"},"tasks":[]}"""), Is.Empty);
        var delete = _spec["paths"]![EmulatorApp.Prefix + "/connectors/{connector_name}"]!["delete"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!;
        Assert.That(await ValidateAsync(delete, """{"error":null}"""), Is.Empty, "nullable is honoured");
        Assert.That(await ValidateAsync(delete, """{"error":5}"""), Is.Not.Empty);
    }

    [Test]
    public async Task Emulator_routes_equal_spec_paths()
    {
        await using var emu = await EmulatorHost.StartAsync();
        var spec = _spec["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Where(m => m.Key is "get" or "put" or "post" or "delete" or "patch")
                .Select(m => $"{m.Key.ToUpperInvariant()} {p.Key.Split('?')[0]}"))
            .ToHashSet();
        var emulator = EmulatorApp.ConnectRoutes(emu.App)
            .Where(r => !EmulatorApp.NonSpecRoutes.Contains(r.Route))
            .Select(r => $"{r.Method} {r.Route}").ToHashSet();
        Assert.That(emulator, Is.EquivalentTo(spec));
        Assert.That(EmulatorApp.ConnectRoutes(emu.App).Select(r => r.Route), Is.SupersetOf(EmulatorApp.NonSpecRoutes));
    }

    [Test]
    public async Task Responses_exercised_by_the_client_match_the_spec()
    {
        await using var emu = await EmulatorHost.StartAsync();
        var recorder = new RecordingHandler(new SocketsHttpHandler());
        using var factory = new ConnectClientFactory(emu.FastOptions(o => o.MaxRetries = 0), primaryHandler: recorder);
        var client = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        var c = EmulatorHost.Cluster;
        async Task Try(Func<Task> f) { try { await f(); } catch (ConfluentApiException) { } }

        await client.ListConnectorNamesAsync(c);
        await client.CreateConnectorAsync(c, "gen", EmulatorHost.DatagenConfig("gen", "2"));
        await Try(() => client.CreateConnectorAsync(c, "gen", EmulatorHost.DatagenConfig("gen")));              // 409 (not in spec)
        await Try(() => client.CreateConnectorAsync(c, "x", new Dictionary<string, string> { ["name"] = "x" })); // 400
        await client.ReadConnectorListAsync(c);
        await client.PutConfigAsync(c, "gen", EmulatorHost.DatagenConfig("gen", "1"));
        await Try(() => client.PutConfigAsync(c, "gen", new Dictionary<string, string> { ["name"] = "gen" }));   // 400
        await client.PauseAsync(c, "gen");
        await client.ResumeAsync(c, "gen");
        await client.RestartAsync(c, "gen");                                                                    // not in spec
        await client.ValidateConfigAsync(c, "DatagenSource", EmulatorHost.DatagenConfig("gen"));
        await client.ValidateConfigAsync(c, "PostgresCdcSource", new Dictionary<string, string> { ["name"] = "p" });
        await client.GetOffsetsAsync(c, "gen");
        await client.GetOffsetsAsync(c, "missing");                                                             // 404
        emu.State.InjectErrors(new ErrorFault { Status = 500, Count = 1 });
        await Try(() => client.GetOffsetsAsync(c, "gen"));                                                      // 500
        emu.State.InjectErrors(new ErrorFault { Status = 500, Count = 1, Shape = "flat", Route = "connectors", Method = "POST" });
        await Try(() => client.CreateConnectorAsync(c, "y", EmulatorHost.DatagenConfig("y")));                 // 500 inline_response_500
        emu.State.InjectRateLimit(new RateLimitFault { Count = 1, RetryAfterSeconds = 100 });
        await Try(() => client.ReadConnectorListAsync(c));                                                      // 429
        await Try(() => factory.Create(EmulatorHost.KeyA, "bad").ListConnectorNamesAsync(c));                  // 401
        await Try(() => factory.Create(EmulatorHost.ScopedKey, EmulatorHost.ScopedSecret).GetOffsetsAsync(EmulatorHost.OtherCluster, "gen")); // 403
        await client.DeleteAsync(c, "gen");
        await client.DeleteAsync(c, "gen");                                                                     // 404

        var covered = new HashSet<string>();
        var problems = new List<string>();
        foreach (var x in recorder.Exchanges)
        {
            var (pathKey, op) = FindOperation(x.Method, x.Path, x.Query);
            if (op == null)
            {
                if (!Regex.IsMatch(x.Path, "/restart$")) problems.Add($"{x.Method} {x.Path}: not in the spec");
                continue;
            }
            var opId = op["operationId"]!.GetValue<string>();
            covered.Add($"{opId} {x.Status}");
            var response = op["responses"]![x.Status.ToString(CultureInfo.InvariantCulture)];
            JsonNode? schema;
            if (response == null)
            {
                // Not declared for this operation: only 403 and 409 are accepted, in the vendor's error shape.
                if (x.Status is not (403 or 409)) { problems.Add($"{opId}: status {x.Status} not declared"); continue; }
                schema = JsonNode.Parse("""{"$ref":"#/components/schemas/connect.v1.ConnectorError"}""");
            }
            else
            {
                if (x.Status == 429)
                {
                    if (!int.TryParse(x.RetryAfter, out _)) problems.Add($"{opId} 429: Retry-After '{x.RetryAfter}' is not an integer");
                    continue;
                }
                schema = response["content"]?["application/json"]?["schema"];
                if (schema == null)
                {
                    if (!string.IsNullOrEmpty(x.Body)) problems.Add($"{opId} {x.Status}: spec declares no body, got one");
                    continue;
                }
            }
            var errors = await ValidateAsync(schema!, x.Body);
            if (errors.Count > 0) problems.Add($"{opId} {x.Status} ({pathKey}): {string.Join("; ", errors)}\n  body: {x.Body}");
        }

        Assert.That(problems, Is.Empty, string.Join("\n", problems));
        Assert.That(covered, Is.SupersetOf(new[]
        {
            "listConnectv1Connectors 200", "listConnectv1ConnectorsWithExpansions 200", "createConnectv1Connector 201",
            "createConnectv1Connector 400", "createConnectv1Connector 409", "createConnectv1Connector 500",
            "createOrUpdateConnectv1ConnectorConfig 200", "createOrUpdateConnectv1ConnectorConfig 400",
            "pauseConnectv1Connector 202", "resumeConnectv1Connector 202", "validateConnectv1ConnectorPlugin 200",
            "getConnectv1ConnectorOffsets 200", "getConnectv1ConnectorOffsets 403", "getConnectv1ConnectorOffsets 404", "getConnectv1ConnectorOffsets 500",
            "deleteConnectv1Connector 200", "deleteConnectv1Connector 404", "listConnectv1ConnectorsWithExpansions 429",
            "listConnectv1Connectors 401",
        }));
    }

    [Test]
    public async Task Unexercised_spec_routes_also_answer_in_spec_shape()
    {
        await using var emu = await EmulatorHost.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(emu.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("key-a:secret-a"u8.ToArray()));
        var p = "/connect/v1/environments/env-1/clusters/lkc-1";
        await http.PutAsync($"{p}/connectors/s3/config", JsonContent(new JsonObject
        {
            ["name"] = "s3", ["connector.class"] = "S3_SINK", ["kafka.api.key"] = "k", ["kafka.api.secret"] = "s", ["topics"] = "t",
            ["aws.access.key.id"] = "a", ["aws.secret.access.key"] = "b", ["s3.bucket.name"] = "bk", ["input.data.format"] = "AVRO",
            ["output.data.format"] = "JSON", ["time.interval"] = "HOURLY",
        }));
        var checks = new (string Method, string Url, JsonNode? Body, string PathKey, int Status)[]
        {
            ("GET", $"{p}/connectors/s3", null, "/connectors/{connector_name}", 200),
            ("GET", $"{p}/connectors/s3/config", null, "/connectors/{connector_name}/config", 200),
            ("GET", $"{p}/connectors/missing/config", null, "/connectors/{connector_name}/config", 404),
            ("GET", $"{p}/connectors/s3/status", null, "/connectors/{connector_name}/status", 200),
            ("GET", $"{p}/connectors/missing/status", null, "/connectors/{connector_name}/status", 404),
            ("GET", $"{p}/connectors/s3/tasks", null, "/connectors/{connector_name}/tasks", 200),
            ("GET", $"{p}/connector-plugins", null, "/connector-plugins", 200),
            ("POST", $"{p}/connectors/s3/offsets/request", JsonNode.Parse("""{"type":"PATCH","offsets":[{"partition":{"kafka_partition":0,"kafka_topic":"t"},"offset":{"kafka_offset":5}}]}"""), "/connectors/{connector_name}/offsets/request", 202),
            ("GET", $"{p}/connectors/s3/offsets/request/status", null, "/connectors/{connector_name}/offsets/request/status", 200),
        };
        foreach (var (method, url, body, pathKey, status) in checks)
        {
            using var req = new HttpRequestMessage(new HttpMethod(method), url) { Content = body == null ? null : JsonContent(body) };
            using var resp = await http.SendAsync(req);
            var text = await resp.Content.ReadAsStringAsync();
            Assert.That((int)resp.StatusCode, Is.EqualTo(status), $"{method} {url}: {text}");
            var schema = _spec["paths"]![EmulatorApp.Prefix + pathKey]![method.ToLowerInvariant()]!["responses"]![status.ToString(CultureInfo.InvariantCulture)]!["content"]!["application/json"]!["schema"]!;
            Assert.That(await ValidateAsync(schema, text), Is.Empty, $"{method} {pathKey}: {text}");
        }
    }

    private static StringContent JsonContent(JsonNode n) => new(n.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    // ---------------------------------------------------------------------------------------------------------

    private (string? PathKey, JsonObject? Op) FindOperation(string method, string path, string query)
    {
        foreach (var (key, item) in _spec["paths"]!.AsObject())
        {
            var parts = key.Split('?');
            var hasQuery = parts.Length > 1;
            if (hasQuery != query.Contains("expand=", StringComparison.Ordinal)) continue;
            var pattern = "^" + Regex.Replace(Regex.Escape(parts[0]), @"\\\{[^}]+}", "[^/]+") + "$";
            if (!Regex.IsMatch(path, pattern)) continue;
            if (item![method.ToLowerInvariant()] is JsonObject op) return (key, op);
        }
        return (null, null);
    }

    private async Task<List<string>> ValidateAsync(JsonNode schema, string body)
    {
        // $refs are inlined (the spec has no recursive schemas): NJsonSchema does not resolve refs between OpenAPI components.
        var doc = Inline(schema, _spec["components"]!["schemas"]!.AsObject(), 0);
        var jsonSchema = await JsonSchema.FromJsonAsync(doc!.ToJsonString());
        return jsonSchema.Validate(body).Select(e => $"{e.Kind} at {e.Path}").ToList();
    }

    private static JsonNode? Inline(JsonNode? node, JsonObject schemas, int depth)
    {
        if (depth > 64) throw new InvalidOperationException("schema too deep (recursive $ref?)");
        switch (node)
        {
            case JsonObject o when o["$ref"] is JsonValue r:
                var name = r.GetValue<string>().Replace("#/components/schemas/", "", StringComparison.Ordinal);
                return Inline(schemas[name] ?? throw new InvalidOperationException("unresolved $ref " + name), schemas, depth + 1);
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (k, v) in o) copy[k] = Inline(v, schemas, depth + 1);
                return copy;
            case JsonArray a:
                return new JsonArray(a.Select(x => Inline(x, schemas, depth + 1)).ToArray());
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>YAML → JSON with plain scalars typed (bool/null/number); OpenAPI <c>nullable: true</c> becomes a JSON Schema type union.</summary>
    internal static JsonNode? YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode);

        static JsonNode? Convert(YamlNode node)
        {
            switch (node)
            {
                case YamlMappingNode map:
                    var obj = new JsonObject();
                    foreach (var (k, v) in map.Children) obj[((YamlScalarNode)k).Value!] = Convert(v);
                    if (obj["nullable"] is JsonValue nv && nv.TryGetValue<bool>(out var nullable) && nullable && obj["type"] is JsonValue tv && tv.TryGetValue<string>(out var t))
                        obj["type"] = new JsonArray(t, "null");
                    return obj;
                case YamlSequenceNode seq:
                    return new JsonArray(seq.Children.Select(Convert).ToArray());
                case YamlScalarNode s:
                    var text = s.Value ?? "";
                    if (s.Style is ScalarStyle.Plain)
                    {
                        if (text is "null" or "~" or "") return null;
                        if (text is "true" or "false") return JsonValue.Create(text == "true");
                        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
                        if (Regex.IsMatch(text, @"^-?\d+\.\d+$") && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
                    }
                    return JsonValue.Create(text);
                default:
                    return null;
            }
        }
    }

    private sealed record Exchange(string Method, string Path, string Query, int Status, string Body, string? RetryAfter);

    /// <summary>Records what the client actually sent and received (below the resilience pipeline).</summary>
    private sealed class RecordingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public List<Exchange> Exchanges { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var response = await base.SendAsync(request, ct);
            await response.Content.LoadIntoBufferAsync(ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            lock (Exchanges)
                Exchanges.Add(new Exchange(request.Method.Method, request.RequestUri!.AbsolutePath, request.RequestUri.Query, (int)response.StatusCode, body,
                    response.Headers.TryGetValues("Retry-After", out var ra) ? ra.First() : null));
            return response;
        }
    }
}
