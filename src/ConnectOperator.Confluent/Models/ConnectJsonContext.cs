using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnectOperator.Confluent;

/// <summary>
/// Serialization metadata for every body the Connect client sends or reads, generated at compile time: the operator is
/// published as a NativeAOT executable, where reflection-based System.Text.Json needs every type rooted by hand and a
/// type that slips through fails only at run time. Same options as before (web defaults: camelCase, case-insensitive
/// reads, numbers from strings). Anything not listed here fails the trim analysis at build time instead.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(ConnectorExpansion))]
[JsonSerializable(typeof(ConnectorInfo))]
[JsonSerializable(typeof(ConnectorStatus))]
[JsonSerializable(typeof(ConfigValidationResult))]
[JsonSerializable(typeof(ConnectorOffsets))]
[JsonSerializable(typeof(AlterOffsetsRequest))]
[JsonSerializable(typeof(AlterOffsetsRequestInfo))]
[JsonSerializable(typeof(AlterOffsetsStatus))]
[JsonSerializable(typeof(ConnectClient.CreateBody))]
[JsonSerializable(typeof(object))]
internal sealed partial class ConnectJsonContext : JsonSerializerContext;
