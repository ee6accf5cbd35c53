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
        var over = QuotaMath.OverQuota(new[] { C("older", 1, 30), C("running", 1, 10) }, quota, new HashSet<string> { "finance/running" });
        Assert.That(over.Keys, Is.EquivalentTo(new[] { "finance/older" }));
    }

    [Test]
    public void Lowering_task_limits_below_a_running_connector_never_holds_it_back()
    {
        var quota = new[] { new QuotaLimits("q", null, Tasks: 3, TasksPerConnector: 2) };
        var over = QuotaMath.OverQuota(new[] { C("running", 4, 30), C("new", 1, 10) }, quota, new HashSet<string> { "finance/running" });
        Assert.That(over.Keys, Is.EquivalentTo(new[] { "finance/new" }));
        Assert.That(over["finance/new"].Message, Does.StartWith("exceeded quota q: requested tasks=1, used tasks=4, limited tasks=3"));
    }

    [Test]
    public void Every_quota_that_applies_is_enforced()
    {
        var quotas = new[] { new QuotaLimits("loose", 100, 100, null), new QuotaLimits("tight", 1, null, null) };
        Assert.That(QuotaMath.OverQuota(new[] { C("a", 1, 2), C("b", 1, 1) }, quotas).Keys, Is.EquivalentTo(new[] { "finance/b" }));
    }
}
