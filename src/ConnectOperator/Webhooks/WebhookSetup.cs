using ConnectOperator.Hosting;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using k8s;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace ConnectOperator.Webhooks;

/// <summary>
/// Registers the admission webhooks: services, the HTTPS listener and the routes. Every replica serves them (they
/// read the informer caches every replica keeps); <see cref="OperatorOptions.WebhookPort"/> 0 disables them.
/// </summary>
public static class WebhookSetup
{
    public static WebApplicationBuilder AddConnectWebhooks(this WebApplicationBuilder builder, OperatorOptions options)
    {
        if (options.WebhookPort == 0) return builder;
        var webhook = builder.Configuration.GetSection(WebhookOptions.Section).Get<WebhookOptions>() ?? new WebhookOptions();
        var slot = new CertificateSlot();
        builder.Services.AddSingleton(webhook);
        builder.Services.AddSingleton(slot);
        builder.Services.AddSingleton(sp =>
        {
            var ledger = new ReservationLedger(sp.GetRequiredService<TimeProvider>(), webhook.ReservationTimeout, webhook.MaxReservationsPerDepartment, webhook.MaxReservations);
            ledger.Attach(sp.GetRequiredService<TenantDirectory>().Connectors);
            return ledger;
        });
        builder.Services.AddSingleton(sp => new AdmissionDecider(sp.GetRequiredService<TenantDirectory>(), sp.GetRequiredService<ReservationLedger>(), webhook, options.Namespace));
        builder.Services.AddSingleton(sp => new WebhookCertificateManager(sp.GetRequiredService<KubeApiClient>(), webhook, options.Namespace, slot,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("webhook.certificates")));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WebhookCertificateManager>());

        builder.WebHost.ConfigureKestrel(k =>
        {
            options.Listen(k, options.WebhookPort, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                // Asked on every handshake, so a rotated certificate is served without a restart.
                ServerCertificateSelector = (_, _) => slot.Current,
            }));
        });
        return builder;
    }

    public static WebApplication MapConnectWebhooks(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<OperatorOptions>();
        if (options.WebhookPort == 0) return app;
        // Built now so the ledger subscribes to the informer before the first request.
        var decider = app.Services.GetRequiredService<AdmissionDecider>();
        var tenants = app.Services.GetRequiredService<TenantDirectory>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("webhook.admission");
        foreach (var resource in WebhookRoutes.Resources)
            // Served on the HTTPS listener only. Not RequireHost: behind a Service the Host header carries the Service port.
            app.MapPost(WebhookRoutes.PathFor(resource), (HttpContext http) => http.Connection.LocalPort == options.WebhookPort
                ? WebhookRoutes.HandleAsync(http, resource, decider, tenants, log)
                : NotFound(http));
        return app;
    }

    private static Task NotFound(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }
}
