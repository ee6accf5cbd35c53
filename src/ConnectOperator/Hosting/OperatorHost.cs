using ConnectOperator.Confluent;
using ConnectOperator.Controllers;
using ConnectOperator.Controllers.Departments;
using ConnectOperator.Controllers.ManagedConnectors;
using ConnectOperator.Controllers.Quotas;
using ConnectOperator.Entities;
using ConnectOperator.Observability;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Runtime.Leadership;
using ConnectOperator.Webhooks;
using k8s;
using k8s.Models;
using Serilog;
using Serilog.Formatting.Compact;

namespace ConnectOperator.Hosting;

/// <summary>
/// Builds the operator process: one ASP.NET Core host with the informers (every replica), the controllers and the
/// Confluent poller (leader only), and the health, metrics and webhook endpoints (every replica). Integration tests
/// build it in-process with their own kubeconfig and emulator URL.
/// </summary>
public static class OperatorHost
{
    /// <summary>Marks the exception <see cref="Build"/> throws for unusable settings, so <c>run</c> prints it without a stack trace.</summary>
    public const string ConfigurationErrorSource = "connect-operator configuration";

    /// <param name="logSink">Where logs go instead of stdout (tests capture them to prove no secret leaks).</param>
    public static WebApplication Build(string[] args, KubernetesClientConfiguration? kubernetes = null, Action<WebApplicationBuilder>? configure = null,
        Serilog.Core.ILogEventSink? logSink = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var options = builder.Configuration.GetSection(OperatorOptions.Section).Get<OperatorOptions>() ?? new OperatorOptions();
        if (options.Problems() is { Count: > 0 } problems)
            throw new InvalidOperationException(string.Join("; ", problems)) { Source = ConfigurationErrorSource };
        if (string.IsNullOrEmpty(options.LeaderElection.LeaseNamespace) || options.LeaderElection.LeaseNamespace == "default")
            options.LeaderElection.LeaseNamespace = options.Namespace;
        builder.Services.AddSingleton(options);

        builder.Services.AddSerilog((sp, lc) => lc
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .Enrich.With(new SecretRedactionEnricher())
            .WriteTo.Conditional(_ => logSink is null, w => w.Sink(new ScrubbingSink(new RenderedCompactJsonFormatter(), Console.Out)))
            .WriteTo.Conditional(_ => logSink is not null, w => w.Sink(logSink ?? new NullSink())));

        builder.WebHost.ConfigureKestrel(k => options.Listen(k, options.MetricsPort));

        var kubeConfig = kubernetes ?? KubeConfigFile.InClusterOrLoad();
        builder.Services.AddSingleton(_ => new KubeApiClient(kubeConfig, options.KubeApiRateLimit));
        builder.Services.AddSingleton(TimeProvider.System);

        // What each cache keeps of an object: CacheTransforms.
        builder.Services.AddSingleton(new StringPool());
        var informerOptions = new InformerOptions { ResyncPeriod = options.ResyncPeriod, Transform = CacheTransforms.DropLastApplied };
        builder.Services.AddSingleton(sp => new Informer<V1Alpha1Department>(sp.GetRequiredService<KubeApiClient>(), DepartmentReconciler.Kind, informerOptions, Logger(sp, "informer.departments")));
        builder.Services.AddSingleton(sp => new Informer<V1Alpha1ConnectorQuota>(sp.GetRequiredService<KubeApiClient>(), ConnectorQuotaReconciler.Kind, informerOptions, Logger(sp, "informer.connectorquotas")));
        builder.Services.AddSingleton(sp => new Informer<V1Alpha1ManagedConnector>(sp.GetRequiredService<KubeApiClient>(), ManagedConnectorReconciler.Kind,
            new InformerOptions { ResyncPeriod = options.ResyncPeriod, Transform = CacheTransforms.ManagedConnectors(sp.GetRequiredService<StringPool>()) },
            Logger(sp, "informer.managedconnectors")));
        var secretOptions = new InformerOptions { ResyncPeriod = options.ResyncPeriod, Transform = CacheTransforms.Secrets(options.Namespace) };
        builder.Services.AddSingleton(sp => new NamespacedInformers<V1Secret>(sp.GetRequiredService<KubeApiClient>(), ResourceKind.Secret, options.Namespace, secretOptions, Logger(sp, "informer.secrets")));
        builder.Services.AddSingleton<TenantDirectory>();
        builder.Services.AddSingleton(sp => new CredentialsResolver(sp.GetRequiredService<NamespacedInformers<V1Secret>>(), options.Namespace));

        builder.Services.AddSingleton(sp => new ConnectClientFactory(ClientOptions(builder.Configuration, options), sp.GetRequiredService<ILoggerFactory>()));
        if (options.Throughput.Enabled)
            builder.Services.AddSingleton(sp => new Confluent.Metrics.MetricsClientFactory(MetricsOptions(builder.Configuration, options), sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(sp => new StatusWriter(sp.GetRequiredService<KubeApiClient>(), sp.GetRequiredService<ILogger<StatusWriter>>()));
        builder.Services.AddSingleton(sp => new Finalizers(sp.GetRequiredService<KubeApiClient>()));
        builder.Services.AddSingleton(sp => new EventRecorder(sp.GetRequiredService<KubeApiClient>(), new EventRecorderOptions(), sp.GetRequiredService<ILogger<EventRecorder>>()));
        builder.Services.AddSingleton(sp => new LeaderElection(sp.GetRequiredService<KubeApiClient>(), options.LeaderElection, Logger(sp, "leader-election")));
        builder.Services.AddOperatorMetrics(builder.Configuration, options);
        builder.Services.AddSingleton<ControllerSet>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<ControllerSet>().Poller);
        builder.Services.AddHostedService(sp =>
        {
            var set = sp.GetRequiredService<ControllerSet>();
            return new OperatorRuntime(sp.GetRequiredService<LeaderElection>(), set.Informers, set.Controllers, sp.GetRequiredService<ILogger<OperatorRuntime>>());
        });

        builder.Services.AddSingleton(options.HeapGoal);
        builder.Services.AddHostedService<HeapGoal>();

        builder.AddConnectWebhooks(options);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapConnectWebhooks();

        // Not a constant "ok": a watch or the work queue that has made no progress for far longer than a healthy one
        // can is a process a restart may cure (Liveness). Confluent being down is not: that is reported in conditions.
        app.MapGet("/healthz", (ControllerSet set) => Liveness.Problem(set.Informers, set.Controllers, options.Liveness) is { } problem
            ? Results.Text("wedged: " + problem, statusCode: 503)
            : Results.Text("ok"));
        app.MapGet("/readyz", (ControllerSet set) => set.Informers.All(i => i.HasSynced)
            ? Results.Text("ok")
            : Results.Text("caches not synced: " + string.Join(", ", set.Informers.Where(i => !i.HasSynced).Select(i => i.Name)), statusCode: 503));
        app.MapOperatorMetrics("/metrics", app.Services.GetRequiredService<OperatorMetrics>());
        return app;
    }

    /// <summary>The <c>Confluent</c> section tunes resilience; the base URL comes from <see cref="OperatorOptions.ConfluentBaseUrl"/>.</summary>
    private static ConnectClientOptions ClientOptions(ConfigurationManager configuration, OperatorOptions options)
    {
        var client = configuration.GetSection("Confluent").Get<ConnectClientOptions>() ?? new ConnectClientOptions();
        client.BaseUrl = options.ConfluentBaseUrl;
        return client;
    }

    /// <summary>Metrics API client: base URL from <c>Operator:Throughput:BaseUrl</c>, timeouts and backoff from the <c>Confluent</c> section.</summary>
    private static Confluent.Metrics.MetricsClientOptions MetricsOptions(ConfigurationManager configuration, OperatorOptions options)
    {
        var c = configuration.GetSection("Confluent").Get<ConnectClientOptions>() ?? new ConnectClientOptions();
        return new Confluent.Metrics.MetricsClientOptions
        {
            BaseUrl = options.Throughput.BaseUrl,
            AttemptTimeout = c.AttemptTimeout,
            RetryBaseDelay = c.RetryBaseDelay,
            RetryMaxDelay = c.RetryMaxDelay,
            UseJitter = c.UseJitter,
            UserAgent = c.UserAgent,
        };
    }

    private static Microsoft.Extensions.Logging.ILogger Logger(IServiceProvider sp, string category) => sp.GetRequiredService<ILoggerFactory>().CreateLogger(category);

    private sealed class NullSink : Serilog.Core.ILogEventSink
    {
        public void Emit(Serilog.Events.LogEvent logEvent) { }
    }
}
