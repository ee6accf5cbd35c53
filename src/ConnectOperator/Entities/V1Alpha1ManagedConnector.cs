using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace ConnectOperator.Entities;

/// <summary>A fully-managed Confluent Cloud connector (<c>crds/managedconnectors.yaml</c>).</summary>
[KubernetesEntity(Group = KubeGroup, Kind = KubeKind, ApiVersion = KubeApiVersion, PluralName = KubePluralName)]
public sealed class V1Alpha1ManagedConnector : IKubernetesObject<V1ObjectMeta>, ISpec<V1Alpha1ManagedConnectorSpec>, IStatus<V1Alpha1ManagedConnectorStatus?>
{
    public const string KubeGroup = ConnectApi.Group;
    public const string KubeApiVersion = ConnectApi.Version;
    public const string KubeKind = "ManagedConnector";
    public const string KubePluralName = "managedconnectors";

    /// <summary>Upper bound of metadata.name (CEL rule at the CRD root).</summary>
    public const int MaxNameLength = 63;

    public static readonly EntityMetadata Crd = new(KubeGroup, KubeApiVersion, KubeKind, KubeKind + "List", KubePluralName, "managedconnector", Namespaced: true);

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = ConnectApi.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KubeKind;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public V1Alpha1ManagedConnectorSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public V1Alpha1ManagedConnectorStatus? Status { get; set; }
}

public sealed class V1Alpha1ManagedConnectorList : IKubernetesObject<V1ListMeta>, IItems<V1Alpha1ManagedConnector>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = ConnectApi.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = V1Alpha1ManagedConnector.KubeKind + "List";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<V1Alpha1ManagedConnector> Items { get; set; } = new List<V1Alpha1ManagedConnector>();
}

public sealed class V1Alpha1ManagedConnectorSpec
{
    /// <summary>With <see cref="CustomPlugin"/>, the class of that plugin (its Department entry names it).</summary>
    [JsonPropertyName("connectorClass")]
    public string ConnectorClass { get; set; } = "";

    /// <summary>A custom plugin uploaded to Confluent Cloud; null for a Confluent-managed class.</summary>
    [JsonPropertyName("customPlugin")]
    public V1Alpha1CustomPluginRef? CustomPlugin { get; set; }

    /// <summary>1..100, default 1.</summary>
    [JsonPropertyName("tasksMax")]
    public int TasksMax { get; set; } = 1;

    /// <summary>
    /// Non-sensitive config; never contains <see cref="ConnectApi.ReservedConfigKeys"/>. Unquoted numbers and booleans
    /// in the manifest arrive here as their text (<see cref="ConfigValuesConverter"/>).
    /// </summary>
    [JsonPropertyName("config")]
    [JsonConverter(typeof(ConfigValuesConverter))]
    public IDictionary<string, string> Config { get; set; } = new Dictionary<string, string>();

    /// <summary>Sensitive config read from Secrets in the same namespace; keys unique and disjoint from <see cref="Config"/>.</summary>
    [JsonPropertyName("secretConfig")]
    public IList<V1Alpha1SecretConfigEntry> SecretConfig { get; set; } = new List<V1Alpha1SecretConfigEntry>();

    /// <summary><see cref="ConnectorDesiredState.Running"/> (default) or <see cref="ConnectorDesiredState.Paused"/>.</summary>
    [JsonPropertyName("state")]
    public string State { get; set; } = ConnectorDesiredState.Running;

    [JsonPropertyName("restartPolicy")]
    public V1Alpha1RestartPolicy RestartPolicy { get; set; } = new();

    /// <summary><see cref="DeletionPolicies.Delete"/> (default) or <see cref="DeletionPolicies.Orphan"/>.</summary>
    [JsonPropertyName("deletionPolicy")]
    public string DeletionPolicy { get; set; } = DeletionPolicies.Delete;

