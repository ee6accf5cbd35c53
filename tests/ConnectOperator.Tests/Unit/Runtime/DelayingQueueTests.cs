using ConnectOperator.Runtime.Queues;
using ConnectOperator.Runtime.Rate;

namespace ConnectOperator.Tests.Unit.Runtime;

/// <summary>The delayed half of <see cref="WorkQueue{T}"/> against client-go's delaying_queue semantics.</summary>
public class DelayingQueueTests
{
    private static WorkQueue<string> NewQueue(ManualTimeProvider time)
        => new("delaying", new ItemExponentialFailureRateLimiter<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000)), time);

    private static List<string> Drain(WorkQueue<string> q)
    {
        var got = new List<string>();
        while (q.Depth > 0)
        {
            var (ok, item) = q.GetAsync().AsTask().GetAwaiter().GetResult();
            Assert.That(ok, Is.True);
            got.Add(item);
            q.Done(item);
        }
        return got;
    }

    [Test]
    public void ManyDelayedItems_BecomeReadyInReadyTimeOrder_NotInsertionOrder()
    {
        var time = new ManualTimeProvider();
        using var q = NewQueue(time);
        var rnd = new Random(17);
        var delays = Enumerable.Range(0, 5000).ToDictionary(i => "k" + i, _ => TimeSpan.FromMilliseconds(rnd.Next(1, 100_000)));
        foreach (var (k, d) in delays) q.AddAfter(k, d);
        Assert.That(q.DelayedCount, Is.EqualTo(5000));

        var delivered = new List<string>();
        for (var t = 0; t < 100; t++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            var now = TimeSpan.FromSeconds(t + 1);
            var batch = Drain(q);
            Assert.That(batch.All(k => delays[k] <= now), Is.True, "nothing is handed out before its time");
            delivered.AddRange(batch);
            Assert.That(delays.Where(kv => kv.Value <= now).Select(kv => kv.Key), Is.SubsetOf(delivered), "everything due is handed out");
        }
        Assert.That(delivered, Is.EquivalentTo(delays.Keys), "each exactly once");
        Assert.That(q.DelayedCount, Is.Zero);
    }

    [Test]
    public void EarlierAddAfter_Supersedes_AndTheStaleEntryDoesNotDeliverAgain()
    {
        var time = new ManualTimeProvider();
        using var q = NewQueue(time);
        q.AddAfter("a", TimeSpan.FromSeconds(10));
        q.AddAfter("a", TimeSpan.FromSeconds(3));
        Assert.That(q.DelayedCount, Is.EqualTo(1));
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.That(Drain(q), Is.EqualTo(new[] { "a" }));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(q.Depth, Is.Zero, "the superseded 10 s entry is dead");
        Assert.That(q.DelayedCount, Is.Zero);
    }

    [Test]
    public void ImmediateAdd_DropsTheDelayedAdd()
    {
        var time = new ManualTimeProvider();
        using var q = NewQueue(time);
        q.AddAfter("a", TimeSpan.FromSeconds(5));
        q.Add("a");
        Assert.That(Drain(q), Is.EqualTo(new[] { "a" }));
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.That(q.Depth, Is.Zero, "delivered once for one intent");
    }

    [Test]
    public void ReAddedLater_AfterADeadEntry_KeepsTheNewTime()
    {
        var time = new ManualTimeProvider();
        using var q = NewQueue(time);
        q.AddAfter("a", TimeSpan.FromSeconds(5));
        q.Add("a");
        Drain(q);
        q.AddAfter("a", TimeSpan.FromSeconds(8));   // the dead 5 s entry must not deliver it early
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(q.Depth, Is.Zero);
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.That(Drain(q), Is.EqualTo(new[] { "a" }));
    }

    [Test]
    public void ManyImmediateAddsOverDelayedOnes_DoNotLoseLiveEntries()
    {
        // Exercises the heap compaction: far more dead entries than live ones.
        var time = new ManualTimeProvider();
        using var q = NewQueue(time);
        for (var round = 0; round < 50; round++)
        {
            for (var i = 0; i < 100; i++) q.AddAfter("dead" + i, TimeSpan.FromSeconds(30));
            for (var i = 0; i < 100; i++) q.Add("dead" + i);
            Drain(q);
        }
        q.AddAfter("live", TimeSpan.FromSeconds(1));
        for (var i = 0; i < 100; i++) { q.AddAfter("x" + i, TimeSpan.FromSeconds(30)); q.Add("x" + i); }
        Drain(q);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(Drain(q), Is.EqualTo(new[] { "live" }));
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.That(q.Depth, Is.Zero);
    }
}
