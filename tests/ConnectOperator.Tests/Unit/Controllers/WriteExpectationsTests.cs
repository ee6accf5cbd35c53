using ConnectOperator.Confluent;
using ConnectOperator.Controllers.ManagedConnectors;
using ConnectOperator.Controllers.ManagedConnectors.Planning;
using ConnectOperator.Entities;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Controllers;

/// <summary>What the reconciler wrote and has not seen come back: read-your-writes and no echo passes.</summary>
public class WriteExpectationsTests
{
    private static V1Alpha1ManagedConnector Object(string version, string uid = "u1", bool deleting = false, params string[] finalizers) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "orders", NamespaceProperty = "payments", Uid = uid, ResourceVersion = version, Finalizers = finalizers.ToList(),
            DeletionTimestamp = deleting ? new DateTime(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc) : null,
        },
    };

    [Test]
    public void A_cached_copy_older_than_the_last_write_is_behind_until_the_cache_catches_up()
    {
        var e = new WriteExpectations();
        e.Wrote(Object("20"));
        Assert.Multiple(() =>
        {
            Assert.That(e.IsBehind(Object("19")), Is.True);
            Assert.That(e.IsBehind(Object("19", uid: "u2")), Is.False, "another object of the same name (deleted and created again)");
            Assert.That(e.IsBehind(Object("20")), Is.False, "caught up");
            Assert.That(e.Pending, Is.Zero, "and forgotten once caught up");
        });
    }

    [Test]
    public void Releasing_the_last_finalizer_of_a_deleted_object_leaves_every_cached_copy_behind_whatever_version_the_server_answered()
    {
        // kube-testenv answers the releasing patch with the version the object had before (the object is gone after it);
        // a pass from a late event must not DELETE in Confluent a second time.
        var e = new WriteExpectations();
        e.Wrote(Object("5564", deleting: true));
        Assert.That(e.IsBehind(Object("5564", deleting: true, finalizers: ConnectApi.Finalizer)), Is.True);
        e.Forget("payments/orders");
        Assert.That(e.IsBehind(Object("5564", deleting: true, finalizers: ConnectApi.Finalizer)), Is.False);
    }

    [Test]
    public void An_update_event_of_a_version_it_wrote_is_its_own_echo_and_any_other_is_not()
    {
        var e = new WriteExpectations();
        e.Wrote(Object("30"));   // metadata: finalizer and intent
        e.Wrote(Object("31"));   // status
        Assert.Multiple(() =>
        {
            Assert.That(e.IsOwnEcho(Object("30")), Is.True);
            Assert.That(e.IsOwnEcho(Object("31")), Is.True);
            Assert.That(e.IsOwnEcho(Object("32")), Is.False, "someone else's change");
            Assert.That(e.IsOwnEcho(Object("30", uid: "u2")), Is.False);
        });
    }

    [Test]
    public void A_remote_write_is_seen_until_a_poll_that_started_after_it()
    {
        var at = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
        var polled = new RemoteConnector("lcc-1", ConnectorStates.Running, new Dictionary<string, string> { ["kafka.topic"] = "old" }, [], null);
        var put = new RemoteExpectation(at, Config: new Dictionary<string, string> { ["kafka.topic"] = "new" });
        Assert.Multiple(() =>
        {
            Assert.That(RemoteExpectation.Apply(polled, at.AddSeconds(-1), put, out var pending)!.Config["kafka.topic"], Is.EqualTo("new"));
            Assert.That(pending, Is.True);
            Assert.That(RemoteExpectation.Apply(polled, at.AddSeconds(-1), put, out _)!.State, Is.EqualTo(ConnectorStates.Running), "a PUT does not guess a state");
            Assert.That(RemoteExpectation.Apply(polled, at.AddSeconds(1), put, out pending), Is.SameAs(polled), "a newer poll is Confluent's word");
            Assert.That(pending, Is.False);
            Assert.That(RemoteExpectation.Apply(null, at.AddSeconds(-1), new RemoteExpectation(at, Config: put.Config, State: ConnectorStates.Provisioning), out _)!.State,
                Is.EqualTo(ConnectorStates.Provisioning), "a create is PROVISIONING until the poll says more");
            Assert.That(RemoteExpectation.Apply(polled, at.AddSeconds(-1), new RemoteExpectation(at, Deleted: true), out _), Is.Null, "a delete is absent");
        });
    }

    [Test]
    public void A_poll_sent_before_the_write_was_answered_that_already_shows_it_is_Confluents_word()
    {
        var at = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
        var config = new Dictionary<string, string> { ["kafka.topic"] = "fin.orders", ["name"] = "fin.payments.orders" };
        var listed = new RemoteConnector("lcc-1", ConnectorStates.Running, new Dictionary<string, string>(config) { ["cloud.environment"] = "prod" }, [], null);
        var created = new RemoteExpectation(at, Config: config, State: ConnectorStates.Provisioning);
        Assert.That(RemoteExpectation.Apply(listed, at.AddMilliseconds(-5), created, out var pending), Is.SameAs(listed),
            "RUNNING from the list, not the PROVISIONING the create left: no later poll would report it as a change");
        Assert.That(pending, Is.False);
    }
}
