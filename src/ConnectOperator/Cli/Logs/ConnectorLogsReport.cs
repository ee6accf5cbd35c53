using System.Globalization;
using ConnectOperator.Entities;
using ConnectOperator.Hosting;
using ConnectOperator.Runtime;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConnectOperator.Cli.Logs;

public sealed record LogsOptions(string Target, string? LogsApiUrl, string? Token, TimeSpan Since, string? OrganizationId, int Limit);

/// <summary>
/// What <c>connect-operator logs ns/name</c> prints: the ManagedConnector's conditions, remote state, tasks, last
/// trace and auto-restarts, its Events oldest first, and (with a token) its log lines from Confluent's logs search.
/// Every line goes through <see cref="LogScrubber"/>.
/// </summary>
public sealed class ConnectorLogsReport(KubeApiClient api, HttpClient? http, TextWriter stdout, TextWriter stderr, TimeProvider? time = null)
{
    public const int ExitOk = 0, ExitNotFound = 1, ExitUsage = 2;

    private static readonly ResourceKind ConnectorKind = ResourceKind.For<V1Alpha1ManagedConnector>();
    private static readonly ResourceKind DepartmentKind = ResourceKind.For<V1Alpha1Department>(namespaced: false);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private void Out(string line = "") => stdout.WriteLine(LogScrubber.Scrub(line));

    public async Task<int> RunAsync(LogsOptions o, CancellationToken ct = default)
    {
        var parts = o.Target.Split('/');
        if (parts.Length != 2 || parts.Any(string.IsNullOrWhiteSpace))
        {
            stderr.WriteLine($"logs: expected <namespace>/<name>, got '{o.Target}'");
            return ExitUsage;
        }
        var (ns, name) = (parts[0], parts[1]);
        V1Alpha1ManagedConnector? mc;
        try { mc = await api.TryGetAsync<V1Alpha1ManagedConnector>(ConnectorKind, ns, name, ct); }
        catch (HttpOperationException e) { stderr.WriteLine($"logs: cannot read ManagedConnector {ns}/{name}: HTTP {(int)e.Response.StatusCode} {e.Response.ReasonPhrase}"); return ExitNotFound; }
        catch (HttpRequestException e) { stderr.WriteLine($"logs: cannot reach the Kubernetes API server: {e.Message}"); return ExitNotFound; }
        if (mc is null)
        {
            stderr.WriteLine($"logs: ManagedConnector {ns}/{name} not found");
            return ExitNotFound;
        }
        await LearnSecretValuesAsync(mc, ct);

        var s = mc.Status;
        Out($"ManagedConnector {ns}/{name}  department={s?.Department ?? "-"}  generation={mc.Metadata.Generation} observed={s?.ObservedGeneration?.ToString(CultureInfo.InvariantCulture) ?? "-"}");
        Out($"  spec:        class={mc.Spec.ConnectorClass} tasksMax={mc.Spec.TasksMax} state={mc.Spec.State} restartPolicy={mc.Spec.RestartPolicy.Type}(max {mc.Spec.RestartPolicy.MaxRestarts}) deletionPolicy={mc.Spec.DeletionPolicy}");
        Out($"  confluent:   name={s?.ConnectorName ?? "-"} connectorId={s?.ConnectorId ?? "-"} state={s?.ConnectorState ?? "-"} lastSync={Time(s?.LastSyncTime)}");
        Out($"  autoRestart: {(s?.AutoRestart is { } ar ? $"count={ar.Count} lastRestart={Time(ar.LastRestartTime)}" : "none")}");
        Out("Conditions:");
        if (s?.Conditions is not { Count: > 0 }) Out("  (none yet: the operator has not reconciled this object)");
        else foreach (var c in s.Conditions) Out($"  {c.Type}={c.Status}  reason={c.Reason}  since={Time(c.LastTransitionTime)}  {c.Message}");
        Out("Tasks:");
        if (s?.Tasks is not { Count: > 0 }) Out("  (none reported)");
        else foreach (var t in s.Tasks) Out($"  task {t.Id}: {t.State}{(string.IsNullOrEmpty(t.Message) ? "" : "  " + FirstLine(t.Message))}");
        Out("Last trace:");
        Out(string.IsNullOrEmpty(s?.Trace) ? "  (none)" : "  " + s.Trace.Replace("\n", "\n  ", StringComparison.Ordinal));

        Out("Events (oldest first):");
        try
        {
            var events = (await api.ListAsync<Corev1Event>(ResourceKind.Event, ns, fieldSelector: $"involvedObject.name={name},involvedObject.kind={V1Alpha1ManagedConnector.KubeKind}", ct: ct)).Items
                .OrderBy(EventTime).ToList();
            if (events.Count == 0) Out("  (none: Events expire after the API server's event TTL, 1 h by default)");
            else
            {
                Out($"  {"LAST SEEN",-20}  {"TYPE",-7}  {"REASON",-22}  {"COUNT",5}  MESSAGE");
                foreach (var e in events)
                    Out($"  {Time(EventTime(e)),-20}  {e.Type,-7}  {e.Reason,-22}  {e.Count ?? 1,5}  {e.Message}");
            }
        }
        catch (HttpOperationException e) { Out($"  (cannot list Events: HTTP {(int)e.Response.StatusCode})"); }

        await PrintConfluentLogsAsync(o, mc, ct);
        return ExitOk;
    }

