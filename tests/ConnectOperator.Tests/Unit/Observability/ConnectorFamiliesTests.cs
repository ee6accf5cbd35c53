using System.Text;
using System.Text.RegularExpressions;
using ConnectOperator.Entities;
using ConnectOperator.Observability;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Observability;

/// <summary>The per-connector families rendered at scrape time: escaping, one-hot state, HELP/TYPE, format, streaming.</summary>
public class ConnectorFamiliesTests
{
    private const string LabelValue = @"""(?:[^""\\\n]|\\[\\""n])*""";
    private const string LabelPair = @"[a-zA-Z_][a-zA-Z0-9_]*=" + LabelValue;

    /// <summary>A sample line of the text format 0.0.4 (no timestamps): <c>name{k="v",...} value</c>.</summary>
    private static readonly Regex SampleLine = new(
        @"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{" + LabelPair + "(," + LabelPair + @")*\})? (NaN|[+-]Inf|[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$", RegexOptions.Compiled);

    private static readonly Regex CommentLine = new(@"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$", RegexOptions.Compiled);

    private static async Task<string> RenderAsync(IEnumerable<ConnectorSeries> series, Func<string, ConnectorThroughput?>? throughput = null)
    {
        using var ms = new MemoryStream();
        await ConnectorFamilies.WriteAsync(ms, series, throughput);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static async Task<string> ExportAsync(OperatorMetrics m)
    {
        using var ms = new MemoryStream();
        await m.ExportAsync(ms);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static V1Alpha1ManagedConnector Connector(string ns, string name, string? state, string? department = "dept-a", string? id = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1Alpha1ManagedConnectorSpec { ConnectorClass = "DatagenSource" },
        Status = new V1Alpha1ManagedConnectorStatus { Department = department, ConnectorState = state, ConnectorId = id },
    };

    /// <summary>Every line of an exposition is a HELP/TYPE comment or a well-formed sample; the text ends with a newline.</summary>
    private static void AssertParses(string text)
    {
        Assert.That(text, Does.EndWith("\n"));
        var lines = text[..^1].Split('\n');
        foreach (var line in lines)
        {
            if (line.StartsWith('#')) Assert.That(line, Does.Match(CommentLine), "comment line");
            else Assert.That(SampleLine.IsMatch(line), Is.True, "not a text-format sample line: " + line);
        }
        Assert.DoesNotThrow(() => _ = new Scrape(text));
    }

    [Test]
    public void Escaper_escapes_backslash_double_quote_and_line_feed_and_nothing_else()
    {
        const string plain = "dept-a.team_1";
        Assert.That(ConnectorFamilies.EscapeLabelValue(plain), Is.SameAs(plain), "nothing to escape: no copy");
        Assert.That(ConnectorFamilies.EscapeLabelValue("a\"b"), Is.EqualTo(@"a\""b"));
        Assert.That(ConnectorFamilies.EscapeLabelValue(@"a\b"), Is.EqualTo(@"a\\b"));
        Assert.That(ConnectorFamilies.EscapeLabelValue("a\nb"), Is.EqualTo(@"a\nb"));
        Assert.That(ConnectorFamilies.EscapeLabelValue(@"a\nb"), Is.EqualTo(@"a\\nb"), "a literal backslash-n is not a line feed");
        Assert.That(ConnectorFamilies.EscapeLabelValue("\\\"\n"), Is.EqualTo(@"\\\""\n"));
        Assert.That(ConnectorFamilies.EscapeLabelValue("tab\tcr\rümlaut{}=,"), Is.EqualTo("tab\tcr\rümlaut{}=,"), "only the three characters are escaped");
        Assert.That(ConnectorFamilies.EscapeLabelValue(""), Is.EqualTo(""));
        Assert.That(ConnectorFamilies.EscapeHelp("a\\b\nc \"q\""), Is.EqualTo(@"a\\b\nc ""q"""), "HELP escapes backslash and line feed, not quotes");
    }

    [Test]
    public async Task Odd_label_values_are_escaped_in_the_output_and_parse_back_to_the_original()
    {
        const string department = "we\"ird\\dept\nnext";
        var text = await RenderAsync([new ConnectorSeries(department, "team-a", "orders", "RUNNING", 0, 0)]);
        Assert.That(text, Does.Contain(@"{department=""we\""ird\\dept\nnext"",namespace=""team-a"",name=""orders"",state=""RUNNING""} 1" + "\n"));
        AssertParses(text);
        var s = new Scrape(text);
        Assert.That(s.Value(MetricNames.ConnectorState, ("name", "orders"), ("state", "RUNNING")), Is.EqualTo(1));
        Assert.That(s.Of(MetricNames.ConnectorState, ("name", "orders")).Select(x => x.Labels["department"]).Distinct(), Is.EqualTo(new[] { department }));
    }

    [Test]
    public async Task State_is_one_hot_over_the_fixed_set_with_the_labels_in_the_gauges_order()
    {
        var text = await RenderAsync([new ConnectorSeries("dept-a", "team-a", "orders", "FAILED", 2, 3)]);
        const string l = @"department=""dept-a"",namespace=""team-a"",name=""orders""";
        var expected = string.Join("\n",
            "# HELP connect_operator_connector_state " + ConnectorFamilies.StateHelp,
            "# TYPE connect_operator_connector_state gauge",
            $$"""connect_operator_connector_state{{{l}},state="PROVISIONING"} 0""",
            $$"""connect_operator_connector_state{{{l}},state="RUNNING"} 0""",
            $$"""connect_operator_connector_state{{{l}},state="PAUSED"} 0""",
            $$"""connect_operator_connector_state{{{l}},state="DEGRADED"} 0""",
            $$"""connect_operator_connector_state{{{l}},state="FAILED"} 1""",
            $$"""connect_operator_connector_state{{{l}},state="UNKNOWN"} 0""",
            "# HELP connect_operator_connector_failed_tasks " + ConnectorFamilies.FailedTasksHelp,
            "# TYPE connect_operator_connector_failed_tasks gauge",
            $$"""connect_operator_connector_failed_tasks{{{l}}} 2""",
            "# HELP connect_operator_connector_auto_restarts " + ConnectorFamilies.AutoRestartsHelp,
            "# TYPE connect_operator_connector_auto_restarts gauge",
            $$"""connect_operator_connector_auto_restarts{{{l}}} 3""") + "\n";
        Assert.That(text, Is.EqualTo(expected));
    }

    [Test]
    public async Task Help_texts_are_the_ones_the_gauges_had()
    {
        var text = await RenderAsync([], _ => null);
        Assert.That(text, Does.Contain("# HELP connect_operator_connector_state 1 for the connector's current Confluent state, 0 for the other states of the fixed set (PROVISIONING, RUNNING, PAUSED, DEGRADED, FAILED, UNKNOWN).\n"));
        Assert.That(text, Does.Contain("# HELP connect_operator_connector_failed_tasks Tasks of the connector in a failed state.\n"));
        Assert.That(text, Does.Contain("# HELP connect_operator_connector_auto_restarts Automatic restarts since the connector was last healthy (status.autoRestart.count).\n"));
        Assert.That(text, Does.Contain("# HELP connect_operator_connector_sent_records Records the connector sent in the last complete minute (Confluent Metrics API io.confluent.kafka.connect/sent_records; leader only).\n"));
        Assert.That(text, Does.Contain("# HELP connect_operator_connector_received_records Records the connector received in the last complete minute (io.confluent.kafka.connect/received_records; leader only).\n"));
        Assert.That(text, Does.Contain("# HELP connect_operator_connector_dead_letter_queue_records Records the connector wrote to its dead-letter queue in the last complete minute (io.confluent.kafka.connect/dead_letter_queue_records; leader only).\n"));
        AssertParses(text);
    }

    [Test]
    public async Task A_deleted_connector_disappears_from_the_next_scrape_with_its_throughput()
    {
        var connectors = new List<V1Alpha1ManagedConnector> { Connector("team-a", "keep", "RUNNING", id: "lcc-keep"), Connector("team-a", "gone", "FAILED", id: "lcc-gone") };
        var values = new Dictionary<string, ConnectorThroughput> { ["lcc-keep"] = new(5, 6, 0, DateTimeOffset.UnixEpoch), ["lcc-gone"] = new(7, 8, 1, DateTimeOffset.UnixEpoch) };
        using var m = new OperatorMetrics(new MetricsSources { Connectors = () => connectors.ToList(), Throughput = id => values.GetValueOrDefault(id) }, withProcessMetrics: false);

        var before = await ExportAsync(m);
        Assert.That(Regex.Matches(before, @"name=""gone""").Count, Is.EqualTo(MetricNames.ConnectorStates.Count + 2 + 3), "6 state + failed + restarts + 3 throughput");

        connectors.RemoveAt(1);
        var after = await ExportAsync(m);
        Assert.That(after, Does.Not.Contain(@"name=""gone"""));
        var s = new Scrape(after);
        Assert.That(s.Value(MetricNames.ConnectorState, ("name", "keep"), ("state", "RUNNING")), Is.EqualTo(1));
        Assert.That(s.Value(MetricNames.ConnectorSentRecords, ("name", "keep")), Is.EqualTo(5));
        Assert.That(s.Types.Keys, Is.SupersetOf(ConnectorFamilies.Names(withThroughput: true)), "families stay declared");

        connectors.Clear();
        var empty = new Scrape(await ExportAsync(m));
        Assert.That(empty.Samples.Where(x => x.Name.StartsWith("connect_operator_connector_")), Is.Empty);
    }

    [TestCase(0)]
    [TestCase(3)]
    public async Task Every_family_has_HELP_and_TYPE_exactly_once_its_lines_together_and_the_whole_scrape_parses(int connectorCount)
    {
        var connectors = Enumerable.Range(0, connectorCount).Select(i => Connector("team-" + i % 2, "c" + i, i == 0 ? "RUNNING" : "PAUSED", department: i == 2 ? "odd \"dept\"\\x" : "dept-a", id: "lcc-" + i)).ToList();
        using var m = new OperatorMetrics(new MetricsSources
        {
            Connectors = () => connectors,
            Quotas = () => [new V1Alpha1ConnectorQuota
            {
                Metadata = new V1ObjectMeta { Name = "q1" },
                Spec = new V1Alpha1ConnectorQuotaSpec { DepartmentRef = new V1Alpha1DepartmentRef { Name = "dept-a" }, Hard = new V1Alpha1QuotaAmounts { Connectors = 5 } },
            }],
            Throughput = id => id == "lcc-1" ? new ConnectorThroughput(1.5, 1e6, 0, DateTimeOffset.UnixEpoch) : null,
        });   // with process metrics: the whole exposition as served
        var text = await ExportAsync(m);
        AssertParses(text);

        var lines = text[..^1].Split('\n');
        var helps = lines.Where(x => x.StartsWith("# HELP ")).Select(x => x.Split(' ')[2]).ToList();
        var types = lines.Where(x => x.StartsWith("# TYPE ")).Select(x => x.Split(' ')[2]).ToList();
        Assert.That(helps, Is.Unique, "HELP once per family");
        Assert.That(types, Is.Unique, "TYPE once per family");
        Assert.That(types, Is.EquivalentTo(helps));
        Assert.That(types, Is.SupersetOf(MetricNames.All), "every family, the optional throughput ones included (enabled here)");

        // Each sample belongs to the family of the last TYPE line (its name or name_bucket/_sum/_count), so no family
        // is split or continued after another one.
        string? family = null;
        var closed = new HashSet<string>();
        foreach (var line in lines)
        {
            if (line.StartsWith("# TYPE "))
            {
                if (family != null) closed.Add(family);
                family = line.Split(' ')[2];
                Assert.That(closed, Does.Not.Contain(family));
                continue;
            }
            if (line.StartsWith('#')) continue;
            var name = line[..line.IndexOfAny(['{', ' '])];
            Assert.That(family, Is.Not.Null, line);
            Assert.That(name == family || name == family + "_bucket" || name == family + "_sum" || name == family + "_count" || name == family + "_total"
                || (family!.EndsWith("_total") && name == family), Is.True, $"{line} after # TYPE {family}");
        }

        var s = new Scrape(text);
        Assert.That(s.Of(MetricNames.ConnectorState).Count(), Is.EqualTo(connectorCount * MetricNames.ConnectorStates.Count));
        Assert.That(s.Of(MetricNames.ConnectorState).Sum(x => x.Value), Is.EqualTo(connectorCount), "one 1 per connector");
        if (connectorCount > 0)
        {
            Assert.That(text, Does.Contain(@"connect_operator_connector_sent_records{department=""dept-a"",namespace=""team-1"",name=""c1""} 1.5" + "\n"));
            Assert.That(text, Does.Contain(@"connect_operator_connector_received_records{department=""dept-a"",namespace=""team-1"",name=""c1""} 1000000" + "\n"));
            Assert.That(s.Of(MetricNames.ConnectorSentRecords).Count(), Is.EqualTo(1), "only connectors with a value");
        }
    }

    [Test]
    public async Task The_registry_itself_has_none_of_the_connector_families()
    {
        using var m = new OperatorMetrics(new MetricsSources { Connectors = () => [Connector("team-a", "orders", "RUNNING", id: "lcc-1")], Throughput = _ => null }, withProcessMetrics: false);
        var registryOnly = await Scrape.OfAsync(m.Registry);
        Assert.That(registryOnly.Types.Keys, Has.None.AnyOf(ConnectorFamilies.Names(withThroughput: true).ToArray()));
        Assert.That(registryOnly.Types.Keys, Does.Contain(MetricNames.QuotaHard), "the rest stays in the registry");
    }

    [Test]
    public async Task Duplicates_are_written_once_and_series_are_ordered_by_department_namespace_and_name()
    {
        var a = new ConnectorSeries("dept-b", "ns", "a", "RUNNING", 0, 0);
        var b = new ConnectorSeries("dept-a", "ns", "z", "RUNNING", 0, 0);
        var c = new ConnectorSeries("dept-a", "ms", "z", "PAUSED", 0, 0);
        var s = new Scrape(await RenderAsync([a, b, a, c]));
        Assert.That(s.Of(MetricNames.ConnectorFailedTasks).Select(x => (x.Labels["department"], x.Labels["namespace"], x.Labels["name"])),
            Is.EqualTo(new[] { ("dept-a", "ms", "z"), ("dept-a", "ns", "z"), ("dept-b", "ns", "a") }));
        Assert.That(s.Of(MetricNames.ConnectorState).Count(), Is.EqualTo(3 * MetricNames.ConnectorStates.Count));
    }

    [Test]
    public void Values_are_formatted_invariantly_with_the_special_values_of_the_format()
    {
        Assert.That(ConnectorFamilies.FormatValue(0), Is.EqualTo("0"));
        Assert.That(ConnectorFamilies.FormatValue(3), Is.EqualTo("3"));
        Assert.That(ConnectorFamilies.FormatValue(0.1), Is.EqualTo("0.1"));
        Assert.That(ConnectorFamilies.FormatValue(-2.5), Is.EqualTo("-2.5"));
        Assert.That(ConnectorFamilies.FormatValue(123456789), Is.EqualTo("123456789"));
        Assert.That(ConnectorFamilies.FormatValue(double.NaN), Is.EqualTo("NaN"));
        Assert.That(ConnectorFamilies.FormatValue(double.PositiveInfinity), Is.EqualTo("+Inf"));
        Assert.That(ConnectorFamilies.FormatValue(double.NegativeInfinity), Is.EqualTo("-Inf"));
        Assert.That(double.Parse(ConnectorFamilies.FormatValue(1e300), System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(1e300));
    }

    /// <summary>Records each write the renderer makes; refuses synchronous writes, as Kestrel's response body does.</summary>
    private sealed class RecordingStream : Stream
    {
        private readonly MemoryStream _inner = new();
        public List<int> Writes { get; } = new();
        public byte[] ToArray() => _inner.ToArray();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _inner.Length;
        public override long Position { get => _inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("synchronous write");
        public override void Write(ReadOnlySpan<byte> buffer) => throw new InvalidOperationException("synchronous write");
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            Writes.Add(buffer.Length);
            _inner.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
    }

    [Test]
    public async Task A_large_scrape_is_streamed_in_bounded_chunks_with_asynchronous_writes_only()
    {
        const int n = 5000;
        var series = Enumerable.Range(0, n).Select(i => new ConnectorSeries("dept-" + i % 7, "team-" + i % 50, $"connector-{i:D5}", "RUNNING", i % 3, 0)).ToList();
        using var stream = new RecordingStream();
        await ConnectorFamilies.WriteAsync(stream, series, null, series.Count);
        var text = Encoding.UTF8.GetString(stream.ToArray());

        Assert.That(stream.Writes, Has.Count.GreaterThan(10), "written in chunks, not one string");
        Assert.That(stream.Writes.Max(), Is.LessThanOrEqualTo(ExpositionWriter.ChunkSize + 1024), "each chunk about ChunkSize");
        Assert.That(stream.Writes.Sum(), Is.EqualTo(stream.Length));
        var s = new Scrape(text);
        Assert.That(s.Of(MetricNames.ConnectorState).Count(), Is.EqualTo(n * MetricNames.ConnectorStates.Count));
        Assert.That(s.Of(MetricNames.ConnectorFailedTasks).Count(), Is.EqualTo(n));
        Assert.That(s.Value(MetricNames.ConnectorFailedTasks, ("name", "connector-04999")), Is.EqualTo(4999 % 3));
    }
}
