using ConnectOperator.Confluent;
using ConnectOperator.Controllers.ManagedConnectors;
using ConnectOperator.Entities;

namespace ConnectOperator.Tests.Unit.Controllers;

/// <summary>Pause and resume once per change of desired or observed state (issue 14): the pure decision.</summary>
public class PauseResumeTests
{
    private static readonly DateTime Now = new(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Retry = TimeSpan.FromMinutes(5);
    private const string Paused = ConnectorDesiredState.Paused, Running = ConnectorDesiredState.Running;

    private static V1Alpha1LifecycleRequest Sent(string action, string observed, TimeSpan ago)
        => new() { Action = action, ObservedState = observed, RequestedAt = Now - ago };

    [TestCase(Paused, ConnectorStates.Provisioning, ExpectedResult = "Pause")]
    [TestCase(Paused, ConnectorStates.Running, ExpectedResult = "Pause")]
    [TestCase(Paused, ConnectorStates.Failed, ExpectedResult = "Pause")]
    [TestCase(Paused, ConnectorStates.Paused, ExpectedResult = null)]
    [TestCase(Running, ConnectorStates.Paused, ExpectedResult = "Resume")]
    [TestCase(Running, ConnectorStates.Running, ExpectedResult = null)]
    [TestCase(Running, ConnectorStates.Provisioning, ExpectedResult = null)]
    [TestCase(Paused, null, ExpectedResult = null)]
    [TestCase(Paused, ConnectorStates.None, ExpectedResult = null)]
    public string? With_nothing_sent_yet(string desired, string? remote) => PauseResume.Decide(desired, remote, null, Now, Retry);

    [Test]
    public void A_pause_sent_while_provisioning_is_not_repeated_however_long_provisioning_takes()
        => Assert.That(PauseResume.Decide(Paused, ConnectorStates.Provisioning, Sent("Pause", ConnectorStates.Provisioning, TimeSpan.FromHours(3)), Now, Retry), Is.Null);

    [Test]
    public void Provisioning_that_ends_running_with_the_pause_ignored_gets_one_more_pause()
        => Assert.That(PauseResume.Decide(Paused, ConnectorStates.Running, Sent("Pause", ConnectorStates.Provisioning, TimeSpan.FromMinutes(10)), Now, Retry), Is.EqualTo("Pause"));

    [Test]
    public void An_asynchronous_pause_is_given_its_time_then_sent_again()
    {
        Assert.That(PauseResume.Decide(Paused, ConnectorStates.Running, Sent("Pause", ConnectorStates.Running, TimeSpan.FromMinutes(1)), Now, Retry), Is.Null);
        Assert.That(PauseResume.Decide(Paused, ConnectorStates.Running, Sent("Pause", ConnectorStates.Running, TimeSpan.FromMinutes(6)), Now, Retry), Is.EqualTo("Pause"));
    }

    [Test]
    public void A_change_of_intent_is_sent_at_once()
    {
        Assert.That(PauseResume.Decide(Running, ConnectorStates.Paused, Sent("Pause", ConnectorStates.Running, TimeSpan.FromSeconds(5)), Now, Retry), Is.EqualTo("Resume"));
        Assert.That(PauseResume.Decide(Paused, ConnectorStates.Running, Sent("Resume", ConnectorStates.Paused, TimeSpan.FromSeconds(5)), Now, Retry), Is.EqualTo("Pause"));
    }

    [Test]
    public void A_request_is_kept_until_Confluent_reports_what_was_asked_for()
    {
        var pause = Sent("Pause", ConnectorStates.Running, TimeSpan.FromSeconds(5));
        Assert.That(PauseResume.Settle(Paused, ConnectorStates.Running, pause), Is.SameAs(pause));
        Assert.That(PauseResume.Settle(Paused, ConnectorStates.Paused, pause), Is.Null);
        Assert.That(PauseResume.Settle(Running, ConnectorStates.Running, pause), Is.Null, "the intent changed");
        var resume = Sent("Resume", ConnectorStates.Paused, TimeSpan.FromSeconds(5));
        Assert.That(PauseResume.Settle(Running, ConnectorStates.Paused, resume), Is.SameAs(resume));
        Assert.That(PauseResume.Settle(Running, ConnectorStates.Running, resume), Is.Null);
    }

    [Test]
    public void A_waiting_request_is_looked_at_again_when_its_retry_is_due_but_not_while_provisioning()
    {
        Assert.That(PauseResume.RecheckIn(Sent("Pause", ConnectorStates.Running, TimeSpan.FromMinutes(2)), ConnectorStates.Running, Now, Retry), Is.EqualTo(TimeSpan.FromMinutes(3)));
        Assert.That(PauseResume.RecheckIn(Sent("Pause", ConnectorStates.Provisioning, TimeSpan.FromMinutes(2)), ConnectorStates.Provisioning, Now, Retry), Is.Null);
        Assert.That(PauseResume.RecheckIn(null, ConnectorStates.Running, Now, Retry), Is.Null);
    }
}
