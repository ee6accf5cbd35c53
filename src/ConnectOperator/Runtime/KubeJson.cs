using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ConnectOperator.Entities;
using k8s;
using k8s.Models;

namespace ConnectOperator.Runtime;

/// <summary>
/// How the operator reads and writes Kubernetes objects: KubernetesClient's wire format (camelCase, nulls left out,
/// RFC 3339 times through its own converters), from a source-generated context that describes only the kinds the
/// operator exchanges with the API server (<see cref="KubeJsonContext"/>).
/// <para>
/// Why not <see cref="KubernetesJson"/>: its options carry KubernetesClient's context for all ~850 API types, and
/// anything that touches it makes the native executable carry every one of their serializers: a third of the
/// executable, whose pages are resident memory (BENCHMARKS.md, "Memory"). So nothing in the operator calls
/// <see cref="KubernetesJson"/>, nor the generated client operations that do (<c>client.CoreV1…</c>): requests go
/// through <see cref="KubeApiClient"/>. A kind missing from the context fails in the tests as it would in production:
/// there is no reflection fallback.
/// </para>
/// </summary>
public static class KubeJson
{
    private static readonly object Gate = new();
    private static JsonSerializerContext[] _more = [];

    /// <summary>
    /// The context's options, less <c>metadata.managedFields</c>: the operator never reads them, they are often the
    /// largest part of an object, and reading them costs a cloned JSON document per entry. Skipped while reading, they
    /// cost nothing; left out of writes, the API server keeps the object's own (it resets them only when sent an empty list).
    /// </summary>
    public static JsonSerializerOptions Options { get; } = new(KubeJsonContext.Default.Options)
    {
        TypeInfoResolver = KubeJsonContext.Default.WithAddedModifier(WithoutManagedFields),
    };

    private static void WithoutManagedFields(JsonTypeInfo info)
    {
        if (info.Type != typeof(V1ObjectMeta)) return;
        for (var i = info.Properties.Count - 1; i >= 0; i--)
            if (info.Properties[i].Name == "managedFields") info.Properties.RemoveAt(i);
    }

    /// <summary>
    /// Adds kinds defined outside the operator (a test's own resource): their source-generated context, declared with
    /// the same <see cref="JsonSourceGenerationOptions"/> as <see cref="KubeJsonContext"/>.
    /// </summary>
    public static void Add(JsonSerializerContext context)
    {
        lock (Gate) Volatile.Write(ref _more, [.. _more, context]);
    }

    /// <summary>The metadata of <typeparamref name="T"/>; throws, naming the type, when no context describes it.</summary>
    public static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Info(typeof(T));

    public static JsonTypeInfo Info(Type type)
    {
        if (Options.TryGetTypeInfo(type, out var info)) return info;
        foreach (var context in Volatile.Read(ref _more))
            if (context.GetTypeInfo(type) is { } more) return more;
        throw new NotSupportedException($"{type.Name} is not in {nameof(KubeJsonContext)}: add [JsonSerializable(typeof({type.Name}))] to it");
    }

    public static T Deserialize<T>(string json) => JsonSerializer.Deserialize(json, Info<T>())!;

    public static T Deserialize<T>(Stream json) => JsonSerializer.Deserialize(json, Info<T>())!;

    public static T Deserialize<T>(JsonElement json) => json.Deserialize(Info<T>())!;

    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json) => JsonSerializer.Deserialize(utf8Json, Info<T>())!;

    /// <summary>Serialises by the static type; <typeparamref name="T"/> must be in the context.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Info<T>());
}

/// <summary>
/// The kinds the operator reads and writes. Adding a kind here is what lets <see cref="KubeApiClient"/> carry it;
/// the types they reference (metadata, owner references, webhook rules, …) come with them.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(KubernetesJson.KubernetesDateTimeConverter), typeof(KubernetesJson.KubernetesDateTimeOffsetConverter), typeof(KubernetesJson.Iso8601TimeSpanConverter)])]
[JsonSerializable(typeof(V1Alpha1ManagedConnector))]
[JsonSerializable(typeof(V1Alpha1ManagedConnectorList))]
[JsonSerializable(typeof(V1Alpha1Department))]
[JsonSerializable(typeof(V1Alpha1DepartmentList))]
[JsonSerializable(typeof(V1Alpha1ConnectorQuota))]
[JsonSerializable(typeof(V1Alpha1ConnectorQuotaList))]
[JsonSerializable(typeof(V1Secret))]
[JsonSerializable(typeof(V1Namespace))]
[JsonSerializable(typeof(V1ConfigMap))]
[JsonSerializable(typeof(Corev1Event))]
[JsonSerializable(typeof(V1Lease))]
[JsonSerializable(typeof(V1Status))]
[JsonSerializable(typeof(V1ValidatingWebhookConfiguration))]
[JsonSerializable(typeof(V1SelfSubjectAccessReview))]
[JsonSerializable(typeof(V1RoleBinding))]
public sealed partial class KubeJsonContext : JsonSerializerContext;
