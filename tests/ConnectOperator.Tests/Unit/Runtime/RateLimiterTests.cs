using ConnectOperator.Runtime.Rate;

namespace ConnectOperator.Tests.Unit.Runtime;

public class RateLimiterTests
{
    [Test]
    public void ItemExponential_DoublesPerFailure_CapsAndForgetResets()
    {
        var l = new ItemExponentialFailureRateLimiter<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000));
        var delays = Enumerable.Range(0, 5).Select(_ => l.When("a")).ToList();
        Assert.That(delays, Is.EqualTo(new[] { 5, 10, 20, 40, 80 }.Select(ms => TimeSpan.FromMilliseconds(ms))));
        Assert.That(l.NumRequeues("a"), Is.EqualTo(5));
        Assert.That(l.When("b"), Is.EqualTo(TimeSpan.FromMilliseconds(5)), "per item");
        for (var i = 0; i < 30; i++) l.When("a");
        Assert.That(l.When("a"), Is.EqualTo(TimeSpan.FromSeconds(1000)), "capped");
        l.Forget("a");
        Assert.That(l.NumRequeues("a"), Is.Zero);
        Assert.That(l.When("a"), Is.EqualTo(TimeSpan.FromMilliseconds(5)));
    }

    [Test]
    public void Bucket_AllowsBurstThenSpacesAtQps_AndRefills()
    {
        var time = new ManualTimeProvider();
        var b = new BucketRateLimiter<string>(qps: 10, burst: 3, time);
        Assert.That(Enumerable.Range(0, 3).Select(i => b.When("x" + i)), Is.All.EqualTo(TimeSpan.Zero));
        Assert.That(b.When("y").TotalMilliseconds, Is.EqualTo(100).Within(0.001));
        Assert.That(b.When("z").TotalMilliseconds, Is.EqualTo(200).Within(0.001));
        time.Advance(TimeSpan.FromSeconds(10));   // refill to burst, not beyond
        Assert.That(Enumerable.Range(0, 3).Select(i => b.When("w" + i)), Is.All.EqualTo(TimeSpan.Zero));
        Assert.That(b.When("v"), Is.GreaterThan(TimeSpan.Zero));
    }

    [Test]
    public void DefaultController_IsMaxOfItemBackoffAndGlobalBucket()
    {
        var time = new ManualTimeProvider();
        var l = RateLimiters.DefaultController<string>(time, qps: 10, burst: 2);
        Assert.That(l.When("a"), Is.EqualTo(TimeSpan.FromMilliseconds(5)), "item backoff wins while tokens remain");
        Assert.That(l.When("a"), Is.EqualTo(TimeSpan.FromMilliseconds(10)));
        Assert.That(l.When("b").TotalMilliseconds, Is.EqualTo(100).Within(0.001), "bucket empty: global limit wins");
        l.Forget("a");
        Assert.That(l.NumRequeues("a"), Is.Zero);
    }
}
