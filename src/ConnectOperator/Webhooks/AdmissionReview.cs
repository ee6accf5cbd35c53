using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnectOperator.Webhooks;

// admission.k8s.io/v1 AdmissionReview, only the fields the webhooks read or write. KubernetesClient 21 has no model
// for it, and object/oldObject stay raw JSON so each kind deserialises them into its own entity.

/// <summary>
/// Source-generated (de)serialisation of the AdmissionReview envelope: the webhook answers inside the API server's
/// timeout on every apply, so it does not pay for reflection-based metadata on the request path.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AdmissionReview))]
public sealed partial class AdmissionJsonContext : JsonSerializerContext;

public sealed class AdmissionReview
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "admission.k8s.io/v1";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "AdmissionReview";
    [JsonPropertyName("request")] public AdmissionRequest? Request { get; set; }
    [JsonPropertyName("response")] public AdmissionResponse? Response { get; set; }
}

public sealed class AdmissionRequest
{
    [JsonPropertyName("uid")] public string Uid { get; set; } = "";
    [JsonPropertyName("kind")] public GroupVersionKind? Kind { get; set; }
    [JsonPropertyName("resource")] public GroupVersionResource? Resource { get; set; }
    [JsonPropertyName("subResource")] public string? SubResource { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("namespace")] public string? Namespace { get; set; }
    [JsonPropertyName("operation")] public string Operation { get; set; } = "";
    [JsonPropertyName("userInfo")] public AdmissionUserInfo? UserInfo { get; set; }
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "AdmissionRequest's field is called object; the property keeps the API's name")]
    [JsonPropertyName("object")] public JsonElement? Object { get; set; }
    [JsonPropertyName("oldObject")] public JsonElement? OldObject { get; set; }
    [JsonPropertyName("dryRun")] public bool? DryRun { get; set; }
}

public sealed class GroupVersionKind
{
    [JsonPropertyName("group")] public string Group { get; set; } = "";
    [JsonPropertyName("version")] public string Version { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
}

public sealed class GroupVersionResource
{
    [JsonPropertyName("group")] public string Group { get; set; } = "";
    [JsonPropertyName("version")] public string Version { get; set; } = "";
    [JsonPropertyName("resource")] public string Resource { get; set; } = "";
}

public sealed class AdmissionUserInfo
{
    [JsonPropertyName("username")] public string? Username { get; set; }
}

public sealed class AdmissionResponse
{
    [JsonPropertyName("uid")] public string Uid { get; set; } = "";
    [JsonPropertyName("allowed")] public bool Allowed { get; set; }
    [JsonPropertyName("status")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public AdmissionStatus? Status { get; set; }
    [JsonPropertyName("warnings")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? Warnings { get; set; }

    public static AdmissionResponse Allow(IEnumerable<string>? warnings = null)
    {
        var w = warnings?.ToList();
        return new AdmissionResponse { Allowed = true, Warnings = w is { Count: > 0 } ? w : null };
    }

    public static AdmissionResponse Deny(int code, string reason, string message, IEnumerable<string>? warnings = null)
    {
        var w = warnings?.ToList();
        return new AdmissionResponse
        {
            Allowed = false,
            Status = new AdmissionStatus { Code = code, Reason = reason, Message = message, Status = "Failure" },
            Warnings = w is { Count: > 0 } ? w : null,
        };
    }

    public static AdmissionResponse Forbidden(string message) => Deny(403, "Forbidden", message);

    public static AdmissionResponse Invalid(string message) => Deny(422, "Invalid", message);
}

public sealed class AdmissionStatus
{
    [JsonPropertyName("status")] public string Status { get; set; } = "Failure";
    [JsonPropertyName("code")] public int Code { get; set; }
    [JsonPropertyName("reason")] public string Reason { get; set; } = "";
    [JsonPropertyName("message")] public string Message { get; set; } = "";
}
