using System.Net;
using ConnectOperator.Confluent;
using ConnectOperator.Controllers.ManagedConnectors;
using ConnectOperator.Controllers.ManagedConnectors.Planning;
using ConnectOperator.Entities;
using ConnectOperator.Hosting;
using ConnectOperator.Runtime.Caching;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnectOperator.Tests.Unit.Caching;

/// <summary>What the caches keep (CacheTransforms, StringPool) and the poll snapshot's reuse of unchanged connectors.</summary>
public class CompactCacheTests
{
    [Test]
    public void The_pool_shares_equal_strings_and_leaves_long_ones_alone()
    {
        var pool = new StringPool(capacity: 100, maxLength: 8);
        var a = pool.Share(new string('x', 5));
        var b = pool.Share(new string('x', 5));
        Assert.That(ReferenceEquals(a, b), Is.True, "equal short strings become one instance");
        var long1 = new string('y', 9);
        Assert.That(ReferenceEquals(pool.Share(long1), long1), Is.True, "a string over maxLength is returned as is");
        Assert.That(pool.Share(new string('y', 9)), Is.Not.SameAs(long1));
        Assert.That(pool.Share(null), Is.Null);
        Assert.That(pool.Count, Is.EqualTo(1));
    }

    [Test]
    public void A_full_pool_starts_over_instead_of_growing()
    {
        var pool = new StringPool(capacity: 10);
        for (var i = 0; i < 1_000; i++) pool.Share("value-" + i);
        Assert.That(pool.Count, Is.LessThanOrEqualTo(10), "unique values cannot grow the pool past its capacity");
        var s = pool.Share(new string('z', 3));
        Assert.That(pool.Share(new string('z', 3)), Is.SameAs(s), "it still shares after starting over");
    }

    private static V1Alpha1ManagedConnector Converged(string ns, string name) => new()
    {
        ApiVersion = new string(ConnectApi.ApiVersion.ToCharArray()),
        Kind = new string(V1Alpha1ManagedConnector.KubeKind.ToCharArray()),
        Metadata = new V1ObjectMeta
        {
            Name = name, NamespaceProperty = new string(ns.ToCharArray()), Finalizers = new List<string> { new(ConnectApi.Finalizer.ToCharArray()) },
            Annotations = new Dictionary<string, string>
            {
                [CacheTransforms.LastAppliedAnnotation] = "{\"apiVersion\":\"connect.ebs.io/v1alpha1\",\"spec\":{\"config\":{\"kafka.topic\":\"x\"}}}",
                [ConnectApi.AdoptAnnotation] = "true",
            },
        },
        Spec = new V1Alpha1ManagedConnectorSpec
        {
            ConnectorClass = new string("DatagenSource".ToCharArray()),
            Config = new Dictionary<string, string> { [new string("kafka.topic".ToCharArray())] = ns + ".orders", ["quickstart"] = new string("ORDERS".ToCharArray()) },
            SecretConfig = new List<V1Alpha1SecretConfigEntry> { new() { Key = "password", SecretKeyRef = new V1Alpha1SecretKeyRef { Name = "db", Key = "password" } } },
        },
        Status = new V1Alpha1ManagedConnectorStatus
        {
            Department = new string("finance".ToCharArray()), ConnectorName = $"{ns}.{name}", ConnectorState = new string("RUNNING".ToCharArray()),
            Conditions = new List<Condition> { new() { Type = new string("Ready".ToCharArray()), Status = new string("True".ToCharArray()), Reason = new string("Running".ToCharArray()), Message = $"{name} is running" },
                new() { Type = new string("Reconciling".ToCharArray()), Status = new string("False".ToCharArray()), Reason = new string("Converged".ToCharArray()), Message = new string("the connector matches its spec".ToCharArray()) } },
            Tasks = new List<V1Alpha1TaskStatus> { new() { Id = 0, State = new string("RUNNING".ToCharArray()) } },
        },
    };

    [Test]
    public void The_connector_cache_drops_the_last_applied_copy_and_keeps_everything_it_reads()
    {
        var mc = Converged("fin-a", "orders");
        var expected = Converged("fin-a", "orders");
        expected.Metadata.Annotations.Remove(CacheTransforms.LastAppliedAnnotation);
        CacheTransforms.Compact(mc, new StringPool());
        Assert.That(mc.Metadata.Annotations.ContainsKey(CacheTransforms.LastAppliedAnnotation), Is.False);
        Assert.That(mc.Metadata.Annotations[ConnectApi.AdoptAnnotation], Is.EqualTo("true"), "annotations the operator reads stay");
        Assert.That(KubernetesJson.Serialize(mc), Is.EqualTo(KubernetesJson.Serialize(expected)), "nothing else changes");
    }

