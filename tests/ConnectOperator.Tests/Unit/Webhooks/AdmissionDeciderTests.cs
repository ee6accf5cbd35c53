using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Webhooks;
using k8s;
using k8s.Models;
using static ConnectOperator.Tests.Unit.Webhooks.AdmissionWorld;

namespace ConnectOperator.Tests.Unit.Webhooks;

public class AdmissionDeciderTests
{
    private const string MC = AdmissionDecider.ManagedConnectors, DEPT = AdmissionDecider.Departments, CQ = AdmissionDecider.ConnectorQuotas;

    public sealed record ConnectorCase(string Name, string Operation, V1Alpha1ManagedConnector Object, V1Alpha1ManagedConnector? Old, int Code, string Message)
    {
        public override string ToString() => Name;
    }

    private static V1Alpha1ManagedConnector With(V1Alpha1ManagedConnector c, Action<V1Alpha1ManagedConnector> change)
    {
        var copy = Copy(c);
        change(copy);
        return copy;
    }

    private static readonly Dictionary<string, string> HttpSinkEvil = new() { ["topics"] = "finance.out", ["http.api.url"] = "https://evil.example.com/hook" };

    public static IEnumerable<ConnectorCase> ConnectorCases()
    {
        yield return new("namespace without department", "CREATE", Connector("nowhere", "x", 1), null, 403,
            "namespace nowhere is not assigned to any Department; ask the platform team to add it to a Department's spec.namespaces");
        yield return new("namespace in two departments", "CREATE", Connector("shared", "x", 1), null, 403,
            "namespace shared is claimed by more than one Department (finance, hr); ask the platform team to keep it in exactly one Department's spec.namespaces");
        yield return new("class not allowed", "CREATE", Connector("fin-a", "x", 1, cls: "S3_SINK", config: new() { ["topics"] = "finance.x" }), null, 403,
            "spec.connectorClass S3_SINK is not allowed for department finance (allowed: DatagenSource, HttpSink, PostgresCdcSource); use an allowed class or ask the platform team to add it to Department finance spec.policy.allowedConnectorClasses");
        yield return new("topic outside prefixes", "CREATE", Connector("fin-a", "x", 1, topic: "hr.people"), null, 403,
            "spec.config[kafka.topic]: topic hr.people does not start with an allowed prefix of department finance (finance.); rename it or ask the platform team to add a prefix to Department finance spec.policy.topicPrefixes");
        yield return new("host not allowed", "CREATE", Connector("fin-a", "x", 1, cls: "HttpSink", config: HttpSinkEvil), null, 403,
            "spec.config[http.api.url]: host evil.example.com is not in the allowed hosts of department finance (*.db.internal); use an approved host or ask the platform team to open the network path and add it to Department finance spec.policy.allowedHosts");
        yield return new("topic hidden in a secret", "CREATE", With(Connector("fin-a", "x", 1), c =>
            {
                c.Spec.Config.Remove("kafka.topic");
                c.Spec.SecretConfig.Add(new V1Alpha1SecretConfigEntry { Key = "kafka.topic", SecretKeyRef = new V1Alpha1SecretKeyRef { Name = "s", Key = "t" } });
            }), null, 403,
            "spec.secretConfig key kafka.topic names a topic, a network endpoint or a transform that policy must check; move it to spec.config");
        yield return new("custom plugin the department has not approved", "CREATE", With(Connector("fin-a", "x", 1), c =>
            {
                c.Spec.ConnectorClass = "com.example.LedgerSource";
                c.Spec.CustomPlugin = new V1Alpha1CustomPluginRef { Id = "ccp-ledger01" };
            }), null, 403,
            "spec.customPlugin.id ccp-ledger01 is not a custom plugin department finance may run (approved: none configured); use an approved plugin or ask the platform team to review it and add it, with its key table, to Department finance spec.policy.customPlugins");
        yield return new("fits the tasks quota exactly", "CREATE", Connector("fin-a", "x", 2), null, 0, "");
        yield return new("one task over the tasks quota", "CREATE", Connector("fin-a", "x", 3), null, 403,
            "exceeded quota finance-quota: requested tasks=3, used tasks=18, limited tasks=20");
        yield return new("over tasks per connector and tasks", "CREATE", Connector("fin-b", "x", 11), null, 403,
            "exceeded quota finance-quota: requested tasksPerConnector=11, limited tasksPerConnector=10; lower spec.tasksMax to 10 or less; " +
            "exceeded quota finance-quota: requested tasks=11, used tasks=18, limited tasks=20");
        yield return new("department without quota is unlimited", "CREATE", Connector("ops", "x", 100, topic: "ops.x"), null, 0, "");
        yield return new("update counts only the delta: 2 -> 3 fits tasks=4 with 3 used", "UPDATE", Connector("hr", "h1", 3, topic: "hr.people"), Connector("hr", "h1", 2, topic: "hr.people"), 0, "");
        yield return new("update counts only the delta: 2 -> 4 exceeds", "UPDATE", Connector("hr", "h1", 4, topic: "hr.people"), Connector("hr", "h1", 2, topic: "hr.people"), 403,
            "exceeded quota hr-quota: requested tasks=2, used tasks=3, limited tasks=4");
        yield return new("update lowering tasks always fits", "UPDATE", Connector("fin-b", "c2", 9, topic: "finance.payments"), Connector("fin-b", "c2", 10, topic: "finance.payments"), 0, "");
        yield return new("update of an object at the limit does not count as another connector", "UPDATE", Connector("fin-a", "c1", 8, topic: "finance.other"), Connector("fin-a", "c1", 8), 0, "");
        yield return new("update that breaks policy", "UPDATE", Connector("fin-a", "c1", 8, topic: "oops"), Connector("fin-a", "c1", 8), 403,
            "spec.config[kafka.topic]: topic oops does not start with an allowed prefix of department finance (finance.); rename it or ask the platform team to add a prefix to Department finance spec.policy.topicPrefixes");
        yield return new("status/finalizer update without spec change is never refused", "UPDATE",
            With(Connector("nowhere", "x", 50, topic: "bad"), c => c.Metadata.Finalizers = new List<string> { ConnectApi.Finalizer }), Connector("nowhere", "x", 50, topic: "bad"), 0, "");
        yield return new("update of an object being deleted is never refused", "UPDATE",
            With(Connector("fin-a", "c1", 50, topic: "bad"), c => c.Metadata.DeletionTimestamp = DateTime.UtcNow), Connector("fin-a", "c1", 8), 0, "");
        yield return new("annotation update on an over-quota object", "UPDATE",
            With(Connector("hr", "h9", 99, topic: "hr.x"), c => c.Metadata.Annotations = new Dictionary<string, string> { ["connect.ebs.io/restart"] = "1" }), Connector("hr", "h9", 99, topic: "hr.x"), 0, "");
    }

