using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Polly;

namespace ConnectOperator.Confluent.Metrics;

/// <summary>Metrics API v2 client for one credential. Create through <see cref="MetricsClientFactory"/>.</summary>
public interface IMetricsClient
{
    string ApiKey { get; }

    /// <summary>
    /// SUM of <paramref name="metric"/> per connector id over the one-minute bucket starting at <paramref name="minuteStart"/>.
    /// Ids with no data point are absent from the result.
    /// </summary>
    Task<IReadOnlyDictionary<string, double>> QueryPerConnectorAsync(string metric, IReadOnlyCollection<string> connectorIds, DateTimeOffset minuteStart, CancellationToken ct = default);
}

public sealed class MetricsClient : IMetricsClient
{
    /// <summary>The route template, as a metrics label and in exception text.</summary>
    public const string Route = "v2/metrics/{dataset}/query";
    private const string Operation = "POST " + Route;
    private const int MaxErrorBodyChars = 64 * 1024;

    private readonly HttpClient _http;
    private readonly MetricsClientOptions _options;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly ILogger _logger;
    private readonly AuthenticationHeaderValue _auth;
    private readonly string _url;

    internal MetricsClient(HttpClient http, MetricsClientOptions options, ConnectCredentials credentials, ResiliencePipeline<HttpResponseMessage> pipeline, ILogger logger)
    {
        _http = http;
        _options = options;
        _pipeline = pipeline;
        _logger = logger;
        ApiKey = credentials.ApiKey;
        _auth = credentials.BasicAuthHeader();
        _url = options.BaseUrl.TrimEnd('/') + "/v2/metrics/cloud/query";
    }

    public string ApiKey { get; }

    public async Task<IReadOnlyDictionary<string, double>> QueryPerConnectorAsync(string metric, IReadOnlyCollection<string> connectorIds, DateTimeOffset minuteStart, CancellationToken ct = default)
    {
        var body = Encoding.UTF8.GetBytes(MetricsQuery.Build(metric, connectorIds, minuteStart).ToJsonString());
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(ConnectClient.RouteKey, Route);
        context.Properties.Set(ConnectClient.MethodKey, "POST");
        context.Properties.Set(ConnectClient.IdempotentKey, true);
        context.Properties.Set(ConnectClient.MaxRetryAfterKey, _options.MaxRetryAfter);
        HttpResponseMessage response;
        try
        {
            response = await _pipeline.ExecuteAsync(static async (ctx, s) =>
            {
                var (self, body) = s;
                using var request = new HttpRequestMessage(HttpMethod.Post, self._url);
                request.Headers.Authorization = self._auth;
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                request.Headers.UserAgent.ParseAdd(self._options.UserAgent);
                request.Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
                var sw = Stopwatch.StartNew();
                var status = "exception";
                try
                {
                    var r = await self._http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ctx.CancellationToken);
                    status = ((int)r.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    return r;
                }
                catch (OperationCanceledException) { status = "timeout"; throw; }
                catch (HttpRequestException) { status = "network"; throw; }
                finally
                {
                    KeyValuePair<string, object?>[] tags = [new("route", Route), new("method", "POST"), new("status_code", status)];
                    ConnectClientMetrics.Requests.Add(1, tags);
                    ConnectClientMetrics.Duration.Record(sw.Elapsed.TotalSeconds, tags);
                }
            }, context, (this, body));
        }
        catch (Exception e) when (PipelineExceptions.Classify(e) is { } failure && !ct.IsCancellationRequested)
        {
            _logger.MetricsTransportFailed(Operation, failure);
            throw new MetricsApiException(Operation, null, failure, null, null, inner: e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            var requestId = response.Headers.TryGetValues("X-Request-Id", out var v) ? v.FirstOrDefault() : null;
            if (response.IsSuccessStatusCode)
            {
                try { return MetricsQuery.Parse(text); }
                catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
                {
                    throw new MetricsApiException(Operation, response.StatusCode, null, "unexpected response body", requestId);
                }
            }
            if (text.Length > MaxErrorBodyChars) text = text[..MaxErrorBodyChars];
            var (message, _, bodyRequestId) = ConnectClient.ParseErrorBody(text);
            if (message is { Length: > 2000 }) message = message[..2000] + "…";
            var retryAfter = response.StatusCode == HttpStatusCode.TooManyRequests ? ConnectClientFactory.RetryAfterOf(response) : null;
            _logger.MetricsFailed(Operation, (int)response.StatusCode, message);
            throw new MetricsApiException(Operation, response.StatusCode, null, message, requestId ?? bodyRequestId, retryAfter);
        }
    }
}
