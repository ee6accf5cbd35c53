using ConnectOperator.Confluent;
using ConnectOperator.Emulator;

namespace ConnectOperator.Tests.Integration.Confluent;

/// <summary>The typed client against the in-process emulator: lifecycle, reads, errors. What the emulator holds is read through <see cref="ConfluentProbe"/>.</summary>
[NonParallelizable]
public class ConnectClientEmulatorTests : EmulatorClientFixture
{
    [Test]
    public async Task Lifecycle_provisioning_pause_resume_fail_restart_delete()
    {
        _emu.State.ProvisioningDelay = TimeSpan.FromMilliseconds(400);
        _emu.State.PauseResumeDelay = TimeSpan.FromMilliseconds(300);
        var created = await _client.CreateConnectorAsync(Cluster, "gen", EmulatorHost.DatagenConfig("gen", tasks: "2"));
        Assert.That(created!.Name, Is.EqualTo("gen"));
        var provisioning = (await _confluent.GetStatusAsync(Cluster, "gen"))!;
        // Recorded while provisioning: type "unknown", task 0 listed STOPPED, empty trace and msg.
        Assert.That((provisioning.Connector.State, provisioning.Type, provisioning.Connector.Trace), Is.EqualTo((ConnectorStates.Provisioning, (string?)"unknown", (string?)"")));
        Assert.That(provisioning.Tasks!.Select(t => (t.Id, t.State, t.Msg)), Is.EqualTo(new[] { (0, "STOPPED", (string?)"") }));
        Assert.That(FailureCause.Of(provisioning), Is.Null, "empty strings are no cause");
        await Task.Delay(500);
        var status = (await _confluent.GetStatusAsync(Cluster, "gen"))!;
        Assert.That(status.Connector.State, Is.EqualTo(ConnectorStates.Running));
        Assert.That(status.Tasks!.Select(t => t.State), Is.EqualTo(new[] { "RUNNING", "RUNNING" }));
        Assert.That((status.Type, status.Connector.WorkerId, status.OverrideMessage), Is.EqualTo(("source", (string?)"gen", (string?)"")));
        Assert.That((status.ErrorsFromTrace, status.ValidationErrors), Is.EqualTo((new List<System.Text.Json.JsonElement>(), new List<System.Text.Json.JsonElement>())));

        // Asynchronous: 202 now, the state later.
        await _client.PauseAsync(Cluster, "gen");
        Assert.That((await _confluent.GetStatusAsync(Cluster, "gen"))!.Connector.State, Is.EqualTo(ConnectorStates.Running));
        await Task.Delay(400);
        Assert.That((await _confluent.GetStatusAsync(Cluster, "gen"))!.Connector.State, Is.EqualTo(ConnectorStates.Paused));
        await _client.ResumeAsync(Cluster, "gen");
        await Task.Delay(400);
        Assert.That((await _confluent.GetStatusAsync(Cluster, "gen"))!.Connector.State, Is.EqualTo(ConnectorStates.Running));

        _emu.State.FailConnector(Cluster.EnvironmentId, Cluster.KafkaClusterId, "gen", "boom trace");
        status = (await _confluent.GetStatusAsync(Cluster, "gen"))!;
        Assert.That((status.Connector.State, status.Connector.Trace), Is.EqualTo((ConnectorStates.Failed, (string?)"boom trace")));
        await _client.RestartAsync(Cluster, "gen");
        Assert.That((await _confluent.GetStatusAsync(Cluster, "gen"))!.Connector.State, Is.EqualTo(ConnectorStates.Running));

        _emu.State.FailTask(Cluster.EnvironmentId, Cluster.KafkaClusterId, "gen", 1, "task trace");
        status = (await _confluent.GetStatusAsync(Cluster, "gen"))!;
        Assert.That((status.Connector.State, status.Connector.Trace), Is.EqualTo((ConnectorStates.Degraded, (string?)"")));
        Assert.That(status.Tasks![1].Msg, Is.EqualTo("task trace"));
        Assert.That(FailureCause.Of(status), Is.EqualTo("task 1: task trace"), "an empty trace falls back to the failed task's message");
        await _client.RestartTaskAsync(Cluster, "gen", 1);
        Assert.That((await _confluent.GetStatusAsync(Cluster, "gen"))!.Connector.State, Is.EqualTo(ConnectorStates.Running));

        // Restart as documented: no query parameters, the connector and all its tasks.
        _emu.State.FailTask(Cluster.EnvironmentId, Cluster.KafkaClusterId, "gen", 0);
        await _client.RestartAsync(Cluster, "gen");
        var emulated = _emu.State.Find("env-1", "lkc-1", "gen")!;
        Assert.That((emulated.RestartCount, emulated.LastRestartQuery), Is.EqualTo((2, (string?)null)));
        Assert.That(emulated.TaskRestartCounts, Is.EqualTo(new Dictionary<int, int> { [0] = 2, [1] = 3 }));
        Assert.That(_emu.State.CountCalls("POST", "connectors/{connector_name}/restart", 202), Is.EqualTo(2));

        Assert.That(await _client.DeleteAsync(Cluster, "gen"), Is.True);
        Assert.That(await _client.DeleteAsync(Cluster, "gen"), Is.False);
        Assert.That(await _confluent.GetStatusAsync(Cluster, "gen"), Is.Null);
    }

