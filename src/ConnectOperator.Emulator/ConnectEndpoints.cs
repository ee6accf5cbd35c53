using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConnectOperator.Emulator;

/// <summary>The Connect v1 routes (spec paths) plus restart.</summary>
internal static class ConnectEndpoints
{
    public static void Map(RouteGroupBuilder g, EmulatorState state, EmulatorOptions o)
    {
        // GET …/connectors            → ["name", …]
        // GET …/connectors?expand=…   → {name: {id, info, status}}  (spec path "connectors?expand=info,status,id")
        g.MapGet("/connectors", (string environment_id, string kafka_cluster_id, HttpRequest req) =>
        {
            var expand = req.Query["expand"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToHashSet();
            lock (state.Lock)
            {
                var list = state.InCluster(environment_id, kafka_cluster_id).ToList();
                if (expand.Count == 0) return Json(new JsonArray(list.Select(c => (JsonNode)JsonValue.Create(c.Name)!).ToArray()));
                var now = state.Now;
                var map = new JsonObject();
                foreach (var c in list)
                {
                    var e = new JsonObject();
                    if (expand.Contains("id")) e["id"] = new JsonObject { ["id"] = c.Id, ["id_type"] = "ID" };
                    if (expand.Contains("info")) e["info"] = new JsonObject { ["name"] = c.Name, ["config"] = ReadConfig(c, o), ["type"] = c.Type };
                    if (expand.Contains("status")) e["status"] = Status(c, now);
                    map[c.Name] = e;
                }
                return Json(map);
            }
        });

        // POST …/connectors  {name, config}  → 201 connect.v1.ConnectorWithOffsets; 409 on duplicate (not in the spec).
        g.MapPost("/connectors", async (string environment_id, string kafka_cluster_id, HttpRequest req) =>
        {
            var body = await ReadJson(req);
            if (body is not JsonObject obj) return EmulatorApp.KafkaError(400, "Request body must be a JSON object {name, config}.");
            var name = obj["name"] is JsonValue nv && nv.TryGetValue<string>(out var n) ? n : null;
            if (string.IsNullOrWhiteSpace(name)) return EmulatorApp.KafkaError(400, "Missing required field \"name\".");
            if (!TryStringMap(obj["config"], out var config, out var err)) return EmulatorApp.KafkaError(400, err!);
            if (config.TryGetValue("name", out var cn) && cn != name)
                return EmulatorApp.KafkaError(400, $"Connector name in config ({cn}) does not match name ({name}).");
            var errors = ConnectorCatalog.Validate(config);
            if (errors.Count > 0) return EmulatorApp.KafkaError(400, ConnectorCatalog.InvalidConfigMessage(errors));
            lock (state.Lock)
            {
                if (state.Find(environment_id, kafka_cluster_id, name) != null)
                    return EmulatorApp.VendorError(409, $"Connector {name} already exists");
                var c = state.Upsert(environment_id, kafka_cluster_id, name, config, out _);
                if (obj["offsets"] is JsonArray offsets) c.Offsets = (JsonArray)offsets.DeepClone();
                var info = ConnectorInfo(c, o, state.Now);
                info["offsets"] = c.Offsets.DeepClone();
                return Json(info, 201);
            }
        });

        g.MapGet("/connectors/{connector_name}", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c => Json(ConnectorInfo(c, o, state.Now))));

        g.MapDelete("/connectors/{connector_name}", (string environment_id, string kafka_cluster_id, string connector_name) =>
            state.Remove(environment_id, kafka_cluster_id, connector_name)
                ? Results.Text("{\"error\":null}", "application/json", statusCode: 200)
                : NotFound(connector_name));

        g.MapGet("/connectors/{connector_name}/config", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c => Json(ReadConfig(c, o))));

        // PUT …/config: create or update (idempotent), 200 connect.v1.Connector.
        g.MapPut("/connectors/{connector_name}/config", async (string environment_id, string kafka_cluster_id, string connector_name, HttpRequest req) =>
        {
            var body = await ReadJson(req);
            if (!TryStringMap(body, out var config, out var err)) return EmulatorApp.VendorError(400, err!);
            if (config.TryGetValue("name", out var cn) && cn != connector_name)
                return EmulatorApp.VendorError(400, $"Connector name in config ({cn}) does not match connector_name ({connector_name}).");
            var errors = ConnectorCatalog.Validate(config);
            if (errors.Count > 0) return EmulatorApp.VendorError(400, ConnectorCatalog.InvalidConfigMessage(errors));
            lock (state.Lock)
            {
                var c = state.Upsert(environment_id, kafka_cluster_id, connector_name, config, out _);
                return Json(ConnectorInfo(c, o, state.Now));
            }
        });

