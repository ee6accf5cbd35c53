using ConnectOperator.Policy;

namespace ConnectOperator.Tests.Unit.Policy;

public class NamespaceOwnershipTests
{
    private static readonly (string Name, IEnumerable<string> Namespaces)[] Departments =
    [
        ("hr", ["hr", "shared", "everyone"]),
        ("finance", ["finance", "finance-dev", "shared", "everyone"]),
        ("ops", ["ops", "everyone"]),
        ("empty", []),
    ];

    // Each row: namespace, kind, claimants (ordinal order), owner, violation reason, violation message.
    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData("finance", NamespaceOwnershipKind.Owned, new[] { "finance" }, "finance", null, null).SetName("one claimant owns it");
        yield return new TestCaseData("finance-dev", NamespaceOwnershipKind.Owned, new[] { "finance" }, "finance", null, null).SetName("any of the department's namespaces");
        yield return new TestCaseData("marketing", NamespaceOwnershipKind.Unassigned, Array.Empty<string>(), null, ViolationReasons.NoDepartment,
            "namespace marketing is not assigned to any Department; ask the platform team to add it to a Department's spec.namespaces").SetName("no claimant");
        yield return new TestCaseData("Finance", NamespaceOwnershipKind.Unassigned, Array.Empty<string>(), null, ViolationReasons.NoDepartment,
            "namespace Finance is not assigned to any Department; ask the platform team to add it to a Department's spec.namespaces").SetName("names compare exactly");
        yield return new TestCaseData("shared", NamespaceOwnershipKind.Conflict, new[] { "finance", "hr" }, null, ViolationReasons.NamespaceConflict,
            "namespace shared is claimed by more than one Department (finance, hr); ask the platform team to keep it in exactly one Department's spec.namespaces").SetName("two claimants");
        yield return new TestCaseData("everyone", NamespaceOwnershipKind.Conflict, new[] { "finance", "hr", "ops" }, null, ViolationReasons.NamespaceConflict,
            "namespace everyone is claimed by more than one Department (finance, hr, ops); ask the platform team to keep it in exactly one Department's spec.namespaces").SetName("three claimants in name order");
    }

    [TestCaseSource(nameof(Cases))]
    public void Resolves(string ns, NamespaceOwnershipKind kind, string[] claimants, string? owner, string? reason, string? message)
    {
        var claim = NamespaceOwnership.Resolve(ns, Departments);
        Assert.Multiple(() =>
        {
            Assert.That(claim.Namespace, Is.EqualTo(ns));
            Assert.That(claim.Kind, Is.EqualTo(kind));
            Assert.That(claim.Claimants, Is.EqualTo(claimants));
            Assert.That(claim.Owner, Is.EqualTo(owner));
            Assert.That(claim.Violation?.Field, Is.EqualTo(reason is null ? null : "metadata.namespace"));
            Assert.That(claim.Violation?.Reason, Is.EqualTo(reason));
            Assert.That(claim.Violation?.Message, Is.EqualTo(message));
        });
    }

    [Test]
    public void Department_policies_and_custom_resources_resolve_alike()
    {
        var policies = Departments.Select(d => new DepartmentPolicy(d.Name, d.Namespaces.ToList(), [], [], []));
        var resources = Departments.Select(d => new ConnectOperator.Entities.V1Alpha1Department
        {
            Metadata = new() { Name = d.Name },
            Spec = new() { Namespaces = d.Namespaces.ToList() },
        }).ToList();
        foreach (var ns in new[] { "finance", "shared", "everyone", "marketing" })
        {
            Assert.That(NamespaceOwnership.Resolve(ns, policies).Claimants, Is.EqualTo(NamespaceOwnership.Resolve(ns, Departments).Claimants), ns);
            Assert.That(NamespaceOwnership.Resolve(ns, resources).Claimants, Is.EqualTo(NamespaceOwnership.Resolve(ns, Departments).Claimants), ns);
        }
    }

    // Each row: department adding the namespace, namespace, refusal (null: allowed).
    [TestCase("finance", "finance", null, TestName = "its own namespace")]
    [TestCase("sales", "marketing", null, TestName = "an unclaimed namespace")]
    [TestCase("sales", "finance", "spec.namespaces: namespace finance is already claimed by Department finance; a namespace belongs to exactly one Department, so remove it there first", TestName = "a namespace of another department")]
    [TestCase("sales", "shared", "spec.namespaces: namespace shared is already claimed by Department finance, hr; a namespace belongs to exactly one Department, so remove it there first", TestName = "a namespace of two others")]
    [TestCase("hr", "shared", "spec.namespaces: namespace shared is already claimed by Department finance; a namespace belongs to exactly one Department, so remove it there first", TestName = "a shared namespace it already claims")]
    public void Refuses_a_claim_on_a_namespace_others_hold(string department, string ns, string? refusal)
        => Assert.That(NamespaceOwnership.RefuseClaim(NamespaceOwnership.Resolve(ns, Departments), department), Is.EqualTo(refusal));

    // Each row: department, its namespaces, Stalled message (null: no conflict).
    [TestCase("ops", new[] { "ops" }, null, TestName = "no conflict")]
    [TestCase("empty", new string[0], null, TestName = "no namespaces")]
    [TestCase("finance", new[] { "finance", "finance-dev", "shared" },
        "namespaces claimed by another Department: shared (also hr); keep each namespace in exactly one Department's spec.namespaces", TestName = "one namespace in conflict")]
    [TestCase("hr", new[] { "hr", "shared", "everyone" },
        "namespaces claimed by another Department: shared (also finance), everyone (also finance, ops); keep each namespace in exactly one Department's spec.namespaces", TestName = "several, in the department's order")]
    public void Describes_a_departments_conflicts(string department, string[] namespaces, string? message)
        => Assert.That(NamespaceOwnership.DescribeConflicts(department, namespaces.Select(ns => NamespaceOwnership.Resolve(ns, Departments))), Is.EqualTo(message));
}
