using System.Text;
using System.Text.Json;
using ConnectOperator.Confluent;

namespace ConnectOperator.Tests.Unit.Confluent;

public class ConnectorListReaderTests
{
    /// <summary>Hands out at most <paramref name="chunk"/> bytes per read, so entries arrive split at every position.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
            => base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], ct);
    }

    private static string Entry(string name, int padding = 0) =>
        $$$"""{"id":{"id":"lcc-{{{name}}}","id_type":"ID"},"info":{"name":"{{{name}}}","config":{"kafka.topic":"t-{{{name}}}","pad":"{{{new string('x', padding)}}}"},"type":"source"},"status":{"name":"{{{name}}}","connector":{"state":"RUNNING"},"tasks":[{"id":0,"state":"RUNNING"}],"type":"source"}}""";

    private static async Task<List<(string Name, string Raw, ConnectorExpansion Read)>> ReadAll(string json, int chunk)
    {
        using var reader = new ConnectorListReader(new TrickleStream(Encoding.UTF8.GetBytes(json), chunk));
        var all = new List<(string, string, ConnectorExpansion)>();
        while (await reader.ReadAsync()) all.Add((reader.Name, Encoding.UTF8.GetString(reader.Raw), reader.ReadExpansion()));
        return all;
    }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(4096)]
    [TestCase(1 << 20)]
    public async Task Each_connector_comes_out_with_its_exact_JSON_however_the_body_is_split(int chunk)
    {
        var json = " {\n \"a\": " + Entry("a") + ",\"b\":" + Entry("b") + " , \"c\" : " + Entry("c") + "}\n";
        var all = await ReadAll(json, chunk);
        using var doc = JsonDocument.Parse(json);
        var expected = doc.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.GetRawText())).ToList();
        Assert.That(all.Select(e => (e.Name, e.Raw)), Is.EqualTo(expected), "the bytes a fingerprint is taken of");
        Assert.That(all.Select(e => e.Read.Info!.Config["kafka.topic"]), Is.EqualTo(new[] { "t-a", "t-b", "t-c" }));
        Assert.That(all[1].Read.Status!.Connector.State, Is.EqualTo("RUNNING"));
    }

    [Test]
    public async Task A_connector_larger_than_the_buffer_grows_it()
    {
        var json = "{\"small\":" + Entry("small") + ",\"big\":" + Entry("big", padding: 100_000) + ",\"after\":" + Entry("after") + "}";
        var all = await ReadAll(json, chunk: 3000);
        Assert.That(all.Select(e => e.Name), Is.EqualTo(new[] { "small", "big", "after" }));
        Assert.That(all[1].Read.Info!.Config["pad"], Has.Length.EqualTo(100_000));
    }

    [Test]
    public async Task An_empty_list_has_no_connectors()
    {
        Assert.That(await ReadAll("{}", 1), Is.Empty);
    }

    [TestCase("[]", "not an object of connectors")]
    [TestCase("{\"a\":" + "{\"id\":1", "line 1")]
    [TestCase("{\"a\":{}", "closing brace")]
    [TestCase("{\"a\":{\"id\":}}", "line")]
    public void A_malformed_list_is_an_API_error_that_names_no_content(string json, string expected)
    {
        var e = Assert.ThrowsAsync<ConfluentApiException>(() => ReadAll(json, 2));
        Assert.That(e!.Message, Does.Contain("unexpected response body").And.Contain(expected));
    }

    [Test]
    public void A_body_that_stops_arriving_times_out_instead_of_stalling_the_poll()
    {
        var reader = new ConnectorListReader(new StallingStream(), readTimeout: TimeSpan.FromMilliseconds(50));
        var e = Assert.ThrowsAsync<ConfluentTransportException>(async () => await reader.ReadAsync());
        Assert.That(e!.Failure, Is.EqualTo(TransportFailure.Timeout));
        reader.Dispose();
    }

    private sealed class StallingStream : MemoryStream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }
    }
}
