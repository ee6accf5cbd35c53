using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace ConnectOperator.Entities;

/// <summary>A cluster-scoped tenant: namespaces, Confluent Cloud target and policy (<c>crds/departments.yaml</c>).</summary>
[KubernetesEntity(Group = KubeGroup, Kind = KubeKind, ApiVersion = KubeApiVersion, PluralName = KubePluralName)]
public sealed class V1Alpha1Department : IKubernetesObject<V1ObjectMeta>, ISpec<V1Alpha1DepartmentSpec>, IStatus<V1Alpha1DepartmentStatus?>
{
    public const string KubeGroup = ConnectApi.Group;
    public const string KubeApiVersion = ConnectApi.Version;
    public const string KubeKind = "Department";
    public const string KubePluralName = "departments";

    public static readonly EntityMetadata Crd = new(KubeGroup, KubeApiVersion, KubeKind, KubeKind + "List", KubePluralName, "department", Namespaced: false);

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = ConnectApi.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KubeKind;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public V1Alpha1DepartmentSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public V1Alpha1DepartmentStatus? Status { get; set; }
}

public sealed class V1Alpha1DepartmentList : IKubernetesObject<V1ListMeta>, IItems<V1Alpha1Department>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = ConnectApi.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = V1Alpha1Department.KubeKind + "List";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<V1Alpha1Department> Items { get; set; } = new List<V1Alpha1Department>();
}

public sealed class V1Alpha1DepartmentSpec
{
    [JsonPropertyName("displayName")]
    public string? DisplayName { get; set; }

    [JsonPropertyName("contact")]
    public V1Alpha1DepartmentContact? Contact { get; set; }

    /// <summary>Namespaces whose ManagedConnectors belong to this department (unique DNS labels).</summary>
    [JsonPropertyName("namespaces")]
    public IList<string> Namespaces { get; set; } = new List<string>();

    [JsonPropertyName("confluent")]
    public V1Alpha1DepartmentConfluent Confluent { get; set; } = new();

    /// <summary>Rules for the department's connectors; an empty list allows nothing.</summary>
    [JsonPropertyName("policy")]
    public V1Alpha1DepartmentPolicy Policy { get; set; } = new();

    /// <summary>Prefix of remote connector names; <c>^[a-z0-9][a-z0-9-]{0,19}$</c>.</summary>
    [JsonPropertyName("connectorNamePrefix")]
    public string? ConnectorNamePrefix { get; set; }

    [JsonPropertyName("suspend")]
    public bool Suspend { get; set; }
}

public sealed class V1Alpha1DepartmentContact
{
    [JsonPropertyName("email")]
    public string? Email { get; set; }

    [JsonPropertyName("team")]
    public string? Team { get; set; }
}

public sealed class V1Alpha1DepartmentConfluent
{
    /// <summary><c>env-…</c></summary>
    [JsonPropertyName("environmentId")]
    public string EnvironmentId { get; set; } = "";

    /// <summary><c>lkc-…</c></summary>
    [JsonPropertyName("kafkaClusterId")]
    public string KafkaClusterId { get; set; } = "";

    /// <summary><c>sa-…</c></summary>
    [JsonPropertyName("serviceAccountId")]
    public string ServiceAccountId { get; set; } = "";

    [JsonPropertyName("credentialsSecretRef")]
    public V1Alpha1CredentialsSecretRef CredentialsSecretRef { get; set; } = new();
}

/// <summary>A Secret in the operator's namespace holding a Confluent Cloud API key and secret.</summary>
public sealed class V1Alpha1CredentialsSecretRef
{
    public const string DefaultApiKeyKey = "api-key";
    public const string DefaultApiSecretKey = "api-secret";

    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("apiKeyKey")]
    public string ApiKeyKey { get; set; } = DefaultApiKeyKey;

    [JsonPropertyName("apiSecretKey")]
    public string ApiSecretKey { get; set; } = DefaultApiSecretKey;
}

public sealed class V1Alpha1DepartmentPolicy
{
    /// <summary>Allowed connector classes; empty allows none.</summary>
    [JsonPropertyName("allowedConnectorClasses")]
    public IList<string> AllowedConnectorClasses { get; set; } = new List<string>();

    /// <summary>Every topic must start with one of these.</summary>
    [JsonPropertyName("topicPrefixes")]
    public IList<string> TopicPrefixes { get; set; } = new List<string>();

    /// <summary>Exact hosts or <c>*.domain</c> wildcards.</summary>
    [JsonPropertyName("allowedHosts")]
    public IList<string> AllowedHosts { get; set; } = new List<string>();

    /// <summary>Transform and predicate types allowed beyond the vetted ones (full class names).</summary>
    [JsonPropertyName("allowedTransforms")]
    public IList<string> AllowedTransforms { get; set; } = new List<string>();

    /// <summary>Lets an allowed class without a key table in the operator run (checked by the common and generic rules only).</summary>
    [JsonPropertyName("allowUnvettedConnectorClasses")]
    public bool AllowUnvettedConnectorClasses { get; set; }

    /// <summary>Custom plugins the department may run, each with its key table; empty allows none.</summary>
    [JsonPropertyName("customPlugins")]
    public IList<V1Alpha1CustomPlugin> CustomPlugins { get; set; } = new List<V1Alpha1CustomPlugin>();
}

/// <summary>An approved custom plugin and the config keys of it that name topics or hosts.</summary>
public sealed class V1Alpha1CustomPlugin
{
    /// <summary><c>ccp-…</c></summary>
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    [JsonPropertyName("connectorClass")]
    public string ConnectorClass { get; set; } = "";

    /// <summary>Kinds as <see cref="Policy.ConnectorKeyTable.TopicKeyKind"/>, spelled as policy-tables.json spells them.</summary>
    [JsonPropertyName("topicKeys")]
    public IList<V1Alpha1PluginKey> TopicKeys { get; set; } = new List<V1Alpha1PluginKey>();

    /// <summary>Kinds as <see cref="Policy.ConnectorKeyTable.HostKeyKind"/>.</summary>
    [JsonPropertyName("hostKeys")]
    public IList<V1Alpha1PluginKey> HostKeys { get; set; } = new List<V1Alpha1PluginKey>();
}

public sealed class V1Alpha1PluginKey
{
    [JsonPropertyName("key")]
    public string Key { get; set; } = "";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";
}

public sealed class V1Alpha1DepartmentStatus
{
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    [JsonPropertyName("connectors")]
    public int? Connectors { get; set; }

    [JsonPropertyName("tasks")]
    public int? Tasks { get; set; }

    /// <summary>Where the operator holds its Secret-reading RoleBinding for this department (so a namespace the department gives up loses it).</summary>
    [JsonPropertyName("secretAccessNamespaces")]
    public IList<string>? SecretAccessNamespaces { get; set; }

    [JsonPropertyName("conditions")]
    public IList<Condition> Conditions { get; set; } = new List<Condition>();
}