    [Test]
    public void Cached_connectors_share_their_repeated_strings()
    {
        var pool = new StringPool();
        var a = Converged("fin-a", "orders");
        var b = Converged("fin-a", "payments");
        CacheTransforms.Compact(a, pool);
        CacheTransforms.Compact(b, pool);
        Assert.Multiple(() =>
        {
            Assert.That(b.Metadata.NamespaceProperty, Is.SameAs(a.Metadata.NamespaceProperty));
            Assert.That(b.Metadata.Finalizers[0], Is.SameAs(a.Metadata.Finalizers[0]));
            Assert.That(b.Spec.ConnectorClass, Is.SameAs(a.Spec.ConnectorClass));
            Assert.That(b.Spec.Config.Keys.First(k => k == "kafka.topic"), Is.SameAs(a.Spec.Config.Keys.First(k => k == "kafka.topic")));
            Assert.That(b.Spec.Config["kafka.topic"], Is.SameAs(a.Spec.Config["kafka.topic"]), "equal values too (the same topic)");
            Assert.That(b.Status!.Department, Is.SameAs(a.Status!.Department));
            Assert.That(b.Status.Conditions[0].Reason, Is.SameAs(a.Status.Conditions[0].Reason));
            Assert.That(b.Status.Tasks[0].State, Is.SameAs(a.Status.Tasks[0].State));
            Assert.That(b.ApiVersion, Is.SameAs(a.ApiVersion));
            Assert.That(b.Kind, Is.SameAs(a.Kind));
            Assert.That(b.Status.Conditions[1].Message, Is.SameAs(a.Status.Conditions[1].Message), "a message every connector has");
            Assert.That(b.Status.ConnectorName, Is.Not.EqualTo(a.Status.ConnectorName));
        });
    }

    [Test]
    public void Department_and_quota_caches_drop_only_the_last_applied_copy()
    {
        var d = new V1Alpha1Department { Metadata = new V1ObjectMeta { Name = "finance", Annotations = new Dictionary<string, string> { [CacheTransforms.LastAppliedAnnotation] = "{}", ["team"] = "fin" } } };
        CacheTransforms.DropLastApplied(d);
        Assert.That(d.Metadata.Annotations, Is.EquivalentTo(new Dictionary<string, string> { ["team"] = "fin" }));
        var q = new V1Alpha1ConnectorQuota { Metadata = new V1ObjectMeta { Name = "q", Annotations = new Dictionary<string, string> { [CacheTransforms.LastAppliedAnnotation] = "{}" } } };
        CacheTransforms.DropLastApplied(q);
        Assert.That(q.Metadata.Annotations, Is.Null);
    }

    [Test]
    public void The_secret_cache_keeps_values_only_in_the_operator_namespace()
    {
        var transform = CacheTransforms.Secrets("connect-operator-system");
        V1Secret Secret(string ns) => new()
        {
            Metadata = new V1ObjectMeta { Name = "s", NamespaceProperty = ns, Annotations = new Dictionary<string, string> { [CacheTransforms.LastAppliedAnnotation] = "{\"data\":{\"password\":\"c2VjcmV0\"}}" } },
            Data = new Dictionary<string, byte[]> { ["password"] = "secret"u8.ToArray() },
        };
        var own = Secret("connect-operator-system");
        var tenant = Secret("fin-a");
        transform(own);
        transform(tenant);
        Assert.That(own.Data["password"], Is.EqualTo("secret"u8.ToArray()));
        Assert.That(tenant.Data.Keys, Is.EquivalentTo(new[] { "password" }), "keys stay, to notice a rotation and report missing keys");
        Assert.That(tenant.Data["password"], Is.Empty);
        Assert.That(tenant.Metadata.Annotations, Is.Null, "the last-applied copy holds the value too");
    }

