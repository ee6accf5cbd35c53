using System.Collections.Concurrent;
using ConnectOperator.Runtime;
using ConnectOperator.Runtime.Caching;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Autorest;
using k8s.Models;
using static ConnectOperator.Tests.Integration.Runtime.RuntimeTestSupport;

namespace ConnectOperator.Tests.Integration.Runtime;

[TestFixture]
public class ControllerIntegrationTests
{
    private sealed class RecordingReconciler : IReconciler<V1ConfigMap>
    {
        public readonly ConcurrentQueue<string> Calls = new();
        public int Failures = 1;

        public Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken ct)
        {
            Calls.Enqueue(request.ToString());
            if (request.Name == "flaky" && Interlocked.Decrement(ref Failures) >= 0) throw new InvalidOperationException("transient");
            return Task.FromResult(ReconcileResult.Done);
        }
    }

    [Test]
    public async Task Controller_ReconcilesPrimaryEvents_MappedSecretEvents_AndRetriesErrors()
    {
        var cluster = await TestCluster.GetAsync();
        var ns = await cluster.CreateNamespaceAsync("ctrl");
        var api = new KubeApiClient(cluster.Client);
        try
        {
            var cms = new Informer<V1ConfigMap>(api, ResourceKind.ConfigMap, ns: ns);
            cms.Store.AddIndex("secret", c => c.Data?.TryGetValue("secretRef", out var s) == true ? [s] : []);
            var secrets = new Informer<V1Secret>(api, ResourceKind.Secret, ns: ns);
            var rec = new RecordingReconciler();
            var ctrl = new Controller<V1ConfigMap>("cm", cms, rec, new ControllerOptions { Workers = 2 });
            ctrl.Watch(secrets, s => cms.Store.ByIndex("secret", s.Metadata.Name).Select(ReconcileRequest.For));

            using var cts = new CancellationTokenSource();
            var runs = new[] { cms.RunAsync(cts.Token), secrets.RunAsync(cts.Token), ctrl.RunAsync(cts.Token) };
            await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
            {
                Metadata = new V1ObjectMeta { Name = "uses-secret" }, Data = new Dictionary<string, string> { ["secretRef"] = "creds" },
            }, ns);
            await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "flaky" } }, ns);
            await EventuallyAsync(() => rec.Calls.Contains($"{ns}/uses-secret"), TimeSpan.FromSeconds(20), "primary add reconciled");
            await EventuallyAsync(() => rec.Calls.Count(c => c == $"{ns}/flaky") >= 2, TimeSpan.FromSeconds(20), "error retried");

            var before = rec.Calls.Count(c => c == $"{ns}/uses-secret");
            await cluster.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
            {
                Metadata = new V1ObjectMeta { Name = "creds" }, StringData = new Dictionary<string, string> { ["k"] = "v" },
            }, ns);
            await EventuallyAsync(() => rec.Calls.Count(c => c == $"{ns}/uses-secret") > before, TimeSpan.FromSeconds(20), "secret change mapped to its configmap");
            Assert.That(ctrl.Queue.NumRequeues(new ReconcileRequest(ns, "flaky")), Is.Zero, "success after retry forgets the backoff");

            cts.Cancel();
            await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            try { await cluster.Client.CoreV1.DeleteNamespaceAsync(ns); } catch (HttpOperationException) { }
        }
    }
}
