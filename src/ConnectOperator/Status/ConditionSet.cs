using ConnectOperator.Entities;

namespace ConnectOperator.Status;

/// <summary>
/// kstatus conditions for any of our kinds. Setting a condition to the status it already has keeps its
/// lastTransitionTime, so an unchanged reconcile produces a byte-identical status and the write is skipped.
/// </summary>
public static class ConditionSet
{
    public static void Set(IList<Condition> conditions, string type, bool status, string reason, string message, long? generation, DateTime now)
    {
        var value = status ? ConditionStatus.True : ConditionStatus.False;
        var existing = conditions.FirstOrDefault(c => c.Type == type);
        if (existing == null)
        {
            conditions.Add(new Condition { Type = type, Status = value, Reason = reason, Message = message, ObservedGeneration = generation, LastTransitionTime = now });
            return;
        }
        if (existing.Status != value) existing.LastTransitionTime = now;
        existing.Status = value;
        existing.Reason = reason;
        existing.Message = message;
        existing.ObservedGeneration = generation;
    }

    /// <summary>Sets Ready, Reconciling and Stalled together, as kstatus reads them.</summary>
    public static void Apply(IList<Condition> conditions, Health health, long? generation, DateTime now)
    {
        Set(conditions, ConditionTypes.Ready, health.Phase == HealthPhase.Ready, health.Reason, health.Message, generation, now);
        Set(conditions, ConditionTypes.Reconciling, health.Phase == HealthPhase.Reconciling, health.Phase == HealthPhase.Reconciling ? health.Reason : "Reconciled",
            health.Phase == HealthPhase.Reconciling ? health.Message : NotReconcilingMessage(health), generation, now);
        Set(conditions, ConditionTypes.Stalled, health.Phase == HealthPhase.Stalled, health.Phase == HealthPhase.Stalled ? health.Reason : "NotStalled",
            health.Phase == HealthPhase.Stalled ? health.Message : NotStalledMessage(health), generation, now);
        // kstatus orders nothing, but humans read `kubectl describe` top-down: Ready first.
        var ordered = conditions.OrderBy(c => c.Type switch { ConditionTypes.Ready => 0, ConditionTypes.Reconciling => 1, ConditionTypes.Stalled => 2, _ => 3 }).ToList();
        conditions.Clear();
        foreach (var c in ordered) conditions.Add(c);
    }

    /// <summary>Why Reconciling is False: a bare False tells the reader of <c>kubectl describe</c> nothing.</summary>
    public static string NotReconcilingMessage(Health health) => health.Phase switch
    {
        HealthPhase.Ready => $"{health.Settled ?? "in sync"}: {health.Message}",
        _ => $"not progressing, see the Stalled condition ({health.Reason})",
    };

    public static string NotStalledMessage(Health health) => health.Phase switch
    {
        HealthPhase.Ready => $"{health.Settled ?? "in sync"}: {health.Message}",
        _ => $"still progressing, see the Reconciling condition ({health.Reason})",
    };

    public static Condition? Find(IEnumerable<Condition>? conditions, string type) => conditions?.FirstOrDefault(c => c.Type == type);
}

public enum HealthPhase
{
    Ready,
    Reconciling,
    Stalled,
}

/// <summary>One verdict for an object: which kstatus phase, with a CamelCase reason and a message a person can act on.</summary>
/// <param name="Settled">How a Ready object is settled, for the False Reconciling and Stalled messages (e.g. "in sync with Confluent").</param>
public sealed record Health(HealthPhase Phase, string Reason, string Message, string? Settled = null)
{
    public static Health Ready(string reason, string message) => new(HealthPhase.Ready, reason, message);
    public static Health Reconciling(string reason, string message) => new(HealthPhase.Reconciling, reason, message);
    public static Health Stalled(string reason, string message) => new(HealthPhase.Stalled, reason, message);
}

public static class ConditionSetExtensions
{
    public static bool IsStalledFor(V1Alpha1ManagedConnector c, string reason)
        => ConditionSet.Find(c.Status?.Conditions, ConditionTypes.Stalled) is { Status: ConditionStatus.True } s && s.Reason == reason;
}
