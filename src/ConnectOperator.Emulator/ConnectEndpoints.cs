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
                    // Recorded: each entry has "extensions": {}, and info has "tasks" and "type" ("unknown" seen for a
                    // managed connector).
                    var e = new JsonObject();
                    if (expand.Contains("id")) e["id"] = new JsonObject { ["id"] = c.Id, ["id_type"] = "ID" };
                    if (expand.Contains("info")) e["info"] = new JsonObject { ["name"] = c.Name, ["config"] = ReadConfig(c, o, state), ["tasks"] = TaskIds(c), ["type"] = "unknown" };
                    if (expand.Contains("status")) e["status"] = Status(c, now);
                    e["extensions"] = new JsonObject();
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
                if (state.EmptyWriteBodies) return Results.StatusCode(201);
                var info = ConnectorInfo(c, o, state);
                info["offsets"] = c.Offsets.DeepClone();
                return Json(info, 201);
            }
        });

        g.MapGet("/connectors/{connector_name}", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c => Json(ConnectorInfo(c, o, state))));

        g.MapDelete("/connectors/{connector_name}", (string environment_id, string kafka_cluster_id, string connector_name) =>
            state.Remove(environment_id, kafka_cluster_id, connector_name)
                ? state.EmptyWriteBodies ? Results.StatusCode(204) : Results.Text("{\"error\":null}", "application/json", statusCode: 200)
                : NotFound(connector_name));

        g.MapGet("/connectors/{connector_name}/config", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c => Json(ReadConfig(c, o, state))));

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
                return state.EmptyWriteBodies ? Results.StatusCode(200) : Json(ConnectorInfo(c, o, state));
            }
        });

        // Pause and resume: 202, asynchronous (spec). The state changes after PauseResumeDelay; while PROVISIONING the
        // request is applied when provisioning ends or ignored, as configured (both recorded).
        g.MapPut("/connectors/{connector_name}/pause", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c =>
            {
                c.RequestPause(true, state.Now, state.PauseResumeDelay, state.IgnorePauseWhileProvisioning);
                c.PauseCount++;
                return Results.StatusCode(202);
            }));

        g.MapPut("/connectors/{connector_name}/resume", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c =>
            {
                c.RequestPause(false, state.Now, state.PauseResumeDelay, state.IgnorePauseWhileProvisioning);
                c.ResumeCount++;
                return Results.StatusCode(202);
            }));

        // Not in the spec; the vendor's API reference: POST …/restart, "restart the connector and its tasks", no body, no
        // query parameters, 202 with no body. Query parameters a client adds anyway are ignored, as they would be there.
        g.MapPost("/connectors/{connector_name}/restart", (string environment_id, string kafka_cluster_id, string connector_name, HttpRequest req) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c =>
            {
                c.FailureTrace = null;
                c.RestartCount++;
                c.LastRestartQuery = req.QueryString.HasValue ? req.QueryString.Value : null;
                foreach (var t in Enumerable.Range(0, c.TaskCount))
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
                        tasks.Add(new JsonObject { ["id"] = new JsonObject { ["connector"] = c.Name, ["task"] = t }, ["config"] = ReadConfig(c, o, state) });
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
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c =>
            {
                c.SettleOffsets(state.Now);
                return Json(new JsonObject
                {
                    ["id"] = c.Id,
                    ["name"] = c.Name,
                    ["offsets"] = c.Offsets.DeepClone(),
                    ["metadata"] = new JsonObject { ["observed_at"] = state.Now.ToString("yyyy-MM-ddTHH:mm:ssZ") },
                });
            }));

        // Applied asynchronously, as recorded: the status reads PENDING until OffsetsApplyDelay has passed, then APPLIED,
        // or FAILED when a failure was injected. One request at a time per connector (the spec says so).
        g.MapPost("/connectors/{connector_name}/offsets/request", async (string environment_id, string kafka_cluster_id, string connector_name, HttpRequest req) =>
        {
            var body = await ReadJson(req) as JsonObject;
            var type = body?["type"] is JsonValue tv && tv.TryGetValue<string>(out var t) ? t : null;
            if (type is not ("PATCH" or "DELETE")) return EmulatorApp.VendorError(400, "type must be PATCH or DELETE");
            return WithConnector(state, environment_id, kafka_cluster_id, connector_name, c =>
            {
                var now = state.Now;
                c.SettleOffsets(now);
                if (c.PendingOffsets != null)
                    return EmulatorApp.VendorError(409, $"An alter offsets request is already in progress for connector {c.Name}; only one request at a time is allowed");
                var requested = body!["offsets"] is JsonArray a ? (JsonArray)a.DeepClone() : new JsonArray();
                if (type == "PATCH" && requested.Count == 0) return EmulatorApp.VendorError(400, "offsets are required for a PATCH request");
                var info = new JsonObject
                {
                    ["id"] = c.Id, ["name"] = c.Name, ["offsets"] = requested.DeepClone(),
                    ["requested_at"] = now.ToString("yyyy-MM-ddTHH:mm:ssZ"), ["type"] = type,
                };
                c.LastAlterRequest = info;
                c.PendingOffsets = requested;
                c.AlterSettlesAt = now + state.OffsetsApplyDelay;
                c.AlterFailure = c.FailNextOffsetsRequest;
                c.FailNextOffsetsRequest = null;
                c.AlterAppliedAt = null;
                return Json(info.DeepClone(), 202);
            });
        });

        g.MapGet("/connectors/{connector_name}/offsets/request/status", (string environment_id, string kafka_cluster_id, string connector_name) =>
            WithConnector(state, environment_id, kafka_cluster_id, connector_name, c =>
            {
                if (c.LastAlterRequest == null) return EmulatorApp.VendorError(404, "no offsets request found");
                c.SettleOffsets(state.Now);
                var reset = (string?)c.LastAlterRequest["type"] == "DELETE";
                var status = c.PendingOffsets != null
                    ? new JsonObject { ["phase"] = "PENDING", ["message"] = "The offsets alter request is in progress." }
                    : c.AlterFailure != null
                        ? new JsonObject { ["phase"] = "FAILED", ["message"] = c.AlterFailure }
                        : new JsonObject
                        {
                            ["phase"] = "APPLIED",
                            ["message"] = reset
                                ? "The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be reset manually in the system that the connector uses."
                                : "The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be altered manually in the system that the connector uses.",
                        };
                return Json(new JsonObject
                {
                    ["request"] = c.LastAlterRequest.DeepClone(),
                    ["status"] = status,
                    ["previous_offsets"] = c.PendingOffsets == null && c.AlterFailure == null ? c.PreviousOffsets?.DeepClone() ?? new JsonArray() : new JsonArray(),
                    ["applied_at"] = c.PendingOffsets == null && c.AlterFailure == null ? c.AlterAppliedAt?.ToString("yyyy-MM-ddTHH:mm:ssZ") : null,
                });
            }));
    }

    // --------------------------------------------------------------------------------------------- helpers

    private static IResult Json(JsonNode node, int status = 200) => Results.Json(node, EmulatorApp.Json, statusCode: status);

    /// <summary>Recorded: a 404 on a connector route is Kafka Connect's flat shape with this message, not the nested one.</summary>
    private static IResult NotFound(string name) => EmulatorApp.KafkaError(404, "resource not found");

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

    /// <summary>
    /// Config as the API returns it: PASSWORD values masked, server keys added. The added keys are the ones the reference
    /// records in real responses (nothing invented), plus, with <see cref="EmulatorOptions.UnpredictableServerKeys"/>, keys
    /// whose names nobody can know in advance.
    /// </summary>
    public static JsonObject ReadConfig(EmulatedConnector c, EmulatorOptions o, EmulatorState? state = null)
    {
        var cls = c.ConnectorClass;
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in c.Config)
            result[k] = ConnectorCatalog.IsPasswordKey(cls, k) && v.Length > 0 ? ConnectorCatalog.Masked : v;
        result["cloud.environment"] = o.CloudEnvironment;
        result["cloud.provider"] = o.CloudProvider;
        result["kafka.endpoint"] = o.KafkaEndpoint;
        result["kafka.region"] = o.KafkaRegion;
        result["kafka.max.partition.validation.disable"] = "false";
        if (o.UnpredictableServerKeys && state != null)
        {
            var p = state.UnpredictableKeyPrefix;
            result[p + "tier"] = "standard";
            result[p + "placement.zone"] = "use1-az4";
            result[$"{p}read.{state.NextRead()}"] = "true";
        }
        var obj = new JsonObject();
        foreach (var (k, v) in result) obj[k] = v;
        return obj;
    }

    private static JsonArray TaskIds(EmulatedConnector c)
    {
        var tasks = new JsonArray();
        for (var t = 0; t < c.TaskCount; t++) tasks.Add(new JsonObject { ["connector"] = c.Name, ["task"] = t });
        return tasks;
    }

    private static JsonObject ConnectorInfo(EmulatedConnector c, EmulatorOptions o, EmulatorState state)
    {
        var tasks = c.StateAt(state.Now) != "PROVISIONING" ? TaskIds(c) : new JsonArray();
        return new JsonObject { ["name"] = c.Name, ["type"] = c.Type, ["config"] = ReadConfig(c, o, state), ["tasks"] = tasks };
    }

    /// <summary>
    /// The recorded status shape: <c>trace</c> and task <c>msg</c> are empty strings when there is nothing to say;
    /// <c>errors_from_trace</c>, <c>validation_errors</c> and <c>override_message</c> are present; while PROVISIONING the
    /// type is <c>unknown</c> and task 0 is listed STOPPED; <c>worker_id</c> is the connector's name, as recorded.
    /// </summary>
    public static JsonObject Status(EmulatedConnector c, DateTimeOffset now)
    {
        var state = c.StateAt(now);
        var provisioning = state == "PROVISIONING";
        // A connector-level trace only when the connector itself failed (as in Kafka Connect): a task's cause is in its msg.
        var connector = new JsonObject { ["state"] = state, ["worker_id"] = c.Name, ["trace"] = provisioning ? "" : c.FailureTrace ?? "" };
        var tasks = new JsonArray();
        if (provisioning)
            tasks.Add(new JsonObject { ["id"] = 0, ["state"] = "STOPPED", ["worker_id"] = c.Name, ["msg"] = "" });
        else
            for (var t = 0; t < c.TaskCount; t++)
            {
                var task = new JsonObject { ["id"] = t, ["worker_id"] = c.Name };
                if (c.TaskFailures.TryGetValue(t, out var f)) { task["state"] = f.State; task["msg"] = f.Trace; }
                else if (c.StoppedTasks.Contains(t)) { task["state"] = "STOPPED"; task["msg"] = ""; }
                else { task["state"] = c.PausedAt(now) ? "PAUSED" : "RUNNING"; task["msg"] = ""; }
                tasks.Add(task);
            }
        return new JsonObject
        {
            ["name"] = c.Name, ["connector"] = connector, ["tasks"] = tasks, ["type"] = provisioning ? "unknown" : c.Type,
            ["errors_from_trace"] = new JsonArray(c.ErrorsFromTrace.Select(e => (JsonNode)new JsonObject { ["error"] = e }).ToArray()),
            ["validation_errors"] = new JsonArray(c.ValidationErrors.Select(e => (JsonNode)JsonValue.Create(e)!).ToArray()),
            ["override_message"] = c.OverrideMessage ?? "",
        };
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
