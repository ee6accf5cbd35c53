using k8s;
using k8s.LeaderElection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnectOperator.Runtime.Leadership;

public sealed class LeaderElectionOptions
{
    /// <summary>false: this replica is leader at once (single replica, local runs, tests).</summary>
    public bool Enabled { get; set; } = true;
    public string LeaseName { get; set; } = "connect-operator-leader";
    public string LeaseNamespace { get; set; } = "default";
    public string Identity { get; set; } = $"{Environment.MachineName}_{Guid.NewGuid():N}";
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);
    public TimeSpan RenewDeadline { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan RetryPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Give the Lease up when <see cref="LeaderElection.RunAsync"/> is cancelled while leading (client-go's ReleaseOnCancel),
    /// so the next replica of a rolling update takes over within a retry period instead of waiting out the lease duration.
    /// Safe only because the host cancels the election after its controllers have stopped (<see cref="OperatorRuntime"/>).
    /// </summary>
    public bool ReleaseOnCancel { get; set; } = true;
}

/// <summary>
/// Leader election on a coordination.k8s.io Lease through KubernetesClient's <see cref="LeaderElector"/> (with <see cref="KubeLeaseLock"/>).
/// Policy (documented choice): only the leader runs controller workers; every replica keeps informers warm (webhooks read them).
/// On lost leadership <see cref="LostLeadership"/> fires, the host stops the workers, and this class campaigns again; when it wins
/// again the controllers restart with a fresh queue seeded from the cache. (controller-runtime exits the process instead; we avoid
/// a restart but the contract is the same: no reconcile runs after <see cref="LostLeadership"/> returns.)
/// </summary>
public sealed class LeaderElection
{
    private readonly Func<ILock> _newLock;
    private readonly LeaderElectionOptions _opts;
    private readonly ILogger _log;
    private volatile bool _isLeader;
    private volatile string? _leader;
    private TaskCompletionSource _leading = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LeaderElection(KubeApiClient api, LeaderElectionOptions options, ILogger? logger = null)
        : this(() => new KubeLeaseLock(api, options.LeaseNamespace, options.LeaseName, options.Identity), options, logger)
    {
    }

    /// <summary>Over any lock (tests use an in-memory Lease).</summary>
    internal static LeaderElection ForLock(Func<ILock> newLock, LeaderElectionOptions options, ILogger? logger = null) => new(newLock, options, logger);

    private LeaderElection(Func<ILock> newLock, LeaderElectionOptions options, ILogger? logger)
    {
        _newLock = newLock;
        _opts = options;
        _log = logger ?? NullLogger.Instance;
    }

    public string Identity => _opts.Identity;

    public bool IsLeader => _isLeader;

    /// <summary>The identity holding the lease, as last observed.</summary>
    public string? CurrentLeader => _leader;

    public event Action? BecameLeader;
    public event Action? LostLeadership;

    /// <summary>Completes when this replica leads (immediately if it does now).</summary>
    public Task WhenLeaderAsync(CancellationToken ct = default) => Volatile.Read(ref _leading).Task.WaitAsync(ct);

    /// <summary>
    /// Campaigns, holds, and re-campaigns after a loss, until <paramref name="ct"/> fires; then leadership is given up and,
    /// with <see cref="LeaderElectionOptions.ReleaseOnCancel"/>, the Lease is released. Cancel only once nothing guarded by
    /// the Lease runs any more.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (!_opts.Enabled)
        {
            _leader = _opts.Identity;
            SetLeading(true);
            try { await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false); } catch (OperationCanceledException) { }
            SetLeading(false);
            return;
        }
        while (!ct.IsCancellationRequested)
        {
            var lease = _newLock();
            var led = false;
            using var elector = new LeaderElector(new LeaderElectionConfig(lease)
            {
                LeaseDuration = _opts.LeaseDuration,
                RenewDeadline = _opts.RenewDeadline,
                RetryPeriod = _opts.RetryPeriod,
            });
            elector.OnStartedLeading += () => { led = true; SetLeading(true); };
            elector.OnStoppedLeading += () => SetLeading(false);
            elector.OnNewLeader += id => { _leader = id; _log.NewLeader(id, _opts.LeaseName); };
            elector.OnError += e => _log.ElectionError(e);
            try { await elector.RunUntilLeadershipLostAsync(ct).ConfigureAwait(false); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            catch (Exception e)
            {
                _log.ElectionFailed(e);
                try { await Task.Delay(_opts.RetryPeriod, ct).ConfigureAwait(false); } catch (OperationCanceledException) { }
            }
            if (led && ct.IsCancellationRequested && _opts.ReleaseOnCancel) await ReleaseAsync(lease).ConfigureAwait(false);
            SetLeading(false);
        }
    }

    /// <summary>
    /// Writes the Lease with no holder, as client-go's release does: any candidate may then take it at its next retry.
    /// The read first makes the write conditional on the Lease still being ours (the lock replaces the version it read),
    /// so a release can never take the Lease from a replica that already won it.
    /// </summary>
    private async Task ReleaseAsync(ILock lease)
    {
        using var timeout = new CancellationTokenSource(_opts.RenewDeadline);
        var name = lease.Describe();
        try
        {
            var current = await lease.GetAsync(timeout.Token).ConfigureAwait(false);
            if (current.HolderIdentity != _opts.Identity) return;
            var now = DateTime.UtcNow;
            var released = new LeaderElectionRecord
            {
                HolderIdentity = "",
                LeaseDurationSeconds = 1,
                AcquireTime = now,
                RenewTime = now,
                LeaderTransitions = current.LeaderTransitions,
            };
            if (await lease.UpdateAsync(released, timeout.Token).ConfigureAwait(false))
                _log.LeaseReleased(_opts.Identity, name);
            else
                _log.LeaseNotReleased(_opts.Identity, name);
        }
        catch (Exception e)
        {
            _log.LeaseReleaseFailed(e, name);
        }
    }

    private void SetLeading(bool leading)
    {
        if (leading == _isLeader) return;
        _isLeader = leading;
        if (leading)
        {
            _log.BecameLeader(_opts.Identity);
            _leading.TrySetResult();
            Invoke(BecameLeader);
        }
        else
        {
            _log.LostLeadership(_opts.Identity);
            Volatile.Write(ref _leading, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            Invoke(LostLeadership);
        }
    }

    private void Invoke(Action? a)
    {
        try { a?.Invoke(); }
        catch (Exception e) { _log.ElectionHandlerThrew(e); }
    }
}
