using Microsoft.Extensions.Logging;

namespace ConnectOperator.Webhooks;

/// <summary>The admission webhook's log lines as source-generated <see cref="LoggerMessageAttribute"/> methods (CA1848).</summary>
internal static partial class WebhookLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "admission denied: {Operation} {Resource} {Namespace}/{Name} dryRun={DryRun}: {Message}")]
    public static partial void AdmissionDenied(this ILogger log, string operation, string resource, string? @namespace, string? name, bool dryRun, string? message);

    [LoggerMessage(Level = LogLevel.Error, Message = "admission of {Resource} failed")]
    public static partial void AdmissionFailed(this ILogger log, Exception e, string resource);

    [LoggerMessage(Level = LogLevel.Warning, Message = "webhook certificate: attempt {Attempt} failed, retrying")]
    public static partial void CertificateAttemptFailed(this ILogger log, Exception e, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "webhook certificate: not ready at start-up; the background check keeps trying")]
    public static partial void CertificateNotReady(this ILogger log, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "webhook certificate check failed; retrying in {Delay}")]
    public static partial void CertificateCheckFailed(this ILogger log, Exception e, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "webhook certificate loaded from Secret {Ns}/{Secret}: subject {Subject}, expires {NotAfter:o}")]
    public static partial void CertificateLoaded(this ILogger log, string ns, string secret, string subject, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Information, Message = "webhook certificate: created CA and serving certificate in Secret {Ns}/{Secret}")]
    public static partial void CertificateCreated(this ILogger log, string ns, string secret);

    [LoggerMessage(Level = LogLevel.Information, Message = "webhook certificate: re-issued in Secret {Ns}/{Secret} ({Why})")]
    public static partial void CertificateReissued(this ILogger log, string ns, string secret, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ValidatingWebhookConfiguration {Name} not found; caBundle not patched (the chart installs it)")]
    public static partial void ConfigurationMissing(this ILogger log, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "patched caBundle into ValidatingWebhookConfiguration {Name}")]
    public static partial void CaBundlePatched(this ILogger log, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "created ValidatingWebhookConfiguration {Name}")]
    public static partial void ConfigurationCreated(this ILogger log, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "updated ValidatingWebhookConfiguration {Name}")]
    public static partial void ConfigurationUpdated(this ILogger log, string name);
}
