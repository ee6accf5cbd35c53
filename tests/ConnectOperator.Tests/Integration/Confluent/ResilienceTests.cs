using System.Diagnostics;
using System.Threading.RateLimiting;
using ConnectOperator.Confluent;
using ConnectOperator.Emulator;

namespace ConnectOperator.Tests.Integration.Confluent;

/// <summary>Retries, Retry-After, timeouts, circuit breaker and the shared rate limiter, driven by the emulator's fault injection.</summary>
[NonParallelizable]
public class ResilienceTests
{
    private EmulatorHost _emu = null!;
    private static readonly ClusterRef Cluster = EmulatorHost.Cluster;
    private const string ListRoute = "connectors";

    [OneTimeSetUp]
    public async Task Start() => _emu = await EmulatorHost.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _emu.DisposeAsync();

    [SetUp]
    public void Reset() => _emu.State.Reset();

    [Test]
    public async Task Idempotent_calls_are_retried_on_5xx_and_succeed()
    {
        using var factory = new ConnectClientFactory(_emu.FastOptions(o => o.MaxRetries = 3));
        var client = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        _emu.State.InjectErrors(new ErrorFault { Status = 503, Count = 2 });
        var names = await client.ListConnectorNamesAsync(Cluster);
        Assert.That(names, Is.Empty);
        Assert.That(_emu.State.CountCalls("GET", ListRoute, 503), Is.EqualTo(2));
        Assert.That(_emu.State.CountCalls("GET", ListRoute), Is.EqualTo(3));
    }