    /// <summary>Answers every list with connector "steady" unchanged and connector "moving" with a new state each time.</summary>
    private sealed class ChangingConfluent : HttpMessageHandler
    {
        private int _calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var n = Interlocked.Increment(ref _calls);
            string Connector(string name, string state) =>
                $"\"{name}\":{{\"id\":{{\"id\":\"lcc-{name}\",\"id_type\":\"ID\"}},\"info\":{{\"name\":\"{name}\",\"type\":\"source\",\"config\":{{\"connector.class\":\"DatagenSource\",\"kafka.topic\":\"fin.orders\"}}}},"
                + $"\"status\":{{\"name\":\"{name}\",\"type\":\"source\",\"connector\":{{\"state\":\"{state}\",\"worker_id\":\"w\"}},\"tasks\":[]}}}}";
            var body = "{" + Connector("steady", "RUNNING") + "," + Connector("moving", n % 2 == 0 ? "RUNNING" : "PAUSED") + "}";
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body) });
        }
    }

    /// <summary>A poller over <paramref name="confluent"/> that polls every 20 ms, recording the changes it reports.</summary>
    private static (ConnectClientFactory Factory, PollTarget Target, List<IReadOnlyCollection<string>> Changes, RemoteConnectorPoller Poller) FastPoller(HttpMessageHandler confluent)
    {
        var factory = new ConnectClientFactory(new ConnectClientOptions { BaseUrl = "http://confluent.invalid", RateLimitPermitsPerSecond = 1000, RateLimitBurst = 1000 },
            primaryHandler: confluent);
        var target = new PollTarget(new ClusterRef("env-1", "lkc-1"), new ConnectCredentials("k", "s"));
        var changes = new List<IReadOnlyCollection<string>>();
        var poller = new RemoteConnectorPoller(factory, () => new[] { target }, (_, changed) => { lock (changes) changes.Add(changed); },
            TimeSpan.FromMilliseconds(20), NullLogger<RemoteConnectorPoller>.Instance, minRefreshGap: TimeSpan.FromMilliseconds(1));
        return (factory, target, changes, poller);
    }

    [Test]
    public async Task A_poll_keeps_the_previous_object_of_an_unchanged_connector_and_shares_strings_of_changed_ones()
    {
        var (factory, target, changes, poller) = FastPoller(new ChangingConfluent());
        using var _ = factory;
        var first = await poller.GetAsync(target, CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var run = poller.RunAsync(cts.Token);
        RemoteSnapshot second;
        while (ReferenceEquals(second = await poller.GetAsync(target, CancellationToken.None), first)) await Task.Delay(10, cts.Token);
        await cts.CancelAsync();
        await run;

        Assert.That(second.Connectors["steady"], Is.SameAs(first.Connectors["steady"]), "an unchanged connector is not replaced");
        Assert.That(second.Connectors["moving"], Is.Not.SameAs(first.Connectors["moving"]));
        Assert.That(second.Connectors["moving"].Status!.Connector.State, Is.Not.EqualTo(first.Connectors["moving"].Status!.Connector.State));
        Assert.That(second.Connectors["moving"].Info!.Config["kafka.topic"], Is.SameAs(first.Connectors["steady"].Info!.Config["kafka.topic"]),
            "equal config values of different connectors are one string");
        lock (changes) Assert.That(changes.Skip(1).First(), Is.EquivalentTo(new[] { "moving" }), "only the changed connector is reported");
    }

    [Test]
    public async Task A_snapshot_is_only_what_Confluent_listed_and_a_reconcilers_write_is_laid_over_it_by_the_reconciler()
    {
        using var factory = new ConnectClientFactory(new ConnectClientOptions { BaseUrl = "http://confluent.invalid", RateLimitPermitsPerSecond = 1000, RateLimitBurst = 1000 },
            primaryHandler: new ChangingConfluent());
        var target = new PollTarget(new ClusterRef("env-1", "lkc-1"), new ConnectCredentials("k", "s"));
        var poller = new RemoteConnectorPoller(factory, () => new[] { target }, (_, _) => { }, TimeSpan.FromMinutes(1), NullLogger<RemoteConnectorPoller>.Instance);
        var held = await poller.GetAsync(target, CancellationToken.None);
        var expectations = new WriteExpectations();

        expectations.Expect("fin/new", new RemoteExpectation(held.At.AddSeconds(1), Config: new Dictionary<string, string> { ["kafka.topic"] = "fin.new" }, State: ConnectorStates.Provisioning));
        expectations.Expect("fin/moving", new RemoteExpectation(held.At.AddSeconds(1), Deleted: true));
        var now = await poller.GetAsync(target, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(now, Is.SameAs(held), "nothing but a poll makes a new snapshot");
            Assert.That(now.Connectors.Keys, Is.EquivalentTo(new[] { "steady", "moving" }), "the snapshot holds what Confluent listed, never a reconciler's guess");
            var created = expectations.Overlay("fin/new", null, now.At);
            Assert.That(created?.State, Is.EqualTo(ConnectorStates.Provisioning), "the reconciler sees its own create before the poll does");
            Assert.That(created?.Config["kafka.topic"], Is.EqualTo("fin.new"));
            Assert.That(expectations.Overlay("fin/moving", new RemoteConnector("lcc-moving", ConnectorStates.Running, new Dictionary<string, string>(), [], null), now.At), Is.Null,
                "and its own delete");
        });
    }

    /// <summary>Lists "steady" and "moving"; the second list's body stops halfway until <see cref="Release"/>, the third until <see cref="ReleaseThird"/>.</summary>
    private sealed class StallingConfluent : HttpMessageHandler
    {
        private int _calls;
        public readonly TaskCompletionSource HalfwayReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource ReleaseThird = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private static string Connector(string name) =>
            $"\"{name}\":{{\"id\":{{\"id\":\"lcc-{name}\",\"id_type\":\"ID\"}},\"info\":{{\"name\":\"{name}\",\"type\":\"source\",\"config\":{{\"kafka.topic\":\"fin.orders\"}}}},"
            + $"\"status\":{{\"name\":\"{name}\",\"type\":\"source\",\"connector\":{{\"state\":\"RUNNING\",\"worker_id\":\"w\"}},\"tasks\":[]}}}}";

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var n = Interlocked.Increment(ref _calls);
            var first = System.Text.Encoding.UTF8.GetBytes("{" + Connector("steady") + ",");
            var rest = System.Text.Encoding.UTF8.GetBytes(Connector("moving") + "}");
            Stream body = n switch
            {
                2 => new GatedStream(first, rest, HalfwayReached, Release),
                3 => new GatedStream(first, rest, new TaskCompletionSource(), ReleaseThird),
                _ => new MemoryStream([.. first, .. rest]),
            };
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(body) });
        }

        private sealed class GatedStream(byte[] first, byte[] rest, TaskCompletionSource halfway, TaskCompletionSource release) : Stream
        {
            private int _part;
            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
            {
                switch (_part++)
                {
                    case 0: first.CopyTo(buffer); return first.Length;
                    case 1: halfway.TrySetResult(); await release.Task.WaitAsync(ct); rest.CopyTo(buffer); return rest.Length;
                    default: return 0;
                }
            }
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => 0; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }

    [Test]
    public async Task A_write_answered_while_a_list_streams_is_kept_by_the_reconciler_until_a_poll_that_started_after_it()
    {
        var confluent = new StallingConfluent();
        var (factory, target, changes, poller) = FastPoller(confluent);
        using var _ = factory;
        var first = await poller.GetAsync(target, CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var run = poller.RunAsync(cts.Token);
        var expectations = new WriteExpectations();

        await confluent.HalfwayReached.Task.WaitAsync(cts.Token);
        expectations.Expect("fin/moving", new RemoteExpectation(DateTimeOffset.UtcNow, Config: new Dictionary<string, string> { ["kafka.topic"] = "fin.updated" }));
        confluent.Release.SetResult();
        RemoteSnapshot second;
        // The third list stalls, so the second poll's snapshot stays in place to be looked at.
        while ((second = await poller.GetAsync(target, CancellationToken.None)).At == first.At) await Task.Delay(10, cts.Token);
        var polled = new RemoteConnector("lcc-moving", ConnectorStates.Running, second.Connectors["moving"].Info!.Config, [], null);
        Assert.That(second.Connectors["moving"].Info!.Config["kafka.topic"], Is.EqualTo("fin.orders"), "the snapshot says what Confluent listed");
        Assert.That(expectations.Overlay("fin/moving", polled, second.At)!.Config["kafka.topic"], Is.EqualTo("fin.updated"),
            "the list started before the write: the reconciler still sees its write");
        Assert.That(expectations.Pending, Is.EqualTo(1));

        confluent.ReleaseThird.SetResult();
        RemoteSnapshot third;
        while ((third = await poller.GetAsync(target, CancellationToken.None)).At == second.At) await Task.Delay(10, cts.Token);
        await cts.CancelAsync();
        await run;
        var fresh = new RemoteConnector("lcc-moving", ConnectorStates.Running, third.Connectors["moving"].Info!.Config, [], null);
        Assert.That(expectations.Overlay("fin/moving", fresh, third.At)!.Config["kafka.topic"], Is.EqualTo("fin.orders"), "a poll that started after the write is Confluent's word");
        Assert.That(expectations.Pending, Is.Zero, "and the expectation is gone");
    }
}
