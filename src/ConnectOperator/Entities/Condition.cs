using System.Text.Json.Serialization;

namespace ConnectOperator.Entities;

/// <summary>One aspect of an object's current state; the same shape as <c>metav1.Condition</c>.</summary>
public sealed class Condition
{
    /// <summary>CamelCase condition type, see <see cref="ConditionTypes"/>.</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    /// <summary><c>True</c>, <c>False</c> or <c>Unknown</c>, see <see cref="ConditionStatus"/>.</summary>
    [JsonPropertyName("status")]
    public string Status { get; set; } = ConditionStatus.Unknown;

    /// <summary>CamelCase reason of the last transition (required, non-empty).</summary>
    [JsonPropertyName("reason")]
    public string Reason { get; set; } = "";

    /// <summary>Human-readable message; may be empty but is always sent.</summary>
    [JsonPropertyName("message")]
    public string Message { get; set; } = "";

    [JsonPropertyName("lastTransitionTime")]
    public DateTime LastTransitionTime { get; set; }

    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }
}
