using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Tests.Unit.Runtime;
using ConnectOperator.Webhooks;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Webhooks;

/// <summary>Fake informer caches plus the decider under test.</summary>
internal sealed class AdmissionWorld
{
    public Informer<V1Alpha1Department> Departments { get; } = new(new FakeListerWatcher<V1Alpha1Department>());
    public Informer<V1Alpha1ConnectorQuota> Quotas { get; } = new(new FakeListerWatcher<V1Alpha1ConnectorQuota>());
    public FakeListerWatcher<V1Alpha1ManagedConnector> ConnectorFeed { get; } = new();
    public Informer<V1Alpha1ManagedConnector> Connectors { get; }
    public TenantDirectory Tenants { get; }
    public ManualTimeProvider Time { get; } = new();
    public ReservationLedger Ledger { get; }
    public AdmissionDecider Decider { get; }

    public AdmissionWorld(WebhookOptions? options = null)
    {
        options ??= new WebhookOptions();
        Connectors = new Informer<V1Alpha1ManagedConnector>(ConnectorFeed);
        Tenants = new TenantDirectory(Departments, Quotas, Connectors);
        Ledger = new ReservationLedger(Time, options.ReservationTimeout, options.MaxReservationsPerDepartment, options.MaxReservations);
        Ledger.Attach(Connectors);
        Decider = new AdmissionDecider(Tenants, Ledger, options, "connect-operator-system");
    }

    /// <summary>finance: fin-a, fin-b, shared; quota connectors=3 tasks=20 tasksPerConnector=10; c1 (8 tasks) in fin-a, c2 (10 tasks) in fin-b.
    /// hr: hr, shared; quota tasks=4; h1 (2) and h2 (1). ops: no quota.</summary>
    public static AdmissionWorld Standard()
    {
        var w = new AdmissionWorld();
        w.Add(Dept("finance", new[] { "fin-a", "fin-b", "shared" }, new[] { "DatagenSource", "HttpSink", "PostgresCdcSource" }, new[] { "finance." }, new[] { "*.db.internal" }));
        w.Add(Dept("hr", new[] { "hr", "shared" }, new[] { "DatagenSource" }, new[] { "hr." }, Array.Empty<string>()));
        w.Add(Dept("ops", new[] { "ops" }, new[] { "DatagenSource" }, new[] { "ops." }, Array.Empty<string>()));
        w.Add(Quota("finance-quota", "finance", 3, 20, 10));
        w.Add(Quota("hr-quota", "hr", null, 4, null));
        w.Add(Connector("fin-a", "c1", 8, "finance.orders"));
        w.Add(Connector("fin-b", "c2", 10, "finance.payments"));
        w.Add(Connector("hr", "h1", 2, "hr.people"));
        w.Add(Connector("hr", "h2", 1, "hr.people"));
        return w;
    }

    public void Add(V1Alpha1Department d) => Departments.Store.Upsert(d);
    public void Add(V1Alpha1ConnectorQuota q) => Quotas.Store.Upsert(q);
    public void Add(V1Alpha1ManagedConnector c) => Connectors.Store.Upsert(c);

    public static V1Alpha1Department Dept(string name, string[] namespaces, string[] classes, string[] prefixes, string[] hosts, string credentials = "creds") => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1Alpha1DepartmentSpec
        {
            Namespaces = namespaces.ToList(),
            Confluent = new V1Alpha1DepartmentConfluent { EnvironmentId = "env-1", KafkaClusterId = "lkc-1", ServiceAccountId = "sa-1", CredentialsSecretRef = new V1Alpha1CredentialsSecretRef { Name = credentials } },
            Policy = new V1Alpha1DepartmentPolicy { AllowedConnectorClasses = classes.ToList(), TopicPrefixes = prefixes.ToList(), AllowedHosts = hosts.ToList() },
        },
    };

    public static V1Alpha1ConnectorQuota Quota(string name, string department, int? connectors, int? tasks, int? perConnector) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1Alpha1ConnectorQuotaSpec
        {
            DepartmentRef = new V1Alpha1DepartmentRef { Name = department },
            Hard = new V1Alpha1QuotaAmounts { Connectors = connectors, Tasks = tasks, TasksPerConnector = perConnector },
        },
    };

    public static V1Alpha1ManagedConnector Connector(string ns, string name, int tasks, string topic = "finance.orders", string cls = "DatagenSource", Dictionary<string, string>? config = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, CreationTimestamp = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc) },
        Spec = new V1Alpha1ManagedConnectorSpec
        {
            ConnectorClass = cls,
            TasksMax = tasks,
            Config = config ?? new Dictionary<string, string> { ["kafka.topic"] = topic, ["quickstart"] = "ORDERS" },
        },
    };

    public static AdmissionRequest Request(string operation, object obj, object? old = null, bool dryRun = false, string? ns = null) => new()
    {
        Uid = Guid.NewGuid().ToString(),
        Operation = operation,
        Namespace = ns,
        Object = Element(obj),
        OldObject = old is null ? null : Element(old),
        DryRun = dryRun,
    };

    public static JsonElement Element(object o) => JsonDocument.Parse(KubernetesJson.Serialize(o)).RootElement.Clone();

    public AdmissionResponse Decide(string resource, AdmissionRequest r, string caller = "") => Decider.Decide(resource, r, caller);

    public static T Copy<T>(T o) => KubeApiClient.DeepCopy(o);
}

/// <summary>A lister-watcher fed by the test: list returns the initial items, watch streams what <see cref="Emit"/> sends.</summary>
internal sealed class FakeListerWatcher<T> : IListerWatcher<T>
{
    private readonly Channel<WatchEvent<T>> _events = Channel.CreateUnbounded<WatchEvent<T>>();

    public List<T> Initial { get; } = new();

    public void Emit(WatchEventType type, T obj) => _events.Writer.TryWrite(new WatchEvent<T>(type, obj, null));

    public Task<ListResult<T>> ListAsync(CancellationToken ct) => Task.FromResult(new ListResult<T>(Initial.ToList(), "1"));

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, int timeoutSeconds, [EnumeratorCancellation] CancellationToken ct)
    {
        while (await _events.Reader.WaitToReadAsync(ct))
            while (_events.Reader.TryRead(out var e)) yield return e;
    }
}