    private async Task PrintConfluentLogsAsync(LogsOptions o, V1Alpha1ManagedConnector mc, CancellationToken ct)
    {
        Out($"Connector logs from Confluent Cloud (last {Duration(o.Since)}):");
        if (string.IsNullOrEmpty(o.Token))
        {
            Out("  (not configured: pass --token or set CONFLUENT_LOGS_TOKEN; the platform team decides who gets a logs token)");
            return;
        }
        if (string.IsNullOrEmpty(mc.Status?.ConnectorId))
        {
            Out("  (no connector id yet: the connector has not been created in Confluent Cloud)");
            return;
        }
        // The status names the environment and cluster, so a department editor (who cannot read the cluster-scoped
        // Department through a RoleBinding) finds the connector; the Department only fills in for older statuses.
        var department = string.IsNullOrEmpty(mc.Status.EnvironmentId) || string.IsNullOrEmpty(mc.Status.KafkaClusterId) ? await FindDepartmentAsync(mc, ct) : null;
        var environment = mc.Status.EnvironmentId ?? department?.Spec.Confluent.EnvironmentId;
        var cluster = mc.Status.KafkaClusterId ?? department?.Spec.Confluent.KafkaClusterId;
        if (string.IsNullOrEmpty(environment) || string.IsNullOrEmpty(cluster))
        {
            Out($"  (the connector's status does not name its Confluent environment and cluster yet, and its Department {mc.Status.Department ?? "?"} is not readable with your rights; " +
                "the operator adds them on its next write, or ask the platform team for the per-department reader role)");
            return;
        }
        var crn = LogsSearchClient.ConnectorCrn(o.OrganizationId, environment, cluster, mc.Status.ConnectorId);
        var now = _time.GetUtcNow();
        using var ownHttp = http is null ? new HttpClient { Timeout = TimeSpan.FromSeconds(30) } : null;
        var search = new LogsSearchClient(http ?? ownHttp!, new Uri(o.LogsApiUrl ?? LogsCommand.DefaultLogsApiUrl), o.Token);
        var result = await search.SearchAsync(crn, now - o.Since, now, LogsSearchClient.DefaultLevels, o.Limit, ct);
        Out($"  crn: {crn}");
        if (result.Error != null)
        {
            Out($"  (logs search failed: {result.Error})");
            return;
        }
        if (result.Lines.Count == 0) Out("  (no log lines in this time range)");
        foreach (var l in result.Lines)
        {
            Out($"  {Time(l.Timestamp?.UtcDateTime),-20}  {l.Level,-5}  {l.TaskId ?? "connector",-9}  {l.Message}");
            if (!string.IsNullOrEmpty(l.StackTrace)) Out("      " + l.StackTrace.Replace("\n", "\n      ", StringComparison.Ordinal));
        }
    }

    /// <summary>Registers the values of the connector's referenced Secrets (if this user may read them) so they are scrubbed.</summary>
    private async Task LearnSecretValuesAsync(V1Alpha1ManagedConnector mc, CancellationToken ct)
    {
        foreach (var name in mc.Spec.SecretConfig.Select(e => e.SecretKeyRef.Name).Distinct())
        {
            try
            {
                var secret = await api.GetAsync<V1Secret>(ResourceKind.Secret, mc.Metadata.NamespaceProperty, name, ct);
                foreach (var key in secret.Data?.Keys ?? Enumerable.Empty<string>()) SecretValueRegistry.ReadFrom(secret, key);
            }
            catch (HttpOperationException) { /* not readable or missing: the pattern scrubber still applies */ }
        }
    }

    private async Task<V1Alpha1Department?> FindDepartmentAsync(V1Alpha1ManagedConnector mc, CancellationToken ct)
    {
        // Only the Department the status names, and only if readable: department members may get their own by name
        // (the per-department reader role) but never list them all, and they need neither for this report.
        if (mc.Status?.Department is not { Length: > 0 } d) return null;
        try { return await api.TryGetAsync<V1Alpha1Department>(DepartmentKind, null, d, ct); }
        catch (HttpOperationException) { return null; }
    }

    private static DateTime? EventTime(Corev1Event e) => e.LastTimestamp ?? e.EventTime ?? e.FirstTimestamp ?? e.Metadata.CreationTimestamp;

    private static string Time(DateTime? t) => t is null ? "-" : DateTime.SpecifyKind(t.Value, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();

    public static string Duration(TimeSpan t) => t.TotalHours >= 1 && t.Minutes == 0 ? $"{(int)t.TotalHours}h" : $"{(int)t.TotalMinutes}m";

    /// <summary>Parses 90s, 30m, 2h, 1d (at most 72 h, the logs search retention). Null if invalid.</summary>
    public static TimeSpan? ParseSince(string text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length < 2) return null;
        if (!int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0) return null;
        TimeSpan? t = char.ToLowerInvariant(text[^1]) switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => null,
        };
        return t is { } v && v <= LogsSearchClient.MaxHistory ? v : null;
    }
}
