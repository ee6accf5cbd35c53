using System.Globalization;
using System.Text.RegularExpressions;
using Prometheus;

namespace ConnectOperator.Tests.Unit.Observability;

/// <summary>One sample of the Prometheus text exposition format.</summary>
public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(params (string Key, string Value)[] labels) => labels.All(l => Labels.TryGetValue(l.Key, out var v) && v == l.Value);
}

/// <summary>A parsed scrape: samples and the metric families declared by # TYPE lines.</summary>
public sealed class Scrape
{
    private static readonly Regex Line = new(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)", RegexOptions.Compiled);
    private static readonly Regex Label = new(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(?:[^""\\]|\\.)*)""", RegexOptions.Compiled);

    public List<Sample> Samples { get; } = new();
    public Dictionary<string, string> Types { get; } = new();
    public string Text { get; }

    public Scrape(string text)
    {
        Text = text;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Types[parts[2]] = parts[3];
                continue;
            }
            if (line.Length == 0 || line[0] == '#') continue;
            var m = Line.Match(line);
            if (!m.Success) throw new FormatException("bad exposition line: " + line);
            var labels = Label.Matches(m.Groups["labels"].Value).ToDictionary(x => x.Groups["k"].Value, x => Regex.Unescape(x.Groups["v"].Value));
            var value = m.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            Samples.Add(new Sample(m.Groups["name"].Value, labels, value));
        }
    }

    public IEnumerable<Sample> Of(string name, params (string Key, string Value)[] labels) => Samples.Where(s => s.Name == name && s.Has(labels));

    /// <summary>The single sample's value, or null if there is none; fails if the labels match several series.</summary>
    public double? Value(string name, params (string Key, string Value)[] labels)
    {
        var matches = Of(name, labels).ToList();
        if (matches.Count > 1) throw new AssertionException($"{name} {string.Join(",", labels)} matches {matches.Count} series");
        return matches.Count == 0 ? null : matches[0].Value;
    }

    /// <summary>Sum over all series matching the labels (0 when none).</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) => Of(name, labels).Sum(s => s.Value);

    /// <summary>What /metrics serves: the registry's exposition and the per-connector families.</summary>
    public static async Task<Scrape> OfAsync(ConnectOperator.Observability.OperatorMetrics metrics)
    {
        using var ms = new MemoryStream();
        await metrics.ExportAsync(ms);
        return new Scrape(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
    }

    /// <summary>The registry alone (without the per-connector families).</summary>
    public static async Task<Scrape> OfAsync(CollectorRegistry registry)
    {
        using var ms = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(ms);
        return new Scrape(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
    }

    public static async Task<Scrape> OfAsync(HttpClient http, string url) => new(await http.GetStringAsync(url));
}
