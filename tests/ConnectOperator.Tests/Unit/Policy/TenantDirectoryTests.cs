using ConnectOperator.Tests.Unit.Webhooks;

namespace ConnectOperator.Tests.Unit.Policy;

/// <summary>The work queue's fairness key: whose turn a namespace's work is.</summary>
public class TenantDirectoryTests
{
    [TestCase("fin-a", "department/finance")]
    [TestCase("fin-b", "department/finance")]
    [TestCase("hr", "department/hr")]
    [TestCase("shared", "namespace/shared")]      // claimed twice (the webhook refuses that): no department's turn
    [TestCase("nobody", "namespace/nobody")]
    public void Work_in_a_namespace_takes_its_departments_turn(string ns, string key)
        => Assert.That(AdmissionWorld.Standard().Tenants.FairnessKeyOf(ns), Is.EqualTo(key));

    [Test]
    public void Two_namespaces_of_one_department_share_one_turn()
    {
        var tenants = AdmissionWorld.Standard().Tenants;
        Assert.That(tenants.FairnessKeyOf("fin-a"), Is.EqualTo(tenants.FairnessKeyOf("fin-b")));
        Assert.That(tenants.FairnessKeyOf("fin-a"), Is.Not.EqualTo(tenants.FairnessKeyOf("hr")));
    }
}
