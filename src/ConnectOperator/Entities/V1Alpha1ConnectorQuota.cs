using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace ConnectOperator.Entities;

/// <summary>Connector and task limits of one Department (<c>crds/connectorquotas.yaml</c>).</summary>
[KubernetesEntity(Group = KubeGroup, Kind = KubeKind, ApiVersion = KubeApiVersion, PluralName = KubePluralName)]
public sealed class V1Alpha1ConnectorQuota : IKubernetesObject<V1ObjectMeta>, ISpec<V1Alpha1ConnectorQuotaSpec>, IStatus<V1Alpha1ConnectorQuotaStatus?>
{
    public const string KubeGroup = ConnectApi.Group;
    public const string KubeApiVersion = ConnectApi.Version;
    public const string KubeKind = "ConnectorQuota";
    public const string KubePluralName = "connectorquotas";

    public static readonly EntityMetadata Crd = new(KubeGroup, KubeApiVersion, KubeKind, KubeKind + "List", KubePluralName, "connectorquota", Namespaced: false);

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = ConnectApi.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KubeKind;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public V1Alpha1ConnectorQuotaSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public V1Alpha1ConnectorQuotaStatus? Status { get; set; }
}

public sealed class V1Alpha1ConnectorQuotaList : IKubernetesObject<V1ListMeta>, IItems<V1Alpha1ConnectorQuota>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = ConnectApi.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = V1Alpha1ConnectorQuota.KubeKind + "List";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<V1Alpha1ConnectorQuota> Items { get; set; } = new List<V1Alpha1ConnectorQuota>();
}

public sealed class V1Alpha1ConnectorQuotaSpec
{
    [JsonPropertyName("departmentRef")]
    public V1Alpha1DepartmentRef DepartmentRef { get; set; } = new();

    /// <summary>Hard limits; a null limit is unlimited.</summary>
    [JsonPropertyName("hard")]
    public V1Alpha1QuotaAmounts Hard { get; set; } = new();
}

public sealed class V1Alpha1DepartmentRef
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";
}

/// <summary>Amounts of spec.hard, status.hard and status.used. Null = unlimited (in hard) or unknown (in used).</summary>
public sealed class V1Alpha1QuotaAmounts
{
    /// <summary>Number of ManagedConnectors.</summary>
    [JsonPropertyName("connectors")]
    public int? Connectors { get; set; }

    /// <summary>Sum of spec.tasksMax.</summary>
    [JsonPropertyName("tasks")]
    public int? Tasks { get; set; }

    /// <summary>Limit per connector (hard) or the largest tasksMax in use (used).</summary>
    [JsonPropertyName("tasksPerConnector")]
    public int? TasksPerConnector { get; set; }
}

public sealed class V1Alpha1ConnectorQuotaStatus
{
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    [JsonPropertyName("hard")]
    public V1Alpha1QuotaAmounts? Hard { get; set; }

    [JsonPropertyName("used")]
    public V1Alpha1QuotaAmounts? Used { get; set; }

    [JsonPropertyName("conditions")]
    public IList<Condition> Conditions { get; set; } = new List<Condition>();
}
