using ConnectOperator.Confluent;
using ConnectOperator.Entities;
using ConnectOperator.Runtime.Caching;
using k8s.Models;

namespace ConnectOperator.Controllers;

/// <summary>
/// Reads a Department's Confluent Cloud API key from its credentials Secret. The Secret must live in the operator's
/// own namespace, so a department can never point at credentials in another department's namespace.
/// </summary>
public sealed class CredentialsResolver(NamespacedInformers<V1Secret> secrets, string operatorNamespace)
{
    public string OperatorNamespace => operatorNamespace;

    /// <summary>The credentials, or an actionable error naming the Secret and key (never a value).</summary>
    public (ConnectCredentials? Credentials, string? Error) Resolve(V1Alpha1Department department)
    {
        var r = department.Spec.Confluent.CredentialsSecretRef;
        if (string.IsNullOrEmpty(r.Name))
            return (null, $"Department {department.Metadata.Name} has no spec.confluent.credentialsSecretRef.name; the platform team must reference a Secret in namespace {operatorNamespace}");
        var secret = secrets.Get(operatorNamespace, r.Name);
        if (secret is null)
            return (null, $"credentials Secret {operatorNamespace}/{r.Name} of Department {department.Metadata.Name} does not exist; the platform team must create it with keys {r.ApiKeyKey} and {r.ApiSecretKey}");
        var key = Value(secret, r.ApiKeyKey);
        var value = Value(secret, r.ApiSecretKey);
        if (string.IsNullOrEmpty(key) || string.IsNullOrEmpty(value))
            return (null, $"credentials Secret {operatorNamespace}/{r.Name} of Department {department.Metadata.Name} lacks key {(string.IsNullOrEmpty(key) ? r.ApiKeyKey : r.ApiSecretKey)}");
        return (new ConnectCredentials(key, value), null);
    }

    /// <summary>A Secret value; registered so that the log safety net scrubs every secret value the operator reads.</summary>
    public static string? Value(V1Secret secret, string key) => Hosting.SecretValueRegistry.ReadFrom(secret, key);
}
