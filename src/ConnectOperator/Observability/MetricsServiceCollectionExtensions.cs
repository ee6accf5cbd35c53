using ConnectOperator.Confluent;
using ConnectOperator.Hosting;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Leadership;
using ConnectOperator.Runtime.Queues;

namespace ConnectOperator.Observability;

public static class MetricsServiceCollectionExtensions
{
    /// <summary>Registers this host's <see cref="OperatorMetrics"/> (its own registry, served on /metrics).</summary>
    public static IServiceCollection AddOperatorMetrics(this IServiceCollection services, IConfiguration configuration, OperatorOptions options)
    {
        var breakDuration = (configuration.GetSection("Confluent").Get<ConnectClientOptions>() ?? new ConnectClientOptions()).BreakerBreakDuration;
        services.AddSingleton(sp =>
        {
            var tenants = sp.GetRequiredService<TenantDirectory>();
            var leader = sp.GetRequiredService<LeaderElection>();
            var sources = new MetricsSources
            {
                Connectors = () => tenants.Connectors.Store.List(),
                Quotas = () => tenants.Quotas.Store.List(),
                DepartmentOfNamespace = ns => tenants.ResolveDepartment(ns).Department?.Metadata.Name,
                IsLeader = () => leader.IsLeader,
                // Resolved at scrape time: ControllerSet itself depends on OperatorMetrics (reconcile counters).
                Queues = () =>
                {
                    var set = sp.GetRequiredService<ControllerSet>();
                    return new WorkQueue<ReconcileRequest>[] { set.Connectors.Queue, set.Departments.Queue, set.Quotas.Queue };
                },
                Throughput = options.Throughput.Enabled ? id => sp.GetRequiredService<ControllerSet>().Throughput?.Get(id) : null,
            };
            return new OperatorMetrics(sources, breakDuration);
        });
        return services;
    }
}

public static class MetricsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves <paramref name="metrics"/> on GET <paramref name="pattern"/>: the registry's exposition followed by the
    /// per-connector families, streamed, in the Prometheus text format 0.0.4 (no OpenMetrics negotiation: Prometheus
    /// falls back to this format).
    /// </summary>
    public static IEndpointConventionBuilder MapOperatorMetrics(this IEndpointRouteBuilder endpoints, string pattern, OperatorMetrics metrics)
        => endpoints.MapGet(pattern, async context =>
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = OperatorMetrics.ContentType;
            context.Response.Headers.CacheControl = "no-store";
            try
            {
                await metrics.ExportAsync(context.Response.Body, context.RequestAborted);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The scraper went away.
            }
        });
}
