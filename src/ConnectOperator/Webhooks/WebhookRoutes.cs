using System.Diagnostics;
using System.Text.Json;
using ConnectOperator.Policy;

namespace ConnectOperator.Webhooks;

/// <summary>The HTTP side: AdmissionReview v1 in, AdmissionReview v1 out, one route per kind.</summary>
public static class WebhookRoutes
{
    public static readonly IReadOnlyList<string> Resources = new[] { AdmissionDecider.ManagedConnectors, AdmissionDecider.Departments, AdmissionDecider.ConnectorQuotas };

    public static string PathFor(string resource) => "/validate/" + resource;

    public static async Task HandleAsync(HttpContext http, string resource, AdmissionDecider decider, TenantDirectory tenants, ILogger log)
    {
        var started = Stopwatch.GetTimestamp();
        var result = "error";
        try
        {
            AdmissionReview? review;
            try { review = await JsonSerializer.DeserializeAsync(http.Request.Body, AdmissionJsonContext.Default.AdmissionReview, http.RequestAborted).ConfigureAwait(false); }
            catch (JsonException e)
            {
                http.Response.StatusCode = StatusCodes.Status400BadRequest;
                await http.Response.WriteAsync("malformed AdmissionReview: " + e.Message, http.RequestAborted).ConfigureAwait(false);
                return;
            }
            if (review?.Request is not { } request)
            {
                http.Response.StatusCode = StatusCodes.Status400BadRequest;
                await http.Response.WriteAsync("AdmissionReview without request", http.RequestAborted).ConfigureAwait(false);
                return;
            }

            AdmissionResponse response;
            if (!(tenants.Departments.HasSynced && tenants.Quotas.HasSynced && tenants.Connectors.HasSynced))
            {
                response = AdmissionResponse.Deny(503, "ServiceUnavailable", "the connect-operator webhook has not loaded its caches yet; retry in a few seconds");
                response.Uid = request.Uid;
            }
            else
            {
                response = decider.Decide(resource, request, http.Connection.RemoteIpAddress?.ToString() ?? "");
                result = response.Allowed ? "allowed" : "denied";
            }
            if (!response.Allowed)
                log.AdmissionDenied(request.Operation, resource, request.Namespace, request.Name, request.DryRun == true, response.Status?.Message);

            var answer = new AdmissionReview { ApiVersion = review.ApiVersion ?? "admission.k8s.io/v1", Kind = "AdmissionReview", Response = response };
            http.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(http.Response.Body, answer, AdmissionJsonContext.Default.AdmissionReview, http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            result = "error";
            log.AdmissionFailed(e, resource);
            if (!http.Response.HasStarted) http.Response.StatusCode = StatusCodes.Status500InternalServerError;
        }
        finally
        {
            WebhookMetrics.AdmissionTotal.Add(1, new KeyValuePair<string, object?>("kind", resource), new KeyValuePair<string, object?>("result", result));
            WebhookMetrics.AdmissionDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("kind", resource));
        }
    }
}
