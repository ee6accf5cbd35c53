using System.Text;
using System.Text.Json.Nodes;
using ConnectOperator.Runtime.Rate;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnectOperator.Runtime;

public sealed class EventRecorderOptions
{
    public string Component { get; set; } = "connect-operator";
    public string ReportingInstance { get; set; } = Environment.MachineName;

    /// <summary>Same object + type + reason + message within this window → the existing Event's count is incremented.</summary>
    public TimeSpan DedupWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Spam filter per object and reason (client-go's EventSourceObjectSpamFilter, burst 25 and one token per 5 minutes, is per object).</summary>
    public int Burst { get; set; } = 25;
    public double Qps { get; set; } = 1.0 / 300;

    /// <summary>Messages are cut to this many UTF-8 bytes.</summary>
    public int MaxMessageBytes { get; set; } = 1024;

    /// <summary>Bound on remembered events/objects; the oldest are forgotten first.</summary>
    public int MaxCacheEntries { get; set; } = 4096;
}

/// <summary>
/// Records core/v1 Events for an object, with client-go's EventCorrelator behaviour in small: identical events within
/// <see cref="EventRecorderOptions.DedupWindow"/> patch <c>count</c>/<c>lastTimestamp</c> of the existing Event; a token
/// bucket per object and reason drops floods. Never throws (events are best effort); returns the Event written, or null if dropped/failed.
/// Callers must not put secret values into messages.
/// </summary>
public sealed class EventRecorder(KubeApiClient api, EventRecorderOptions? options = null, ILogger<EventRecorder>? logger = null, TimeProvider? time = null)
{
    public const string Normal = "Normal";
    public const string Warning = "Warning";

    private readonly EventRecorderOptions _opts = options ?? new EventRecorderOptions();
    private readonly ILogger _log = (ILogger?)logger ?? NullLogger.Instance;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly object _lock = new();
    private readonly Dictionary<string, Seen> _seen = new();
    private readonly Dictionary<string, BucketRateLimiter<string>> _buckets = new();
    // Identical events must not both create, so writes of one dedup key are serialised; a lock per stripe of keys rather
    // than one for the recorder, because with thousands of objects reconciling at once a single lock made every event
    // write wait for every other one.
    private readonly SemaphoreSlim[] _stripes = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    private sealed record Seen(string Namespace, string Name, int Count, DateTimeOffset LastSeen);

    public Task<Corev1Event?> NormalAsync(IKubernetesObject<V1ObjectMeta> obj, string reason, string message, CancellationToken ct = default)
        => RecordAsync(obj, Normal, reason, message, ct);

    public Task<Corev1Event?> WarningAsync(IKubernetesObject<V1ObjectMeta> obj, string reason, string message, CancellationToken ct = default)
        => RecordAsync(obj, Warning, reason, message, ct);

    public async Task<Corev1Event?> RecordAsync(IKubernetesObject<V1ObjectMeta> obj, string type, string reason, string message, CancellationToken ct = default)
    {
        message = Truncate(message, _opts.MaxMessageBytes);
        var md = obj.Metadata;
        var ns = string.IsNullOrEmpty(md.NamespaceProperty) ? "default" : md.NamespaceProperty;
        var objKey = $"{obj.ApiVersion}|{obj.Kind}|{md.NamespaceProperty}|{md.Name}|{md.Uid}";
        var key = $"{objKey}|{type}|{reason}|{message}";
        var now = _time.GetUtcNow();

        // One budget per object AND reason (client-go has one per object): a flood of one kind of event, such as a
        // Normal reason repeated every pass, must never use up the budget that a Warning with another reason needs.
        if (!Allow($"{objKey}|{type}|{reason}"))
        {
            RuntimeMetrics.EventsDropped.Add(1);
            _log.EventDropped(reason, obj.Kind, md.Name);
            return null;
        }

        var stripe = _stripes[(StringComparer.Ordinal.GetHashCode(key) & int.MaxValue) % _stripes.Length];
        await stripe.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Seen? seen;
            lock (_lock) _seen.TryGetValue(key, out seen);
            if (seen != null && now - seen.LastSeen < _opts.DedupWindow)
            {
                var count = seen.Count + 1;
                var patch = new JsonObject { ["count"] = count, ["lastTimestamp"] = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ") };
                try
                {
                    var patched = await api.PatchAsync<Corev1Event>(ResourceKind.Event, seen.Namespace, seen.Name, patch.ToJsonString(), PatchKind.Merge, ct: ct).ConfigureAwait(false);
                    Remember(key, seen with { Count = count, LastSeen = now });
                    return patched;
                }
                catch (HttpOperationException e) when (e.Response?.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                    // expired (event TTL) or deleted: fall through and create a new one
                }
            }
            var ev = new Corev1Event
            {
                Metadata = new V1ObjectMeta { Name = $"{md.Name}.{now.ToUnixTimeMilliseconds() * 1_000_000 + Random.Shared.Next(1_000_000):x}", NamespaceProperty = ns },
                InvolvedObject = new V1ObjectReference
                {
                    ApiVersion = obj.ApiVersion, Kind = obj.Kind, Name = md.Name, NamespaceProperty = md.NamespaceProperty,
                    Uid = md.Uid, ResourceVersion = md.ResourceVersion,
                },
                Type = type, Reason = reason, Message = message, Count = 1,
                FirstTimestamp = now.UtcDateTime, LastTimestamp = now.UtcDateTime,
                Source = new V1EventSource { Component = _opts.Component },
                ReportingComponent = _opts.Component, ReportingInstance = _opts.ReportingInstance,
            };
            var created = await api.CreateAsync(ResourceKind.Event, ns, ev, ct).ConfigureAwait(false);
            Remember(key, new Seen(ns, created.Metadata.Name, 1, now));
            return created;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.EventFailed(e, reason, obj.Kind, md.Name);
            return null;
        }
        finally { stripe.Release(); }
    }

    private bool Allow(string objKey)
    {
        lock (_lock)
        {
            if (!_buckets.TryGetValue(objKey, out var b))
            {
                if (_buckets.Count >= _opts.MaxCacheEntries) _buckets.Clear();
                _buckets[objKey] = b = new BucketRateLimiter<string>(_opts.Qps, _opts.Burst, _time);
            }
            return b.TryTake();
        }
    }

    private void Remember(string key, Seen s)
    {
        lock (_lock)
        {
            if (_seen.Count >= _opts.MaxCacheEntries && !_seen.ContainsKey(key))
            {
                var oldest = _seen.MinBy(kv => kv.Value.LastSeen).Key;
                _seen.Remove(oldest);
            }
            _seen[key] = s;
        }
    }

    /// <summary>Cuts <paramref name="s"/> to at most <paramref name="maxBytes"/> UTF-8 bytes without splitting a character.</summary>
    public static string Truncate(string s, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(s) <= maxBytes) return s;
        const string ellipsis = "...";
        var budget = maxBytes - ellipsis.Length;
        var sb = new StringBuilder();
        var used = 0;
        foreach (var r in s.EnumerateRunes())
        {
            var n = r.Utf8SequenceLength;
            if (used + n > budget) break;
            sb.Append(r.ToString());
            used += n;
        }
        return sb.Append(ellipsis).ToString();
    }
}
