using System.Text.Json.Nodes;

namespace ConnectOperator.Emulator;

/// <summary>Admin endpoints under <c>/emulator</c> (only when <see cref="EmulatorOptions.EnableAdmin"/>). No auth, no faults, not recorded.</summary>
internal static class AdminEndpoints
{
    public sealed record ProvisioningDelayRequest(int Milliseconds);
    public sealed record ErrorRateRequest(double Rate, int Status = 500);
    public sealed record FailRequest(string? Trace, string? State);
    public sealed record OffsetsFailRequest(string? Message);
    public sealed record UpsertRequest(Dictionary<string, string> Config, bool? Paused, bool? Running);
    public sealed record BehaviourRequest(int? PauseResumeDelayMs, bool? IgnorePauseWhileProvisioning, bool? EmptyWriteBodies, bool? UnpredictableServerKeys);
    public sealed record StatusExtrasRequest(List<int>? StoppedTasks, List<string>? ErrorsFromTrace, List<string>? ValidationErrors, string? OverrideMessage);

    public static void Map(RouteGroupBuilder g, EmulatorState state)
    {
        g.MapGet("/state", () =>
        {
            lock (state.Lock)
            {
                var now = state.Now;
                var arr = new JsonArray();
                foreach (var c in state.Connectors.OrderBy(c => c.EnvironmentId).ThenBy(c => c.ClusterId).ThenBy(c => c.Name))
                    arr.Add(new JsonObject
                    {
                        ["environment"] = c.EnvironmentId, ["cluster"] = c.ClusterId, ["name"] = c.Name, ["id"] = c.Id,
                        ["state"] = c.StateAt(now), ["restarts"] = c.RestartCount, ["config"] = ConnectEndpoints.ReadConfig(c, state.Options, state),
                        ["status"] = ConnectEndpoints.Status(c, now),
                    });
                return Results.Json(new JsonObject { ["connectors"] = arr, ["provisioningDelayMs"] = state.ProvisioningDelay.TotalMilliseconds }, EmulatorApp.Json);
            }
        });

        g.MapGet("/calls", () => Results.Json(new
        {
            counts = state.CallCounts,
            calls = state.Calls.TakeLast(1000).Select(c => new
            {
                seq = c.Seq, receivedAt = c.ReceivedAt, respondedAt = c.RespondedAt, method = c.Method, route = c.Route,
                status = c.Status, apiKey = c.ApiKey, retryAfterSeconds = c.RetryAfterSeconds,
            }),
        }, EmulatorApp.Json));

        g.MapPost("/reset", () => { state.Reset(); return Results.NoContent(); });
        g.MapDelete("/faults", () => { state.ClearFaults(); return Results.NoContent(); });
        g.MapPost("/faults/errors", (ErrorFault f) => { state.InjectErrors(f); return Results.NoContent(); });
        g.MapPost("/faults/error-rate", (ErrorRateRequest r) => { state.SetErrorRate(r.Rate, r.Status); return Results.NoContent(); });
        g.MapPost("/faults/rate-limit", (RateLimitFault f) => { state.InjectRateLimit(f); return Results.NoContent(); });
        g.MapPost("/faults/latency", (LatencyFault f) => { state.SetLatency(f.Milliseconds > 0 ? f : null); return Results.NoContent(); });
        g.MapPost("/faults/provisioning-delay", (ProvisioningDelayRequest r) =>
        {
            state.ProvisioningDelay = TimeSpan.FromMilliseconds(r.Milliseconds);
            return Results.NoContent();
        });

        g.MapPost("/behaviour", (BehaviourRequest r) =>
        {
            if (r.PauseResumeDelayMs is { } d) state.PauseResumeDelay = TimeSpan.FromMilliseconds(d);
            if (r.IgnorePauseWhileProvisioning is { } i) state.IgnorePauseWhileProvisioning = i;
            if (r.EmptyWriteBodies is { } e) state.EmptyWriteBodies = e;
            if (r.UnpredictableServerKeys is { } u) state.Options.UnpredictableServerKeys = u;
            return Results.NoContent();
        });

        const string C = "/environments/{env}/clusters/{cluster}/connectors/{name}";
        // What a status body can carry besides state and trace (recorded shapes): STOPPED tasks of a RUNNING connector,
        // errors_from_trace, validation_errors, override_message.
        g.MapPost(C + "/status-extras", (string env, string cluster, string name, StatusExtrasRequest r) =>
        {
            lock (state.Lock)
            {
                if (state.Find(env, cluster, name) is not { } c) return Results.NotFound();
                if (r.StoppedTasks is { } stopped) { c.StoppedTasks.Clear(); c.StoppedTasks.UnionWith(stopped); }
                if (r.ErrorsFromTrace is { } errors) { c.ErrorsFromTrace.Clear(); c.ErrorsFromTrace.AddRange(errors); }
                if (r.ValidationErrors is { } validation) { c.ValidationErrors.Clear(); c.ValidationErrors.AddRange(validation); }
                if (r.OverrideMessage is { } message) c.OverrideMessage = message;
                return Results.NoContent();
            }
        });
        // The next offsets alter request of this connector ends FAILED with this message (Confluent's text in status).
        g.MapPost(C + "/offsets/fail", (string env, string cluster, string name, OffsetsFailRequest r) =>
        {
            lock (state.Lock)
            {
                if (state.Find(env, cluster, name) is not { } c) return Results.NotFound();
                c.FailNextOffsetsRequest = r.Message ?? "The offsets could not be altered.";
                return Results.NoContent();
            }
        });
        // Seeds what the connector has processed, as a running connector would have committed.
        g.MapPut(C + "/offsets", (string env, string cluster, string name, JsonArray offsets) =>
        {
            lock (state.Lock)
            {
                if (state.Find(env, cluster, name) is not { } c) return Results.NotFound();
                c.Offsets = (JsonArray)offsets.DeepClone();
                return Results.NoContent();
            }
        });
        g.MapPost(C + "/fail", (string env, string cluster, string name, FailRequest? r) =>
            state.FailConnector(env, cluster, name, r?.Trace ?? "org.apache.kafka.connect.errors.ConnectException: injected failure") ? Results.NoContent() : Results.NotFound());
        g.MapPost(C + "/tasks/{id:int}/fail", (string env, string cluster, string name, int id, FailRequest? r) =>
            state.FailTask(env, cluster, name, id, r?.Trace ?? "org.apache.kafka.connect.errors.ConnectException: injected task failure", r?.State ?? "FAILED")
                ? Results.NoContent() : Results.NotFound());
        // Out-of-band edit ("someone used the Confluent UI"): no validation; running immediately unless running=false.
        g.MapPut(C, (string env, string cluster, string name, UpsertRequest r) =>
        {
            lock (state.Lock)
            {
                var c = state.Upsert(env, cluster, name, r.Config, out var created);
                if (r.Running != false) c.ReadyAt = state.Now;
                if (r.Paused is { } p) c.Paused = p;
                return Results.Json(new JsonObject { ["id"] = c.Id, ["created"] = created }, EmulatorApp.Json);
            }
        });
        g.MapDelete(C, (string env, string cluster, string name) => state.Remove(env, cluster, name) ? Results.NoContent() : Results.NotFound());
    }
}
