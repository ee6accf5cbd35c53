using ConnectOperator.Runtime;

namespace ConnectOperator.Tests.Unit.Runtime;

public class HeapGoalTests
{
    private const long MB = 1 << 20;

    [Test]
    public void Goal_is_the_live_heap_plus_the_percentage()
    {
        var o = new HeapGoalOptions { Percent = 50, MinimumHeadroomMegabytes = 16 };
        Assert.That(HeapGoalPolicy.GoalBytes(100 * MB, o), Is.EqualTo(150 * MB));
        Assert.That(HeapGoalPolicy.ShouldCollect(150 * MB, 100 * MB, o), Is.False);
        Assert.That(HeapGoalPolicy.ShouldCollect(151 * MB, 100 * MB, o), Is.True);
    }

    [Test]
    public void A_small_heap_gets_the_minimum_headroom_not_a_collection_per_megabyte()
    {
        var o = new HeapGoalOptions { Percent = 50, MinimumHeadroomMegabytes = 16 };
        Assert.That(HeapGoalPolicy.GoalBytes(10 * MB, o), Is.EqualTo(26 * MB));
        Assert.That(HeapGoalPolicy.ShouldCollect(20 * MB, 10 * MB, o), Is.False);
        // Before the first full collection nothing is known to be live: the headroom alone is the goal.
        Assert.That(HeapGoalPolicy.ShouldCollect(17 * MB, 0, o), Is.True);
    }

    [Test]
    public void Percent_zero_leaves_collections_to_the_GC()
    {
        var o = new HeapGoalOptions { Percent = 0 };
        Assert.That(HeapGoalPolicy.ShouldCollect(long.MaxValue / 2, 1 * MB, o), Is.False);
    }
}
