using System.Buffers;
using System.Globalization;
using System.Text;

namespace ConnectOperator.Observability;

/// <summary>
/// The per-connector metric families, rendered straight from a snapshot of the informer cache at scrape time
/// (kube-state-metrics style): nothing per connector is kept between scrapes. prometheus-net would keep a child
/// (label values plus their serialized bytes) per series, 8 to 11 per connector, which at 10,000 connectors is most of
/// the operator's memory budget. Names, help texts, labels and values are those the gauges had.
/// </summary>
public static class ConnectorFamilies
{
    public const string StateHelp = "1 for the connector's current Confluent state, 0 for the other states of the fixed set (PROVISIONING, RUNNING, PAUSED, DEGRADED, FAILED, UNKNOWN).";
    public const string FailedTasksHelp = "Tasks of the connector in a failed state.";
    public const string AutoRestartsHelp = "Automatic restarts since the connector was last healthy (status.autoRestart.count).";
    public const string SentHelp = "Records the connector sent in the last complete minute (Confluent Metrics API io.confluent.kafka.connect/sent_records; leader only).";
    public const string ReceivedHelp = "Records the connector received in the last complete minute (io.confluent.kafka.connect/received_records; leader only).";
    public const string DeadLetterQueueHelp = "Records the connector wrote to its dead-letter queue in the last complete minute (io.confluent.kafka.connect/dead_letter_queue_records; leader only).";

    /// <summary>The families this renderer writes (the registry must not have them: a family is exported once).</summary>
    public static IReadOnlyList<string> Names(bool withThroughput) => withThroughput
        ? [MetricNames.ConnectorState, MetricNames.ConnectorFailedTasks, MetricNames.ConnectorAutoRestarts,
           MetricNames.ConnectorSentRecords, MetricNames.ConnectorReceivedRecords, MetricNames.ConnectorDeadLetterQueueRecords]
        : [MetricNames.ConnectorState, MetricNames.ConnectorFailedTasks, MetricNames.ConnectorAutoRestarts];

    /// <summary>One connector of a scrape, with its throughput read once so all three throughput families agree.</summary>
    private readonly record struct Row(ConnectorSeries Series, ConnectorThroughput? Throughput);

    private sealed class RowOrder : IComparer<Row>
    {
        public static readonly RowOrder Instance = new();
        public int Compare(Row x, Row y)
        {
            var c = string.CompareOrdinal(x.Series.Department, y.Series.Department);
            if (c == 0) c = string.CompareOrdinal(x.Series.Namespace, y.Series.Namespace);
            return c != 0 ? c : string.CompareOrdinal(x.Series.Name, y.Series.Name);
        }
    }

    /// <summary>
    /// Writes the families (HELP and TYPE once each, even without series) to <paramref name="to"/> in the Prometheus
    /// text format 0.0.4, in chunks. Series are ordered by department, namespace and name; a connector that appears
    /// twice with the same labels is written once. Throughput families only when <paramref name="throughput"/> is set,
    /// with a series for connectors that have an id and a value.
    /// </summary>
    /// <param name="expectedCount">How many connectors there are, if known (sizes the pooled snapshot once).</param>
    public static async Task WriteAsync(Stream to, IEnumerable<ConnectorSeries> series, Func<string, ConnectorThroughput?>? throughput,
        int expectedCount = 0, CancellationToken ct = default)
    {
        var rows = ArrayPool<Row>.Shared.Rent(Math.Max(expectedCount, 16));
        var count = 0;
        try
        {
            foreach (var s in series)
            {
                if (count == rows.Length)
                {
                    var bigger = ArrayPool<Row>.Shared.Rent(rows.Length * 2);
                    Array.Copy(rows, bigger, count);
                    ArrayPool<Row>.Shared.Return(rows, clearArray: true);
                    rows = bigger;
                }
                var t = throughput is not null && s.ConnectorId is { Length: > 0 } id ? throughput(id) : null;
                rows[count++] = new Row(s, t);
            }
            Array.Sort(rows, 0, count, RowOrder.Instance);

            await using var w = new ExpositionWriter(to);
            await WriteFamilyAsync(w, MetricNames.ConnectorState, StateHelp, rows, count, null, includeState: true, ct);
            await WriteFamilyAsync(w, MetricNames.ConnectorFailedTasks, FailedTasksHelp, rows, count, r => r.Series.FailedTasks, includeState: false, ct);
            await WriteFamilyAsync(w, MetricNames.ConnectorAutoRestarts, AutoRestartsHelp, rows, count, r => r.Series.AutoRestarts, includeState: false, ct);
            if (throughput is not null)
            {
                await WriteFamilyAsync(w, MetricNames.ConnectorSentRecords, SentHelp, rows, count, r => r.Throughput?.Sent, includeState: false, ct);
                await WriteFamilyAsync(w, MetricNames.ConnectorReceivedRecords, ReceivedHelp, rows, count, r => r.Throughput?.Received, includeState: false, ct);
                await WriteFamilyAsync(w, MetricNames.ConnectorDeadLetterQueueRecords, DeadLetterQueueHelp, rows, count, r => r.Throughput?.DeadLetterQueue, includeState: false, ct);
            }
            await w.FlushAsync(ct);
        }
        finally
        {
            ArrayPool<Row>.Shared.Return(rows, clearArray: true);
        }
    }

