using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Autorest;
using k8s.Models;
using static ConnectOperator.Tests.Integration.Runtime.RuntimeTestSupport;

namespace ConnectOperator.Tests.Integration.Runtime;

[TestFixture]
public class WriterTests
{
    private TestCluster _cluster = null!;
    private KubeApiClient _api = null!;
    private string _ns = null!;

    [SetUp]
    public async Task SetUp()
    {
        _cluster = await TestCluster.GetAsync();
        _api = new KubeApiClient(_cluster.Client);
        _ns = await _cluster.CreateNamespaceAsync("writers");
    }

    [TearDown]
    public async Task TearDown()
    {
        try { await _cluster.Client.CoreV1.DeleteNamespaceAsync(_ns); } catch (HttpOperationException) { }
    }

    private async Task<Widget> CreateWidget(string name)
    {
        await EnsureWidgetCrdAsync(_cluster.Client);
        return await _api.CreateAsync(Widget.ResourceKind, _ns, new Widget { Metadata = new V1ObjectMeta { Name = name }, Spec = new WidgetSpec { Size = 1 } });
    }

    [Test]
    public async Task StatusWriter_WritesThroughStatusSubresource_AndSkipsUnchanged()
    {
        var w = await CreateWidget("w1");
        var writer = new StatusWriter(_api);
        var r1 = await writer.UpdateStatusAsync(Widget.ResourceKind, w, x => x.Status = new WidgetStatus { Phase = "Ready", ObservedGeneration = 1 });
        Assert.That((r1.Written, r1.Attempts), Is.EqualTo((true, 1)));
        Assert.That(r1.Object.Status?.Phase, Is.EqualTo("Ready"));
        Assert.That(r1.Object.Metadata.ResourceVersion, Is.Not.EqualTo(w.Metadata.ResourceVersion));
        Assert.That(w.Status, Is.Null, "input object not mutated");

        var r2 = await writer.UpdateStatusAsync(Widget.ResourceKind, r1.Object, x => x.Status = new WidgetStatus { Phase = "Ready", ObservedGeneration = 1 });
        Assert.That((r2.Written, r2.Attempts), Is.EqualTo((false, 0)));
        var fresh = await _api.GetAsync<Widget>(Widget.ResourceKind, _ns, "w1");
        Assert.That(fresh.Metadata.ResourceVersion, Is.EqualTo(r1.Object.Metadata.ResourceVersion), "no write happened");

        var r3 = await writer.UpdateStatusAsync(Widget.ResourceKind, fresh, x => x.Spec!.Size = 99);   // spec is not status
        Assert.That(r3.Written, Is.False);
    }

