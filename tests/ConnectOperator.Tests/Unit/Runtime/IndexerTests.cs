using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Runtime;

public class IndexerTests
{
    private static V1ConfigMap Cm(string ns, string name, string? dept) => new()
    {
        Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = name, Labels = dept == null ? null : new Dictionary<string, string> { ["dept"] = dept } },
    };

    [Test]
    public void GetListByNamespaceAndCustomIndex_FollowUpdatesAndRemoves()
    {
        var s = new Indexer<V1ConfigMap>();
        s.Upsert(Cm("a", "x", "sales"));
        s.AddIndex("dept", o => o.Metadata.Labels?.TryGetValue("dept", out var d) == true ? [d] : []);   // indexes existing objects too
        s.Upsert(Cm("a", "y", "hr"));
        s.Upsert(Cm("b", "x", "sales"));
        Assert.That(s.Get("a/x")?.Metadata.Name, Is.EqualTo("x"));
        Assert.That(s.ListByNamespace("a").Select(Indexer<V1ConfigMap>.KeyOf), Is.EquivalentTo(new[] { "a/x", "a/y" }));
        Assert.That(s.ByIndex("dept", "sales").Select(Indexer<V1ConfigMap>.KeyOf), Is.EquivalentTo(new[] { "a/x", "b/x" }));

        s.Upsert(Cm("a", "x", "hr"));
        Assert.That(s.ByIndex("dept", "sales").Select(Indexer<V1ConfigMap>.KeyOf), Is.EqualTo(new[] { "b/x" }));
        Assert.That(s.ByIndex("dept", "hr").Select(Indexer<V1ConfigMap>.KeyOf), Is.EquivalentTo(new[] { "a/x", "a/y" }));
        s.Remove("a/y");
        Assert.That(s.ByIndex("dept", "hr").Select(Indexer<V1ConfigMap>.KeyOf), Is.EqualTo(new[] { "a/x" }));
        Assert.That(s.Count, Is.EqualTo(2));
    }

    [Test]
    public void ResourceKind_BuildsCoreAndGroupPaths()
    {
        Assert.That(ResourceKind.Secret.ItemPath("ns", "s1"), Is.EqualTo("api/v1/namespaces/ns/secrets/s1"));
        Assert.That(ResourceKind.Secret.CollectionPath(), Is.EqualTo("api/v1/secrets"));
        var w = new ResourceKind("test.connect.ebs.io", "v1", "widgets", "Widget");
        Assert.That(w.ItemPath("ns", "w", "status"), Is.EqualTo("apis/test.connect.ebs.io/v1/namespaces/ns/widgets/w/status"));
        Assert.That(ResourceKind.Namespace.ItemPath(null, "n"), Is.EqualTo("api/v1/namespaces/n"));
        Assert.That(ResourceKind.For<V1Secret>(), Is.EqualTo(ResourceKind.Secret));
    }
}
