using ConnectOperator.Confluent;
using ConnectOperator.Entities;
using ConnectOperator.Policy;

namespace ConnectOperator.Controllers.ManagedConnectors.Planning;

/// <summary>
/// Everything one pass knows about one ManagedConnector, read once before anything is decided (the observe step of
/// observe → plan → act). Fields later in the list are only filled when the earlier ones let the pass go on: with no
/// Department there are no credentials to read Confluent with. <see cref="ConnectorPlanner"/> decides from this alone.
/// </summary>
public sealed record ConnectorObservation
{
    /// <summary>The object (spec, metadata, status) as cached, or as read from the API server when ownership is in question.</summary>
    public required V1Alpha1ManagedConnector Connector { get; init; }

    /// <summary>The pass's clock: the only time the plan knows.</summary>
    public required DateTime Now { get; init; }

    public required LifecycleTiming Timing { get; init; }

    /// <summary>The Department that owns the namespace (on delete: also the one status names, if the namespace lost it).</summary>
    public V1Alpha1Department? Department { get; init; }

    /// <summary>Why there is no <see cref="Department"/>: NoDepartment or NamespaceConflict, with the message people read.</summary>
    public Violation? NoDepartment { get; init; }

    /// <summary>What the Department's policy refuses in this connector; empty when allowed.</summary>
    public IReadOnlyList<string> PolicyViolations { get; init; } = [];

    /// <summary>Why the Department's credentials cannot be read; null when they can.</summary>
    public string? CredentialsError { get; init; }

    /// <summary>The Confluent cluster, as people read it in messages (<c>env-…/lkc-…</c>).</summary>
    public string? Cluster { get; init; }

    /// <summary>The poll of the cluster failed (or was never done): what went wrong, in words.</summary>
    public CallFailure? RemoteUnreadable { get; init; }

    /// <summary>The quota decision for this connector: why it would exceed its department's ConnectorQuota, or null.</summary>
    public string? QuotaViolation { get; init; }

    /// <summary>False until the operator may read Secrets in the connector's namespace (its RoleBinding there is new or missing).</summary>
    public bool SecretsReadable { get; init; } = true;

    /// <summary>A spec.secretConfig Secret or key that is missing, in words; null when all are there.</summary>
    public string? SecretError { get; init; }

    /// <summary>The config to send (values of Secrets excluded): known once every gate above passed.</summary>
    public EffectiveConfig? Config { get; init; }

    /// <summary>The connector in Confluent (the poll, with this reconciler's own recent writes laid over it); null when absent.</summary>
    public RemoteConnector? Remote { get; init; }
}

/// <summary>The operator's timing knobs the lifecycle rules use.</summary>
public sealed record LifecycleTiming(TimeSpan LifecycleRetryAfter, TimeSpan AutoRestartBackoffUnit, TimeSpan AutoRestartResetAfter)
{
    public static readonly LifecycleTiming Default = new(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10));
}

/// <summary>
/// One connector as Confluent reports it, in the shape the plan reads: the failure cause and task messages are already
/// scrubbed of the connector's secret values, so nothing the plan copies into status or events can leak one.
/// </summary>
public sealed record RemoteConnector(string? Id, string? State, IReadOnlyDictionary<string, string> Config, IReadOnlyList<V1Alpha1TaskStatus> Tasks, string? Trace)
{
    /// <summary>FAILED or DEGRADED, or a task failed.</summary>
    public bool Failed => State is ConnectorStates.Failed or ConnectorStates.Degraded || Tasks.Any(t => FailureCause.IsFailedTaskState(t.State));

    /// <summary>What a create leaves until Confluent says more: the config sent, PROVISIONING, no tasks yet.</summary>
    public static RemoteConnector Created(IReadOnlyDictionary<string, string> config) => new(null, ConnectorStates.Provisioning, config, [], null);
}

/// <summary>Kinds of failed Confluent calls that the plan treats differently.</summary>
public enum FailureKind
{
    /// <summary>5xx, 429, timeouts, network, an open circuit: retried.</summary>
    Unavailable,
    /// <summary>400: the config is wrong; a person must fix it.</summary>
    BadRequest,
    /// <summary>401/403: the Department's API key.</summary>
    CredentialsRejected,
    /// <summary>409 on create: the name is taken.</summary>
    Conflict,
    /// <summary>404/405 where the route is not served for an existing connector (restart).</summary>
    NotSupported,
    /// <summary>A referenced Secret or key vanished between the cache check and the read for the write.</summary>
    SecretMissing,
}

/// <summary>A failed call in the words status shows (already scrubbed), and when to try again if the failure says.</summary>
public sealed record CallFailure(FailureKind Kind, string Text, TimeSpan? RetryAfter = null, int? HttpStatus = null);
