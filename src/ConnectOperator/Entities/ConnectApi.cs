using System.Collections.Frozen;

namespace ConnectOperator.Entities;

/// <summary>Names shared by the three kinds of the <c>connect.ebs.io/v1alpha1</c> API.</summary>
public static class ConnectApi
{
    public const string Group = "connect.ebs.io";
    public const string Version = "v1alpha1";
    public const string ApiVersion = Group + "/" + Version;

    /// <summary>Category of all three kinds: <c>kubectl get connect -A</c>.</summary>
    public const string Category = "connect";

    /// <summary>Finalizer the operator puts on the ManagedConnectors it manages (only those: Departments and ConnectorQuotas get none).</summary>
    public const string Finalizer = "connect.ebs.io/finalizer";

    /// <summary>Setting or changing this annotation on a ManagedConnector requests one restart of the remote connector.</summary>
    public const string RestartAnnotation = "connect.ebs.io/restart";

    /// <summary>Annotation <c>"true"</c> on a ManagedConnector allows taking over an existing remote connector of the same name.</summary>
    public const string AdoptAnnotation = "connect.ebs.io/adopt";

    /// <summary>
    /// Written by the operator, with its finalizer, before it creates the connector in Confluent: the Confluent name
    /// this object owns, so a pass after a crash recognises its own connector. Setting it by hand grants nothing that
    /// <see cref="AdoptAnnotation"/> does not: the name must still be the one this object's namespace and name map to.
    /// </summary>
    public const string IntentAnnotation = "connect.ebs.io/owns-connector";

    /// <summary>Set to <see cref="CustomConnectorType"/> for a connector run from a custom plugin.</summary>
    public const string CustomConnectorTypeKey = "confluent.connector.type";
    public const string CustomConnectorType = "CUSTOM";
    /// <summary>The <c>ccp-…</c> id of the custom plugin.</summary>
    public const string CustomPluginIdKey = "confluent.custom.plugin.id";

    /// <summary>
    /// Connector config keys the user must not set in <c>spec.config</c> or <c>spec.secretConfig</c>: the operator sets them from
    /// <c>spec.connectorClass</c>, <c>spec.tasksMax</c>, the object name, the Department (Kafka auth) and
    /// <c>spec.customPlugin</c> (the two <c>confluent.*</c> keys: a plugin set only in config would skip the policy check of
    /// the Department's approved plugins).
    /// The CRD's CEL rules carry the same list (checked by a unit test). Compared without regard to case everywhere (CEL
    /// lowerAscii, webhook, validate, reconciler): <c>KAFKA.API.KEY</c> must not reach Confluent either.
    /// </summary>
    public static readonly FrozenSet<string> ReservedConfigKeys = new[]
    {
        "name", "connector.class", "tasks.max", "kafka.auth.mode", "kafka.api.key", "kafka.api.secret", "kafka.service.account.id",
        CustomConnectorTypeKey, CustomPluginIdKey,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>The three kinds, for code that handles them uniformly.</summary>
    public static IReadOnlyList<EntityMetadata> Kinds { get; } = new[]
    {
        V1Alpha1Department.Crd, V1Alpha1ConnectorQuota.Crd, V1Alpha1ManagedConnector.Crd,
    };
}

/// <summary>Values of <c>status</c> in a <see cref="Condition"/>.</summary>
public static class ConditionStatus
{
    public const string True = "True";
    public const string False = "False";
    public const string Unknown = "Unknown";
}

/// <summary>Condition types used on the three kinds (kstatus style).</summary>
public static class ConditionTypes
{
    public const string Ready = "Ready";
    public const string Reconciling = "Reconciling";
    public const string Stalled = "Stalled";
}

/// <summary>
/// What a client needs to address a kind: e.g. <c>new GenericClient(client, m.Group, m.Version, m.Plural)</c> or
/// <c>client.CustomObjects.ListClusterCustomObjectAsync(m.Group, m.Version, m.Plural)</c>.
/// </summary>
public sealed record EntityMetadata(string Group, string Version, string Kind, string ListKind, string Plural, string Singular, bool Namespaced)
{
    public string ApiVersion => Group + "/" + Version;

    /// <summary>The CRD's name, <c>plural.group</c>.</summary>
    public string CrdName => Plural + "." + Group;
}
