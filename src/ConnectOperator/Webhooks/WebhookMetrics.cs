using System.Diagnostics.Metrics;

namespace ConnectOperator.Webhooks;

/// <summary>Admission instruments on Meter "ConnectOperator.Webhooks" (bridged to Prometheus as <c>connect_operator_*</c>).</summary>
public static class WebhookMetrics
{
    public const string MeterName = "ConnectOperator.Webhooks";

    public static readonly Meter Meter = new(MeterName);

    /// <summary>Admission decisions by kind (managedconnectors, departments, connectorquotas) and result (allowed, denied, error).</summary>
    public static readonly Counter<long> AdmissionTotal = Meter.CreateCounter<long>("admission_total", description: "Admission decisions by kind and result");

    public static readonly Histogram<double> AdmissionDuration = Meter.CreateHistogram<double>("admission_duration_seconds", "s", "Time to decide one admission request");
}
