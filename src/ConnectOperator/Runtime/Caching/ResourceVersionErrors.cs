using System.Net;
using System.Text.Json;
using k8s.Autorest;
using k8s.Models;

namespace ConnectOperator.Runtime.Caching;

/// <summary>
/// The two answers that mean "this resourceVersion cannot be served", as client-go's reflector recognises them
/// (isExpiredError, isTooLargeResourceVersionError), whether they arrive as the HTTP status of a request or as the
/// <see cref="V1Status"/> of a watch ERROR event.
/// </summary>
public static class ResourceVersionErrors
{
    /// <summary>metav1.CauseTypeResourceVersionTooLarge.</summary>
    public const string TooLargeCause = "ResourceVersionTooLarge";

    // API servers 1.17.0 to 1.18.5 send the condition only as this text (no cause type); older ones only in the message.
    private const string TooLargeMessage = "Too large resource version";

    /// <summary>410: the resourceVersion was compacted away (reason Expired or Gone).</summary>
    public static bool IsExpired(V1Status? status)
        => status != null && (status.Code == 410 || status.Reason is "Expired" or "Gone");

    /// <summary>504 "Too large resource version": the server's watch cache has not yet seen the requested resourceVersion.</summary>
    public static bool IsTooLarge(V1Status? status)
    {
        if (status == null) return false;
        if (status.Details?.Causes?.Any(c => c.Reason == TooLargeCause) == true) return true;
        if (status.Code != 504 && status.Reason != "Timeout") return false;
        return status.Details?.Causes?.Any(c => c.Message == TooLargeMessage) == true
            || status.Message?.Contains(TooLargeMessage, StringComparison.Ordinal) == true;
    }

    public static bool IsTooLarge(Exception e)
        => e is HttpOperationException { Response: { } r } && (r.StatusCode == HttpStatusCode.GatewayTimeout || HasStatusBody(r.Content))
           && IsTooLarge(ParseStatus(r.Content));

    private static bool HasStatusBody(string? content) => content?.Contains(TooLargeCause, StringComparison.Ordinal) == true;

    internal static V1Status? ParseStatus(string? content)
    {
        if (string.IsNullOrWhiteSpace(content)) return null;
        try { return KubeJson.Deserialize<V1Status>(content); }
        catch (JsonException) { return null; }
    }
}
