using System.Reflection;
using k8s.Models;

namespace ConnectOperator.Runtime;

/// <summary>
/// Describes one Kubernetes resource type well enough to build its REST paths. Works for core kinds
/// (group "", served under <c>/api/v1</c>) and for every other group, custom resources included (<c>/apis/g/v</c>).
/// </summary>
public sealed record ResourceKind(string Group, string Version, string Plural, string Kind, bool Namespaced = true)
{
    public static readonly ResourceKind ConfigMap = new("", "v1", "configmaps", "ConfigMap");
    public static readonly ResourceKind Secret = new("", "v1", "secrets", "Secret");
    public static readonly ResourceKind Event = new("", "v1", "events", "Event");
    public static readonly ResourceKind Namespace = new("", "v1", "namespaces", "Namespace", Namespaced: false);
    public static readonly ResourceKind SelfSubjectAccessReview = new("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", Namespaced: false);
    public static readonly ResourceKind RoleBinding = new("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding");
    public static readonly ResourceKind Lease = new("coordination.k8s.io", "v1", "leases", "Lease");
    public static readonly ResourceKind ValidatingWebhookConfiguration = new("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", Namespaced: false);

    /// <summary><c>v1</c> for core, <c>group/version</c> otherwise.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>Builds the kind from a type's <see cref="KubernetesEntityAttribute"/> (KubernetesClient models and CRD entity classes).</summary>
    public static ResourceKind For<T>(bool namespaced = true)
    {
        var a = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{typeof(T).Name} has no [KubernetesEntity] attribute; construct ResourceKind explicitly");
        return new ResourceKind(a.Group ?? "", a.ApiVersion, a.PluralName, a.Kind, namespaced);
    }

    /// <summary>Relative collection path; <paramref name="ns"/> null = all namespaces (or cluster-scoped).</summary>
    public string CollectionPath(string? ns = null)
    {
        var root = Group.Length == 0 ? $"api/{Version}" : $"apis/{Group}/{Version}";
        return Namespaced && !string.IsNullOrEmpty(ns)
            ? $"{root}/namespaces/{Uri.EscapeDataString(ns)}/{Plural}"
            : $"{root}/{Plural}";
    }

    /// <summary>Relative path of one object, optionally of a subresource such as <c>status</c>.</summary>
    public string ItemPath(string? ns, string name, string? subresource = null)
    {
        if (Namespaced && string.IsNullOrEmpty(ns)) throw new ArgumentException($"{Kind} is namespaced; a namespace is required", nameof(ns));
        var p = CollectionPath(ns) + "/" + Uri.EscapeDataString(name);
        return subresource == null ? p : p + "/" + subresource;
    }

    public override string ToString() => Group.Length == 0 ? $"{Plural}.{Version}" : $"{Plural}.{Version}.{Group}";
}