    /// <param name="value">The series value of a row, or null for no series; unused for the one-hot state family.</param>
    private static async Task WriteFamilyAsync(ExpositionWriter w, string name, string help, Row[] rows, int count, Func<Row, double?>? value, bool includeState, CancellationToken ct)
    {
        w.Write("# HELP "); w.Write(name); w.Write(" "); w.Write(EscapeHelp(help)); w.Write("\n");
        w.Write("# TYPE "); w.Write(name); w.Write(" gauge\n");
        for (var i = 0; i < count; i++)
        {
            var r = rows[i];
            if (i > 0 && RowOrder.Instance.Compare(rows[i - 1], r) == 0) continue;   // same labels: one series
            if (includeState)
            {
                foreach (var state in MetricNames.ConnectorStates)
                {
                    WriteSeries(w, name, r.Series, state, state == r.Series.State ? 1 : 0);
                    if (w.ShouldFlush) await w.FlushAsync(ct);
                }
            }
            else if (value!(r) is { } v)
            {
                WriteSeries(w, name, r.Series, null, v);
                if (w.ShouldFlush) await w.FlushAsync(ct);
            }
        }
    }

    private static void WriteSeries(ExpositionWriter w, string name, ConnectorSeries s, string? state, double value)
    {
        w.Write(name);
        w.Write("{department=\""); w.Write(EscapeLabelValue(s.Department));
        w.Write("\",namespace=\""); w.Write(EscapeLabelValue(s.Namespace));
        w.Write("\",name=\""); w.Write(EscapeLabelValue(s.Name));
        if (state is not null) { w.Write("\",state=\""); w.Write(EscapeLabelValue(state)); }
        w.Write("\"} ");
        w.WriteValue(value);
        w.Write("\n");
    }

    /// <summary>A label value as the text format wants it: backslash, double quote and line feed escaped. Returns the same instance when there is nothing to escape.</summary>
    public static string EscapeLabelValue(string value)
    {
        if (value.AsSpan().IndexOfAny('\\', '"', '\n') < 0) return value;
        var sb = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append(@"\n"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>A HELP text as the text format wants it: backslash and line feed escaped (quotes stay).</summary>
    public static string EscapeHelp(string help)
        => help.AsSpan().IndexOfAny('\\', '\n') < 0 ? help : help.Replace(@"\", @"\\").Replace("\n", @"\n");

    /// <summary>A sample value: shortest round-trip invariant form, <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c>.</summary>
    public static string FormatValue(double value)
    {
        Span<char> buffer = stackalloc char[32];
        return new string(Format(value, buffer));
    }

    internal static ReadOnlySpan<char> Format(double value, Span<char> buffer)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "+Inf";
        if (double.IsNegativeInfinity(value)) return "-Inf";
        return value.TryFormat(buffer, out var written, default, CultureInfo.InvariantCulture) ? buffer[..written] : value.ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>UTF-8 text into a pooled buffer, handed to the stream in chunks of about <see cref="ChunkSize"/> bytes.</summary>
internal sealed class ExpositionWriter(Stream stream) : IAsyncDisposable
{
    public const int ChunkSize = 32 * 1024;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(ChunkSize * 2);
    private int _length;

    public bool ShouldFlush => _length >= ChunkSize;

    public void Write(ReadOnlySpan<char> text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_buffer.Length - _length < max)
        {
            // A line longer than the spare room (only with very long label values): grow rather than write synchronously.
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + max));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        _length += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_length));
    }

    public void WriteValue(double value)
    {
        Span<char> chars = stackalloc char[32];
        Write(ConnectorFamilies.Format(value, chars));
    }

    public async Task FlushAsync(CancellationToken ct)
    {
        if (_length == 0) return;
        await stream.WriteAsync(_buffer.AsMemory(0, _length), ct);
        _length = 0;
    }

    public ValueTask DisposeAsync()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        return ValueTask.CompletedTask;
    }
}