    [Test]
    public async Task Reads_mask_secrets_add_server_keys_and_drift_ignores_them()
    {
        var desired = EmulatorHost.DatagenConfig("c1");
        var put = await _client.PutConfigAsync(Cluster, "c1", desired);
        Assert.That(put!.Config["kafka.api.secret"], Is.EqualTo("****************"));

        var remote = (await _confluent.GetConfigAsync(Cluster, "c1"))!;
        Assert.That(remote["kafka.api.key"], Is.EqualTo("****************"));
        Assert.That(remote.Keys, Is.SupersetOf(new[] { "cloud.environment", "cloud.provider", "kafka.endpoint", "kafka.region", "kafka.max.partition.validation.disable" }));
        Assert.That(ConfigDrift.Compare(desired, remote).HasDrift, Is.False);

        var list = await _client.ReadConnectorListAsync(Cluster);
        Assert.That(list.Keys, Is.EqualTo(new[] { "c1" }));
        Assert.That(list["c1"].Id!.Id, Does.Match("^lcc-[a-z0-9]{5}$"));
        Assert.That(list["c1"].Status!.Connector.State, Is.EqualTo(ConnectorStates.Running));
        Assert.That(list["c1"].Info!.Config["kafka.topic"], Is.EqualTo("orders"));
        Assert.That(await _client.ListConnectorNamesAsync(Cluster), Is.EqualTo(new[] { "c1" }));

        // Out-of-band edit → drift on exactly that key.
        var edited = new Dictionary<string, string>(desired) { ["kafka.topic"] = "other" };
        _emu.State.Upsert("env-1", "lkc-1", "c1", edited, out _);
        var drift = ConfigDrift.Compare(desired, (await _confluent.GetConfigAsync(Cluster, "c1"))!);
        Assert.That(drift.Differences.Select(d => (d.Key, d.Kind)), Is.EqualTo(new[] { ("kafka.topic", DriftKind.Changed) }));

        // PUT is idempotent: same config again, no new connector.
        await _client.PutConfigAsync(Cluster, "c1", desired);
        Assert.That(_emu.State.Connectors, Has.Count.EqualTo(1));

        var offsets = await _client.GetOffsetsAsync(Cluster, "c1");
        Assert.That(offsets!.Id, Is.EqualTo(list["c1"].Id!.Id));
    }

    [Test]
    public async Task Validate_reports_errors_per_field()
    {
        var bad = new Dictionary<string, string> { ["name"] = "pg", ["connector.class"] = "PostgresCdcSource", ["kafka.auth.mode"] = "SERVICE_ACCOUNT" };
        var result = await _client.ValidateConfigAsync(Cluster, "PostgresCdcSource", bad);
        Assert.That(result.ErrorCount, Is.GreaterThan(0));
        Assert.That(result.FieldErrors().Keys, Does.Contain("kafka.service.account.id").And.Contain("database.hostname").And.Contain("database.password"));

        var good = EmulatorHost.DatagenConfig("d");
        Assert.That((await _client.ValidateConfigAsync(Cluster, "DatagenSource", good)).ErrorCount, Is.Zero);
        Assert.That((await _client.ValidateConfigAsync(Cluster, "SomeUnknownSink", new Dictionary<string, string>(good) { ["connector.class"] = "SomeUnknownSink" })).ErrorCount,
            Is.Zero, "unknown classes get only the generic checks");
    }

    [Test]
    public async Task Not_found_is_null_or_false_for_reads_and_delete_but_an_error_for_pause()
    {
        Assert.That(await _client.GetOffsetsAsync(Cluster, "nope"), Is.Null);
        Assert.That(await _client.DeleteAsync(Cluster, "nope"), Is.False);
        var e = Assert.ThrowsAsync<ConfluentNotFoundException>(() => _client.PauseAsync(Cluster, "nope"));
        Assert.That(e!.RequestId, Does.StartWith("req-"));
    }

