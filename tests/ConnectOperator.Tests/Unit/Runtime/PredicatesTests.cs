using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Runtime;

/// <summary>Which updates start a pass: controller-runtime's predicate semantics, so the operator's own status writes do not.</summary>
public class PredicatesTests
{
    private static V1Alpha1ManagedConnector Mc(string rv, long generation = 1, Action<V1ObjectMeta>? meta = null, string? state = null)
    {
        var m = new V1ObjectMeta
        {
            Name = "c", NamespaceProperty = "ns", Uid = "u1", ResourceVersion = rv, Generation = generation,
            Annotations = new Dictionary<string, string> { ["a"] = "1" }, Labels = new Dictionary<string, string> { ["l"] = "x" },
            Finalizers = new List<string> { "connect.ebs.io/finalizer" },
        };
        meta?.Invoke(m);
        return new V1Alpha1ManagedConnector { Metadata = m, Status = new V1Alpha1ManagedConnectorStatus { ConnectorState = state } };
    }

    [Test]
    public void A_status_only_write_does_not_start_a_pass()
        => Assert.That(Predicates.SpecOrMetadataChanged(Mc("1", state: "PROVISIONING"), Mc("2", state: "RUNNING")), Is.False);

    [Test]
    public void A_resync_always_does() => Assert.That(Predicates.SpecOrMetadataChanged(Mc("7"), Mc("7")), Is.True);

    [TestCase("generation")]
    [TestCase("annotation")]
    [TestCase("annotation-removed")]
    [TestCase("label")]
    [TestCase("finalizer")]
    [TestCase("deletion")]
    [TestCase("uid")]
    public void Spec_and_metadata_changes_do(string what)
    {
        var @new = what switch
        {
            "generation" => Mc("2", generation: 2),
            "annotation" => Mc("2", meta: m => m.Annotations["connect.ebs.io/restart"] = "r1"),
            "annotation-removed" => Mc("2", meta: m => m.Annotations = null),
            "label" => Mc("2", meta: m => m.Labels["l"] = "y"),
            "finalizer" => Mc("2", meta: m => m.Finalizers = null),
            "deletion" => Mc("2", meta: m => m.DeletionTimestamp = DateTime.UtcNow),
            _ => Mc("2", meta: m => m.Uid = "u2"),
        };
        Assert.That(Predicates.SpecOrMetadataChanged(Mc("1"), @new), Is.True);
    }

    [Test]
    public void Annotations_in_another_order_are_the_same()
    {
        var a = Mc("1", meta: m => m.Annotations = new Dictionary<string, string> { ["x"] = "1", ["y"] = "2" });
        var b = Mc("2", meta: m => m.Annotations = new Dictionary<string, string> { ["y"] = "2", ["x"] = "1" });
        Assert.That(Predicates.SpecOrMetadataChanged(a, b), Is.False);
    }
}
