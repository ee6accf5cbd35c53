using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Routing.Patterns;

namespace ConnectOperator.Emulator;

/// <summary>
/// Emulator of the Confluent Cloud Connect v1 API (spec paths, JSON shapes, status codes) plus restart, with
/// Basic auth scoped per key, fault injection and call recording. Host it in-process (tests) or run Program.
/// </summary>
public static class EmulatorApp
{
    public const string Prefix = "/connect/v1/environments/{environment_id}/clusters/{kafka_cluster_id}";

    /// <summary>Routes served that are not in the Connect v1 spec (documented on the vendor's site / Kafka Connect).</summary>
    public static readonly IReadOnlyList<string> NonSpecRoutes =
    [
        Prefix + "/connectors/{connector_name}/restart",
        Prefix + "/connectors/{connector_name}/tasks/{task_id}/restart",
    ];

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = null,
    };

    /// <summary>Builds the app. Options are bound (overridden) from configuration section <c>Emulator</c> (appsettings, env, args).</summary>
    public static WebApplication Build(EmulatorOptions options, string[]? args = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args ?? [] });
        builder.Configuration.GetSection("Emulator").Bind(options);
        if (options.Urls != null) builder.WebHost.UseUrls(options.Urls);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<EmulatorState>();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.PropertyNamingPolicy = null;
        });

        var app = builder.Build();
        var state = app.Services.GetRequiredService<EmulatorState>();
        LogsSearchEndpoints.Use(app, state);   // POST /logs/v1/search (bearer token), ahead of the Connect auth middleware
        app.UseRouting();
        app.Use((ctx, next) => Middleware(ctx, next, state, options));

        ConnectEndpoints.Map(app.MapGroup(Prefix), state, options);
        MetricsEndpoints.Map(app, state);
        if (options.EnableAdmin) AdminEndpoints.Map(app.MapGroup("/emulator"), state);
        app.MapFallback((HttpContext ctx) => ctx.Request.Path.StartsWithSegments("/emulator")
            ? Results.NotFound()
            : VendorError(404, "resource not found"));
        return app;
    }

    /// <summary>Route templates (full, as the spec writes them) of the Connect API served by <paramref name="app"/>.</summary>
    public static IReadOnlyList<(string Method, string Route)> ConnectRoutes(WebApplication app) =>
        ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/connect/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => (m, e.RoutePattern.RawText!)))
            .Distinct().ToList();

    // --------------------------------------------------------------------------------------------- middleware

    private static async Task Middleware(HttpContext ctx, RequestDelegate next, EmulatorState state, EmulatorOptions options)
    {
        if (ctx.Request.Path.StartsWithSegments("/emulator"))
        {
            await next(ctx);
            return;
        }
        ctx.Response.Headers["X-Request-Id"] = "req-" + Guid.NewGuid().ToString("N")[..20];
        var route = RelativeRoute(ctx);
        var apiKey = ParseBasic(ctx.Request.Headers.Authorization.ToString(), out var secret);
        var record = state.BeginCall(ctx.Request.Method, route, apiKey, ctx.GetRouteValue("connector_name") as string);
        int? retryAfter = null;
        // The Metrics API answers errors in its own ErrorResponse shape ({"errors":[{status, detail}]}).
        var metrics = route.StartsWith("v2/metrics/", StringComparison.Ordinal);
        IResult Error(int code, string message) => metrics ? MetricsEndpoints.Error(code, message) : VendorError(code, message);
        try
        {
            var key = options.Keys.FirstOrDefault(k => k.Key == apiKey && k.Secret == secret && apiKey != null);
            if (key == null)
            {
                await Error(401, "Unauthorized").ExecuteAsync(ctx);
                return;
            }
            ctx.Items[MetricsEndpoints.KeyItem] = key;
            var env = ctx.GetRouteValue("environment_id") as string;
            var cluster = ctx.GetRouteValue("kafka_cluster_id") as string;
            if (!key.Allows(env, cluster))
            {
                await Error(403, "Forbidden").ExecuteAsync(ctx);
                return;
            }
            if (state.TakeLatency(route) is { } delay) await Task.Delay(delay, ctx.RequestAborted);
            if (state.TakeRateLimit() is { } ra)
            {
                retryAfter = ra;
                ctx.Response.Headers.RetryAfter = ra.ToString(System.Globalization.CultureInfo.InvariantCulture);
                ctx.Response.Headers["X-RateLimit-Limit"] = "100";
                ctx.Response.Headers["X-RateLimit-Remaining"] = "0";
                ctx.Response.Headers["X-RateLimit-Reset"] = ra.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Error(429, "Too Many Requests").ExecuteAsync(ctx);
                return;
            }
            if (state.TakeError(ctx.Request.Method, route) is { } fault)
            {
                var message = fault.Message ?? (fault.Status >= 500 ? "Oops, something went wrong" : "injected error");
                if (fault.EchoRequestBody)
                {
                    using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
                    message += " Request: " + await reader.ReadToEndAsync(ctx.RequestAborted);
                }
                await (fault.Shape == "flat" ? KafkaError(fault.Status, message) : Error(fault.Status, message)).ExecuteAsync(ctx);
                return;
            }
            await next(ctx);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // client gave up (e.g. per-attempt timeout during injected latency)
            ctx.Response.StatusCode = 499;
        }
        finally
        {
            state.EndCall(record, ctx.Response.StatusCode, retryAfter);
        }
    }

    private static string RelativeRoute(HttpContext ctx)
    {
        var raw = (ctx.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
        if (raw == MetricsEndpoints.Route) return raw.TrimStart('/');
        if (raw == null || !raw.StartsWith(Prefix, StringComparison.Ordinal)) return "(unmatched)";
        var rel = raw[Prefix.Length..].TrimStart('/');
        if (rel == "connectors" && ctx.Request.Method == "GET" && ctx.Request.Query.ContainsKey("expand")) rel += "?expand";
        return rel;
    }

    private static string? ParseBasic(string header, out string? secret)
    {
        secret = null;
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var i = decoded.IndexOf(':');
            if (i < 0) return null;
            secret = decoded[(i + 1)..];
            return decoded[..i];
        }
        catch (FormatException) { return null; }
    }

    // --------------------------------------------------------------------------------------------- shapes

    /// <summary><c>{"error":{"code":N,"message":"…"}}</c></summary>
    public static IResult VendorError(int code, string message) =>
        Results.Json(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, Json, statusCode: code);

    /// <summary>Kafka Connect style <c>{"error_code":N,"message":"…"}</c></summary>
    public static IResult KafkaError(int code, string message) =>
        Results.Json(new JsonObject { ["error_code"] = code, ["message"] = message }, Json, statusCode: code);
}
