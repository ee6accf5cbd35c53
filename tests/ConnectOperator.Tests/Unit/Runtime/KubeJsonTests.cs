using System.Text.Json.Nodes;
using ConnectOperator.Entities;
using ConnectOperator.Runtime;
using k8s;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Runtime;

/// <summary>The operator's own serializer context writes what KubernetesClient's would: the API server sees no difference.</summary>
public sealed class KubeJsonTests
{
    private static V1Alpha1ManagedConnector Sample() => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "orders", NamespaceProperty = "sales", Finalizers = ["connect.ebs.io/finalizer"],
            CreationTimestamp = new DateTime(2026, 11, 26, 17, 0, 0, DateTimeKind.Utc),
            Labels = new Dictionary<string, string> { ["team"] = "sales" },
        },
        Spec = new V1Alpha1ManagedConnectorSpec
        {
            ConnectorClass = "DatagenSource", TasksMax = 2, Config = new Dictionary<string, string> { ["kafka.topic"] = "sales.orders" },
            SecretConfig = [new() { Key = "password", SecretKeyRef = new() { Name = "db", Key = "pw" } }],
        },
        Status = new V1Alpha1ManagedConnectorStatus
        {
            ObservedGeneration = 3, ConnectorState = "RUNNING", LastSyncTime = new DateTime(2026, 11, 26, 17, 1, 2, 345, DateTimeKind.Utc),
            Conditions = [new Condition { Type = ConditionTypes.Ready, Status = ConditionStatus.True, Reason = "Running", Message = "ok", LastTransitionTime = new DateTime(2026, 11, 26, 17, 1, 2, DateTimeKind.Utc) }],
            Tasks = [new V1Alpha1TaskStatus { Id = 0, State = "RUNNING" }],
        },
    };

    [Test]
    public void Writes_what_KubernetesJson_writes_for_every_kind_the_operator_sends()
    {
        var lease = new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = "leader", NamespaceProperty = "connect-system", ResourceVersion = "42" },
            Spec = new V1LeaseSpec { HolderIdentity = "a", LeaseDurationSeconds = 15, RenewTime = new DateTime(2026, 11, 26, 17, 0, 0, 123, DateTimeKind.Utc) },
        };
        var ev = new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = "orders.1", NamespaceProperty = "sales" },
            InvolvedObject = new V1ObjectReference { Kind = "ManagedConnector", Name = "orders" },
            Type = "Warning", Reason = "Stalled", Message = "m", Count = 2, LastTimestamp = new DateTime(2026, 11, 26, 17, 0, 0, DateTimeKind.Utc),
        };
        var secret = new V1Secret { Metadata = new V1ObjectMeta { Name = "tls" }, Type = "kubernetes.io/tls", Data = new Dictionary<string, byte[]> { ["tls.crt"] = [1, 2, 3] } };
        AssertSame(Sample());
        AssertSame(lease);
        AssertSame(ev);
        AssertSame(secret);
        Assert.That(KubeJson.Serialize(lease), Does.Contain("\"renewTime\":\"2026-11-26T17:00:00.123000Z\""), "MicroTime, as the API server requires for a Lease");
        Assert.That(KubeJson.Serialize(lease), Does.Not.Contain("null"), "nulls are left out");
    }

    private static void AssertSame<T>(T obj)
    {
        var ours = KubeJson.Serialize(obj);
        var theirs = KubernetesJson.Serialize(obj!);
        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(ours), JsonNode.Parse(theirs)), Is.True, $"{typeof(T).Name}:\n ours   {ours}\n theirs {theirs}");
        var back = KubeJson.Deserialize<T>(theirs);
        Assert.That(KubeJson.Serialize(back), Is.EqualTo(ours), $"{typeof(T).Name} reads back what KubernetesJson wrote");
    }

    [Test]
    public void ManagedFields_are_neither_read_nor_written()
    {
        const string json = """
            {"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"sales","resourceVersion":"7",
             "managedFields":[{"manager":"kubectl","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1",
               "fieldsV1":{"f:data":{".":{},"f:password":{}}}}]},
             "data":{"password":"c2VjcmV0"}}
            """;
        var secret = KubeJson.Deserialize<V1Secret>(json);
        Assert.That(secret.Metadata.ManagedFields, Is.Null, "skipped while reading");
        Assert.That((secret.Metadata.Name, secret.Metadata.ResourceVersion, secret.Data["password"].Length), Is.EqualTo(("db", "7", 6)), "the rest is read");
        secret.Metadata.ManagedFields = [new V1ManagedFieldsEntry { Manager = "someone", Operation = "Apply" }];
        Assert.That(KubeJson.Serialize(secret), Does.Not.Contain("managedFields").And.Contain("\"resourceVersion\":\"7\""));
    }

    [Test]
    public void A_kind_outside_the_context_is_refused_naming_the_fix()
    {
        Assert.That(() => KubeJson.Serialize(new V1Pod()), Throws.TypeOf<NotSupportedException>()
            .With.Message.Contains("V1Pod").And.Message.Contains("[JsonSerializable(typeof(V1Pod))]"));
    }

    [Test]
    public void A_deep_copy_is_equal_and_shares_nothing()
    {
        var original = Sample();
        var copy = KubeApiClient.DeepCopy(original);
        copy.Spec.Config["kafka.topic"] = "changed";
        copy.Status!.Conditions[0].Message = "changed";
        Assert.That(original.Spec.Config["kafka.topic"], Is.EqualTo("sales.orders"));
        Assert.That(original.Status!.Conditions[0].Message, Is.EqualTo("ok"));
        Assert.That(KubeJson.Serialize(KubeApiClient.DeepCopy(original)), Is.EqualTo(KubeJson.Serialize(original)));
    }
}