    [Test]
    public async Task StatusWriter_RetriesOn409_ReReadingAndReapplying()
    {
        var stale = await CreateWidget("w2");
        await _cluster.Client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch("""{"metadata":{"labels":{"touched":"yes"}}}""", V1Patch.PatchType.MergePatch),
            "test.connect.ebs.io", "v1", _ns, "widgets", "w2");
        var writer = new StatusWriter(_api);
        var r = await writer.UpdateStatusAsync(Widget.ResourceKind, stale, x => x.Status = new WidgetStatus { Phase = "Failed" });
        Assert.That((r.Written, r.Attempts), Is.EqualTo((true, 2)), "first PUT conflicts on the stale resourceVersion");
        var fresh = await _api.GetAsync<Widget>(Widget.ResourceKind, _ns, "w2");
        Assert.That(fresh.Status?.Phase, Is.EqualTo("Failed"));
        Assert.That(fresh.Metadata.Labels?["touched"], Is.EqualTo("yes"), "the concurrent change survives");
    }

    [Test]
    public async Task Finalizers_AddAndRemove_KeepOthers_EvenFromAStaleCopy()
    {
        var cm = await _cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "f", Finalizers = new List<string> { "other.io/keep" } },
        }, _ns);
        var f = new Finalizers(_api);
        const string ours = "connect.ebs.io/finalizer";
        var added = await f.AddAsync(ResourceKind.ConfigMap, cm, ours);
        Assert.That(added.Metadata.Finalizers, Is.EqualTo(new[] { "other.io/keep", ours }));
        var again = await f.AddAsync(ResourceKind.ConfigMap, added, ours);
        Assert.That(again.Metadata.ResourceVersion, Is.EqualTo(added.Metadata.ResourceVersion), "no-op when present");

        // someone else adds a finalizer; we remove ours from our stale copy
        await _cluster.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(
            """[{"op":"add","path":"/metadata/finalizers/-","value":"third.io/x"}]""", V1Patch.PatchType.JsonPatch), "f", _ns);
        var removed = await f.RemoveAsync(ResourceKind.ConfigMap, added, ours);
        Assert.That(removed.Metadata.Finalizers, Is.EqualTo(new[] { "other.io/keep", "third.io/x" }));
        Assert.That(Finalizers.Has(removed, ours), Is.False);

        var cleared = await f.RemoveAsync(ResourceKind.ConfigMap, await f.RemoveAsync(ResourceKind.ConfigMap, removed, "other.io/keep"), "third.io/x");
        Assert.That(cleared.Metadata.Finalizers ?? new List<string>(), Is.Empty);
    }

    [Test]
    public async Task EventRecorder_DedupsByIncrementingCount_AndRateLimitsPerObject()
    {
        var cm = await _cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "ev" } }, _ns);
        cm.ApiVersion ??= "v1"; cm.Kind ??= "ConfigMap";
        var rec = new EventRecorder(new KubeApiClient(_cluster.Client), new EventRecorderOptions { Burst = 3 });

        var e1 = await rec.WarningAsync(cm, "SyncFailed", "connector rejected");
        var e2 = await rec.WarningAsync(cm, "SyncFailed", "connector rejected");
        Assert.That(e1, Is.Not.Null);
        Assert.That(e2?.Metadata.Name, Is.EqualTo(e1!.Metadata.Name));
        var list = await _cluster.Client.CoreV1.ListNamespacedEventAsync(_ns, fieldSelector: "involvedObject.name=ev");
        Assert.That(list.Items, Has.Count.EqualTo(1));
        var ev = list.Items[0];
        Assert.That((ev.Count, ev.Type, ev.Reason, ev.Source?.Component, ev.ReportingComponent, ev.InvolvedObject.Uid),
            Is.EqualTo(((int?)2, "Warning", "SyncFailed", "connect-operator", "connect-operator", cm.Metadata.Uid)));

        var long1 = await rec.NormalAsync(cm, "Other", new string('x', 5000));
        Assert.That(System.Text.Encoding.UTF8.GetByteCount(long1!.Message), Is.LessThanOrEqualTo(1024));
        Assert.That(await rec.NormalAsync(cm, "Other", "second"), Is.Not.Null);
        Assert.That(await rec.NormalAsync(cm, "Other", "third"), Is.Not.Null);
        var dropped = await rec.NormalAsync(cm, "Other", "4th event of this reason for this object exceeds burst 3");
        Assert.That(dropped, Is.Null);
        list = await _cluster.Client.CoreV1.ListNamespacedEventAsync(_ns, fieldSelector: "involvedObject.name=ev");
        Assert.That(list.Items, Has.Count.EqualTo(4));
    }

    [Test]
    public async Task EventRecorder_NormalFloodNeverDropsAWarningOfAnotherReason()
    {
        var cm = await _cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "ev-flood" } }, _ns);
        cm.ApiVersion ??= "v1"; cm.Kind ??= "ConfigMap";
        var rec = new EventRecorder(new KubeApiClient(_cluster.Client), new EventRecorderOptions { Burst = 5 });

        var normals = 0;
        for (var i = 0; i < 30; i++)
            if (await rec.NormalAsync(cm, "Paused", $"paused #{i}") != null) normals++;
        Assert.That(normals, Is.EqualTo(5), "the Normal reason's own budget is spent");
        Assert.That(await rec.WarningAsync(cm, "Failed", "task 0: boom"), Is.Not.Null, "a Warning must not be dropped because Normal events used the budget");
        Assert.That(await rec.NormalAsync(cm, "Resumed", "resumed"), Is.Not.Null, "another Normal reason has its own budget");
        var list = await _cluster.Client.CoreV1.ListNamespacedEventAsync(_ns, fieldSelector: "involvedObject.name=ev-flood");
        Assert.That(list.Items.Select(e => e.Reason), Does.Contain("Failed").And.Contain("Resumed"));
    }
}
