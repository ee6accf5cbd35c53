using System.Collections.Concurrent;
using ConnectOperator.Runtime.Queues;
using ConnectOperator.Runtime.Rate;

namespace ConnectOperator.Tests.Unit.Runtime;

public class WorkQueueTests
{
    private static WorkQueue<string> NewQueue(ManualTimeProvider time, IRateLimiter<string>? limiter = null)
        => new("test", limiter ?? new ItemExponentialFailureRateLimiter<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000)), time);

    private static async Task<string> Get(WorkQueue<string> q)
    {
        var (ok, item) = await q.GetAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
        Assert.That(ok, Is.True);
        return item;
    }

    [Test]
    public async Task Add_DeduplicatesQueuedKeys()
    {
        using var q = NewQueue(new ManualTimeProvider());
        q.Add("a"); q.Add("b"); q.Add("a");
        Assert.That(q.Depth, Is.EqualTo(2));
        Assert.That(q.Adds, Is.EqualTo(2));
        Assert.That(await Get(q), Is.EqualTo("a"));
        Assert.That(await Get(q), Is.EqualTo("b"));
        Assert.That(q.Depth, Is.Zero);
    }

    [Test]
    public async Task ReAddWhileProcessing_IsHeldUntilDone()
    {
        using var q = NewQueue(new ManualTimeProvider());
        q.Add("a");
        var item = await Get(q);
        q.Add("a"); q.Add("a");
        Assert.That(q.Depth, Is.Zero, "must not be handed to a second worker while processing");
        var second = q.GetAsync(CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.That(second.IsCompleted, Is.False);
        q.Done(item);
        var (ok, again) = await second.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That((ok, again), Is.EqualTo((true, "a")));
        q.Done("a");
        Assert.That(q.Depth, Is.Zero, "dirty flag cleared: exactly one re-run");
    }

    [Test]
    public async Task ConcurrentWorkers_NeverProcessOneKeyTwiceAtOnce()
    {
        using var q = new WorkQueue<string>("conc", new ItemExponentialFailureRateLimiter<string>(TimeSpan.Zero, TimeSpan.Zero));
        var inFlight = new ConcurrentDictionary<string, int>();
        var violations = 0;
        var processed = 0;
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var (ok, k) = await q.GetAsync();
                if (!ok) return;
                if (inFlight.AddOrUpdate(k, 1, (_, v) => v + 1) > 1) Interlocked.Increment(ref violations);
                await Task.Yield();
                Thread.SpinWait(2000);
                inFlight.AddOrUpdate(k, 0, (_, v) => v - 1);
                Interlocked.Increment(ref processed);
                q.Done(k);
            }
        })).ToList();
        for (var i = 0; i < 2000; i++) { q.Add("k" + (i % 3)); if (i % 50 == 0) await Task.Yield(); }
        await Task.Delay(200);
        q.ShutDown();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(violations, Is.Zero);
        Assert.That(processed, Is.GreaterThanOrEqualTo(3));
    }

    [Test]
    public async Task AddAfter_DeliversWhenDue_AndEarlierAddSupersedes()
    {
        var time = new ManualTimeProvider();
        using var q = NewQueue(time);
        q.AddAfter("a", TimeSpan.FromSeconds(10));
        Assert.That((q.Depth, q.DelayedCount), Is.EqualTo((0, 1)));
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.That(q.Depth, Is.Zero);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(q.Depth, Is.EqualTo(1));
        q.Done(await Get(q));

        q.AddAfter("b", TimeSpan.FromSeconds(10));
        q.AddAfter("b", TimeSpan.FromSeconds(2));   // earlier wins
        q.AddAfter("b", TimeSpan.FromSeconds(30));  // later is ignored
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(q.Depth, Is.EqualTo(1));
        q.Done(await Get(q));
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.That((q.Depth, q.DelayedCount), Is.EqualTo((0, 0)), "superseded delayed adds never fire");

        q.AddAfter("c", TimeSpan.FromSeconds(5));
        q.Add("c");                                  // immediate add supersedes the delayed one
        q.Done(await Get(q));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(q.Depth, Is.Zero);
    }

    [Test]
    public async Task AddRateLimited_BacksOffExponentially_ForgetResets()
    {
        var time = new ManualTimeProvider();
        using var q = NewQueue(time);
        foreach (var expectedMs in new[] { 5, 10, 20 })
        {
            q.AddRateLimited("a");
            time.Advance(TimeSpan.FromMilliseconds(expectedMs - 1));
            Assert.That(q.Depth, Is.Zero, $"not before {expectedMs} ms");
            time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.That(q.Depth, Is.EqualTo(1), $"at {expectedMs} ms");
            q.Done(await Get(q));
        }
        Assert.That(q.NumRequeues("a"), Is.EqualTo(3));
        Assert.That(q.Retries, Is.EqualTo(3));
        q.Forget("a");
        Assert.That(q.NumRequeues("a"), Is.Zero);
        q.AddRateLimited("a");
        time.Advance(TimeSpan.FromMilliseconds(5));
        Assert.That(q.Depth, Is.EqualTo(1));
    }

    [Test]
    public async Task GlobalBucket_DelaysBeyondBurst()
    {
        var time = new ManualTimeProvider();
        using var q = NewQueue(time, RateLimiters.DefaultController<string>(time, qps: 10, burst: 2));
        q.AddRateLimited("a"); q.AddRateLimited("b"); q.AddRateLimited("c");
        time.Advance(TimeSpan.FromMilliseconds(5));
        Assert.That(q.Depth, Is.EqualTo(2), "burst of 2 after the 5 ms item delay");
        time.Advance(TimeSpan.FromMilliseconds(95));
        Assert.That(q.Depth, Is.EqualTo(3), "third after 1/qps");
        await Task.CompletedTask;
    }

    [Test]
    public async Task ShutDown_DrainsQueuedItems_ThenReportsShutdown()
    {
        var time = new ManualTimeProvider();
        using var q = NewQueue(time);
        q.Add("a"); q.Add("b");
        q.AddAfter("late", TimeSpan.FromSeconds(1));
        var processing = await Get(q);
        q.ShutDown();
        q.Add("c");
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Get(q), Is.EqualTo("b"));
        var end = await q.GetAsync();
        Assert.That(end.Ok, Is.False, "c (added after shutdown) and the delayed item are dropped");

        Assert.That(q.ProcessingCount, Is.EqualTo(2), "shutdown does not forget in-flight items");
        q.Done(processing); q.Done("b");
        Assert.That(q.ProcessingCount, Is.Zero);
    }

    [Test]
    public async Task LongestRunningProcessor_ReportsOldestInFlightItem()
    {
        var time = new ManualTimeProvider();
        using var q = NewQueue(time);
        q.Add("a");
        var a = await Get(q);
        time.Advance(TimeSpan.FromSeconds(3));
        q.Add("b");
        await Get(q);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(q.LongestRunningProcessor, Is.EqualTo(TimeSpan.FromSeconds(4)));
        q.Done(a);
        Assert.That(q.LongestRunningProcessor, Is.EqualTo(TimeSpan.FromSeconds(1)));
    }
}
