using Microsoft.Extensions.Logging;

namespace ConnectOperator.Controllers.Departments;

/// <summary>The Department controller's log lines as source-generated <see cref="LoggerMessageAttribute"/> methods (CA1848).</summary>
internal static partial class DepartmentLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "verifying credentials of department {Department} failed: {Error}")]
    public static partial void VerifyFailed(this ILogger log, string department, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "removed the operator's read access to Secrets in namespace {Namespace}: Department {Department} no longer claims it")]
    public static partial void SecretAccessRemoved(this ILogger log, string @namespace, string department);

    [LoggerMessage(Level = LogLevel.Warning, Message = "granting the operator Secret access in namespace {Namespace} for Department {Department} failed: {Error}")]
    public static partial void SecretAccessFailed(this ILogger log, string @namespace, string department, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "granted the operator read access to Secrets in namespace {Namespace} (RoleBinding {Name}, Department {Department})")]
    public static partial void SecretAccessGranted(this ILogger log, string @namespace, string name, string department);
}
