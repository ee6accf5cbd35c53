using System.Text.Json;
using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests.Integration.Operator;

/// <summary>
/// spec.config as people write it, through the real API server: unquoted numbers and booleans are stored as written
/// and reach Confluent (the emulator, which refuses any non-string config value) as strings; a list is refused by the
/// CRD alone, naming the key.
/// </summary>
[NonParallelizable]
public class ConfigAsWrittenTests
{
    private OperatorHarness _h = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _h = await OperatorHarness.StartAsync("cfgw");
        await _h.StartOperatorAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _h.DisposeAsync();

    private string Manifest(string name, string config) => $"""
        apiVersion: connect.ebs.io/v1alpha1
        kind: ManagedConnector
        metadata:
          name: {name}
          namespace: {_h.Namespace}
        spec:
          connectorClass: DatagenSource
          config:
            kafka.topic: app.orders
        {config}
        """;

    [Test]
    public async Task Unquoted_numbers_and_booleans_are_stored_as_written_and_sent_as_strings()
    {
        var (code, output) = await _h.Kube.KubectlWithInputAsync(
            Manifest("unquoted", "    quickstart: 1000\n    output.data.format: true\n    max.interval: 0.5\n"), "apply", "-f", "-");
        Assert.That(code, Is.Zero, output);

        // Stored as written: the API server keeps the JSON number and boolean.
        var (_, json) = await _h.Kube.KubectlAsync("get", "managedconnector", "unquoted", "-n", _h.Namespace, "-o", "jsonpath={.spec.config}");
        var stored = JsonDocument.Parse(json).RootElement;
        Assert.That(stored.GetProperty("quickstart").ValueKind, Is.EqualTo(JsonValueKind.Number), json);
        Assert.That(stored.GetProperty("output.data.format").ValueKind, Is.EqualTo(JsonValueKind.True), json);

        await _h.WaitForAsync("unquoted", m => _h.Remote("unquoted") != null, "created in Confluent");
        var remote = _h.Remote("unquoted")!;
        Assert.That(remote.Config["quickstart"], Is.EqualTo("1000"));
        Assert.That(remote.Config["output.data.format"], Is.EqualTo("true"));
        Assert.That(remote.Config["max.interval"], Is.EqualTo("0.5"));
    }

    [Test]
    public async Task The_TASKS_column_shows_running_tasks_out_of_desired_and_no_condition_is_empty()
    {
        await _h.CreateAsync(_h.Datagen("tasks", tasks: 2));
        var mc = await _h.WaitForAsync("tasks", m => OperatorHarness.IsReady(m), "Ready");
        Assert.That(mc.Status!.TasksReady, Is.EqualTo("2/2"));
        Assert.That(mc.Status.Conditions.Select(c => c.Message), Has.None.Empty);
        var (code, output) = await _h.Kube.KubectlAsync("get", "managedconnector", "tasks", "-n", _h.Namespace);
        Assert.That(code, Is.Zero, output);
        Assert.That(output.Split('\n')[0], Does.Contain("TASKS"));
        Assert.That(output.Split('\n')[1], Does.Contain(" 2/2 "));
    }

    [Test]
    public async Task A_list_or_map_in_config_is_refused_by_the_API_server_naming_the_key()
    {
        var (code, output) = await _h.Kube.KubectlWithInputAsync(
            Manifest("listed", "    topics: [app.a, app.b]\n    nested: {x: y}\n"), "apply", "-f", "-");
        Assert.That(code, Is.Not.Zero, output);
        Assert.That(output, Does.Contain("spec.config.topics: Too many: 2: must have at most 0 items"));
        Assert.That(output, Does.Contain("spec.config.nested: Too many: 1: must have at most 0 items"));
    }
}
