using System.Diagnostics.Metrics;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Runtime.Queues;
using k8s.Models;

namespace ConnectOperator.Tests.Unit.Runtime;

public class RuntimeMetricsTests
{
    private sealed class Ok : IReconciler<V1ConfigMap>
    {
        public Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct) => Task.FromResult(ReconcileResult.Done);
    }

    [Test]
    public async Task TheRuntimeMeter_DoesNotCountReconciles_ObservabilityDoes()
    {
        // connect_operator_reconcile_total (MeteredReconciler) is the one documented count; a second one here counted
        // every pass twice under another name.
        var seen = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) => { if (i.Meter.Name == RuntimeMetrics.MeterName) l.EnableMeasurementEvents(i); };
        listener.SetMeasurementEventCallback<long>((i, _, _, _) => { lock (seen) seen.Add(i.Name); });
        listener.Start();

        var c = new Controller<V1ConfigMap>("metrics-once", new Informer<V1ConfigMap>(new ScriptedListerWatcher()), new Ok());
        using var q = new WorkQueue<ReconcileRequest>("metrics-once");
        await c.ProcessAsync(q, new ReconcileRequest("ns", "a"), CancellationToken.None);
        lock (seen) Assert.That(seen.Where(n => n.Contains("reconcile", StringComparison.Ordinal)), Is.Empty);
    }
}
