using System.Net;
using System.Text.Json.Serialization.Metadata;
using ConnectOperator.Confluent;

namespace ConnectOperator.Tests.Integration.Confluent;

/// <summary>
/// What Confluent (here the emulator) answers on the public Connect v1 read routes the operator itself never calls, so
/// that tests look at the same answer a person with the API key would get. Plain HTTP on purpose: it shares no retry,
/// rate limit or breaker with the client under test, and a 404 is null.
/// </summary>
public sealed class ConfluentProbe(string baseUrl, string apiKey, string apiSecret) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
    private readonly System.Net.Http.Headers.AuthenticationHeaderValue _auth = new ConnectCredentials(apiKey, apiSecret).BasicAuthHeader();

    public ConfluentProbe(EmulatorHost emulator) : this(emulator.BaseUrl, EmulatorHost.KeyA, EmulatorHost.SecretA) { }

    /// <summary><c>GET …/connectors/{name}/config</c> (secrets masked, server keys added).</summary>
    public Task<Dictionary<string, string>?> GetConfigAsync(ClusterRef cluster, string name)
        => GetAsync(cluster, $"connectors/{Uri.EscapeDataString(name)}/config", ConnectJsonContext.Default.DictionaryStringString);

    /// <summary><c>GET …/connectors/{name}/status</c>.</summary>
    public Task<ConnectorStatus?> GetStatusAsync(ClusterRef cluster, string name)
        => GetAsync(cluster, $"connectors/{Uri.EscapeDataString(name)}/status", ConnectJsonContext.Default.ConnectorStatus);

    private async Task<T?> GetAsync<T>(ClusterRef cluster, string path, JsonTypeInfo<T> info) where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"connect/v1/environments/{Uri.EscapeDataString(cluster.EnvironmentId)}/clusters/{Uri.EscapeDataString(cluster.KafkaClusterId)}/{path}");
        request.Headers.Authorization = _auth;
        using var response = await _http.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"GET {path}: HTTP {(int)response.StatusCode}: {body}", null, response.StatusCode);
        return System.Text.Json.JsonSerializer.Deserialize(body, info);
    }

    public void Dispose() => _http.Dispose();
}

public static class ConnectorListExtensions
{
    /// <summary>The expanded list read the way the operator reads it (<see cref="IConnectClient.OpenConnectorListAsync"/>), gathered into a dictionary.</summary>
    public static async Task<IReadOnlyDictionary<string, ConnectorExpansion>> ReadConnectorListAsync(this IConnectClient client, ClusterRef cluster)
    {
        using var reader = await client.OpenConnectorListAsync(cluster);
        var list = new Dictionary<string, ConnectorExpansion>(StringComparer.Ordinal);
        while (await reader.ReadAsync()) list[reader.Name] = reader.ReadExpansion();
        return list;
    }
}
