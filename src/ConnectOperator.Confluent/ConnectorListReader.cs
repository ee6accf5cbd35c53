using System.Buffers;
using System.Net;
using System.Text.Json;

namespace ConnectOperator.Confluent;

/// <summary>
/// Reads the expanded connector list (<c>{"name": {…}, …}</c>) from the response stream one connector at a time.
/// Memory is bounded by the largest single connector, not by the list: at 10,000 connectors the list is megabytes, and
/// buffering it whole (HttpClient's content buffer, then a document's copy) put several large arrays on every poll and
/// kept more in the shared array pool. The caller reads <see cref="Name"/> and <see cref="Raw"/> after each
/// <see cref="ReadAsync"/>; both are valid until the next call.
/// </summary>
public sealed class ConnectorListReader : IDisposable
{
    private const int InitialBuffer = 16 * 1024;

    private readonly Stream _stream;
    private readonly IDisposable? _owner;
    private readonly TimeSpan _readTimeout;
    private readonly string _operation;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
    private int _start, _end, _rawStart, _rawLength;
    private bool _eof, _opened, _closed;
    private JsonReaderState _state;

    /// <param name="owner">Disposed with the reader (the HTTP response the stream belongs to).</param>
    /// <param name="readTimeout">Longest wait for more of the body: a server that stalls mid-list must not stall the poll.</param>
    public ConnectorListReader(Stream stream, IDisposable? owner = null, TimeSpan? readTimeout = null, string operation = "GET connectors")
    {
        _stream = stream;
        _owner = owner;
        _readTimeout = readTimeout ?? TimeSpan.FromSeconds(30);
        _operation = operation;
    }

    /// <summary>The current connector's name.</summary>
    public string Name { get; private set; } = "";

    /// <summary>The current connector's JSON, exactly as listed (a stable input for a fingerprint).</summary>
    public ReadOnlySpan<byte> Raw => _buffer.AsSpan(_rawStart, _rawLength);

    /// <summary>The current connector as a typed object.</summary>
    public ConnectorExpansion ReadExpansion() => ConnectClient.ReadExpansion(Raw);

    /// <summary>Moves to the next connector; false at the end of the list.</summary>
    public async ValueTask<bool> ReadAsync(CancellationToken ct = default)
    {
        while (true)
        {
            if (TryReadEntry()) return true;
            if (_closed) return false;
            if (_eof) throw Malformed("the list ends before its closing brace");
            await FillAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One connector from what is buffered, or false if more bytes are needed. Nothing is consumed unless a whole entry
    /// (name and value) is there, so a retry after <see cref="FillAsync"/> starts at the same property.
    /// </summary>
    private bool TryReadEntry()
    {
        try
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _eof, _state);
            if (!_opened)
            {
                if (!reader.Read()) return false;
                if (reader.TokenType != JsonTokenType.StartObject) throw Malformed("not an object of connectors");
                _opened = true;
                Consume(ref reader);
                reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _eof, _state);
            }
            if (!reader.Read()) return false;
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                _closed = true;
                Consume(ref reader);
                return false;
            }
            var name = reader.GetString()!;
            if (!reader.Read()) return false;
            var valueStart = (int)reader.TokenStartIndex;
            if (!reader.TrySkip()) return false;
            _rawStart = _start + valueStart;
            _rawLength = (int)reader.BytesConsumed - valueStart;
            Name = name;
            Consume(ref reader);
            return true;
        }
        catch (JsonException e)
        {
            if (_eof && _buffer.AsSpan(_start, _end - _start).Trim(" \t\r\n"u8).IsEmpty) throw Malformed("the list ends before its closing brace");
            throw Malformed($"line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}");
        }
    }

    private void Consume(ref Utf8JsonReader reader)
    {
        _start += (int)reader.BytesConsumed;
        _state = reader.CurrentState;
    }

    private async Task FillAsync(CancellationToken ct)
    {
        if (_start > 0)
        {
            // Keep the unread part (an entry that is not complete yet) and make room after it.
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _rawStart = _rawLength = 0;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            // One connector larger than the buffer: grow to fit it.
            var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_readTimeout);
        int n;
        try
        {
            n = await _stream.ReadAsync(_buffer.AsMemory(_end), timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ConfluentTransportException(_operation, TransportFailure.Timeout, new TimeoutException($"no data for {_readTimeout}"));
        }
        catch (IOException e)
        {
            throw new ConfluentTransportException(_operation, TransportFailure.Network, e);
        }
        if (n == 0) _eof = true;
        _end += n;
    }

    // Not the body (it may hold config): the position is enough to debug.
    private ConfluentApiException Malformed(string where)
        => new(HttpStatusCode.OK, _operation, $"unexpected response body ({where})", null, null);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        _stream.Dispose();
        _owner?.Dispose();
    }
}
