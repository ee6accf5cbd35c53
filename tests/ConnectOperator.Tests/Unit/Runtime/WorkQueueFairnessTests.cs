using System.Collections.Concurrent;
using ConnectOperator.Runtime.Queues;
using ConnectOperator.Runtime.Rate;

namespace ConnectOperator.Tests.Unit.Runtime;

/// <summary>Items are "key/n"; the fairness key is the part before the slash (a namespace, in the operator).</summary>
public class WorkQueueFairnessTests
{
    private static string KeyOf(string item) => item[..item.IndexOf('/')];

    private static WorkQueue<string> NewQueue(ManualTimeProvider time, bool fair = true)
        => new("fair", new ItemExponentialFailureRateLimiter<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000)), time,
            fair ? KeyOf : null);

    private static async Task<string> Get(WorkQueue<string> q)
    {
        var (ok, item) = await q.GetAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
        Assert.That(ok, Is.True);
        return item;
    }

    /// <summary>Gets <paramref name="n"/> items, marking each done at once (a worker that finishes instantly).</summary>
    private static async Task<List<string>> Take(WorkQueue<string> q, int n)
    {
        var got = new List<string>();
        for (var i = 0; i < n; i++) { var item = await Get(q); got.Add(item); q.Done(item); }
        return got;
    }

    [Test]
    public async Task BurstOfOneKey_DoesNotStarveAnotherKey()
    {
        using var q = NewQueue(new ManualTimeProvider());
        for (var i = 0; i < 1000; i++) q.Add($"a/{i}");
        for (var i = 0; i < 10; i++) q.Add($"b/{i}");

        var first = await Take(q, 20);

        Assert.That(first.Where(x => KeyOf(x) == "b"), Is.EqualTo(Enumerable.Range(0, 10).Select(i => $"b/{i}")),
            "all of b within the first 20 gets, in order, instead of after 1,000 items of a");
        Assert.That(first.Where(x => KeyOf(x) == "a"), Is.EqualTo(Enumerable.Range(0, 10).Select(i => $"a/{i}")));
        Assert.That((q.Depth, q.ActiveFairnessKeys), Is.EqualTo((990, 1)));
    }

    [Test]
    public async Task KeysTakeTurns_FifoWithinAKey()
    {
        using var q = NewQueue(new ManualTimeProvider());
        foreach (var i in new[] { "a/1", "a/2", "a/3", "b/1", "b/2", "c/1" }) q.Add(i);
        Assert.That(await Take(q, 6), Is.EqualTo(new[] { "a/1", "b/1", "c/1", "a/2", "b/2", "a/3" }));
    }

    [Test]
    public async Task WithoutFairnessKey_OrderIsPlainFifo()
    {
        using var q = NewQueue(new ManualTimeProvider(), fair: false);
        foreach (var i in new[] { "a/1", "a/2", "a/3", "b/1", "b/2", "c/1" }) q.Add(i);
        Assert.That(q.ActiveFairnessKeys, Is.EqualTo(1), "everything shares one FIFO");
        Assert.That(await Take(q, 6), Is.EqualTo(new[] { "a/1", "a/2", "a/3", "b/1", "b/2", "c/1" }));
    }

    [Test]
    public async Task Dedup_StillHoldsWithKeys()
    {
        using var q = NewQueue(new ManualTimeProvider());
        q.Add("a/1"); q.Add("b/1"); q.Add("a/1"); q.Add("b/1"); q.Add("a/2");
        Assert.That((q.Depth, q.Adds), Is.EqualTo((3, 3L)));
        Assert.That(await Take(q, 3), Is.EqualTo(new[] { "a/1", "b/1", "a/2" }));
        Assert.That(q.Depth, Is.Zero);
    }

    [Test]
    public async Task DirtyWhileProcessing_IsQueuedInItsOwnKeyAtDone()
    {
        using var q = NewQueue(new ManualTimeProvider());
        q.Add("a/1");
        var a1 = await Get(q);
        q.Add("a/1");                        // dirty: held until Done
        q.Add("b/1"); q.Add("b/2");
        Assert.That((q.Depth, q.ActiveFairnessKeys), Is.EqualTo((2, 1)), "a/1 is not ready while processing");

        q.Done(a1);
        Assert.That((q.Depth, q.ActiveFairnessKeys), Is.EqualTo((3, 2)));
        // a joins the rotation behind b (b was already waiting), but does not wait behind all of b's items.
        Assert.That(await Take(q, 3), Is.EqualTo(new[] { "b/1", "a/1", "b/2" }));
        Assert.That(q.Depth, Is.Zero, "exactly one re-run");
    }

    [Test]
    public async Task DelayedItems_ArePromotedIntoTheirKey()
    {
        var time = new ManualTimeProvider();
        using var q = NewQueue(time);
        q.Add("a/1"); q.Add("a/2"); q.Add("a/3");
        q.AddAfter("b/1", TimeSpan.FromSeconds(10));
        q.AddRateLimited("b/2");             // 5 ms
        Assert.That((q.Depth, q.DelayedCount, q.ActiveFairnessKeys), Is.EqualTo((3, 2, 1)));

        time.Advance(TimeSpan.FromMilliseconds(5));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.That((q.Depth, q.DelayedCount, q.ActiveFairnessKeys), Is.EqualTo((5, 0, 2)));
        Assert.That(await Take(q, 5), Is.EqualTo(new[] { "a/1", "b/2", "a/2", "b/1", "a/3" }), "b's FIFO in promotion order");
    }

    [Test]
    public async Task EmptyKeys_AreDropped()
    {
        using var q = NewQueue(new ManualTimeProvider());
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 1000; i++) q.Add($"ns{round}-{i}/x");
            Assert.That((q.Depth, q.ActiveFairnessKeys), Is.EqualTo((1000, 1000)));
            await Take(q, 500);
            Assert.That((q.Depth, q.ActiveFairnessKeys), Is.EqualTo((500, 500)), "a key whose FIFO empties is removed");
            await Take(q, 500);
            Assert.That((q.Depth, q.ActiveFairnessKeys), Is.EqualTo((0, 0)), "state follows ready keys, not keys ever seen");
        }
    }

    [Test]
    public async Task Depth_CountsReadyItemsAcrossKeys()
    {
        var time = new ManualTimeProvider();
        using var q = NewQueue(time);
        q.Add("a/1"); q.Add("a/2"); q.Add("b/1"); q.Add("c/1");
        q.AddAfter("d/1", TimeSpan.FromSeconds(1));
        Assert.That(q.Depth, Is.EqualTo(4), "delayed items are not ready");
        var first = await Get(q);
        Assert.That((q.Depth, q.ProcessingCount), Is.EqualTo((3, 1)), "processing items are not ready");
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(q.Depth, Is.EqualTo(4));
        q.Done(first);
        await Take(q, 4);
        Assert.That(q.Depth, Is.Zero);
    }

    [Test]
    public async Task ShutDown_DrainsEveryKey()
    {
        using var q = NewQueue(new ManualTimeProvider());
        foreach (var i in new[] { "a/1", "a/2", "b/1", "c/1", "c/2" }) q.Add(i);
        q.ShutDown();
        q.Add("d/1");
        Assert.That(await Take(q, 5), Is.EquivalentTo(new[] { "a/1", "a/2", "b/1", "c/1", "c/2" }));
        var end = await q.GetAsync();
        Assert.That(end.Ok, Is.False, "d/1 was added after shutdown");
        Assert.That(q.ActiveFairnessKeys, Is.Zero);
    }

    [Test]
    public async Task ConcurrentWorkers_ProcessEveryItemOnce_AcrossKeys()
    {
        using var q = new WorkQueue<string>("fair-conc", new ItemExponentialFailureRateLimiter<string>(TimeSpan.Zero, TimeSpan.Zero), fairnessKey: KeyOf);
        var inFlight = new ConcurrentDictionary<string, int>();
        var seen = new ConcurrentDictionary<string, int>();
        var violations = 0;
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var (ok, k) = await q.GetAsync();
                if (!ok) return;
                if (inFlight.AddOrUpdate(k, 1, (_, v) => v + 1) > 1) Interlocked.Increment(ref violations);
                seen.AddOrUpdate(k, 1, (_, v) => v + 1);
                await Task.Yield();
                inFlight.AddOrUpdate(k, 0, (_, v) => v - 1);
                q.Done(k);
            }
        })).ToList();
        for (var i = 0; i < 2000; i++) { q.Add($"ns{i % 7}/{i}"); if (i % 50 == 0) await Task.Yield(); }
        await Task.Delay(100);
        q.ShutDown();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(violations, Is.Zero);
        Assert.That(seen.Count, Is.EqualTo(2000), "every distinct item handed out (none lost in a per-key FIFO)");
        Assert.That(seen.Values.All(v => v == 1), Is.True, "items added once are processed once");
        Assert.That((q.Depth, q.ActiveFairnessKeys), Is.EqualTo((0, 0)));
    }
}
