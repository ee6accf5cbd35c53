using System.Diagnostics.Metrics;
using ConnectOperator.Confluent;
using ConnectOperator.Runtime;
using Prometheus;

namespace ConnectOperator.Observability;

/// <summary>
/// Copies the Confluent client's, the Kubernetes API client's and the admission webhooks' System.Diagnostics.Metrics instruments into a host's
/// registry under <c>connect_operator_</c> names. An explicit bridge (not prometheus-net's MeterAdapter) so the names
/// and the label sets are exactly those documented: only whitelisted tags become labels, so a new tag on an
/// instrument can never raise cardinality unnoticed. These Meters are static, so in a process with several hosts
/// (tests) every host sees every host's measurements: tests compare deltas.
/// </summary>
public sealed class MeterBridge : IDisposable
{
    public const string WebhooksMeterName = "ConnectOperator.Webhooks";

    private delegate void Sink(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

    private readonly MeterListener _listener = new();
    private readonly Dictionary<(string Meter, string Instrument), Sink> _routes = new();
    private readonly Gauge _circuitOpen;
    private readonly TimeSpan _breakDuration;
    private long _lastCircuitOpenTicks;

    private static readonly string[] RouteLabel = ["route"], KindLabel = ["kind"];
    private static readonly double[] AdmissionBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10];

    public MeterBridge(MetricFactory f, TimeSpan breakDuration)
    {
        _breakDuration = breakDuration;
        var seconds = new[] { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };

        var requests = f.CreateCounter(MetricNames.ConfluentRequests, "Confluent Cloud Connect API HTTP attempts by route template, method and code (HTTP status, or timeout/network/circuit_open/exception).", "route", "method", "code");
        var duration = f.CreateHistogram(MetricNames.ConfluentDuration, "Confluent Cloud Connect API attempt latency by route template.",
            new HistogramConfiguration { LabelNames = RouteLabel, Buckets = seconds });
        var waits = f.CreateCounter(MetricNames.ConfluentRateLimitWaits, "Calls that waited for a permit of the client-side rate limiter, by route.", "route");
        var waitSeconds = f.CreateHistogram(MetricNames.ConfluentRateLimitWaitSeconds, "Time waited for a client-side rate limit permit.",
            new HistogramConfiguration { LabelNames = RouteLabel, Buckets = seconds });
        var retries = f.CreateCounter(MetricNames.ConfluentRetries, "Confluent Cloud API retries by route and reason (HTTP status or exception type).", "route", "reason");
        _circuitOpen = f.CreateGauge(MetricNames.ConfluentCircuitOpen,
            "1 if a Confluent API call was refused by an open circuit breaker within the last break duration, else 0 (any API key).");
        var kubeRequests = f.CreateCounter(MetricNames.KubeApiRequests,
            "Kubernetes API requests by verb (get, list, watch, create, update, patch, delete), resource, subresource and code (HTTP status, timeout, network, cancelled, exception).",
            "verb", "resource", "subresource", "code");
        var admissions = f.CreateCounter(MetricNames.AdmissionTotal, "Admission decisions by kind and result (allowed, denied, error).", "kind", "result");
        var admissionDuration = f.CreateHistogram(MetricNames.AdmissionDuration, "Admission webhook latency by kind.",
            new HistogramConfiguration { LabelNames = KindLabel, Buckets = AdmissionBuckets });

        const string C = ConnectClientMetrics.MeterName, W = WebhooksMeterName;
        _routes[(C, ConnectClientMetrics.RequestsName)] = (v, tags) =>
        {
            var code = Tag(tags, "status_code");
            requests.WithLabels(Tag(tags, "route"), Tag(tags, "method"), code).Inc(v);
            if (code == "circuit_open") Interlocked.Exchange(ref _lastCircuitOpenTicks, Environment.TickCount64);
        };
        _routes[(C, ConnectClientMetrics.DurationName)] = (v, tags) => duration.WithLabels(Tag(tags, "route")).Observe(v);
        _routes[(C, ConnectClientMetrics.RateLimitWaitsName)] = (v, tags) => waits.WithLabels(Tag(tags, "route")).Inc(v);
        _routes[(C, ConnectClientMetrics.RateLimitWaitDurationName)] = (v, tags) => waitSeconds.WithLabels(Tag(tags, "route")).Observe(v);
        _routes[(C, ConnectClientMetrics.RetriesName)] = (v, tags) => retries.WithLabels(Tag(tags, "route"), Tag(tags, "reason")).Inc(v);
        _routes[(RuntimeMetrics.MeterName, "kube_api_requests_total")] = (v, tags) =>
            kubeRequests.WithLabels(Tag(tags, "verb"), Tag(tags, "resource"), Tag(tags, "subresource"), Tag(tags, "code")).Inc(v);
        _routes[(W, "admission_total")] = (v, tags) => admissions.WithLabels(Tag(tags, "kind"), Tag(tags, "result")).Inc(v);
        _routes[(W, "admission_duration_seconds")] = (v, tags) => admissionDuration.WithLabels(Tag(tags, "kind")).Observe(v);

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_routes.TryGetValue((instrument.Meter.Name, instrument.Name), out var sink)) listener.EnableMeasurementEvents(instrument, sink);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, state) => Route(state, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, state) => Route(state, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, state) => Route(state, v, tags));
        _listener.Start();
    }

    private static void Route(object? state, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (state is Sink route) route(value, tags);
    }

    /// <summary>A whitelisted tag's value; missing → "unknown". Values are route templates and enums, never config.</summary>
    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var t in tags)
            if (t.Key == key) return Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "unknown";
        return "unknown";
    }

    internal void Refresh()
    {
        var last = Interlocked.Read(ref _lastCircuitOpenTicks);
        _circuitOpen.Set(last != 0 && Environment.TickCount64 - last <= _breakDuration.TotalMilliseconds ? 1 : 0);
    }

    public void Dispose() => _listener.Dispose();
}
