using System.Buffers;
using System.Text.Json;

namespace ConnectOperator.Runtime.Caching;

/// <summary>
/// Reads one page of a Kubernetes list response (<c>{"kind":…,"metadata":{…},"items":[…]}</c>) from the response stream
/// one item at a time, so memory is bounded by the largest object rather than by the page. A list served from the
/// watch cache (<c>resourceVersion=0</c>) ignores <c>limit</c>: at start-up with 10,000 ManagedConnectors that is one
/// page of tens of megabytes, which buffered whole (the response, then a document over it) doubled the operator's
/// peak memory after a restart.
/// </summary>
public sealed class KubeListReader<T> : IDisposable
{
    private const int InitialBuffer = 64 * 1024;

    private enum Where { Start, Root, Items, Done }

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
    private int _start, _end;
    private bool _eof;
    private JsonReaderState _state;
    private Where _where;

    /// <summary>The list's <c>metadata.resourceVersion</c>.</summary>
    public string? ResourceVersion { get; private set; }

    /// <summary>The list's <c>metadata.continue</c>: the token for the next page, if any.</summary>
    public string? Continue { get; private set; }

    /// <summary>Reads the whole page from <paramref name="stream"/>, adding each item to <paramref name="items"/> as it is complete.</summary>
    public async Task ReadAsync(Stream stream, ICollection<T> items, CancellationToken ct)
    {
        while (true)
        {
            while (TryStep(items))
                if (_where == Where.Done) return;
            if (_eof) throw new JsonException("the list response ends before its closing brace");
            await FillAsync(stream, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One step from what is buffered: the root's start, one property of the root, or one item. False if more bytes are
    /// needed; nothing is consumed then, so the retry after a fill starts at the same token.
    /// </summary>
    private bool TryStep(ICollection<T> items)
    {
        var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _eof, _state);
        var next = _where;
        switch (_where)
        {
            case Where.Start:
                if (!reader.Read()) return false;
                if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a list response is a JSON object");
                next = Where.Root;
                break;
            case Where.Root:
                if (!reader.Read()) return false;
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    next = Where.Done;
                    break;
                }
                var property = reader.GetString();
                if (!reader.Read()) return false;
                if (property == "items" && reader.TokenType == JsonTokenType.StartArray)
                {
                    next = Where.Items;
                    break;
                }
                var valueStart = (int)reader.TokenStartIndex;
                if (!reader.TrySkip()) return false;
                if (property == "metadata" && reader.TokenType == JsonTokenType.EndObject)
                    ReadListMeta(_buffer.AsSpan(_start + valueStart, (int)reader.BytesConsumed - valueStart));
                break;
            case Where.Items:
                if (!reader.Read()) return false;
                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    next = Where.Root;
                    break;
                }
                var itemStart = (int)reader.TokenStartIndex;
                if (!reader.TrySkip()) return false;
                items.Add(KubeJson.Deserialize<T>(_buffer.AsSpan(_start + itemStart, (int)reader.BytesConsumed - itemStart)));
                break;
            default:
                return false;
        }
        _where = next;
        _start += (int)reader.BytesConsumed;
        _state = reader.CurrentState;
        return true;
    }

    private void ReadListMeta(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            if (name == "resourceVersion" && reader.TokenType == JsonTokenType.String) ResourceVersion = reader.GetString();
            else if (name == "continue" && reader.TokenType == JsonTokenType.String) Continue = reader.GetString() is { Length: > 0 } c ? c : null;
            else reader.Skip();
        }
    }

    private async Task FillAsync(Stream stream, CancellationToken ct)
    {
        if (_start > 0)
        {
            // Keep the unread part (an item not complete yet) and make room after it.
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            // One object larger than the buffer: grow to fit it.
            var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        var n = await stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
        if (n == 0) _eof = true;
        _end += n;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
