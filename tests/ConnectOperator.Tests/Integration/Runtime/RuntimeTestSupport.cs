using System.Diagnostics;
using System.Text.Json.Serialization;
using ConnectOperator.Runtime;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConnectOperator.Tests.Integration.Runtime;

/// <summary>A test-only custom kind with a status subresource (group test.connect.ebs.io).</summary>
public sealed class Widget : IKubernetesObject<V1ObjectMeta>
{
    public static readonly ResourceKind ResourceKind = new("test.connect.ebs.io", "v1", "widgets", "Widget");

    // Every test that reads or writes widgets names this kind first, which runs this.
    static Widget() => KubeJson.Add(WidgetJsonContext.Default);

    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "test.connect.ebs.io/v1";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "Widget";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public WidgetSpec? Spec { get; set; }
    [JsonPropertyName("status")] public WidgetStatus? Status { get; set; }
}

public sealed class WidgetSpec
{
    [JsonPropertyName("size")] public int Size { get; set; }
}

public sealed class WidgetStatus
{
    [JsonPropertyName("phase")] public string? Phase { get; set; }
    [JsonPropertyName("observedGeneration")] public long? ObservedGeneration { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(KubernetesJson.KubernetesDateTimeConverter), typeof(KubernetesJson.KubernetesDateTimeOffsetConverter)])]
[JsonSerializable(typeof(Widget))]
[JsonSerializable(typeof(System.Text.Json.JsonElement))]
internal sealed partial class WidgetJsonContext : JsonSerializerContext;

internal static class RuntimeTestSupport
{
    private static readonly SemaphoreSlim CrdGate = new(1, 1);
    private static bool _crdReady;

    public static async Task EnsureWidgetCrdAsync(IKubernetes client)
    {
        await CrdGate.WaitAsync();
        try
        {
            if (_crdReady) return;
            var crd = new V1CustomResourceDefinition
            {
                Metadata = new V1ObjectMeta { Name = "widgets.test.connect.ebs.io" },
                Spec = new V1CustomResourceDefinitionSpec
                {
                    Group = "test.connect.ebs.io",
                    Scope = "Namespaced",
                    Names = new V1CustomResourceDefinitionNames { Plural = "widgets", Singular = "widget", Kind = "Widget", ListKind = "WidgetList" },
                    Versions = new List<V1CustomResourceDefinitionVersion>
                    {
                        new()
                        {
                            Name = "v1", Served = true, Storage = true,
                            Subresources = new V1CustomResourceSubresources { Status = new object() },
                            Schema = new V1CustomResourceValidation
                            {
                                OpenAPIV3Schema = new V1JSONSchemaProps
                                {
                                    Type = "object",
                                    Properties = new Dictionary<string, V1JSONSchemaProps>
                                    {
                                        ["spec"] = new() { Type = "object", XKubernetesPreserveUnknownFields = true },
                                        ["status"] = new() { Type = "object", XKubernetesPreserveUnknownFields = true },
                                    },
                                },
                            },
                        },
                    },
                },
            };
            try { await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd); }
            catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict) { }
            await EventuallyAsync(async () =>
            {
                var c = await client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name);
                return c.Status?.Conditions?.Any(x => x.Type == "Established" && x.Status == "True") == true;
            }, TimeSpan.FromSeconds(30), "CRD established");
            // discovery/storage may lag the condition a little
            var api = new KubeApiClient(client);
            await EventuallyAsync(async () =>
            {
                try { await api.ListAsync<Widget>(Widget.ResourceKind, "default"); return true; }
                catch (HttpOperationException) { return false; }
            }, TimeSpan.FromSeconds(30), "widgets served");
            _crdReady = true;
        }
        finally { CrdGate.Release(); }
    }

    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            if (await condition()) return;
            if (sw.Elapsed > timeout) Assert.Fail($"timed out after {timeout} waiting for: {what}");
            await Task.Delay(100);
        }
    }

    public static Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, string what)
        => EventuallyAsync(() => Task.FromResult(condition()), timeout, what);

    public static async Task<TestCluster> ClusterAsync() => await TestCluster.GetAsync();
}
