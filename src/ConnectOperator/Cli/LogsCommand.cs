using System.CommandLine;
using ConnectOperator.Cli.Logs;
using ConnectOperator.Hosting;
using ConnectOperator.Runtime;
using k8s;

namespace ConnectOperator.Cli;

/// <summary>
/// <c>connect-operator logs ns/name</c>: a connector's status history and traces from the cluster (conditions, state,
/// tasks, last trace, auto-restarts, Events) and, where the platform team configured access, its log lines from
/// Confluent Cloud's logs search API (one request per invocation: the API allows 5 per minute per connector).
/// </summary>
public static class LogsCommand
{
    public const string DefaultLogsApiUrl = "https://api.logging.confluent.cloud";
    public const string TokenVariable = "CONFLUENT_LOGS_TOKEN";

    public const string Description =
        "Print a ManagedConnector's status history and recent traces: current conditions (reason, message), Confluent connector\n" +
        "id/state/tasks, the last trace, auto-restarts and the object's Events (oldest first). Reads the cluster with the\n" +
        "kubeconfig (KUBECONFIG, ~/.kube/config or in-cluster). With a token (--token or env " + TokenVariable + ") it also prints\n" +
        "the connector's log lines from Confluent Cloud's logs search API (POST <logs-api-url>/logs/v1/search; about 72 h of\n" +
        "history, 5 searches per minute per connector: one search per invocation). Secret values are never printed.\n" +
        "Exit codes: 0 printed, 1 not found (or not readable), 2 usage error.";

    public static Command Create()
    {
        var target = new Argument<string?>("namespace/name") { Description = "The ManagedConnector, e.g. finance/s3-ledger-archive.", Arity = ArgumentArity.ZeroOrOne };
        var url = new Option<string?>("--logs-api-url") { Description = $"Base URL of the logs search API (default {DefaultLogsApiUrl}).", Arity = ArgumentArity.ZeroOrOne };
        var token = new Option<string?>("--token") { Description = $"Bearer token for the logs search API (default: env {TokenVariable}). Without one, Confluent logs are skipped.", Arity = ArgumentArity.ZeroOrOne };
        var since = new Option<string?>("--since") { Description = "How far back to search Confluent logs: 30m, 2h, 1d (default 1h, at most 72h).", Arity = ArgumentArity.ZeroOrOne };
        var organization = new Option<string?>("--organization") { Description = "Confluent organization id, for the connector CRN (optional).", Arity = ArgumentArity.ZeroOrOne };
        var limit = new Option<int?>("--limit") { Description = "At most this many Confluent log lines (default 200).", Arity = ArgumentArity.ZeroOrOne };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Kubeconfig file (default: env KUBECONFIG, ~/.kube/config, or in-cluster).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("logs", Description) { target, url, token, since, organization, limit, kubeconfig };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (pr, ct) =>
        {
            var stdout = pr.InvocationConfiguration.Output;
            var stderr = pr.InvocationConfiguration.Error;
            const string usage = "usage: connect-operator logs <namespace>/<name> [--since 1h] [--logs-api-url URL] [--token TOKEN] [--organization ORG] [--limit N] [--kubeconfig FILE]";
            if (pr.UnmatchedTokens.Count > 0 || pr.Errors.Count > 0)
            {
                stderr.WriteLine($"logs: {string.Join("; ", pr.Errors.Select(e => e.Message).Concat(pr.UnmatchedTokens.Select(t => "unknown argument " + t)))}");
                stderr.WriteLine(usage);
                return ConnectorLogsReport.ExitUsage;
            }
            var name = pr.GetValue(target);
            if (string.IsNullOrEmpty(name))
            {
                stderr.WriteLine("logs: missing <namespace>/<name>");
                stderr.WriteLine(usage);
                return ConnectorLogsReport.ExitUsage;
            }
            var sinceText = pr.GetValue(since) ?? "1h";
            if (ConnectorLogsReport.ParseSince(sinceText) is not { } window)
            {
                stderr.WriteLine($"logs: --since {sinceText}: use a positive number with s, m, h or d, at most 72h (the logs search retention)");
                return ConnectorLogsReport.ExitUsage;
            }
            var limitValue = pr.GetValue(limit) ?? 200;
            if (limitValue is < 1 or > 1000)
            {
                stderr.WriteLine("logs: --limit must be between 1 and 1000");
                return ConnectorLogsReport.ExitUsage;
            }
            var logsUrl = pr.GetValue(url) ?? DefaultLogsApiUrl;
            if (!Uri.TryCreate(logsUrl, UriKind.Absolute, out _))
            {
                stderr.WriteLine($"logs: --logs-api-url {logsUrl} is not an absolute URL");
                return ConnectorLogsReport.ExitUsage;
            }
            KubernetesClientConfiguration config;
            try
            {
                config = KubeConfigFile.InClusterOrLoad(pr.GetValue(kubeconfig));
            }
            catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException)
            {
                stderr.WriteLine($"logs: no usable kubeconfig: {e.Message}");
                return ConnectorLogsReport.ExitUsage;
            }
            using var client = new KubeApiClient(config);
            var tokenValue = pr.GetValue(token) ?? Environment.GetEnvironmentVariable(TokenVariable);
            var report = new ConnectorLogsReport(client, null, stdout, stderr);
            return await report.RunAsync(new LogsOptions(name, logsUrl, string.IsNullOrWhiteSpace(tokenValue) ? null : tokenValue, window, pr.GetValue(organization), limitValue), ct);
        });
        return command;
    }
}