    [Test]
    public void Unauthorized_and_forbidden()
    {
        var wrong = _factory.Create(EmulatorHost.KeyA, "wrong-secret");
        var e401 = Assert.ThrowsAsync<ConfluentUnauthorizedException>(() => wrong.ListConnectorNamesAsync(Cluster));
        Assert.That((e401!.ErrorCode, e401.VendorMessage), Is.EqualTo(((int?)401, (string?)"Unauthorized")));
        Assert.That(e401.Message, Does.Not.Contain("wrong-secret"));

        var scoped = _factory.Create(EmulatorHost.ScopedKey, EmulatorHost.ScopedSecret);
        Assert.DoesNotThrowAsync(() => scoped.ListConnectorNamesAsync(Cluster));
        var e403 = Assert.ThrowsAsync<ConfluentForbiddenException>(() => scoped.ListConnectorNamesAsync(EmulatorHost.OtherCluster));
        Assert.That(e403!.IsForbidden, Is.True);
        Assert.ThrowsAsync<ConfluentForbiddenException>(() => scoped.ListConnectorNamesAsync(new ClusterRef("env-1", "lkc-other")));
    }

    [Test]
    public async Task Duplicate_create_is_409_and_invalid_create_is_400_with_kafka_connect_shape()
    {
        await _client.CreateConnectorAsync(Cluster, "dup", EmulatorHost.DatagenConfig("dup"));
        var conflict = Assert.ThrowsAsync<ConfluentConflictException>(() => _client.CreateConnectorAsync(Cluster, "dup", EmulatorHost.DatagenConfig("dup")));
        Assert.That(conflict!.ErrorCode, Is.EqualTo(409));

        var cfg = EmulatorHost.DatagenConfig("bad");
        cfg.Remove("quickstart");
        var bad = Assert.ThrowsAsync<ConfluentApiException>(() => _client.CreateConnectorAsync(Cluster, "bad", cfg));
        Assert.That((bad!.IsBadRequest, bad.ErrorCode), Is.EqualTo((true, (int?)400))); // from "error_code"
        Assert.That(bad.VendorMessage, Does.Contain("quickstart"));

        var badPut = Assert.ThrowsAsync<ConfluentApiException>(() => _client.PutConfigAsync(Cluster, "bad", cfg));
        Assert.That((badPut!.IsBadRequest, badPut.ErrorCode), Is.EqualTo((true, (int?)400))); // from "error": {"code"}
    }

    [Test]
    public void Both_error_shapes_from_injected_faults_are_parsed()
    {
        _emu.State.InjectErrors(new ErrorFault { Status = 502, Shape = "flat", Message = "kafka connect says no", Count = 1 });
        var flat = Assert.ThrowsAsync<ConfluentApiException>(() => _client.ListConnectorNamesAsync(Cluster));
        Assert.That((flat!.StatusCode, flat.ErrorCode, flat.VendorMessage), Is.EqualTo((System.Net.HttpStatusCode.BadGateway, (int?)502, (string?)"kafka connect says no")));
        Assert.That(flat.RequestId, Does.StartWith("req-"));

        _emu.State.InjectErrors(new ErrorFault { Status = 500, Shape = "nested", Message = "Oops", Count = 1 });
        var nested = Assert.ThrowsAsync<ConfluentApiException>(() => _client.ListConnectorNamesAsync(Cluster));
        Assert.That((nested!.ErrorCode, nested.VendorMessage, nested.IsServerError), Is.EqualTo(((int?)500, (string?)"Oops", true)));
    }

    [Test]
    public async Task Metrics_use_route_templates_not_names()
    {
        var seen = new List<(string Route, string Status)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (i, l) => { if (i.Meter.Name == ConnectClientMetrics.MeterName && i.Name == ConnectClientMetrics.RequestsName) l.EnableMeasurementEvents(i); };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? route = null, status = null;
            foreach (var t in tags) { if (t.Key == "route") route = t.Value as string; if (t.Key == "status_code") status = t.Value as string; }
            lock (seen) seen.Add((route!, status!));
        });
        listener.Start();
        await _client.GetOffsetsAsync(Cluster, "secret-name-xyz");
        lock (seen)
        {
            Assert.That(seen, Does.Contain(("connectors/{name}/offsets", "404")));
            Assert.That(seen.Any(s => s.Route.Contains("secret-name-xyz")), Is.False);
        }
    }
}
