using System.Text;
using ConnectOperator.Emulator;
using ConnectOperator.Entities;
using ConnectOperator.Hosting;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using ConnectOperator.Tests.Unit.Packaging;
using k8s;
using k8s.Models;
using Newtonsoft.Json.Linq;

namespace ConnectOperator.Tests.Integration.Operator;

/// <summary>
/// Issue 16, the reconciler's part: a suspended Department changes nothing in Confluent (deletes included) while its
/// connectors' health stays observed; and a secret value Confluent echoes back never reaches status, Events, logs,
/// metrics or <c>kubectl describe</c>, whatever its key is called and however short it is.
/// </summary>
[NonParallelizable]
public class SuspensionAndSecretEchoTests
{
    private static readonly ResourceKind DepartmentKind = ResourceKind.For<V1Alpha1Department>(namespaced: false);

    [Test]
    public async Task A_suspended_department_changes_nothing_in_Confluent_and_its_connectors_stay_observed()
    {
        ArgoCdHealthLuaTests.RequireLua();
        await using var h = await OperatorHarness.StartAsync("susp");
        await h.StartOperatorAsync();
        foreach (var n in new[] { "keep", "fails", "goes" }) await h.CreateAsync(h.Datagen(n));
        foreach (var n in new[] { "keep", "fails", "goes" }) await h.WaitForAsync(n, m => OperatorHarness.IsReady(m), "Ready");

        await h.Api.PatchAsync<V1Alpha1Department>(DepartmentKind, null, h.Department, "{\"spec\":{\"suspend\":true}}", PatchKind.Merge);
        // The Department says so at once, not after its credentials' re-verification period.
        await h.WaitUntilAsync(async () =>
            (await h.Api.GetAsync<V1Alpha1Department>(DepartmentKind, null, h.Department)).Status?.Conditions.Any(c => c.Type == "Ready" && c.Reason == "Suspended") == true,
            "Department Ready=Suspended", TimeSpan.FromSeconds(15));
        var keep = await h.WaitForAsync("keep", m => m.Status?.Conditions.Any(c => c.Type == "Suspended" && c.Status == "True") == true, "Suspended condition");
        Assert.That(OperatorHarness.IsReady(keep), Is.True, "observed health kept: it still runs");
        var callsBefore = h.State.Calls.Count;

        // Meanwhile: a failure in Confluent, a spec change, a delete.
        h.State.FailConnector(OperatorHarness.Environment, OperatorHarness.Cluster, h.RemoteName("fails"), "org.apache.kafka.connect.errors.ConnectException: broker unreachable");
        var failed = await h.WaitForAsync("fails", m => m.Status?.ConnectorState == "FAILED", "FAILED observed while suspended (polling goes on)");
        Assert.That(failed.Status!.Trace, Does.Contain("broker unreachable"));
        await h.PatchAsync("keep", "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"}}}");
        await h.Api.DeleteAsync(OperatorHarness.ConnectorKind, h.Namespace, "goes");
        var waiting = await h.WaitForAsync("goes", m => m.Status?.Conditions.Any(c => c.Reason == "DeleteWaitsForSuspension") == true, "the delete waits, and says so");
        Assert.That(waiting.Status!.Conditions.First(c => c.Reason == "DeleteWaitsForSuspension").Message, Does.Contain("is suspended"));
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.That(h.State.Calls.Skip(callsBefore).Where(c => c.Method != "GET").Select(c => $"{c.Method} {c.Route}"), Is.Empty,
            "nothing is changed in Confluent while suspended: no PUT, no restart, no DELETE");
        Assert.That(h.Remote("goes"), Is.Not.Null);
        Assert.That(h.Remote("keep")!.Config["quickstart"], Is.EqualTo("ORDERS"));

        // Argo CD: Suspended for the healthy one, not a Progressing that lasts as long as the suspension.
        keep = await h.WaitForAsync("keep", m => m.Status?.ObservedGeneration == m.Metadata.Generation, "generation observed");
        var (argo, message) = ArgoCdHealthLuaTests.RunHealth(ArgoCdHealthLuaTests.ScriptFor("ManagedConnector"), JToken.Parse(KubernetesJson.Serialize(keep)));
        Assert.That((argo, message), Is.EqualTo(("Suspended", keep.Status!.Conditions.Single(c => c.Type == "Suspended").Message)));

        // Resumed: everything that waited happens.
        await h.Api.PatchAsync<V1Alpha1Department>(DepartmentKind, null, h.Department, "{\"spec\":{\"suspend\":false}}", PatchKind.Merge);
        await h.WaitUntilAsync(async () => await h.GetAsync("goes") == null && h.Remote("goes") == null, "the waiting delete done");
        await h.WaitUntilAsync(() => Task.FromResult(h.Remote("keep")!.Config["quickstart"] == "USERS"), "the update applied");
        keep = await h.WaitForAsync("keep", m => OperatorHarness.IsReady(m) && m.Status!.Conditions.All(c => c.Type != "Suspended"), "no Suspended condition");
        await h.WaitForAsync("fails", m => OperatorHarness.IsReady(m), "auto-restarted after the suspension");
    }

    [Test]
    public async Task A_short_plain_named_secret_echoed_by_Confluent_reaches_no_status_event_log_metric_or_describe()
    {
        const string Short = "q7Zr";   // four characters, under a key whose name says nothing about secrets
        await using var h = await OperatorHarness.StartAsync("echo");
        var op = await h.StartOperatorAsync();
        await h.CreateSecretAsync(h.Namespace, "dbx", new() { ["detail"] = Short });
        var mc = h.Datagen("echo");
        mc.Spec.SecretConfig.Add(new V1Alpha1SecretConfigEntry { Key = "conn.detail", SecretKeyRef = new V1Alpha1SecretKeyRef { Name = "dbx", Key = "detail" } });
        await h.CreateAsync(mc);
        await h.WaitForAsync("echo", m => OperatorHarness.IsReady(m), "Ready");
        Assert.That(h.Remote("echo")!.Config["conn.detail"], Is.EqualTo(Short), "the value reached Confluent, so the scenario exercises it");

        // Confluent rejects an update and echoes the request body in its message (a 400 is shown to the department).
        h.State.InjectErrors(new ErrorFault { Status = 400, Count = 1000, EchoRequestBody = true, Message = "Invalid config", Route = "connectors/{connector_name}/config" });
        await h.PatchAsync("echo", "{\"spec\":{\"config\":{\"quickstart\":\"USERS\"}}}");
        var stalled = await h.WaitForAsync("echo", m => OperatorHarness.IsStalled(m, "InvalidConfig"), "Stalled InvalidConfig");
        Assert.That(stalled.Status!.Conditions.First(c => c.Type == "Stalled").Message, Does.Contain("[REDACTED]"), "the echo was there, and scrubbed");
        h.State.ClearFaults();
        await h.PatchAsync("echo", "{\"spec\":{\"config\":{\"quickstart\":\"PAGEVIEWS\"}}}");
        await h.WaitForAsync("echo", m => OperatorHarness.IsReady(m), "Ready again");

        // A trace and a task message that quote the value.
        h.State.FailTask(OperatorHarness.Environment, OperatorHarness.Cluster, h.RemoteName("echo"), 0, $"login failed with detail={Short} for host db.internal");
        await h.WaitUntilAsync(async () => (await h.EventsAsync("echo")).Any(e => e.Reason == "Failed"), "Failed event");
        var failed = await h.WaitForAsync("echo", m => m.Status?.Trace?.Contains("login failed") == true, "trace in status");
        Assert.That(failed.Status!.Trace, Does.Contain("detail=[REDACTED]"));

        var texts = new List<(string What, string Text)>
        {
            ("status", KubernetesJson.Serialize(await h.GetAsync("echo"))),
            ("describe", (await h.Kube.KubectlAsync("describe", "managedconnector", "echo", "-n", h.Namespace)).Output),
        };
        foreach (var e in await h.EventsAsync("echo")) texts.Add(($"event {e.Reason}", KubernetesJson.Serialize(e)));
        using (var http = new HttpClient())
            texts.Add(("metrics", await http.GetStringAsync($"http://127.0.0.1:{op.Service<OperatorOptions>().MetricsPort}/metrics")));
        texts.AddRange(h.LogLines.Select(l => ("log", l)));
        Assert.That(texts.First(t => t.What == "describe").Text, Does.Contain("echo"), "describe ran");
        Assert.That(texts.Where(t => t.Text.Contains(Short, StringComparison.Ordinal)).Select(t => $"{t.What}: {t.Text[..Math.Min(300, t.Text.Length)]}"), Is.Empty);
    }
}
