using ConnectOperator.Runtime.Caching;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnectOperator.Runtime.Leadership;

/// <summary>
/// Hosted service tying it together: runs every informer on every replica (caches stay warm), and runs the controllers
/// only while <see cref="LeaderElection"/> says this replica leads (stopped on loss, restarted on re-election).
/// </summary>
public sealed class OperatorRuntime(LeaderElection election, IEnumerable<IInformer> informers, IEnumerable<IController> controllers, ILogger<OperatorRuntime>? logger = null)
    : BackgroundService
{
    private readonly ILogger _log = (ILogger?)logger ?? NullLogger.Instance;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var allInformers = informers.Concat(controllers.SelectMany(c => c.Informers)).Distinct().ToList();
        var informerTasks = allInformers.Select(i => Task.Run(() => i.RunAsync(stoppingToken), CancellationToken.None)).ToList();
        // The election stops only after the controllers have: with ReleaseOnCancel the Lease is given up at once, and the
        // next leader must not start while a reconcile of ours is still running.
        using var electionStop = new CancellationTokenSource();
        var electionTask = Task.Run(() => election.RunAsync(electionStop.Token), CancellationToken.None);
        try
        {
            await LeadWhileElectedAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            await electionStop.CancelAsync().ConfigureAwait(false);
        }
        await Task.WhenAll(informerTasks.Append(electionTask)).ConfigureAwait(false);
    }

    private async Task LeadWhileElectedAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await election.WhenLeaderAsync(stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
            using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            void OnLost() => term.Cancel();
            election.LostLeadership += OnLost;
            try
            {
                if (!election.IsLeader) continue;
                var count = controllers.Count();
                _log.StartingControllers(count);
                await Task.WhenAll(controllers.Select(c => Task.Run(() => c.RunAsync(term.Token), CancellationToken.None))).ConfigureAwait(false);
            }
            finally { election.LostLeadership -= OnLost; }
        }
    }
}
