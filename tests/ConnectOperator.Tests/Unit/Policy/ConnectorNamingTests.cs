using ConnectOperator.Policy;

namespace ConnectOperator.Tests.Unit.Policy;

/// <summary>Confluent names are unique across the operator once Department names have no dots and prefixes are unique.</summary>
public class ConnectorNamingTests
{
    private static DepartmentPolicy D(string name, string? prefix = null)
        => new(name, Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>(), ConnectorNamePrefix: prefix);

    [Test]
    public void The_collision_of_the_issue_is_refused_at_the_department()
    {
        // Department a.b + namespace c + connector d and Department a + namespace b + connector c.d are both a.b.c.d.
        Assert.That(ConnectorNaming.RemoteName(D("a.b"), "c", "d"), Is.EqualTo(ConnectorNaming.RemoteName(D("a"), "b", "c.d")));
        Assert.That(ConnectorNaming.CheckDepartment(D("a.b")).Single().Message, Does.StartWith("metadata.name a.b contains a dot").And.Contain("a-b"));
        Assert.That(ConnectorNaming.CheckDepartment(D("a")), Is.Empty);
        Assert.That(ConnectorNaming.CheckDepartment(D(new string('d', 64))).Single().Message, Does.Contain("at most 63 characters"));
    }

    [Test]
    public void With_dot_free_prefixes_and_namespaces_the_mapping_is_injective()
    {
        var prefixes = new[] { "a", "a-b", "ab", "b" };
        var namespaces = new[] { "b", "c", "b-c", "a" };
        var names = new[] { "c", "d", "c.d", "b.c.d", "d.", ".d", "a.b" };
        var seen = new Dictionary<string, (string, string, string)>(StringComparer.Ordinal);
        foreach (var p in prefixes)
            foreach (var ns in namespaces)
                foreach (var n in names)
                {
                    var remote = ConnectorNaming.RemoteName(p, ns, n);
                    Assert.That(seen.TryAdd(remote, (p, ns, n)), Is.True, $"{remote} from {(p, ns, n)} and {seen.GetValueOrDefault(remote)}");
                }
    }

    [Test]
    public void One_prefix_per_department()
    {
        var all = new[] { D("finance", "fin"), D("fin"), D("hr") };
        Assert.That(ConnectorNaming.CheckUniquePrefix(all[0], all)!.Message, Does.Contain("prefix fin is already used by Department fin"));
        Assert.That(ConnectorNaming.CheckUniquePrefix(all[1], all)!.Reason, Is.EqualTo(ViolationReasons.NameConflict));
        Assert.That(ConnectorNaming.CheckUniquePrefix(all[2], all), Is.Null);
    }

    [TestCase("fin.payments.orders", "payments", "orders")]
    [TestCase("fin.payments.orders.v2", "payments", "orders.v2")]
    public void A_remote_name_splits_back_into_the_object_it_was_made_from(string remote, string ns, string name)
    {
        Assert.That(ConnectorNaming.TryParse(remote, out var n, out var o), Is.True);
        Assert.That((n, o), Is.EqualTo((ns, name)));
        Assert.That(ConnectorNaming.RemoteName("fin", n, o), Is.EqualTo(remote));
    }

    [TestCase("hand-made")]
    [TestCase("fin.payments")]
    [TestCase(".payments.orders")]
    [TestCase("fin..orders")]
    [TestCase("fin.payments.")]
    public void A_name_not_of_that_shape_names_no_object(string remote) => Assert.That(ConnectorNaming.TryParse(remote, out _, out _), Is.False);
}