    [Test]
    public void Retries_are_bounded()
    {
        using var factory = new ConnectClientFactory(_emu.FastOptions(o => o.MaxRetries = 2));
        var client = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        _emu.State.InjectErrors(new ErrorFault { Status = 500, Count = 10 });
        var e = Assert.ThrowsAsync<ConfluentApiException>(() => client.ListConnectorNamesAsync(Cluster));
        Assert.That(e!.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.InternalServerError));
        Assert.That(_emu.State.CountCalls("GET", ListRoute), Is.EqualTo(3));
    }

    [Test]
    public void Post_create_is_not_retried_on_5xx()
    {
        using var factory = new ConnectClientFactory(_emu.FastOptions(o => o.MaxRetries = 3));
        var client = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        _emu.State.InjectErrors(new ErrorFault { Status = 500, Count = 1, Route = "connectors", Method = "POST" });
        Assert.ThrowsAsync<ConfluentApiException>(() => client.CreateConnectorAsync(Cluster, "c", EmulatorHost.DatagenConfig("c")));
        Assert.That(_emu.State.CountCalls("POST", "connectors"), Is.EqualTo(1));
    }

    [Test]
    public async Task Rate_limit_storm_is_survived_without_calling_before_retry_after()
    {
        using var factory = new ConnectClientFactory(_emu.FastOptions(o => o.MaxRetries = 4));
        var client = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        _emu.State.InjectRateLimit(new RateLimitFault { Count = 2, RetryAfterSeconds = 1 });
        var sw = Stopwatch.StartNew();
        await client.PutConfigAsync(Cluster, "c", EmulatorHost.DatagenConfig("c"));
        Assert.That(sw.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(2)));

        var calls = _emu.State.Calls;
        Assert.That(calls.Select(c => c.Status), Is.EqualTo(new[] { 429, 429, 200 }));
        for (var i = 1; i < calls.Count; i++)
        {
            var prev = calls[i - 1];
            if (prev.Status != 429) continue;
            var earliest = prev.RespondedAt!.Value + TimeSpan.FromSeconds(prev.RetryAfterSeconds!.Value);
            Assert.That(calls[i].ReceivedAt, Is.GreaterThanOrEqualTo(earliest), $"call {calls[i].Seq} came before Retry-After elapsed");
        }
    }

    [Test]
    public async Task Post_is_retried_on_429_because_the_request_was_not_processed()
    {
        using var factory = new ConnectClientFactory(_emu.FastOptions());
        var client = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        _emu.State.InjectRateLimit(new RateLimitFault { Count = 1, RetryAfterSeconds = 1 });
        await client.CreateConnectorAsync(Cluster, "c", EmulatorHost.DatagenConfig("c"));
        Assert.That(_emu.State.Calls.Select(c => c.Status), Is.EqualTo(new[] { 429, 201 }));
    }

    [Test]
    public void Retry_after_beyond_the_cap_is_surfaced_not_waited()
    {
        using var factory = new ConnectClientFactory(_emu.FastOptions(o => o.MaxRetryAfter = TimeSpan.FromSeconds(5)));
        var client = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        _emu.State.InjectRateLimit(new RateLimitFault { Count = 5, RetryAfterSeconds = 120 });
        var sw = Stopwatch.StartNew();
        var e = Assert.ThrowsAsync<ConfluentRateLimitException>(() => client.ListConnectorNamesAsync(Cluster));
        Assert.That(e!.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(120)));
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(_emu.State.CountCalls(), Is.EqualTo(1));
    }

    [Test]
    public async Task Per_attempt_timeout_then_retry_succeeds()
    {
        using var factory = new ConnectClientFactory(_emu.FastOptions(o => { o.AttemptTimeout = TimeSpan.FromMilliseconds(300); o.MaxRetries = 2; }));
        var client = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        _emu.State.SetLatency(new LatencyFault { Milliseconds = 2000, Count = 1 });
        var sw = Stopwatch.StartNew();
        Assert.That(await client.ListConnectorNamesAsync(Cluster), Is.Empty);
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromMilliseconds(1800)), "the slow attempt must have been cut by the attempt timeout");
        Assert.That(_emu.State.CountCalls("GET", ListRoute), Is.EqualTo(2));
    }

    [Test]
    public void Persistent_latency_surfaces_a_timeout()
    {
        using var factory = new ConnectClientFactory(_emu.FastOptions(o => { o.AttemptTimeout = TimeSpan.FromMilliseconds(200); o.MaxRetries = 1; }));
        var client = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        _emu.State.SetLatency(new LatencyFault { Milliseconds = 3000 });
        var e = Assert.ThrowsAsync<ConfluentTransportException>(() => client.GetOffsetsAsync(Cluster, "x"));
        Assert.That(e!.Failure, Is.EqualTo(TransportFailure.Timeout));
        Assert.That(_emu.State.CountCalls("GET"), Is.EqualTo(2));
    }

    [Test]
    public async Task Circuit_breaker_opens_and_stops_calling_the_api()
    {
        using var factory = new ConnectClientFactory(_emu.FastOptions(o =>
        {
            o.MaxRetries = 0;
            o.BreakerMinimumThroughput = 2;
            o.BreakerFailureRatio = 0.5;
            o.BreakerSamplingDuration = TimeSpan.FromSeconds(10);
            o.BreakerBreakDuration = TimeSpan.FromSeconds(30);
        }));
        var client = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        _emu.State.SetErrorRate(1.0, 500);
        var outcomes = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            try { await client.ListConnectorNamesAsync(Cluster); outcomes.Add("ok"); }
            catch (ConfluentApiException e) { outcomes.Add(((int)e.StatusCode).ToString()); }
            catch (ConfluentTransportException e) { outcomes.Add(e.Failure.ToString()); }
        }
        Assert.That(outcomes.Take(2), Is.EqualTo(new[] { "500", "500" }));
        Assert.That(outcomes.Skip(2), Is.All.EqualTo(nameof(TransportFailure.CircuitOpen)));
        Assert.That(_emu.State.CountCalls(), Is.EqualTo(2), "an open circuit sends nothing");

        // Another API key has its own circuit.
        _emu.State.SetErrorRate(0);
        Assert.That(await factory.Create(EmulatorHost.KeyB, EmulatorHost.SecretB).ListConnectorNamesAsync(Cluster), Is.Empty);
    }

    [Test]
    public async Task Rate_limiter_is_shared_per_api_key_and_isolated_between_keys()
    {
        using var factory = new ConnectClientFactory(_emu.FastOptions(o => { o.RateLimitPermitsPerSecond = 10; o.RateLimitBurst = 2; }));
        var a1 = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        var a2 = factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
        var b = factory.Create(EmulatorHost.KeyB, EmulatorHost.SecretB);
        Assert.That(factory.GetRateLimiter(EmulatorHost.KeyA), Is.Not.SameAs(factory.GetRateLimiter(EmulatorHost.KeyB)));

        long waits = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (i, l) => { if (i.Meter.Name == ConnectClientMetrics.MeterName && i.Name == ConnectClientMetrics.RateLimitWaitsName) l.EnableMeasurementEvents(i); };
        listener.SetMeasurementEventCallback<long>((_, v, _, _) => Interlocked.Add(ref waits, v));
        listener.Start();

        var swA = Stopwatch.StartNew();
        var storm = Enumerable.Range(0, 12).Select(i => (i % 2 == 0 ? a1 : a2).ListConnectorNamesAsync(Cluster)).ToList();
        await Task.Delay(50);
        await Task.WhenAll(b.ListConnectorNamesAsync(Cluster), b.ListConnectorNamesAsync(Cluster));
        // Key A's storm needs about a second of permits; key B got through while A was still queued.
        var stormStillQueued = storm.Any(t => !t.IsCompleted);
        await Task.WhenAll(storm);
        var aElapsed = swA.Elapsed;

        // 12 calls, burst 2, 10/s → ≥ ~1 s for key A, shared by both clients; key B is not queued behind them.
        Assert.That(aElapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(800)));
        Assert.That(stormStillQueued, Is.True, "key B must not queue behind key A");
        Assert.That(factory.GetRateLimiter(EmulatorHost.KeyA).GetStatistics()!.TotalSuccessfulLeases, Is.EqualTo(12));
        Assert.That(factory.GetRateLimiter(EmulatorHost.KeyB).GetStatistics()!.TotalSuccessfulLeases, Is.EqualTo(2));
        Assert.That(Interlocked.Read(ref waits), Is.GreaterThanOrEqualTo(8));
    }
}