    [TestCaseSource(nameof(ConnectorCases))]
    public void ManagedConnector_admission(ConnectorCase c)
    {
        var w = Standard();
        var r = w.Decide(MC, Request(c.Operation, c.Object, c.Old));
        Assert.That(r.Allowed, Is.EqualTo(c.Code == 0), r.Status?.Message);
        if (c.Code != 0)
        {
            Assert.That(r.Status!.Message, Is.EqualTo(c.Message));
            Assert.That(r.Status.Code, Is.EqualTo(c.Code));
            Assert.That(r.Status.Reason, Is.EqualTo("Forbidden"));
        }
        else Assert.That(r.Status, Is.Null);
    }

    [Test]
    public void Response_carries_the_request_uid()
    {
        var w = Standard();
        var req = Request("CREATE", Connector("nowhere", "x", 1));
        Assert.That(w.Decide(MC, req).Uid, Is.EqualTo(req.Uid));
        var ok = Request("CREATE", Connector("fin-a", "x", 1));
        Assert.That(w.Decide(MC, ok).Uid, Is.EqualTo(ok.Uid));
    }

    [TestCase("DELETE")]
    [TestCase("CONNECT")]
    public void Other_operations_are_allowed(string op)
    {
        var w = Standard();
        Assert.That(w.Decide(MC, Request(op, Connector("nowhere", "x", 1))).Allowed, Is.True);
    }

