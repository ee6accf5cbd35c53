using System.Text.Json.Nodes;
using ConnectOperator.Controllers.ManagedConnectors.Offsets;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Operator;

/// <summary>
/// connect.ebs.io/offsets end to end through the real API server and the emulator: list into a ConfigMap, alter from
/// one, reset; a request Confluent fails shows in status with Confluent's message; a topic of another department is refused.
/// </summary>
[NonParallelizable]
public class OffsetsTests
{
    private OperatorHarness _h = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        OffsetsReconciler.PollInterval = TimeSpan.FromMilliseconds(300);
        _h = await OperatorHarness.StartAsync("offs");
        await _h.StartOperatorAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _h.DisposeAsync();

    private static JsonArray Offsets(long offset, string topic = "app.orders")
        => new(new JsonObject
        {
            ["partition"] = new JsonObject { ["kafka_topic"] = topic, ["kafka_partition"] = "0" },
            ["offset"] = new JsonObject { ["kafka_offset"] = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });

    private async Task<V1Alpha1ManagedConnector> AnnotateAsync(string name, string value, string? extraSpec = null)
    {
        var spec = extraSpec is null ? "" : $",\"spec\":{extraSpec}";
        await _h.PatchAsync(name, $"{{\"metadata\":{{\"annotations\":{{\"{OffsetsPlanner.Annotation}\":\"{value}\"}}}}{spec}}}");
        return await _h.WaitForAsync(name, m => m.Status?.Offsets is { } o && o.Annotation == value && !OffsetsPlanner.IsInFlight(o.Phase) && o.Phase != OffsetsPlanner.Waiting,
            $"offsets {value} settled");
    }

    private async Task CreateConfigMapAsync(string name, JsonArray offsets)
        => await _h.Api.CreateAsync(ResourceKind.ConfigMap, _h.Namespace, new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = _h.Namespace },
            Data = new Dictionary<string, string> { [OffsetsPlanner.ConfigMapKey] = new JsonObject { ["offsets"] = offsets }.ToJsonString() },
        });

    private JsonArray RemoteOffsets(string name) => (JsonArray)JsonNode.Parse(_h.Remote(name)!.Offsets.ToJsonString())!;

    /// <summary>Through the emulator's admin API, as a person poking the emulator would.</summary>
    private async Task AdminAsync(HttpMethod method, string name, string path, JsonNode body)
    {
        using var http = new HttpClient();
        var url = $"{_h.EmulatorUrl.TrimEnd('/')}/emulator/environments/{OperatorHarness.Environment}/clusters/{OperatorHarness.Cluster}/connectors/{Uri.EscapeDataString(_h.RemoteName(name))}{path}";
        using var response = await http.SendAsync(new HttpRequestMessage(method, url) { Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json") });
        Assert.That(response.IsSuccessStatusCode, $"{method} {url}: {(int)response.StatusCode}");
    }

    [Test]
    public async Task List_then_alter_then_reset_reach_Confluent_and_show_in_status()
    {
        await _h.CreateAsync(_h.Datagen("lar"));
        await _h.WaitForAsync("lar", m => OperatorHarness.IsReady(m), "Ready");
        await AdminAsync(HttpMethod.Put, "lar", "/offsets", Offsets(50));

        // list
        var mc = await AnnotateAsync("lar", "list", "{\"listOffsets\":{\"toConfigMap\":{\"name\":\"lar-offsets\"}}}");
        Assert.That(mc.Status!.Offsets!.Phase, Is.EqualTo(OffsetsPlanner.Listed), mc.Status.Offsets.Message);
        Assert.That(mc.Status.Offsets.ConfigMap, Is.EqualTo("lar-offsets"));
        Assert.That(mc.Status.Offsets.AppliedAt, Is.Not.Null);
        var listed = await _h.Api.GetAsync<V1ConfigMap>(ResourceKind.ConfigMap, _h.Namespace, "lar-offsets");
        var json = JsonNode.Parse(listed.Data[OffsetsPlanner.ConfigMapKey])!;
        Assert.That((string?)json["offsets"]![0]!["offset"]!["kafka_offset"], Is.EqualTo("50"));
        Assert.That(listed.Metadata.OwnerReferences.Single().Name, Is.EqualTo("lar"));

        // alter: skip to offset 10, from a ConfigMap in the same shape
        await CreateConfigMapAsync("lar-alter", Offsets(10));
        mc = await AnnotateAsync("lar", "alter", "{\"alterOffsets\":{\"fromConfigMap\":{\"name\":\"lar-alter\"}}}");
        Assert.That(mc.Status!.Offsets!.Phase, Is.EqualTo("APPLIED"), mc.Status.Offsets.Message);
        Assert.That(mc.Status.Offsets.Message, Does.Contain("altered successfully"));
        Assert.That(mc.Status.Offsets.RequestedAt, Is.Not.Null);
        Assert.That(mc.Status.Offsets.AppliedAt, Is.Not.Null);
        Assert.That((string?)RemoteOffsets("lar")[0]!["offset"]!["kafka_offset"], Is.EqualTo("10"));
        Assert.That(mc.Spec.State, Is.EqualTo(ConnectorDesiredState.Running), "the operator never pauses the connector for it");

        // the same value again (Argo CD self-heal re-applying it) changes nothing
        var posts = _h.State.CountCalls("POST", "connectors/{connector_name}/offsets/request");
        await _h.PatchAsync("lar", "{\"metadata\":{\"labels\":{\"touched\":\"yes\"}}}");
        await Task.Delay(1000);
        Assert.That(_h.State.CountCalls("POST", "connectors/{connector_name}/offsets/request"), Is.EqualTo(posts));

        // reset
        mc = await AnnotateAsync("lar", "reset");
        Assert.That(mc.Status!.Offsets!.Phase, Is.EqualTo("APPLIED"), mc.Status.Offsets.Message);
        Assert.That(mc.Status.Offsets.Message, Does.Contain("reset successfully"));
        Assert.That(RemoteOffsets("lar"), Is.Empty);
    }

    [Test]
    public async Task A_request_Confluent_fails_shows_in_status_with_Confluents_message()
    {
        await _h.CreateAsync(_h.Datagen("fail"));
        await _h.WaitForAsync("fail", m => OperatorHarness.IsReady(m), "Ready");
        await AdminAsync(HttpMethod.Post, "fail", "/offsets/fail", new JsonObject { ["message"] = "Unable to reset offsets: the connector's consumer group is still active" });
        var mc = await AnnotateAsync("fail", "reset:1");
        Assert.That(mc.Status!.Offsets!.Phase, Is.EqualTo("FAILED"));
        Assert.That(mc.Status.Offsets.Message, Is.EqualTo("Unable to reset offsets: the connector's consumer group is still active"));
        Assert.That(mc.Status.Offsets.AppliedAt, Is.Null);
    }

    [Test]
    public async Task A_topic_outside_the_departments_prefixes_is_refused_before_Confluent_is_asked()
    {
        await _h.CreateAsync(_h.Datagen("other"));
        await _h.WaitForAsync("other", m => OperatorHarness.IsReady(m), "Ready");
        await CreateConfigMapAsync("other-alter", Offsets(1, "hr.salaries"));
        var posts = _h.State.CountCalls("POST", "connectors/{connector_name}/offsets/request");
        var mc = await AnnotateAsync("other", "alter", "{\"alterOffsets\":{\"fromConfigMap\":{\"name\":\"other-alter\"}}}");
        Assert.That(mc.Status!.Offsets!.Phase, Is.EqualTo(OffsetsPlanner.Refused));
        Assert.That(mc.Status.Offsets.Message, Does.Contain("names topic hr.salaries, which does not start with an allowed prefix of department"));
        Assert.That(_h.State.CountCalls("POST", "connectors/{connector_name}/offsets/request"), Is.EqualTo(posts));
    }

    [Test]
    public async Task Alter_without_a_ConfigMap_named_says_what_to_set()
    {
        await _h.CreateAsync(_h.Datagen("nocm"));
        await _h.WaitForAsync("nocm", m => OperatorHarness.IsReady(m), "Ready");
        var mc = await AnnotateAsync("nocm", "alter");
        Assert.That(mc.Status!.Offsets!.Phase, Is.EqualTo(OffsetsPlanner.Refused));
        Assert.That(mc.Status.Offsets.Message, Does.Contain("spec.alterOffsets.fromConfigMap.name"));
    }
}
