using System.Text;
using System.Text.Json;
using ConnectOperator.Entities;
using ConnectOperator.Runtime.Caching;

namespace ConnectOperator.Tests.Unit.Runtime;

/// <summary>A list page read one item at a time from a stream that trickles in, as the API server's may.</summary>
public class KubeListReaderTests
{
    /// <summary>Hands out at most <paramref name="chunk"/> bytes per read.</summary>
    private sealed class Trickle(byte[] bytes, int chunk) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], ct);
    }

    private static string Item(int i, int padding = 0) =>
        "{\"apiVersion\":\"connect.ebs.io/v1alpha1\",\"kind\":\"ManagedConnector\",\"metadata\":{\"name\":\"c" + i + "\",\"namespace\":\"payments\",\"resourceVersion\":\"" + (100 + i)
        + "\",\"annotations\":{\"pad\":\"" + new string('x', padding) + "\"}},\"spec\":{\"connectorClass\":\"DatagenSource\",\"config\":{\"kafka.topic\":\"fin.t" + i + "\",\"n\":" + i + "}}}";

    private static async Task<(List<V1Alpha1ManagedConnector> Items, string? Rv, string? Continue)> Read(string json, int chunk)
    {
        var items = new List<V1Alpha1ManagedConnector>();
        using var reader = new KubeListReader<V1Alpha1ManagedConnector>();
        await reader.ReadAsync(new Trickle(Encoding.UTF8.GetBytes(json), chunk), items, CancellationToken.None);
        return (items, reader.ResourceVersion, reader.Continue);
    }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(4096)]
    public async Task Items_metadata_and_continue_are_read_whatever_the_chunks(int chunk)
    {
        var json = $$$"""{"kind":"ManagedConnectorList","apiVersion":"connect.ebs.io/v1alpha1","metadata":{"resourceVersion":"4242","continue":"tok=="},"items":[{{{Item(1)}}},{{{Item(2, 200_000)}}},{{{Item(3)}}}]}""";
        var (items, rv, cont) = await Read(json, chunk);
        Assert.That(items.Select(i => i.Metadata.Name), Is.EqualTo(new[] { "c1", "c2", "c3" }));
        Assert.That(items[1].Metadata.Annotations!["pad"], Has.Length.EqualTo(200_000), "an object larger than the buffer grows it");
        Assert.That(items[2].Spec.Config["n"], Is.EqualTo("3"), "values are read by the same serializer as everywhere else");
        Assert.That((rv, cont), Is.EqualTo(("4242", "tok==")));
    }

    [Test]
    public async Task Metadata_after_items_an_empty_continue_and_an_empty_list_are_read_too()
    {
        Assert.That(await Read($$$"""{"items":[{{{Item(1)}}}],"metadata":{"continue":"","resourceVersion":"7"}}""", 5) is var a
            && a.Items.Count == 1 && a.Rv == "7" && a.Continue is null);
        var (items, rv, _) = await Read("""{"kind":"ManagedConnectorList","metadata":{"resourceVersion":"9"},"items":[]}""", 3);
        Assert.That(items, Is.Empty);
        Assert.That(rv, Is.EqualTo("9"));
    }

    [TestCase("""{"metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":"a"}}""")]
    [TestCase("""[]""")]
    public void A_truncated_or_wrong_body_is_an_error_not_a_short_list(string json)
        => Assert.That(async () => await Read(json, 4), Throws.InstanceOf<JsonException>());
}
