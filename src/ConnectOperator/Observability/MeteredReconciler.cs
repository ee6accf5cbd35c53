using System.Diagnostics;
using ConnectOperator.Runtime;
using k8s;
using k8s.Models;

namespace ConnectOperator.Observability;

/// <summary>Counts and times reconciles of one kind into a host's <see cref="OperatorMetrics"/>; behaviour is unchanged.</summary>
public sealed class MeteredReconciler<T>(string kind, IReconciler<T> inner, OperatorMetrics metrics) : IReconciler<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    public IReconciler<T> Inner => inner;

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        string result = "error";
        try
        {
            var r = await inner.ReconcileAsync(request, ct).ConfigureAwait(false);
            result = r.RequeueAfter is { } after && after > TimeSpan.Zero ? "requeue_after" : r.Requeue ? "requeue" : "success";
            return r;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            result = "cancelled";   // lost leadership or shutdown: not an error
            throw;
        }
        finally
        {
            if (result != "cancelled")
            {
                metrics.Reconciles.WithLabels(kind, result).Inc();
                if (result == "error") metrics.ReconcileErrors.WithLabels(kind).Inc();
                metrics.ReconcileDuration.WithLabels(kind).Observe(sw.Elapsed.TotalSeconds);
            }
        }
    }
}