        g.MapPut("/connectors/{connector_name}/pause", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c => { c.Paused = true; c.PauseCount++; return Results.StatusCode(202); }));

        g.MapPut("/connectors/{connector_name}/resume", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c => { c.Paused = false; c.ResumeCount++; return Results.StatusCode(202); }));

        // Not in the spec: POST …/restart?includeTasks=&onlyFailed= (Kafka Connect KIP-745 semantics), 202.
        g.MapPost("/connectors/{connector_name}/restart", (string environment_id, string kafka_cluster_id, string connector_name, bool? includeTasks, bool? onlyFailed) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c =>
            {
                var failed = c.FailureTrace != null;
                if (onlyFailed != true || failed)
                {
                    c.FailureTrace = null;
                    c.RestartCount++;
                }
                if (includeTasks == true)
                    foreach (var t in Enumerable.Range(0, c.TaskCount))
                        if (onlyFailed != true || c.TaskFailures.ContainsKey(t))
                        {
                            c.TaskFailures.Remove(t);
                            c.TaskRestartCounts[t] = c.TaskRestartCounts.GetValueOrDefault(t) + 1;
                        }
                return Results.StatusCode(202);
            }));

        // Not in the spec: POST …/tasks/{task_id}/restart (Kafka Connect), 202.
        g.MapPost("/connectors/{connector_name}/tasks/{task_id}/restart", (string environment_id, string kafka_cluster_id, string connector_name, string task_id) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c =>
            {
                if (!int.TryParse(task_id, out var t) || t < 0 || t >= c.TaskCount) return EmulatorApp.VendorError(404, $"Task {task_id} not found");
                c.TaskFailures.Remove(t);
                c.TaskRestartCounts[t] = c.TaskRestartCounts.GetValueOrDefault(t) + 1;
                return Results.StatusCode(202);
            }));

        g.MapGet("/connectors/{connector_name}/status", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c => Json(Status(c, state.Now))));

        g.MapGet("/connectors/{connector_name}/tasks", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c =>
            {
                var now = state.Now;
                var tasks = new JsonArray();
                if (c.StateAt(now) != "PROVISIONING")
                    for (var t = 0; t < c.TaskCount; t++)
                        tasks.Add(new JsonObject { ["id"] = new JsonObject { ["connector"] = c.Name, ["task"] = t }, ["config"] = ReadConfig(c, o) });
                return Json(tasks);
            }));

        g.MapGet("/connector-plugins", () =>
            Json(new JsonArray(ConnectorCatalog.Plugins.Values.Select(p => (JsonNode)new JsonObject { ["class"] = p.Class, ["type"] = p.Type, ["version"] = p.Version }).ToArray())));

        g.MapPut("/connector-plugins/{plugin_name}/config/validate", async (string plugin_name, HttpRequest req) =>
        {
            var body = await ReadJson(req);
            if (!TryStringMap(body, out var config, out var err)) return EmulatorApp.KafkaError(400, err!);
            return Json(ValidationResponse(plugin_name, config));
        });

        g.MapGet("/connectors/{connector_name}/offsets", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c => Json(new JsonObject
            {
                ["id"] = c.Id,
                ["name"] = c.Name,
                ["offsets"] = c.Offsets.DeepClone(),
                ["metadata"] = new JsonObject { ["observed_at"] = state.Now.ToString("yyyy-MM-ddTHH:mm:ssZ") },
            })));

        g.MapPost("/connectors/{connector_name}/offsets/request", async (string environment_id, string kafka_cluster_id, string connector_name, HttpRequest req) =>
        {
            var body = await ReadJson(req) as JsonObject;
            var type = body?["type"] is JsonValue tv && tv.TryGetValue<string>(out var t) ? t : null;
            if (type is not ("PATCH" or "DELETE")) return EmulatorApp.VendorError(400, "type must be PATCH or DELETE");
            return WithConnector(state, environment_id, kafka_cluster_id, connector_name, c =>
            {
                var requested = body!["offsets"] is JsonArray a ? (JsonArray)a.DeepClone() : new JsonArray();
                var now = state.Now;
                var info = new JsonObject
                {
                    ["id"] = c.Id, ["name"] = c.Name, ["offsets"] = requested.DeepClone(),
                    ["requested_at"] = now.ToString("yyyy-MM-ddTHH:mm:ssZ"), ["type"] = type,
                };
                c.PreviousOffsets = (JsonArray)c.Offsets.DeepClone();
                c.Offsets = type == "DELETE" ? new JsonArray() : requested;
                c.LastAlterRequest = info;
                c.AlterAppliedAt = now;
                return Json(info, 202);
            });
        });

        g.MapGet("/connectors/{connector_name}/offsets/request/status", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c =>
                c.LastAlterRequest == null
                    ? EmulatorApp.VendorError(404, "no offsets request found")
                    : Json(new JsonObject
                    {
                        ["request"] = c.LastAlterRequest.DeepClone(),
                        ["status"] = new JsonObject { ["phase"] = "APPLIED", ["message"] = "The Connect framework-managed offsets for this connector have been altered successfully." },
                        ["previous_offsets"] = c.PreviousOffsets?.DeepClone() ?? new JsonArray(),
                        ["applied_at"] = c.AlterAppliedAt?.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                    })));
    }

    // --------------------------------------------------------------------------------------------- helpers

    private static IResult Json(JsonNode node, int status = 200) => Results.Json(node, EmulatorApp.Json, statusCode: status);

    private static IResult NotFound(string name) => EmulatorApp.VendorError(404, $"Connector {name} not found");

    private static IResult WithConnector(EmulatorState state, string env, string cluster, string name, Func<EmulatedConnector, IResult> f)
    {
        lock (state.Lock)
        {
            var c = state.Find(env, cluster, name);
            return c == null ? NotFound(name) : f(c);
        }
    }

    private static async Task<JsonNode?> ReadJson(HttpRequest req)
    {
        try { return await JsonNode.ParseAsync(req.Body, cancellationToken: req.HttpContext.RequestAborted); }
        catch (JsonException) { return null; }
    }

    /// <summary>All config values must be strings (as the real API requires).</summary>
    private static bool TryStringMap(JsonNode? node, out Dictionary<string, string> map, out string? error)
    {
        map = new Dictionary<string, string>(StringComparer.Ordinal);
        error = null;
        if (node is not JsonObject obj) { error = "Config must be a JSON object of string values."; return false; }
        foreach (var (k, v) in obj)
        {
            if (v is JsonValue jv && jv.GetValueKind() == JsonValueKind.String) map[k] = jv.GetValue<string>();
            else { error = $"Cannot deserialize value of config \"{k}\": all config values must be strings."; return false; }
        }
        return true;
    }

    /// <summary>Config as the API returns it: PASSWORD values masked, server keys added.</summary>
    public static JsonObject ReadConfig(EmulatedConnector c, EmulatorOptions o)
    {
        var cls = c.ConnectorClass;
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in c.Config)
            result[k] = ConnectorCatalog.IsPasswordKey(cls, k) && v.Length > 0 ? ConnectorCatalog.Masked : v;
        result["cloud.environment"] = o.CloudEnvironment;
        result["cloud.provider"] = o.CloudProvider;
        result["kafka.endpoint"] = o.KafkaEndpoint;
        result["kafka.region"] = o.KafkaRegion;
        result["kafka.dedicated"] = "false";
        result["connector.crn"] = $"crn://confluent.cloud/organization={o.OrganizationId}/environment={c.EnvironmentId}/cloud-cluster={c.ClusterId}/connector={c.Name}";
        result["config.internal.connector.id"] = c.Id;
        var mode = c.Config.GetValueOrDefault("kafka.auth.mode", "KAFKA_API_KEY");
        if (mode == "KAFKA_API_KEY") result["valid.kafka.api.key"] = "true";
        if (c.Config.Where(kv => kv.Key.EndsWith("data.format", StringComparison.Ordinal)).Any(kv => kv.Value is "AVRO" or "PROTOBUF" or "JSON_SR"))
            result["schema.registry.url"] = "https://psrc-emu01.us-west-2.aws.confluent.cloud";
        var obj = new JsonObject();
        foreach (var (k, v) in result) obj[k] = v;
        return obj;
    }

    private static JsonObject ConnectorInfo(EmulatedConnector c, EmulatorOptions o, DateTimeOffset now)
    {
        var tasks = new JsonArray();
        if (c.StateAt(now) != "PROVISIONING")
            for (var t = 0; t < c.TaskCount; t++) tasks.Add(new JsonObject { ["connector"] = c.Name, ["task"] = t });
        return new JsonObject { ["name"] = c.Name, ["type"] = c.Type, ["config"] = ReadConfig(c, o), ["tasks"] = tasks };
    }

    public static JsonObject Status(EmulatedConnector c, DateTimeOffset now)
    {
        var state = c.StateAt(now);
        var connector = new JsonObject { ["state"] = state, ["worker_id"] = state == "PROVISIONING" ? "" : "emulator-worker-0" };
        var trace = c.FailureTrace ?? (state == "FAILED" ? c.TaskFailures.Values.Select(f => f.Trace).FirstOrDefault() : null);
        if (trace != null) connector["trace"] = trace;
        var tasks = new JsonArray();
        if (state != "PROVISIONING")
            for (var t = 0; t < c.TaskCount; t++)
            {
                var task = new JsonObject { ["id"] = t, ["worker_id"] = $"emulator-worker-{t % 3}" };
                if (c.TaskFailures.TryGetValue(t, out var f)) { task["state"] = f.State; task["msg"] = f.Trace; }
                else task["state"] = c.Paused ? "PAUSED" : "RUNNING";
                tasks.Add(task);
            }
        return new JsonObject { ["name"] = c.Name, ["type"] = c.Type, ["connector"] = connector, ["tasks"] = tasks };
    }

    private static readonly string[] Groups = ["How should we connect to your data?", "Kafka Cluster credentials", "Connector details"];

    public static JsonObject ValidationResponse(string plugin, IReadOnlyDictionary<string, string> config)
    {
        var errors = ConnectorCatalog.Validate(config, plugin);
        var keys = new List<string> { "name", "connector.class", "kafka.auth.mode", "kafka.api.key", "kafka.api.secret", "kafka.service.account.id", "tasks.max" };
        if (ConnectorCatalog.Plugins.TryGetValue(plugin, out var def)) keys.AddRange(def.Required);
        keys.AddRange(config.Keys);
        keys.AddRange(errors.Keys);
        var configs = new JsonArray();
        var order = 0;
        foreach (var key in keys.Distinct())
        {
            var password = ConnectorCatalog.IsPasswordKey(plugin, key);
            var required = key is "name" or "connector.class" || (def?.Required.Contains(key) ?? false);
            var value = config.TryGetValue(key, out var v) ? (password && v.Length > 0 ? ConnectorCatalog.Masked : v) : "";
            var errs = new JsonArray((errors.GetValueOrDefault(key) ?? []).Select(e => (JsonNode)JsonValue.Create(e)!).ToArray());
            configs.Add(new JsonObject
            {
                ["definition"] = new JsonObject
                {
                    ["name"] = key, ["type"] = password ? "PASSWORD" : key == "tasks.max" ? "INT" : "STRING", ["required"] = required,
                    ["default_value"] = "", ["importance"] = required ? "HIGH" : "MEDIUM", ["documentation"] = "",
                    ["group"] = key.StartsWith("kafka.", StringComparison.Ordinal) ? Groups[1] : key is "name" or "connector.class" ? Groups[0] : Groups[2],
                    ["width"] = "NONE", ["display_name"] = key, ["dependents"] = new JsonArray(), ["order"] = ++order, ["alias"] = "",
                },
                ["value"] = new JsonObject { ["name"] = key, ["value"] = value, ["recommended_values"] = new JsonArray(), ["errors"] = errs, ["visible"] = true },
                ["metadata"] = new JsonObject(),
            });
        }
        return new JsonObject
        {
            ["name"] = plugin,
            ["groups"] = new JsonArray(Groups.Select(x => (JsonNode)JsonValue.Create(x)!).ToArray()),
            ["error_count"] = errors.Count,
            ["configs"] = configs,
        };
    }
}
