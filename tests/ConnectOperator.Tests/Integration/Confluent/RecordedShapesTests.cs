using System.Net;
using ConnectOperator.Confluent;

namespace ConnectOperator.Tests.Integration.Confluent;

/// <summary>
/// The emulator answers in the shapes recorded from the real Connect API (shared/reference, "Recorded responses"), and
/// the client reads them: empty bodies on writes, the flat 404, custom connector ids, the expanded list's extra fields,
/// server keys nobody can predict, and the status fields the spec does not describe.
/// </summary>
[NonParallelizable]
public class RecordedShapesTests : EmulatorClientFixture
{
    protected override void ConfigureEmulator() => _emu.State.Options.UnpredictableServerKeys = false;

    [Test]
    public async Task Every_write_accepts_a_2xx_with_an_empty_body()
    {
        _emu.State.EmptyWriteBodies = true;
        Assert.That(await _client.CreateConnectorAsync(Cluster, "e", EmulatorHost.DatagenConfig("e")), Is.Null);
        Assert.That(await _client.PutConfigAsync(Cluster, "e", EmulatorHost.DatagenConfig("e", "2")), Is.Null);
        await _client.PauseAsync(Cluster, "e");
        await _client.ResumeAsync(Cluster, "e");
        await _client.RestartAsync(Cluster, "e");
        Assert.That(await _client.DeleteAsync(Cluster, "e"), Is.True);
        Assert.That(_emu.State.CallCounts.Keys, Is.SupersetOf(new[]
        {
            "POST connectors 201", "PUT connectors/{connector_name}/config 200", "PUT connectors/{connector_name}/pause 202",
            "PUT connectors/{connector_name}/resume 202", "POST connectors/{connector_name}/restart 202", "DELETE connectors/{connector_name} 204",
        }));
        Assert.That(_emu.State.Connectors, Is.Empty);
    }

    [Test]
    public async Task A_404_on_a_connector_route_has_the_recorded_flat_body()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{_emu.BaseUrl}/connect/v1/environments/env-1/clusters/lkc-1/connectors/missing/status");
        request.Headers.Authorization = new ConnectCredentials(EmulatorHost.KeyA, EmulatorHost.SecretA).BasicAuthHeader();
        using var response = await http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("""{"error_code":404,"message":"resource not found"}"""));
        var e = Assert.ThrowsAsync<ConfluentNotFoundException>(() => _client.PauseAsync(Cluster, "missing"));
        Assert.That((e!.ErrorCode, e.VendorMessage), Is.EqualTo(((int?)404, (string?)"resource not found")));
    }

    [Test]
    public async Task The_expanded_list_has_the_recorded_fields_and_custom_connectors_their_ids()
    {
        var custom = EmulatorHost.DatagenConfig("mine");
        custom["connector.class"] = "com.example.MySource";
        custom["confluent.connector.type"] = "CUSTOM";
        custom["confluent.custom.plugin.id"] = "ccp-abc123";
        await _client.CreateConnectorAsync(Cluster, "mine", custom);
        await _client.CreateConnectorAsync(Cluster, "gen", EmulatorHost.DatagenConfig("gen"));

        var list = await _client.ReadConnectorListAsync(Cluster);
        Assert.That(list["mine"].Id!.Id, Does.Match("^clcc-[a-z0-9]{5}$"));
        Assert.That(list["gen"].Id!.Id, Does.Match("^lcc-[a-z0-9]{5}$"));
        Assert.That(list["mine"].Info!.Config["confluent.custom.plugin.id"], Is.EqualTo("ccp-abc123"));
        Assert.That(list["mine"].Info!.Type, Is.EqualTo("unknown"));

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{_emu.BaseUrl}/connect/v1/environments/env-1/clusters/lkc-1/connectors?expand=info,status,id");
        request.Headers.Authorization = new ConnectCredentials(EmulatorHost.KeyA, EmulatorHost.SecretA).BasicAuthHeader();
        using var doc = System.Text.Json.JsonDocument.Parse(await (await http.SendAsync(request)).Content.ReadAsStringAsync());
        var gen = doc.RootElement.GetProperty("gen");
        Assert.That(gen.GetProperty("extensions").EnumerateObject().Count(), Is.Zero);
        Assert.That(gen.GetProperty("info").GetProperty("tasks")[0].GetProperty("task").GetInt32(), Is.Zero);
        Assert.That(gen.GetProperty("id").GetProperty("id_type").GetString(), Is.EqualTo("ID"));
    }

    [Test]
    public async Task Unpredictable_server_keys_differ_per_run_and_per_read()
    {
        _emu.State.Options.UnpredictableServerKeys = true;
        await _client.PutConfigAsync(Cluster, "c", EmulatorHost.DatagenConfig("c"));
        var first = (await _confluent.GetConfigAsync(Cluster, "c"))!.Keys.ToHashSet();
        var second = (await _confluent.GetConfigAsync(Cluster, "c"))!.Keys.ToHashSet();
        var added = first.Except(EmulatorHost.DatagenConfig("c").Keys).ToList();
        Assert.That(added.Count(k => k.StartsWith(_emu.State.UnpredictableKeyPrefix, StringComparison.Ordinal)), Is.EqualTo(3));
        Assert.That(first.SetEquals(second), Is.False, "one key changes its name on every read");
        Assert.That(ConfigDrift.Compare(EmulatorHost.DatagenConfig("c"), (await _confluent.GetConfigAsync(Cluster, "c"))!).HasDrift, Is.False);
    }

    [Test]
    public async Task Status_extras_give_a_cause_when_trace_and_msg_are_empty()
    {
        await _client.PutConfigAsync(Cluster, "c", EmulatorHost.DatagenConfig("c", "2"));
        var c = _emu.State.Find("env-1", "lkc-1", "c")!;
        c.StoppedTasks.Add(0);
        var status = (await _confluent.GetStatusAsync(Cluster, "c"))!;
        Assert.That((status.Connector.State, status.Tasks![0].State, status.Tasks[1].State), Is.EqualTo((ConnectorStates.Running, "STOPPED", "RUNNING")));

        _emu.State.FailTask("env-1", "lkc-1", "c", 1, trace: "");
        c.ErrorsFromTrace.Add("Invalid value for configuration kafka.topic: topic does not exist");
        status = (await _confluent.GetStatusAsync(Cluster, "c"))!;
        Assert.That(FailureCause.Of(status), Is.EqualTo("Invalid value for configuration kafka.topic: topic does not exist"));
        c.ErrorsFromTrace.Clear();
        c.OverrideMessage = "The connector is misconfigured; check the connection details";
        Assert.That(FailureCause.Of((await _confluent.GetStatusAsync(Cluster, "c"))!), Is.EqualTo("The connector is misconfigured; check the connection details"));
    }

    [TestCase(false, "PAUSED")]
    [TestCase(true, "RUNNING")]
    public async Task A_pause_during_provisioning_is_accepted_and_applied_or_ignored_when_it_ends(bool ignore, string after)
    {
        _emu.State.ProvisioningDelay = TimeSpan.FromMilliseconds(300);
        _emu.State.IgnorePauseWhileProvisioning = ignore;
        await _client.CreateConnectorAsync(Cluster, "p", EmulatorHost.DatagenConfig("p"));
        await _client.PauseAsync(Cluster, "p");
        Assert.That((await _confluent.GetStatusAsync(Cluster, "p"))!.Connector.State, Is.EqualTo(ConnectorStates.Provisioning));
        await Task.Delay(400);
        Assert.That((await _confluent.GetStatusAsync(Cluster, "p"))!.Connector.State, Is.EqualTo(after));
    }
}
