using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Leadership;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Reliability;

/// <summary>
/// Scenario 9: at least 1,000 malformed or hostile ManagedConnectors go through the real API server (schema, CEL and
/// the operator's admission webhook, server-side dry run with strict field validation) and each is refused with a
/// message naming what is wrong; a real-create subset that passes admission surfaces as Stalled with an actionable
/// reason. The operator keeps leading and a second department's connectors are untouched.
/// </summary>
[NonParallelizable]
public class HostileInputTests
{
    /// <summary>One hostile spec: a family (what is wrong), the body, and a fragment the refusal must contain.</summary>
    public sealed record Hostile(string Family, JsonObject Body, string Expect);

    private static JsonObject Base(string name, string ns, string label)
        => new()
        {
            ["apiVersion"] = "connect.ebs.io/v1alpha1",
            ["kind"] = "ManagedConnector",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = new JsonObject { [WebhookRig.TestLabel] = label } },
            ["spec"] = new JsonObject
            {
                ["connectorClass"] = "DatagenSource",
                ["tasksMax"] = 1,
                ["config"] = new JsonObject { ["kafka.topic"] = "app.orders", ["quickstart"] = "ORDERS", ["output.data.format"] = "JSON" },
            },
        };

    private static JsonObject Spec(JsonObject o) => (JsonObject)o["spec"]!;
    private static JsonObject Config(JsonObject o) => (JsonObject)Spec(o)["config"]!;

    private static readonly string[] Reserved = ["name", "connector.class", "tasks.max", "kafka.auth.mode", "kafka.api.key", "kafka.api.secret", "kafka.service.account.id"];

    /// <summary>Deterministic generator: <paramref name="count"/> specs cycling through the families, each variant different.</summary>
    public static IEnumerable<Hostile> Generate(int count, string ns, string label)
    {
        var families = new List<Func<int, Hostile>>
        {
            v => { var o = Base(NameOf(v, "x"), ns, label); o["metadata"]!["name"] = (v % 4) switch { 0 => $"Bad_Name{v}", 1 => $"UPPER{v}", 2 => $"-lead{v}", _ => $"ünï{v}" }; return new("invalid-name", o, "metadata.name"); },
            v => { var o = Base("long" + new string('n', 60 + v % 150), ns, label); return new("name-too-long", o, "metadata.name must be at most 63 characters"); },
            v => { var o = Base(NameOf(v, "tm"), ns, label); Spec(o)["tasksMax"] = (v % 4) switch { 0 => 0, 1 => -v - 1, 2 => 101 + v, _ => int.MaxValue }; return new("tasksMax-range", o, "spec.tasksMax"); },
            v => { var o = Base(NameOf(v, "tt"), ns, label); Spec(o)["tasksMax"] = (v % 3) switch { 0 => JsonValue.Create("three"), 1 => JsonValue.Create(1.5), _ => JsonValue.Create(true) }; return new("tasksMax-type", o, "spec.tasksMax"); },
            v => { var o = Base(NameOf(v, "hv"), ns, label); Config(o)["quickstart"] = new string('x', 8193 + v * 97); return new("huge-value", o, "spec.config.quickstart: Too long"); },
            v => { var o = Base(NameOf(v, "hk"), ns, label); for (var k = 0; k < 129 + v % 40; k++) Config(o)[$"extra.key.{k}"] = "v"; return new("too-many-keys", o, "spec.config"); },
            v => { var o = Base(NameOf(v, "ct"), ns, label); Config(o)["quickstart"] = (v % 2) switch { 0 => new JsonArray("a", $"b{v}"), _ => new JsonObject { ["nested"] = $"x{v}" } }; return new("config-value-type", o, "spec.config.quickstart"); },   // numbers and booleans are accepted (sent as strings); lists and maps are not
            v => { var o = Base(NameOf(v, "uk"), ns, label); Config(o)[(v % 5) switch { 0 => $"ключ{v}", 1 => $"tôpic.{v}", 2 => $"emoji🔥{v}", 3 => $" space{v}", _ => $".dot{v}" }] = "v"; return new("unicode-key", o, "spec.config keys must be"); },
            v => { var o = Base(NameOf(v, "rk"), ns, label); Config(o)[Reserved[v % Reserved.Length]] = "x"; return new("reserved-key", o, "spec.config must not set reserved key"); },
            v => { var o = Base(NameOf(v, "rs"), ns, label); Spec(o)["secretConfig"] = new JsonArray(SecretRef(Reserved[v % Reserved.Length], "s", "k")); return new("reserved-secret-key", o, "spec.secretConfig must not set reserved key"); },
            v => { var o = Base(NameOf(v, "xn"), ns, label); var e = SecretRef("x.password", "s", "k"); ((JsonObject)e["secretKeyRef"]!)["namespace"] = $"other-{v}"; Spec(o)["secretConfig"] = new JsonArray(e); return new("cross-namespace-secret", o, "unknown field \\\"spec.secretConfig[0].secretKeyRef.namespace"); },
            v => { var o = Base(NameOf(v, "tp"), ns, label); Config(o)["kafka.topic"] = (v % 4) switch { 0 => $"hr.{v}", 1 => $"App.{v}", 2 => $"äpp.{v}", _ => $"app{v}" }; return new("topic-outside-prefix", o, "spec.config[kafka.topic]"); },
            v => { var o = Base(NameOf(v, "ho"), ns, label); Spec(o)["connectorClass"] = "HttpSink"; Spec(o)["config"] = new JsonObject { ["topics"] = "app.orders", ["input.data.format"] = "JSON",
                    ["http.api.url"] = (v % 5) switch { 0 => $"https://evil{v}.com/", 1 => "http://169.254.169.254/latest/meta-data", 2 => $"https://api.example.com.evil.io/{v}", 3 => $"https://münchen{v}.example.org/", _ => $"https://x{v}.db.internal.evil.net/" } };
                return new("host-outside-allowlist", o, "spec.config[http.api.url]"); },
            v => { var o = Base(NameOf(v, "en"), ns, label); switch (v % 4) { case 0: Spec(o)["state"] = "Stopped"; break; case 1: Spec(o)["deletionPolicy"] = "Keep"; break; case 2: Spec(o)["restartPolicy"] = new JsonObject { ["type"] = "Always" }; break; default: Spec(o)["restartPolicy"] = new JsonObject { ["type"] = "OnFailure", ["maxRestarts"] = 1001 + v }; break; } return new("enum-or-range", o, "spec."); },
            v => { var o = Base(NameOf(v, "cc"), ns, label); Spec(o)["connectorClass"] = (v % 4) switch { 0 => $"../x{v}", 1 => "Datagen Source", 2 => new string('C', 129 + v), _ => "" }; return new("connectorClass-pattern", o, "spec.connectorClass"); },
            v => { var o = Base(NameOf(v, "mi"), ns, label); if (v % 2 == 0) o.Remove("spec"); else Spec(o).Remove("connectorClass"); return new("missing-required", o, v % 2 == 0 ? "spec" : "spec.connectorClass"); },
            v => { var o = Base(NameOf(v, "wt"), ns, label); if (v % 2 == 0) o["spec"] = $"spec-as-string-{v}"; else Spec(o)["config"] = new JsonArray("a", "b"); return new("wrong-type", o, v % 2 == 0 ? "spec" : "spec.config"); },
            v => { var o = Base(NameOf(v, "dk"), ns, label); Spec(o)["secretConfig"] = new JsonArray(SecretRef("quickstart", "s", "k")); return new("key-in-both", o, "spec.secretConfig keys must not also appear in spec.config"); },
            v => { var o = Base(NameOf(v, "st"), ns, label); Config(o).Remove("kafka.topic"); Spec(o)["secretConfig"] = new JsonArray(SecretRef("kafka.topic", "s", "k")); return new("topic-in-secret", o, "move it to spec.config"); },
            v => { var o = Base(NameOf(v, "sr"), ns, label); Spec(o)["secretConfig"] = new JsonArray(SecretRef("x.password", v % 2 == 0 ? $"Bad_Secret{v}" : "s", v % 2 == 0 ? "k" : $"bad key {v}")); return new("secretRef-pattern", o, "spec.secretConfig[0].secretKeyRef"); },
            // Issue 16: what the old checks let through.
            v => { var o = Base(NameOf(v, "rx"), ns, label); Spec(o)["connectorClass"] = "S3_SINK";
                    Spec(o)["config"] = new JsonObject { ["s3.bucket.name"] = "b", ["topics.regex"] = (v % 5) switch { 0 => $@"app\.{v}|hr\..*", 1 => @"app\..*|.*", 2 => $@"^app\.x$|^hr\.s{v}$", 3 => @"(?i)app\..*", _ => $@"(app|hr{v})\..*" } };
                    return new("topic-regex-alternative", o, "spec.config[topics.regex]: topic pattern"); },
            v => { var o = Base(NameOf(v, "tr"), ns, label); Config(o)["transforms"] = "r"; Config(o)["transforms.r.type"] = (v % 3) switch { 0 => "org.apache.kafka.connect.transforms.RegexRouter", 1 => "io.confluent.connect.transforms.TopicRegexRouter", _ => "io.confluent.connect.cloud.transforms.TopicRegexRouter" };
                    Config(o)["transforms.r.regex"] = ".*"; Config(o)["transforms.r.replacement"] = (v % 2) switch { 0 => $"hr.{v}", _ => "$1" };
                    return new("transform-renames-out", o, "spec.config[transforms.r.replacement]"); },
            v => { var o = Base(NameOf(v, "ut"), ns, label); var chain = v % 2 == 0 ? "transforms" : "predicates"; Config(o)[chain] = "x"; Config(o)[$"{chain}.x.type"] = (v % 3) switch { 0 => $"com.evil.T{v}", 1 => "io.confluent.connect.transforms.ExtractTopic$Value", _ => $"org.apache.kafka.connect.transforms.Unknown{v}" };
                    return new("unknown-transform-or-predicate", o, $"spec.config[{chain}.x.type]"); },
            v => { var o = Base(NameOf(v, "rc"), ns, label); var k = Reserved[v % Reserved.Length]; Config(o)[(v % 2) switch { 0 => k.ToUpperInvariant(), _ => char.ToUpperInvariant(k[0]) + k[1..] }] = "x";
                    return new("reserved-key-other-case", o, "spec.config must not set reserved key"); },
            v => { var o = Base(NameOf(v, "ge"), ns, label); Config(o)[(v % 4) switch { 0 => "callback.url", 1 => "report.endpoint", 2 => "http.proxy", _ => "notes" }] = (v % 4) switch { 2 => $"proxy{v}.evil.net:3128", _ => $"https://evil{v}.example.net/x" };
                    return new("endpoint-outside-the-table", o, "is not in the allowed hosts"); },
        };
        for (var i = 0; i < count; i++)
            yield return families[i % families.Count](i / families.Count);
    }

    private static string NameOf(int v, string family) => $"hostile-{family}-{v}";

    private static JsonObject SecretRef(string key, string name, string secretKey)
        => new() { ["key"] = key, ["secretKeyRef"] = new JsonObject { ["name"] = name, ["key"] = secretKey } };

    [Test]
    public async Task S9_a_thousand_hostile_specs_are_refused_or_stalled_and_nothing_else_is_affected()
    {
        var sw = Stopwatch.StartNew();
        await using var h = await OperatorHarness.StartAsync("rel-hostile");
        var rig = await WebhookRig.StartOperatorWithWebhookAsync(h);
        var deptB = h.Department + "-b";
        var nsB = await h.Kube.CreateNamespaceAsync("rel-hostile-b");
        try
        {
            // A second department, same operator and Confluent cluster: its connectors must not notice anything.
            await WebhookRig.LabelNamespaceAsync(h, nsB, rig.Id);
            await h.Api.CreateAsync(ResourceKind.For<V1Alpha1Department>(namespaced: false), null, new V1Alpha1Department
            {
                Metadata = new V1ObjectMeta { Name = deptB },
                Spec = new V1Alpha1DepartmentSpec
                {
                    Namespaces = new List<string> { nsB },
                    ConnectorNamePrefix = deptB,
                    Confluent = new V1Alpha1DepartmentConfluent
                    {
                        EnvironmentId = OperatorHarness.Environment, KafkaClusterId = OperatorHarness.Cluster, ServiceAccountId = "sa-emu2",
                        CredentialsSecretRef = new V1Alpha1CredentialsSecretRef { Name = "confluent-credentials" },
                    },
                    Policy = new V1Alpha1DepartmentPolicy { AllowedConnectorClasses = new List<string> { "DatagenSource" }, TopicPrefixes = new List<string> { "app." } },
                },
            });
            var bNames = new[] { "b0", "b1", "b2" };
            foreach (var b in bNames)
            {
                var mc = h.Datagen(b);
                mc.Metadata.NamespaceProperty = nsB;
                WebhookRig.Label(mc, rig.Id);
                await h.CreateAsync(mc);
            }
            foreach (var b in bNames) await h.WaitForAsync(b, m => OperatorHarness.IsReady(m), "B Ready", ns: nsB);
            await Task.Delay(1500);   // let B's status settle before the snapshot
            var bBefore = await Invariants.LiveAsync(h, nsB);
            string RemoteB(string n) => $"{deptB}.{nsB}.{n}";
            var bRemoteBefore = bNames.ToDictionary(n => n, n => h.State.Find(OperatorHarness.Environment, OperatorHarness.Cluster, RemoteB(n))!)
                .ToDictionary(kv => kv.Key, kv => (kv.Value.Id, kv.Value.ConfigUpdateCount, kv.Value.RestartCount, kv.Value.PauseCount, kv.Value.ResumeCount));

            // ---- 1. the hostile specs, through the API server with dry run (schema + CEL + webhook), strictly decoded.
            var specs = Generate(Sizes.HostileSpecs, h.Namespace, rig.Id).ToList();
            Assert.That(specs, Has.Count.GreaterThanOrEqualTo(1000));
            var outcomes = new System.Collections.Concurrent.ConcurrentBag<(Hostile Spec, int Code, string Message)>();
            await Parallel.ForEachAsync(specs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (s, ct) =>
            {
                try
                {
                    await h.Client.CustomObjects.CreateNamespacedCustomObjectAsync(s.Body, ConnectApi.Group, ConnectApi.Version, h.Namespace, "managedconnectors",
                        dryRun: "All", fieldValidation: "Strict", cancellationToken: ct);
                    outcomes.Add((s, 201, "admitted"));
                }
                catch (k8s.Autorest.HttpOperationException e)
                {
                    outcomes.Add((s, (int)e.Response.StatusCode, e.Response.Content));
                }
            });
            var admitted = outcomes.Where(o => o.Code is >= 200 and < 300).Select(o => $"{o.Spec.Family}: {o.Spec.Body["metadata"]?["name"]}").ToList();
            Assert.That(admitted, Is.Empty, "every hostile spec is refused at admission");
            var unclear = outcomes.Where(o => o.Code is not (400 or 403 or 422) || !o.Message.Contains(o.Spec.Expect, StringComparison.Ordinal))
                .GroupBy(o => o.Spec.Family).Select(g => $"{g.Key} x{g.Count()}: HTTP {g.First().Code} {Cut(g.First().Message)}").ToList();
            Assert.That(unclear, Is.Empty, "each refusal names what is wrong");
            var byCode = outcomes.GroupBy(o => o.Code).ToDictionary(g => g.Key, g => g.Count());
            var webhookDenials = outcomes.Count(o => o.Message.Contains("denied the request"));

            // ---- 2. a real-create subset that passes admission but cannot work: it must stall with an actionable reason.
            await h.CreateSecretAsync(h.Namespace, "partial", new() { ["present"] = "v" });
            var real = new List<(string Name, string Reason)>();
            for (var i = 0; i < Sizes.HostileRealCreates; i++)
            {
                var mc = h.Datagen($"real-{i:00}");
                WebhookRig.Label(mc, rig.Id);
                string reason;
                switch (i % 3)
                {
                    case 0:
                        mc.Spec.SecretConfig = [new V1Alpha1SecretConfigEntry { Key = "x.password", SecretKeyRef = new V1Alpha1SecretKeyRef { Name = $"nosuch-{i}", Key = "k" } }];
                        reason = "SecretNotFound"; break;
                    case 1:
                        mc.Spec.SecretConfig = [new V1Alpha1SecretConfigEntry { Key = "x.password", SecretKeyRef = new V1Alpha1SecretKeyRef { Name = "partial", Key = $"absent-{i}" } }];
                        reason = "SecretNotFound"; break;
                    default:
                        mc.Spec.Config.Remove("quickstart");   // the emulator (like Confluent) requires it: 400 at create
                        reason = "InvalidConfig"; break;
                }
                await h.CreateAsync(mc);
                real.Add((mc.Metadata.Name, reason));
            }
            foreach (var (name, reason) in real)
            {
                var m = await h.WaitForAsync(name, x => OperatorHarness.IsStalled(x, reason), "Stalled " + reason, TimeSpan.FromSeconds(90));
                var msg = m.Status!.Conditions.First(c => c.Type == ConditionTypes.Stalled).Message;
                Assert.That(msg, reason == "InvalidConfig" ? Does.Contain("quickstart").And.Contain("fix spec.config") : Does.Contain("spec.secretConfig[x.password]"));
            }
            await Invariants.AssertConvergedAsync(h, ["SecretNotFound", "InvalidConfig"]);
            Assert.That(Invariants.RemoteNames(h), Is.Empty, "nothing of department A reached Confluent");

            // ---- 3. the operator is fine, department B untouched.
            Assert.That(rig.Operator.Service<LeaderElection>().IsLeader, Is.True, "still leading");
            using (var http = new HttpClient())
            {
                var url = rig.Operator.App.Urls.First(u => u.StartsWith("http://", StringComparison.Ordinal));
                Assert.That((await http.GetAsync(url + "/readyz")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "still ready");
            }
            var bAfter = await Invariants.LiveAsync(h, nsB);
            foreach (var b in bAfter)
            {
                Assert.That(OperatorHarness.IsReady(b), Is.True, $"{b.Metadata.Name} still Ready");
                Assert.That(b.Metadata.ResourceVersion, Is.EqualTo(bBefore.Single(x => x.Metadata.Name == b.Metadata.Name).Metadata.ResourceVersion), $"{b.Metadata.Name} not even rewritten");
            }
            foreach (var n in bNames)
            {
                var r = h.State.Find(OperatorHarness.Environment, OperatorHarness.Cluster, RemoteB(n))!;
                Assert.That((r.Id, r.ConfigUpdateCount, r.RestartCount, r.PauseCount, r.ResumeCount), Is.EqualTo(bRemoteBefore[n]), $"{n}: zero extra write calls");
            }
            Invariants.Report("S9", sw, h, $"specs={specs.Count} families={specs.Select(s => s.Family).Distinct().Count()} codes={string.Join(",", byCode.OrderBy(k => k.Key).Select(k => $"{k.Key}:{k.Value}"))} webhookDenials={webhookDenials} realStalled={real.Count}");
        }
        finally
        {
            foreach (var mc in await Invariants.LiveAsync(h, nsB)) await h.Api.DeleteAsync(OperatorHarness.ConnectorKind, nsB, mc.Metadata.Name);
            await h.WaitUntilAsync(async () => (await Invariants.LiveAsync(h, nsB)).Count == 0, "B deleted", TimeSpan.FromSeconds(30));
            try { await h.Api.DeleteAsync(ResourceKind.For<V1Alpha1Department>(namespaced: false), null, deptB); } catch (k8s.Autorest.HttpOperationException) { }
            try { await h.Client.CoreV1.DeleteNamespaceAsync(nsB); } catch (k8s.Autorest.HttpOperationException) { }
            await WebhookRig.StopAsync(h, rig);
        }
    }

    private static string Cut(string s) => s.Length > 400 ? s[..400] + "…" : s;
}
