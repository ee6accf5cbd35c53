using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using ConnectOperator.Confluent;
using ConnectOperator.Confluent.Metrics;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;

namespace ConnectOperator.Observability;

/// <summary>The connectors (by <c>lcc-…</c> id) whose throughput one credential queries.</summary>
public sealed record ThroughputTarget(ConnectCredentials Credentials, IReadOnlyCollection<string> ConnectorIds);

/// <summary>Records of one connector in one minute.</summary>
public sealed record ConnectorThroughput(double Sent, double Received, double DeadLetterQueue, DateTimeOffset Minute);

/// <summary>
/// Leader-only: every interval, per credential, three Metrics API queries (sent, received, dead-letter queue records;
/// SUM grouped by <c>resource.connector.id</c>, filtered on that credential's connector ids, over the last complete
/// minute). Never more than 3 requests per credential per interval (more only if a key has over 1000 connectors: one
/// query per 1000 ids), and never more than <see cref="ThroughputOptions.MaxRequestsPerMinute"/> for the whole operator:
/// beyond that budget, credentials wait for the next window (batches). Values are dropped when a connector leaves the
/// targets, when a query for its credential fails, and when leadership is lost.
/// </summary>
public sealed partial class ThroughputPoller : IDisposable
{
    /// <summary>Metric data arrives with a delay: the queried minute ended at least this long ago.</summary>
    public static readonly TimeSpan DataLag = TimeSpan.FromMinutes(1);

    private static readonly string[] QueriedMetrics = [ConnectMetrics.SentRecords, ConnectMetrics.ReceivedRecords, ConnectMetrics.DeadLetterQueueRecords];

    private readonly MetricsClientFactory _clients;
    private readonly Func<IReadOnlyCollection<ThroughputTarget>> _targets;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly RateLimiter _budget;
    private readonly ConcurrentDictionary<string, ConnectorThroughput> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lastQueried = new(StringComparer.Ordinal);
    private long _queries;

    public ThroughputPoller(MetricsClientFactory clients, Func<IReadOnlyCollection<ThroughputTarget>> targets, TimeSpan interval, int requestsPerMinute,
        ILogger<ThroughputPoller> logger, TimeProvider? time = null)
    {
        _clients = clients;
        _targets = targets;
        _interval = interval;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _budget = new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
        {
            PermitLimit = Math.Clamp(requestsPerMinute, 1, 60),
            Window = TimeSpan.FromMinutes(1),
            SegmentsPerWindow = 12,
            AutoReplenishment = true,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public TimeSpan Interval => _interval;

    /// <summary>Metrics API queries sent by this poller (tests).</summary>
    public long Queries => Interlocked.Read(ref _queries);

    /// <summary>The last values of a connector, or null (not queried yet, failed, or this replica does not lead).</summary>
    public ConnectorThroughput? Get(string connectorId) => _values.TryGetValue(connectorId, out var v) ? v : null;

    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var targets = _targets();
                var live = new HashSet<string>(targets.SelectMany(t => t.ConnectorIds), StringComparer.Ordinal);
                foreach (var gone in _values.Keys.Where(k => !live.Contains(k)).ToList()) _values.TryRemove(gone, out _);

                foreach (var target in targets.OrderBy(t => _lastQueried.GetValueOrDefault(t.Credentials.ApiKey)))
                {
                    if (ct.IsCancellationRequested) return;
                    var key = target.Credentials.ApiKey;
                    if (_lastQueried.TryGetValue(key, out var last) && _time.GetUtcNow() - last < _interval) continue;
                    if (target.ConnectorIds.Count == 0) continue;
                    _lastQueried[key] = _time.GetUtcNow();
                    await QueryAsync(target, ct);
                }

                var now = _time.GetUtcNow();
                var next = targets.Count == 0 ? now + _interval
                    : targets.Select(t => _lastQueried.TryGetValue(t.Credentials.ApiKey, out var l) ? l + _interval : now).Min();
                var delay = next - now;
                // Re-read the targets at least every few seconds so that new connectors are not a whole interval late
                // on their first query, and deleted ones lose their series promptly.
                if (delay > TimeSpan.FromSeconds(5)) delay = TimeSpan.FromSeconds(5);
                if (delay < TimeSpan.FromMilliseconds(100)) delay = TimeSpan.FromMilliseconds(100);
                await Task.Delay(delay, _time, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally
        {
            // Lost leadership or shutdown: a follower exports no throughput, and the next leader starts fresh.
            _values.Clear();
            _lastQueried.Clear();
        }
    }

    private async Task QueryAsync(ThroughputTarget target, CancellationToken ct)
    {
        var client = _clients.Create(target.Credentials);
        var minute = MetricsQuery.LastCompleteMinute(_time.GetUtcNow(), DataLag);
        var ids = target.ConnectorIds.Distinct(StringComparer.Ordinal).OrderBy(i => i, StringComparer.Ordinal).ToList();
        var results = new Dictionary<string, double>[QueriedMetrics.Length];
        try
        {
            for (var m = 0; m < QueriedMetrics.Length; m++)
            {
                results[m] = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var chunk in ids.Chunk(ConnectMetrics.MaxGroups))
                {
                    using var lease = await _budget.AcquireAsync(1, ct);
                    Interlocked.Increment(ref _queries);
                    foreach (var (id, v) in await client.QueryPerConnectorAsync(QueriedMetrics[m], chunk, minute, ct)) results[m][id] = v;
                }
            }
        }
        catch (Exception e) when (e is MetricsApiException or ArgumentException)
        {
            QueryFailed(_logger, target.Credentials.ApiKey, e.Message);
            foreach (var id in ids) _values.TryRemove(id, out _);
            return;
        }
        // A connector without a data point moved no records in that minute.
        foreach (var id in ids)
            _values[id] = new ConnectorThroughput(results[0].GetValueOrDefault(id), results[1].GetValueOrDefault(id), results[2].GetValueOrDefault(id), minute);
    }

    public void Dispose() => _budget.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "throughput query for API key {ApiKey} failed: {Error}")]
    private static partial void QueryFailed(ILogger log, string apiKey, string error);

    /// <summary>Runs the poller as a leader-only "controller", so it starts and stops with leadership.</summary>
    internal sealed class AsController(ThroughputPoller poller) : IController
    {
        public string Name => "throughput-poller";
        public IReadOnlyList<IInformer> Informers => Array.Empty<IInformer>();
        public Task RunAsync(CancellationToken ct) => poller.RunAsync(ct);
    }
}
