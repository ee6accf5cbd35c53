using System.Globalization;
using ConnectOperator.Observability;

namespace ConnectOperator.Bench;

/// <summary>
/// The write requests the operator sent to the API server between two scrapes of its
/// <c>connect_operator_kube_api_requests_total</c> (every attempt, conflicts included), by what they wrote.
/// The leader lease's renewals are left out: they are the same with 0 or 10,000 connectors.
/// </summary>
public sealed record KubeApiWrites(double Metadata, double Status, double Events, double Other)
{
    private static readonly HashSet<string> WriteVerbs = new(StringComparer.Ordinal) { "create", "update", "patch", "delete" };

    /// <summary>Everything but the Events: ManagedConnector metadata (finalizer) and status writes and any other object's.</summary>
    public double WithoutEvents => Metadata + Status + Other;

    public KubeApiWrites Per(int n) => new(Metadata / n, Status / n, Events / n, Other / n);

    public static KubeApiWrites Between(string before, string after)
    {
        double metadata = 0, status = 0, events = 0, other = 0;
        foreach (var ((verb, resource, subresource), delta) in Deltas(before, after))
        {
            if (!WriteVerbs.Contains(verb) || resource == "leases") continue;
            if (resource == "events") events += delta;
            else if (resource == "managedconnectors" && subresource.Length == 0) metadata += delta;
            else if (resource == "managedconnectors" && subresource == "status") status += delta;
            else other += delta;
        }
        return new KubeApiWrites(metadata, status, events, other);
    }

    /// <summary>Each (verb, resource, subresource, code)'s increase, for the log: what a phase cost, request by request.</summary>
    public static string Describe(string before, string after)
    {
        var b = Samples(before);
        return string.Join(", ", Samples(after).Select(kv => (kv.Key, Delta: kv.Value - b.GetValueOrDefault(kv.Key)))
            .Where(x => x.Delta > 0).OrderBy(x => x.Key, StringComparer.Ordinal)
            .Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Key}: {x.Delta:F0}")));
    }

    private static IEnumerable<((string Verb, string Resource, string Subresource), double Delta)> Deltas(string before, string after)
    {
        var b = Samples(before);
        foreach (var (key, value) in Samples(after))
        {
            var parts = key.Split(' ');
            var sub = parts[1].Contains('/', StringComparison.Ordinal) ? parts[1][(parts[1].IndexOf('/', StringComparison.Ordinal) + 1)..] : "";
            var resource = parts[1].Split('/')[0];
            yield return ((parts[0], resource, sub), value - b.GetValueOrDefault(key));
        }
    }

    /// <summary>Samples keyed <c>"verb resource[/subresource] code"</c>.</summary>
    private static Dictionary<string, double> Samples(string metrics)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (labels, value) in OperatorProcess.Series(metrics, MetricNames.KubeApiRequests))
        {
            var sub = labels.GetValueOrDefault("subresource", "");
            var key = $"{labels.GetValueOrDefault("verb")} {labels.GetValueOrDefault("resource")}{(sub.Length > 0 ? "/" + sub : "")} {labels.GetValueOrDefault("code")}";
            d[key] = d.GetValueOrDefault(key) + value;
        }
        return d;
    }
}