    /// <summary>Where <c>connect.ebs.io/offsets: list</c> writes the offsets (Strimzi's KafkaConnector shape).</summary>
    [JsonPropertyName("listOffsets")]
    public V1Alpha1ListOffsets? ListOffsets { get; set; }

    /// <summary>Where <c>connect.ebs.io/offsets: alter</c> reads the offsets to set.</summary>
    [JsonPropertyName("alterOffsets")]
    public V1Alpha1AlterOffsets? AlterOffsets { get; set; }
}

public sealed class V1Alpha1ListOffsets
{
    [JsonPropertyName("toConfigMap")]
    public V1Alpha1LocalObjectRef ToConfigMap { get; set; } = new();
}

public sealed class V1Alpha1AlterOffsets
{
    [JsonPropertyName("fromConfigMap")]
    public V1Alpha1LocalObjectRef FromConfigMap { get; set; } = new();
}

/// <summary>An object in the ManagedConnector's own namespace.</summary>
public sealed class V1Alpha1LocalObjectRef
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";
}

public sealed class V1Alpha1CustomPluginRef
{
    /// <summary><c>ccp-…</c>; must be listed in the Department's spec.policy.customPlugins.</summary>
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";
}

public sealed class V1Alpha1SecretConfigEntry
{
    /// <summary>Connector config key, e.g. <c>database.password</c>.</summary>
    [JsonPropertyName("key")]
    public string Key { get; set; } = "";

    [JsonPropertyName("secretKeyRef")]
    public V1Alpha1SecretKeyRef SecretKeyRef { get; set; } = new();
}

/// <summary>A key of a Secret in the referencing object's namespace.</summary>
public sealed class V1Alpha1SecretKeyRef
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("key")]
    public string Key { get; set; } = "";
}

public sealed class V1Alpha1RestartPolicy
{
    /// <summary><see cref="RestartPolicyTypes.OnFailure"/> (default) or <see cref="RestartPolicyTypes.Never"/>.</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = RestartPolicyTypes.OnFailure;

    /// <summary>Default 10, minimum 0.</summary>
    [JsonPropertyName("maxRestarts")]
    public int MaxRestarts { get; set; } = 10;
}

public static class ConnectorDesiredState
{
    public const string Running = "Running";
    public const string Paused = "Paused";
}

public static class DeletionPolicies
{
    public const string Delete = "Delete";
    public const string Orphan = "Orphan";
}

public static class RestartPolicyTypes
{
    public const string OnFailure = "OnFailure";
    public const string Never = "Never";
}

public sealed class V1Alpha1ManagedConnectorStatus
{
    /// <summary>Schema maxLength of <see cref="Trace"/>; truncate before writing.</summary>
    public const int MaxTraceLength = 4096;

    /// <summary>Schema maxLength of a task <see cref="V1Alpha1TaskStatus.Message"/>.</summary>
    public const int MaxTaskMessageLength = 4096;

    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    /// <summary>Ready, Reconciling, Stalled.</summary>
    [JsonPropertyName("conditions")]
    public IList<Condition> Conditions { get; set; } = new List<Condition>();

    [JsonPropertyName("department")]
    public string? Department { get; set; }

    /// <summary>Name in Confluent Cloud.</summary>
    [JsonPropertyName("connectorName")]
    public string? ConnectorName { get; set; }

    /// <summary><c>lcc-…</c></summary>
    [JsonPropertyName("connectorId")]
    public string? ConnectorId { get; set; }

    /// <summary>
    /// Where the connector lives in Confluent Cloud (copied from its Department when written), so tools that may read
    /// the connector but not the cluster-scoped Department (a department editor's <c>connect-operator logs</c>) can
    /// still name it.
    /// </summary>
    [JsonPropertyName("environmentId")]
    public string? EnvironmentId { get; set; }

    [JsonPropertyName("kafkaClusterId")]
    public string? KafkaClusterId { get; set; }

