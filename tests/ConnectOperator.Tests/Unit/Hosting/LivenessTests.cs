using ConnectOperator.Hosting;
using ConnectOperator.Runtime.Queues;
using ConnectOperator.Tests.Unit.Runtime;
using static ConnectOperator.Hosting.Liveness;

namespace ConnectOperator.Tests.Unit.Hosting;

/// <summary>/healthz fails when the operator is wedged (a watch or the work queue stuck), and only then.</summary>
public sealed class LivenessTests
{
    private static readonly TimeSpan Watch = TimeSpan.FromSeconds(630);
    private static readonly LivenessOptions Options = new();

    private static string? Decide(InformerState[]? informers = null, QueueState[]? queues = null)
        => Problem(informers ?? [], queues ?? [], Options);

    [Test]
    public void Informers_within_a_few_watch_lifetimes_and_idle_or_moving_queues_are_healthy()
    {
        Assert.That(Decide(
            [new("secrets", TimeSpan.FromSeconds(5), Watch), new("departments", Watch * 2.9, Watch), new("not-started", null, Watch)],
            [
                new("idle", new QueueProgress(0, 0, TimeSpan.FromHours(5), TimeSpan.Zero)),
                new("busy", new QueueProgress(5000, 4, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30))),
                new("standby", null),
            ]), Is.Null);
    }

    [Test]
    public void An_informer_without_list_or_watch_progress_for_longer_than_its_limit_is_wedged()
    {
        var problem = Decide([new("secrets", Watch * 3 + TimeSpan.FromSeconds(1), Watch)]);
        Assert.That(problem, Does.Contain("informer secrets").And.Contain("1891 s").And.Contain("limit 1890 s"));
    }

    [Test]
    public void A_queue_with_work_and_no_worker_progress_is_wedged()
    {
        var problem = Decide(queues: [new("managedconnector", new QueueProgress(12, 0, TimeSpan.FromMinutes(11), TimeSpan.Zero))]);
        Assert.That(problem, Does.Contain("controller managedconnector: 12 queued, 0 in progress"));
    }

    [Test]
    public void One_reconcile_running_past_the_limit_is_wedged_even_while_other_workers_move()
    {
        var problem = Decide(queues: [new("department", new QueueProgress(0, 2, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(12)))]);
        Assert.That(problem, Does.Contain("controller department: one reconcile running for 720 s"));
    }

    [Test]
    public void Every_stuck_part_is_named()
    {
        var problem = Decide([new("a", TimeSpan.FromHours(2), Watch), new("b", TimeSpan.FromSeconds(1), Watch)],
            [new("q", new QueueProgress(1, 0, TimeSpan.FromHours(1), TimeSpan.Zero))]);
        Assert.That(problem, Does.Contain("informer a").And.Contain("controller q").And.Not.Contain("informer b"));
    }

    [Test]
    public async Task A_real_work_queue_reports_its_progress()
    {
        var time = new ManualTimeProvider();
        using var queue = new WorkQueue<string>("q", time: time);
        QueueState State() => new("q", queue.Progress);
        queue.Add("x");
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.That(Decide(queues: [State()]), Does.Contain("1 queued"), "nobody took the item");
        var (ok, item) = await queue.GetAsync();
        Assert.That(ok, Is.True);
        Assert.That(Decide(queues: [State()]), Is.Null, "a worker took it just now");
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.That(Decide(queues: [State()]), Does.Contain("one reconcile running for 660 s"));
        queue.Done(item);
        Assert.That(Decide(queues: [State()]), Is.Null);
        time.Advance(TimeSpan.FromHours(1));
        Assert.That(Decide(queues: [State()]), Is.Null, "an empty queue is idle, not stuck");
    }
}
