using ConnectOperator.Policy;

namespace ConnectOperator.Tests.Unit.Policy;

public class QuotaMathTests
{
    private static readonly QuotaLimits Quota = new("finance-quota", Connectors: 3, Tasks: 20, TasksPerConnector: 8);

    private static ConnectorCandidate C(string name, int tasks, int minutesAgo = 0)
        => new("finance", name, "DatagenSource", tasks, new Dictionary<string, string>(), Array.Empty<string>(),
            new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero).AddMinutes(-minutesAgo));

    [Test]
    public void Usage_counts_connectors_tasks_and_the_largest_connector()
        => Assert.That(QuotaMath.Usage(new[] { C("a", 2), C("b", 5) }), Is.EqualTo(new QuotaUsage(2, 7, 5)));

    [TestCase(0, 0, 4, null, "")]
    [TestCase(2, 18, 2, null, "")]
    [TestCase(2, 18, 4, null, "exceeded quota finance-quota: requested tasks=4, used tasks=18, limited tasks=20")]
    [TestCase(3, 10, 1, null, "exceeded quota finance-quota: requested connectors=1, used connectors=3, limited connectors=3")]
    [TestCase(1, 1, 9, null, "exceeded quota finance-quota: requested tasksPerConnector=9, limited tasksPerConnector=8; lower spec.tasksMax to 8 or less")]
    [TestCase(3, 18, 4, 2, "")]
    [TestCase(3, 19, 4, 2, "exceeded quota finance-quota: requested tasks=2, used tasks=19, limited tasks=20")]
    [TestCase(3, 20, 4, 6, "")]
    [TestCase(3, 25, 4, 4, "")]
    public void Admission_charges_only_the_delta(int usedConnectors, int usedTasks, int requestedTasks, int? oldTasks, string expected)
    {
        var old = oldTasks is { } t ? C("x", t) : null;
        var violations = QuotaMath.CheckAdmission(Quota, new QuotaUsage(usedConnectors, usedTasks, 0), old, C("x", requestedTasks));
        if (expected.Length == 0) Assert.That(violations, Is.Empty);
        else Assert.That(violations.Select(v => v.Message), Has.Some.EqualTo(expected));
        Assert.That(violations.All(v => v.Reason == ViolationReasons.QuotaExceeded));
    }

    [Test]
    public void Unlimited_when_hard_is_absent()
        => Assert.That(QuotaMath.CheckAdmission(new QuotaLimits("q", null, null, null), new QuotaUsage(1000, 1000, 100), null, C("x", 100)), Is.Empty);

    [Test]
    public void Over_quota_is_decided_by_creation_time_then_name()
    {
        var quota = new[] { new QuotaLimits("q", Connectors: 2, Tasks: null, TasksPerConnector: null) };
        var all = new[] { C("new", 1, 0), C("b-old", 1, 10), C("a-old", 1, 10) };
        var over = QuotaMath.OverQuota(all, quota);
        Assert.That(over.Keys, Is.EquivalentTo(new[] { "finance/new" }));
        Assert.That(over["finance/new"].Message, Does.Contain("requested connectors=1, used connectors=2, limited connectors=2"));
        // the same answer whatever the input order: every replica decides alike
        Assert.That(QuotaMath.OverQuota(all.Reverse(), quota).Keys, Is.EquivalentTo(over.Keys));
    }

    [Test]
    public void A_connector_that_does_not_fit_is_skipped_and_smaller_ones_still_fit()
    {
        var quota = new[] { new QuotaLimits("q", null, Tasks: 5, null) };
        var over = QuotaMath.OverQuota(new[] { C("a", 3, 30), C("big", 4, 20), C("small", 2, 10) }, quota);
        Assert.That(over.Keys, Is.EquivalentTo(new[] { "finance/big" }));
    }

    [Test]
    public void Connectors_existing_remotely_keep_their_place_when_a_quota_is_lowered()
    {
        var quota = new[] { new QuotaLimits("q", Connectors: 1, null, null) };
        var over = QuotaMath.OverQuota(new[] { C("older", 1, 30), C("running", 1, 10) }, quota, new Dictionary<string, int> { ["finance/running"] = 1 });
        Assert.That(over.Keys, Is.EquivalentTo(new[] { "finance/older" }));
    }

    [Test]
    public void Lowering_task_limits_below_a_running_connector_never_holds_it_back()
    {
        var quota = new[] { new QuotaLimits("q", null, Tasks: 3, TasksPerConnector: 2) };
        var over = QuotaMath.OverQuota(new[] { C("running", 4, 30), C("new", 1, 10) }, quota, new Dictionary<string, int> { ["finance/running"] = 4 });
        Assert.That(over.Keys, Is.EquivalentTo(new[] { "finance/new" }));
        Assert.That(over["finance/new"].Message, Does.StartWith("exceeded quota q: requested tasks=1, used tasks=4, limited tasks=3"));
    }

    [Test]
    public void Growing_a_running_connector_past_a_limit_is_held_back_and_only_the_increase_is_charged()
    {
        var quota = new[] { new QuotaLimits("q", null, Tasks: 6, TasksPerConnector: 2) };
        // Running at 2 tasks, the spec now asks for 3: above tasksPerConnector.
        var over = QuotaMath.OverQuota(new[] { C("grow", 3, 30) }, quota, new Dictionary<string, int> { ["finance/grow"] = 2 });
        Assert.That(over["finance/grow"].Message, Does.StartWith("exceeded quota q: requested tasksPerConnector=3, limited tasksPerConnector=2")
            .And.EndWith("the running connector keeps its current size until then"));
        // Two running at 2 and 3 (5 of 6 tasks): growing the first to 3 charges +1 and fits; a new one of 1 then does not.
        var quota2 = new[] { new QuotaLimits("q", null, Tasks: 6, TasksPerConnector: null) };
        over = QuotaMath.OverQuota(new[] { C("a", 3, 30), C("b", 3, 20), C("new", 1, 10) }, quota2, new Dictionary<string, int> { ["finance/a"] = 2, ["finance/b"] = 3 });
        Assert.That(over.Keys, Is.EquivalentTo(new[] { "finance/new" }));
        Assert.That(over["finance/new"].Message, Does.StartWith("exceeded quota q: requested tasks=1, used tasks=6, limited tasks=6"));
    }

    [Test]
    public void Shrinking_a_running_connector_frees_room_for_a_new_one()
    {
        var quota = new[] { new QuotaLimits("q", null, Tasks: 4, null) };
        var over = QuotaMath.OverQuota(new[] { C("big", 1, 30), C("new", 3, 10) }, quota, new Dictionary<string, int> { ["finance/big"] = 4 });
        Assert.That(over, Is.Empty);
    }

    [Test]
    public void Every_quota_that_applies_is_enforced()
    {
        var quotas = new[] { new QuotaLimits("loose", 100, 100, null), new QuotaLimits("tight", 1, null, null) };
        Assert.That(QuotaMath.OverQuota(new[] { C("a", 1, 2), C("b", 1, 1) }, quotas).Keys, Is.EquivalentTo(new[] { "finance/b" }));
    }
}
