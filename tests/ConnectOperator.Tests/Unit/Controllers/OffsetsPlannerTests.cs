using ConnectOperator.Controllers.ManagedConnectors.Offsets;
using ConnectOperator.Entities;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Controllers;

/// <summary>The pure decisions of connect.ebs.io/offsets: once per value, waits for the connector, refuses what it cannot do.</summary>
public class OffsetsPlannerTests
{
    private const string Remote = "dept.ns.c";

    private static V1Alpha1ManagedConnector Mc(string? annotation, V1Alpha1OffsetsStatus? last = null, bool created = true) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "c", NamespaceProperty = "ns",
            Annotations = annotation is null ? null : new Dictionary<string, string> { [OffsetsPlanner.Annotation] = annotation },
        },
        Spec =
        {
            ListOffsets = new V1Alpha1ListOffsets { ToConfigMap = { Name = "out" } },
            AlterOffsets = new V1Alpha1AlterOffsets { FromConfigMap = { Name = "in" } },
        },
        Status = new V1Alpha1ManagedConnectorStatus { ConnectorName = created ? Remote : null, ConnectorId = created ? "lcc-1" : null, Offsets = last },
    };

    [TestCase(null, OffsetsAction.Nothing)]
    [TestCase("list", OffsetsAction.List)]
    [TestCase("alter", OffsetsAction.Alter)]
    [TestCase("reset", OffsetsAction.Reset)]
    [TestCase("reset:ticket-42", OffsetsAction.Reset)]
    [TestCase("rewind", OffsetsAction.Refuse)]
    public void The_annotation_value_picks_the_operation(string? value, OffsetsAction expected)
        => Assert.That(OffsetsPlanner.Plan(Mc(value), Remote).Action, Is.EqualTo(expected));

    [Test]
    public void A_value_already_handled_is_not_run_again_so_GitOps_self_heal_is_harmless()
    {
        Assert.That(OffsetsPlanner.Plan(Mc("alter", new() { Annotation = "alter", Phase = "APPLIED" }), Remote).Action, Is.EqualTo(OffsetsAction.Nothing));
        Assert.That(OffsetsPlanner.Plan(Mc("alter", new() { Annotation = "alter", Phase = "FAILED" }), Remote).Action, Is.EqualTo(OffsetsAction.Nothing));
        Assert.That(OffsetsPlanner.Plan(Mc("alter:2", new() { Annotation = "alter", Phase = "APPLIED" }), Remote).Action, Is.EqualTo(OffsetsAction.Alter));
    }

    [Test]
    public void An_in_flight_request_is_polled_and_a_waiting_one_retried()
    {
        Assert.That(OffsetsPlanner.Plan(Mc("reset", new() { Annotation = "reset", Phase = "PENDING", Operation = "reset" }), Remote).Action, Is.EqualTo(OffsetsAction.Poll));
        Assert.That(OffsetsPlanner.Plan(Mc("reset", new() { Annotation = "reset", Phase = OffsetsPlanner.Waiting }), Remote).Action, Is.EqualTo(OffsetsAction.Reset));
        Assert.That(OffsetsPlanner.Plan(Mc("reset", new() { Annotation = "reset", Phase = OffsetsPlanner.Refused }), Remote).Action, Is.EqualTo(OffsetsAction.Reset),
            "a refused value sent nothing, so it is tried again when the connector changes");
    }

    [Test]
    public void Nothing_is_sent_before_the_connector_exists_or_without_a_department()
    {
        Assert.That(OffsetsPlanner.Plan(Mc("reset", created: false), Remote).Action, Is.EqualTo(OffsetsAction.Wait));
        var noDept = OffsetsPlanner.Plan(Mc("reset"), null);
        Assert.That(noDept.Action, Is.EqualTo(OffsetsAction.Refuse));
        Assert.That(noDept.Message, Does.Contain("department's own connectors"));
        // A connector whose recorded remote name is not the one its department gives (another prefix) is not touched.
        Assert.That(OffsetsPlanner.Plan(Mc("reset"), "other.ns.c").Action, Is.EqualTo(OffsetsAction.Wait));
    }

    [Test]
    public void Alter_offsets_must_stay_within_the_departments_topics()
    {
        var data = new Dictionary<string, string>
        {
            [OffsetsPlanner.ConfigMapKey] = """{"offsets":[{"partition":{"kafka_topic":"hr.salaries","kafka_partition":0},"offset":{"kafka_offset":5}}]}""",
        };
        var (offsets, error) = OffsetsPlanner.ReadAlter("cm", data, new[] { "finance." }, "finance");
        Assert.That(offsets, Is.Null);
        Assert.That(error, Does.Contain("names topic hr.salaries").And.Contain("finance."));

        (offsets, error) = OffsetsPlanner.ReadAlter("cm", data, new[] { "hr." }, "hr");
        Assert.That(error, Is.Null);
        Assert.That(offsets, Has.Count.EqualTo(1));

        Assert.That(OffsetsPlanner.ReadAlter("cm", new Dictionary<string, string>(), new[] { "hr." }, "hr").Error, Does.Contain("has no key offsets.json"));
        Assert.That(OffsetsPlanner.ReadAlter("cm", new Dictionary<string, string> { ["offsets.json"] = "{" }, new[] { "hr." }, "hr").Error, Does.Contain("not valid JSON"));
    }
}