    /// <summary>As reported by Confluent Cloud: PROVISIONING, RUNNING, PAUSED, FAILED, …</summary>
    [JsonPropertyName("connectorState")]
    public string? ConnectorState { get; set; }

    [JsonPropertyName("tasks")]
    public IList<V1Alpha1TaskStatus> Tasks { get; set; } = new List<V1Alpha1TaskStatus>();

    /// <summary>Running tasks out of spec.tasksMax, e.g. "2/3": the TASKS printer column.</summary>
    [JsonPropertyName("tasksReady")]
    public string? TasksReady { get; set; }

    /// <summary>Truncated to <see cref="MaxTraceLength"/>.</summary>
    [JsonPropertyName("trace")]
    public string? Trace { get; set; }

    [JsonPropertyName("autoRestart")]
    public V1Alpha1AutoRestartStatus? AutoRestart { get; set; }

    [JsonPropertyName("lastSyncTime")]
    public DateTime? LastSyncTime { get; set; }

    /// <summary>Hash of the effective config; secret values only enter it hashed.</summary>
    [JsonPropertyName("configHash")]
    public string? ConfigHash { get; set; }

    /// <summary>Last handled value of <see cref="ConnectApi.RestartAnnotation"/>.</summary>
    [JsonPropertyName("restartAnnotation")]
    public string? RestartAnnotation { get; set; }

    /// <summary>The config keys sent with the last write: the only remote keys drift is judged on.</summary>
    [JsonPropertyName("appliedConfigKeys")]
    public IList<string>? AppliedConfigKeys { get; set; }

    /// <summary>The last pause or resume sent, so it is sent once per intent rather than once per pass.</summary>
    [JsonPropertyName("lifecycleRequest")]
    public V1Alpha1LifecycleRequest? LifecycleRequest { get; set; }

    /// <summary>When the connector was re-created after a delete outside Kubernetes; cleared once it runs.</summary>
    [JsonPropertyName("recreatedAt")]
    public DateTime? RecreatedAt { get; set; }

    /// <summary>The last offsets operation (<c>connect.ebs.io/offsets</c>) and how Confluent reported it.</summary>
    [JsonPropertyName("offsets")]
    public V1Alpha1OffsetsStatus? Offsets { get; set; }
}

public sealed class V1Alpha1OffsetsStatus
{
    /// <summary>The annotation value this status is for: an operation runs once per distinct value.</summary>
    [JsonPropertyName("annotation")]
    public string? Annotation { get; set; }

    /// <summary>list, alter or reset.</summary>
    [JsonPropertyName("operation")]
    public string? Operation { get; set; }

    /// <summary>Confluent's phase (PENDING, APPLIED, FAILED), or the operator's: Listed, Refused, Waiting.</summary>
    [JsonPropertyName("phase")]
    public string? Phase { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }

    [JsonPropertyName("configMap")]
    public string? ConfigMap { get; set; }

    [JsonPropertyName("requestedAt")]
    public DateTime? RequestedAt { get; set; }

    /// <summary>When Confluent applied the change, or when the offsets were listed.</summary>
    [JsonPropertyName("appliedAt")]
    public DateTime? AppliedAt { get; set; }
}

public sealed class V1Alpha1LifecycleRequest
{
    public const string Pause = "Pause";
    public const string Resume = "Resume";

    [JsonPropertyName("action")]
    public string Action { get; set; } = Pause;

    [JsonPropertyName("observedState")]
    public string? ObservedState { get; set; }

    [JsonPropertyName("requestedAt")]
    public DateTime? RequestedAt { get; set; }
}

public sealed class V1Alpha1TaskStatus
{
    [JsonPropertyName("id")]
    public int Id { get; set; }

    [JsonPropertyName("state")]
    public string? State { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }
}

public sealed class V1Alpha1AutoRestartStatus
{
    [JsonPropertyName("count")]
    public int Count { get; set; }

    [JsonPropertyName("lastRestartTime")]
    public DateTime? LastRestartTime { get; set; }
}
