using ConnectOperator.Entities;
using ConnectOperator.Tests.Infrastructure;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Operator;

/// <summary>Custom plugins end to end: real API server, emulator, one operator in-process, a Department that approved one plugin.</summary>
[NonParallelizable]
public class CustomPluginTests
{
    private const string PluginId = "ccp-audit01";
    private const string PluginClass = "com.example.audit.AuditSourceConnector";
    private OperatorHarness _h = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _h = await OperatorHarness.StartAsync("plugin", d => d.Spec.Policy.CustomPlugins.Add(new V1Alpha1CustomPlugin
        {
            Id = PluginId,
            ConnectorClass = PluginClass,
            TopicKeys = { new V1Alpha1PluginKey { Key = "audit.topic", Kind = "name" } },
            HostKeys = { new V1Alpha1PluginKey { Key = "audit.source", Kind = "host" } },
        }));
        await _h.StartOperatorAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _h.DisposeAsync();

    private V1Alpha1ManagedConnector Custom(string name, string topic, string plugin = PluginId) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = _h.Namespace },
        Spec = new V1Alpha1ManagedConnectorSpec
        {
            ConnectorClass = PluginClass,
            CustomPlugin = new V1Alpha1CustomPluginRef { Id = plugin },
            Config = new Dictionary<string, string> { ["audit.topic"] = topic, ["audit.source"] = "ledger.db.internal:9000" },
        },
    };

    [Test]
    public async Task A_connector_from_an_approved_plugin_runs_as_a_custom_connector()
    {
        await _h.CreateAsync(Custom("audit", "app.audit"));
        var mc = await _h.WaitForAsync("audit", m => OperatorHarness.IsReady(m), "Ready");

        var remote = _h.Remote("audit");
        Assert.That(remote, Is.Not.Null);
        Assert.That(remote!.Id, Does.StartWith("clcc-"));
        Assert.That(remote.Config, Does.ContainKey("confluent.connector.type").WithValue("CUSTOM"));
        Assert.That(remote.Config, Does.ContainKey("confluent.custom.plugin.id").WithValue(PluginId));
        Assert.That(remote.Config, Does.ContainKey("connector.class").WithValue(PluginClass));
        Assert.That(mc.Status!.ConnectorId, Does.StartWith("clcc-"));
        Assert.That(mc.Status.AppliedConfigKeys, Does.Contain("confluent.custom.plugin.id"));
        Assert.That((await _h.EventsAsync("audit")).Where(e => e.Reason == "Created").Select(e => e.Message), Has.Some.Contain("from custom plugin " + PluginId));
    }

    [Test]
    public async Task A_topic_outside_the_prefixes_in_a_plugin_table_key_is_refused_before_anything_reaches_Confluent()
    {
        await _h.CreateAsync(Custom("offside", "hr.audit"));
        var mc = await _h.WaitForAsync("offside", m => OperatorHarness.IsStalled(m, "PolicyViolation"), "Stalled PolicyViolation");
        Assert.That(mc.Status!.Conditions.First(c => c.Type == ConditionTypes.Stalled).Message,
            Does.Contain("spec.config[audit.topic]: topic hr.audit does not start with an allowed prefix"));
        Assert.That(_h.Remote("offside"), Is.Null);
    }

    [Test]
    public async Task A_plugin_the_department_did_not_approve_is_refused_naming_spec_customPlugin_id()
    {
        await _h.CreateAsync(Custom("stranger", "app.audit", plugin: "ccp-stranger1"));
        var mc = await _h.WaitForAsync("stranger", m => OperatorHarness.IsStalled(m, "PolicyViolation"), "Stalled PolicyViolation");
        Assert.That(mc.Status!.Conditions.First(c => c.Type == ConditionTypes.Stalled).Message,
            Does.Contain("spec.customPlugin.id ccp-stranger1 is not a custom plugin department"));
        Assert.That(_h.Remote("stranger"), Is.Null);
    }

    [Test]
    public async Task The_custom_plugin_keys_in_config_are_refused_and_the_api_server_refuses_a_malformed_id()
    {
        // spec.config's values are untyped for CEL, so its key rules are the webhook's and the reconciler's (no webhook here).
        var sneaky = Custom("sneaky", "app.audit");
        sneaky.Spec.Config["Confluent.Custom.Plugin.Id"] = "ccp-other";
        await _h.CreateAsync(sneaky);
        var refused = await _h.WaitForAsync("sneaky", m => OperatorHarness.IsStalled(m, "PolicyViolation"), "Stalled PolicyViolation");
        Assert.That(refused.Status!.Conditions.First(c => c.Type == ConditionTypes.Stalled).Message, Does.Contain("reserved key Confluent.Custom.Plugin.Id"));
        Assert.That(_h.Remote("sneaky"), Is.Null);
        var e2 = Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => _h.CreateAsync(Custom("malformed", "app.audit", plugin: "plugin-1")));
        Assert.That(e2!.Response.Content, Does.Contain("spec.customPlugin.id"));
    }
}