    [Test]
    public void Namespace_comes_from_the_request_when_the_object_has_none()
    {
        var w = Standard();
        var mc = Connector("", "x", 1);
        Assert.That(w.Decide(MC, Request("CREATE", mc, ns: "nowhere")).Status!.Message, Does.StartWith("namespace nowhere is not assigned"));
        Assert.That(w.Decide(MC, Request("CREATE", mc, ns: "fin-a")).Allowed, Is.True);
    }

    [Test]
    public void Admitted_creates_reserve_quota_so_the_next_create_sees_them()
    {
        var w = Standard();   // finance: 2 of 3 connectors used
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "n1", 1))).Allowed, Is.True);
        Assert.That(w.Ledger.Count, Is.EqualTo(1));
        var second = w.Decide(MC, Request("CREATE", Connector("fin-a", "n2", 1)));
        Assert.That(second.Allowed, Is.False);
        Assert.That(second.Status!.Message, Is.EqualTo("exceeded quota finance-quota: requested connectors=1, used connectors=3, limited connectors=3"));
    }

    [Test]
    public void Dry_run_is_decided_but_reserves_nothing()
    {
        var w = Standard();
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "n1", 1), dryRun: true)).Allowed, Is.True);
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "n2", 1), dryRun: true)).Allowed, Is.True);
        Assert.That(w.Ledger.Count, Is.Zero);
        var denied = w.Decide(MC, Request("CREATE", Connector("fin-a", "n3", 5), dryRun: true));
        Assert.That(denied.Status!.Message, Is.EqualTo("exceeded quota finance-quota: requested tasks=5, used tasks=18, limited tasks=20"));
        Assert.That(w.Ledger.Count, Is.Zero);
    }

    [Test]
    public void A_reservation_expires_after_the_timeout()
    {
        var w = Standard();
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "n1", 1))).Allowed, Is.True);
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "n2", 1))).Allowed, Is.False);
        w.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.That(w.Ledger.Count, Is.Zero);
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "n2", 1))).Allowed, Is.True);
    }

    [Test]
    public void An_update_reservation_replaces_the_cached_object_instead_of_adding_to_it()
    {
        var w = Standard();   // hr: tasks 4, h1=2, h2=1
        Assert.That(w.Decide(MC, Request("UPDATE", Connector("hr", "h1", 3, topic: "hr.people"), Connector("hr", "h1", 2, topic: "hr.people"))).Allowed, Is.True);
        // The cache still says h1=2; the reservation says 3: used is 4 now, so one more task does not fit.
        var r = w.Decide(MC, Request("UPDATE", Connector("hr", "h2", 2, topic: "hr.people"), Connector("hr", "h2", 1, topic: "hr.people")));
        Assert.That(r.Status?.Message, Is.EqualTo("exceeded quota hr-quota: requested tasks=1, used tasks=4, limited tasks=4"));
    }

    [Test]
    public async Task A_reservation_is_released_when_the_informer_shows_the_object()
    {
        var w = new AdmissionWorld();
        w.Add(Dept("finance", new[] { "fin-a" }, new[] { "DatagenSource" }, new[] { "finance." }, Array.Empty<string>()));
        w.Add(Quota("q", "finance", 2, null, null));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = w.Connectors.RunAsync(cts.Token);
        await w.Connectors.WaitForSyncAsync(cts.Token);

        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "a", 1))).Allowed, Is.True);
        Assert.That(w.Ledger.Count, Is.EqualTo(1));
        w.ConnectorFeed.Emit(WatchEventType.Added, With(Connector("fin-a", "a", 1), c => c.Metadata.ResourceVersion = "2"));
        while (w.Ledger.Count > 0 && !cts.IsCancellationRequested) await Task.Delay(10);
        Assert.That(w.Ledger.Count, Is.Zero);
        Assert.That(w.Tenants.Connectors.Store.Count, Is.EqualTo(1));
        // Counted once (from the cache), not twice: one more fits, a third does not.
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "b", 1))).Allowed, Is.True);
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "c", 1))).Status?.Message,
            Is.EqualTo("exceeded quota q: requested connectors=1, used connectors=2, limited connectors=2"));
        await cts.CancelAsync();
        await run;
    }

    [Test]
    public async Task Concurrent_creates_never_admit_more_than_the_limit()
    {
        var w = new AdmissionWorld();
        w.Add(Dept("finance", new[] { "fin-a" }, new[] { "DatagenSource" }, new[] { "finance." }, Array.Empty<string>()));
        w.Add(Quota("q", "finance", 5, null, null));
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => w.Decide(MC, Request("CREATE", Connector("fin-a", $"n{i}", 1))))));
        Assert.That(results.Count(r => r.Allowed), Is.EqualTo(5));
        Assert.That(results.Where(r => !r.Allowed).Select(r => r.Status!.Message).Distinct(),
            Is.EqualTo(new[] { "exceeded quota q: requested connectors=1, used connectors=5, limited connectors=5" }));
    }

    [Test]
    public void Every_quota_of_the_department_applies()
    {
        var w = Standard();
        w.Add(Quota("finance-extra", "finance", 2, null, null));
        var r = w.Decide(MC, Request("CREATE", Connector("fin-a", "x", 1)));
        Assert.That(r.Status?.Message, Is.EqualTo("exceeded quota finance-extra: requested connectors=1, used connectors=2, limited connectors=2"));
    }

    [Test]
    public void Connectors_being_deleted_do_not_count()
    {
        var w = Standard();
        w.Add(With(Connector("fin-a", "c1", 8), c => c.Metadata.DeletionTimestamp = DateTime.UtcNow));
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "x", 10))).Allowed, Is.True);   // 10 + 10 = 20
    }

    // ---- Department ----

    public sealed record DeptCase(string Name, string Operation, V1Alpha1Department Object, V1Alpha1Department? Old, int Code, string Message)
    {
        public override string ToString() => Name;
    }

    private static V1Alpha1Department Finance(params string[] ns) => Dept("finance", ns, new[] { "DatagenSource", "HttpSink", "PostgresCdcSource" }, new[] { "finance." }, new[] { "*.db.internal" });

    public static IEnumerable<DeptCase> DepartmentCases()
    {
        yield return new("new department with its own namespace", "CREATE", Dept("sales", new[] { "sales" }, Array.Empty<string>(), new[] { "sales." }, Array.Empty<string>()), null, 0, "");
        yield return new("namespace claimed by another department", "CREATE", Dept("sales", new[] { "sales", "fin-a" }, Array.Empty<string>(), new[] { "sales." }, Array.Empty<string>()), null, 403,
            "spec.namespaces: namespace fin-a is already claimed by Department finance; a namespace belongs to exactly one Department, so remove it there first");
        yield return new("namespace claimed by two departments lists both", "CREATE", Dept("sales", new[] { "shared" }, Array.Empty<string>(), new[] { "sales." }, Array.Empty<string>()), null, 403,
            "spec.namespaces: namespace shared is already claimed by Department finance, hr; a namespace belongs to exactly one Department, so remove it there first");
        yield return new("credentials not referenced", "CREATE", Dept("sales", new[] { "sales" }, Array.Empty<string>(), new[] { "sales." }, Array.Empty<string>(), credentials: ""), null, 422,
            "spec.confluent.credentialsSecretRef.name is empty; name the Secret in namespace connect-operator-system that holds the department's Confluent Cloud API key and secret");
        yield return new("removing a namespace that holds connectors", "UPDATE", Finance("fin-a", "shared"), Finance("fin-a", "fin-b", "shared"), 403,
            "spec.namespaces: cannot remove namespace fin-b from Department finance: it still holds ManagedConnectors fin-b/c2; delete those ManagedConnectors first");
        yield return new("removing an empty namespace", "UPDATE", Finance("fin-a", "fin-b"), Finance("fin-a", "fin-b", "shared"), 0, "");
        yield return new("adding a namespace of another department", "UPDATE", Finance("fin-a", "fin-b", "shared", "ops"), Finance("fin-a", "fin-b", "shared"), 403,
            "spec.namespaces: namespace ops is already claimed by Department ops; a namespace belongs to exactly one Department, so remove it there first");
        yield return new("the department's own namespaces are no conflict", "UPDATE", With(Finance("fin-a", "fin-b"), d => d.Spec.Policy.TopicPrefixes.Add("fin2.")), Finance("fin-a", "fin-b"), 0, "");
        yield return new("status update without spec change", "UPDATE", With(Finance("fin-a"), d => d.Status = new V1Alpha1DepartmentStatus { Connectors = 3 }), Finance("fin-a"), 0, "");
    }

    private static V1Alpha1Department With(V1Alpha1Department d, Action<V1Alpha1Department> change)
    {
        var copy = Copy(d);
        change(copy);
        return copy;
    }

    [TestCaseSource(nameof(DepartmentCases))]
    public void Department_admission(DeptCase c)
    {
        var w = Standard();
        var r = w.Decide(DEPT, Request(c.Operation, c.Object, c.Old));
        Assert.That(r.Allowed, Is.EqualTo(c.Code == 0), r.Status?.Message);
        if (c.Code != 0)
        {
            Assert.That(r.Status!.Message, Is.EqualTo(c.Message));
            Assert.That(r.Status.Code, Is.EqualTo(c.Code));
        }
    }

    [Test]
    public void Namespace_removal_lists_ten_connectors_then_the_rest_as_a_count()
    {
        var w = Standard();
        for (var i = 0; i < 13; i++) w.Add(Connector("fin-a", $"m{i:D2}", 0));
        var r = w.Decide(DEPT, Request("UPDATE", Finance("fin-b", "shared"), Finance("fin-a", "fin-b", "shared")));
        var listed = string.Join(", ", new[] { "fin-a/c1" }.Concat(Enumerable.Range(0, 9).Select(i => $"fin-a/m{i:D2}")));
        Assert.That(r.Status!.Message, Is.EqualTo(
            $"spec.namespaces: cannot remove namespace fin-a from Department finance: it still holds ManagedConnectors {listed} and 4 more; delete those ManagedConnectors first"));
    }

    // ---- ConnectorQuota ----

    public sealed record QuotaCase(string Name, string Operation, V1Alpha1ConnectorQuota Object, V1Alpha1ConnectorQuota? Old, int Code, string Message, string[] Warnings)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<QuotaCase> QuotaCases()
    {
        yield return new("department missing", "CREATE", Quota("q", "ghost", 1, 1, 1), null, 422,
            "spec.departmentRef.name: Department ghost does not exist; create the Department first or fix the name", Array.Empty<string>());
        yield return new("department empty", "CREATE", Quota("q", "", 1, 1, 1), null, 422,
            "spec.departmentRef.name is empty; name the Department this quota limits", Array.Empty<string>());
        yield return new("within usage", "CREATE", Quota("q", "finance", 5, 30, 10), null, 0, "", Array.Empty<string>());
        yield return new("unlimited", "CREATE", Quota("q", "finance", null, null, null), null, 0, "", Array.Empty<string>());
        yield return new("lowering below usage warns on every limit", "UPDATE", Quota("finance-quota", "finance", 1, 5, 4), Quota("finance-quota", "finance", 3, 20, 10), 0, "", new[]
        {
            "ConnectorQuota finance-quota: spec.hard.connectors=1 is below what Department finance uses (connectors=2); existing connectors keep running, new ones are refused until usage drops",
            "ConnectorQuota finance-quota: spec.hard.tasks=5 is below what Department finance uses (tasks=18); existing connectors keep running, new ones are refused until usage drops",
            "ConnectorQuota finance-quota: spec.hard.tasksPerConnector=4 is below what Department finance uses (tasksPerConnector=10); existing connectors keep running, new ones are refused until usage drops",
        });
        yield return new("equal to usage does not warn", "UPDATE", Quota("finance-quota", "finance", 2, 18, 10), Quota("finance-quota", "finance", 3, 20, 10), 0, "", Array.Empty<string>());
        yield return new("status update of a quota for a gone department", "UPDATE",
            WithStatus(Quota("q", "ghost", 1, 1, 1)), Quota("q", "ghost", 1, 1, 1), 0, "", Array.Empty<string>());
    }

    private static V1Alpha1ConnectorQuota WithStatus(V1Alpha1ConnectorQuota q)
    {
        q.Status = new V1Alpha1ConnectorQuotaStatus { ObservedGeneration = 2 };
        return q;
    }

    [TestCaseSource(nameof(QuotaCases))]
    public void ConnectorQuota_admission(QuotaCase c)
    {
        var w = Standard();
        var r = w.Decide(CQ, Request(c.Operation, c.Object, c.Old));
        Assert.That(r.Allowed, Is.EqualTo(c.Code == 0), r.Status?.Message);
        if (c.Code != 0)
        {
            Assert.That(r.Status!.Message, Is.EqualTo(c.Message));
            Assert.That(r.Status.Code, Is.EqualTo(c.Code));
            Assert.That(r.Status.Reason, Is.EqualTo("Invalid"));
        }
        Assert.That(r.Warnings ?? new List<string>(), Is.EqualTo(c.Warnings));
    }

    [Test]
    public void Spec_comparison_ignores_key_order()
    {
        var a = Element(new { spec = new { a = 1, b = new { c = "x" } }, metadata = new { name = "n" } });
        var b = Element(new { metadata = new { name = "n", resourceVersion = "9" }, spec = new { b = new { c = "x" }, a = 1 } });
        var c = Element(new { spec = new { a = 2, b = new { c = "x" } } });
        Assert.That(AdmissionDecider.SpecUnchanged(new AdmissionRequest { Object = a, OldObject = b }), Is.True);
        Assert.That(AdmissionDecider.SpecUnchanged(new AdmissionRequest { Object = a, OldObject = c }), Is.False);
        Assert.That(AdmissionDecider.SpecUnchanged(new AdmissionRequest { Object = a }), Is.False);
    }

    [Test]
    public void Unknown_resource_and_missing_object_are_bad_requests()
    {
        var w = Standard();
        Assert.That(w.Decide("pods", Request("CREATE", Connector("fin-a", "x", 1))).Status!.Code, Is.EqualTo(400));
        var r = w.Decide(MC, new AdmissionRequest { Uid = "u", Operation = "CREATE" });
        Assert.That(r.Allowed, Is.False);
        Assert.That(r.Status!.Code, Is.EqualTo(400));
    }

    // ---- issue 16

    [Test]
    public void A_department_with_ManagedConnectors_cannot_be_deleted_and_the_denial_lists_them()
    {
        var w = Standard();
        var finance = w.Departments.Store.Get("finance")!;
        var r = w.Decide(DEPT, new AdmissionRequest { Uid = "u", Operation = "DELETE", Name = "finance", OldObject = Element(finance) });
        Assert.That(r.Allowed, Is.False);
        Assert.That(r.Status!.Code, Is.EqualTo(403));
        Assert.That(r.Status.Message, Is.EqualTo("cannot delete Department finance: it still has 2 ManagedConnector(s) fin-a/c1, fin-b/c2; delete those ManagedConnectors first " +
            "(deletionPolicy decides whether their Confluent connectors are deleted or orphaned), then delete the Department"));
        // Without the old object (API servers before 1.15 did not send it) the cached Department is used.
        Assert.That(w.Decide(DEPT, new AdmissionRequest { Uid = "u", Operation = "DELETE", Name = "finance" }).Allowed, Is.False);
        Assert.That(w.Decide(DEPT, new AdmissionRequest { Uid = "u", Operation = "DELETE", Name = "ops", OldObject = Element(w.Departments.Store.Get("ops")!) }).Allowed, Is.True);
        Assert.That(w.Decide(DEPT, new AdmissionRequest { Uid = "u", Operation = "DELETE", Name = "gone" }).Allowed, Is.True);
    }

    [Test]
    public void A_department_cannot_take_another_departments_connector_name_prefix()
    {
        var w = Standard();
        var clash = Dept("sales", new[] { "sales" }, new[] { "DatagenSource" }, new[] { "sales." }, Array.Empty<string>());
        clash.Spec.ConnectorNamePrefix = "finance";
        var r = w.Decide(DEPT, Request("CREATE", clash));
        Assert.That(r.Allowed, Is.False);
        Assert.That(r.Status!.Message, Does.StartWith("spec.connectorNamePrefix: the Confluent connector name prefix finance is already used by Department finance"));
        // Changing the prefix of an existing department is checked too; an unrelated edit of a legacy clash is not.
        var ops = Copy(w.Departments.Store.Get("ops")!);
        var moved = Copy(ops);
        moved.Spec.ConnectorNamePrefix = "hr";
        Assert.That(w.Decide(DEPT, Request("UPDATE", moved, ops)).Allowed, Is.False);
    }

    [Test]
    public void Connectors_of_a_department_sharing_a_prefix_or_named_with_a_dot_are_refused()
    {
        var w = Standard();
        var legacy = Dept("legacy", new[] { "legacy" }, new[] { "DatagenSource" }, new[] { "legacy." }, Array.Empty<string>());
        legacy.Spec.ConnectorNamePrefix = "ops";   // from before the webhook refused it
        w.Add(legacy);
        var r = w.Decide(MC, Request("CREATE", Connector("legacy", "x", 1, topic: "legacy.x")));
        Assert.That(r.Status?.Message, Does.StartWith("Department legacy cannot run connectors: spec.connectorNamePrefix: the Confluent connector name prefix ops is already used by Department ops"));

        w.Add(Dept("a.b", new[] { "c" }, new[] { "DatagenSource" }, new[] { "x." }, Array.Empty<string>()));
        r = w.Decide(MC, Request("CREATE", Connector("c", "d", 1, topic: "x.y")));
        Assert.That(r.Status?.Message, Does.StartWith("Department a.b cannot run connectors: metadata.name a.b contains a dot"));
    }

    [Test]
    public void Repeated_reviews_for_one_name_hold_one_reservation()
    {
        var w = Standard();
        for (var i = 0; i < 20; i++)
        {
            var req = Request("CREATE", With(Connector("ops", "same", 1, topic: "ops.x"), c => c.Metadata.Uid = Guid.NewGuid().ToString()));
            w.Add(Quota("ops-quota", "ops", 100, null, null));
            Assert.That(w.Decide(MC, req, "10.0.0.9").Allowed, Is.True);
        }
        Assert.That(w.Ledger.CountOf("ops"), Is.EqualTo(1));
    }

    [Test]
    public void Forged_reviews_from_another_address_never_spend_the_departments_quota()
    {
        var w = new AdmissionWorld(new WebhookOptions { MaxReservationsPerDepartment = 8 });
        w.Add(Dept("finance", new[] { "fin-a" }, new[] { "DatagenSource" }, new[] { "finance." }, Array.Empty<string>()));
        w.Add(Quota("q", "finance", 2, null, null));
        // A pod floods the webhook with reviews for names that will never exist.
        for (var i = 0; i < 1000; i++)
            w.Decide(MC, Request("CREATE", Connector("fin-a", $"forged-{i}", 1)), "10.1.2.3");
        Assert.That(w.Ledger.CountOf("finance"), Is.LessThanOrEqualTo(8), "bounded per department and caller");
        Assert.That(w.Ledger.Count, Is.LessThanOrEqualTo(8));
        // The API server's genuine creates see none of it: both fit, the third is refused by its own reservations.
        const string apiServer = "192.168.0.1";
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "real-1", 1)), apiServer).Allowed, Is.True);
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "real-2", 1)), apiServer).Allowed, Is.True);
        Assert.That(w.Decide(MC, Request("CREATE", Connector("fin-a", "real-3", 1)), apiServer).Status?.Message,
            Is.EqualTo("exceeded quota q: requested connectors=1, used connectors=2, limited connectors=2"));
    }

    [Test]
    public void Past_the_bound_a_review_is_decided_but_not_reserved()
    {
        var ledger = new ReservationLedger(TimeProvider.System, TimeSpan.FromMinutes(1), maxPerDepartment: 2, maxTotal: 3);
        ConnectorCandidate C(string n) => new("ns", n, "DatagenSource", 1, new Dictionary<string, string>(), Array.Empty<string>());
        Assert.That(ledger.Reserve("d", C("a"), "x"), Is.True);
        Assert.That(ledger.Reserve("d", C("b"), "x"), Is.True);
        Assert.That(ledger.Reserve("d", C("c"), "x"), Is.False, "per department and caller");
        Assert.That(ledger.Reserve("d", C("a"), "x"), Is.True, "the same object again replaces its own reservation");
        Assert.That(ledger.Reserve("d", C("c"), "y"), Is.True, "another caller has its own bound");
        Assert.That(ledger.Reserve("e", C("z"), "z"), Is.False, "total bound");
        Assert.That(ledger.Active("d", "x").Keys, Is.EquivalentTo(new[] { "ns/a", "ns/b" }));
        Assert.That(ledger.Active("d", "y").Keys, Is.EquivalentTo(new[] { "ns/c" }));
    }
}
