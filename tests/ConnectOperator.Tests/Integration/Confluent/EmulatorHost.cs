using System.Collections.Concurrent;
using ConnectOperator.Confluent;
using ConnectOperator.Emulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConnectOperator.Tests.Integration.Confluent;

/// <summary>An in-process emulator on a free loopback port, with the test keys.</summary>
public sealed class EmulatorHost : IAsyncDisposable
{
    public const string KeyA = "key-a", SecretA = "secret-a";
    public const string KeyB = "key-b", SecretB = "secret-b";
    public const string ScopedKey = "key-scoped", ScopedSecret = "secret-scoped";
    public static readonly ClusterRef Cluster = new("env-1", "lkc-1");
    public static readonly ClusterRef OtherCluster = new("env-2", "lkc-2");

    public WebApplication App { get; }
    public EmulatorState State { get; }
    public string BaseUrl { get; }

    private EmulatorHost(WebApplication app, string baseUrl)
    {
        App = app;
        State = app.Services.GetRequiredService<EmulatorState>();
        BaseUrl = baseUrl;
    }

    public static async Task<EmulatorHost> StartAsync(Action<EmulatorOptions>? configure = null)
    {
        var options = new EmulatorOptions
        {
            Urls = "http://127.0.0.1:0",
            EnableAdmin = true,
            Keys =
            {
                new EmulatorApiKey(KeyA, SecretA),
                new EmulatorApiKey(KeyB, SecretB),
                new EmulatorApiKey(ScopedKey, ScopedSecret, ["env-1"], ["lkc-1"]),
            },
        };
        configure?.Invoke(options);
        var app = EmulatorApp.Build(options);
        await app.StartAsync();
        return new EmulatorHost(app, app.Urls.First());
    }

    /// <summary>Fast options for tests: tiny delays, generous limits, breaker effectively off.</summary>
    public ConnectClientOptions FastOptions(Action<ConnectClientOptions>? configure = null)
    {
        var o = new ConnectClientOptions
        {
            BaseUrl = BaseUrl,
            AttemptTimeout = TimeSpan.FromSeconds(5),
            TotalTimeout = TimeSpan.FromSeconds(30),
            MaxRetries = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            RetryMaxDelay = TimeSpan.FromMilliseconds(100),
            RetryAfterMargin = TimeSpan.FromMilliseconds(50),
            RateLimitPermitsPerSecond = 1000,
            RateLimitBurst = 1000,
            BreakerMinimumThroughput = 1000,
        };
        configure?.Invoke(o);
        return o;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public static Dictionary<string, string> DatagenConfig(string name, string tasks = "1") => new()
    {
        ["name"] = name,
        ["connector.class"] = "DatagenSource",
        ["kafka.auth.mode"] = "KAFKA_API_KEY",
        ["kafka.api.key"] = "KAFKAKEY123",
        ["kafka.api.secret"] = "kafka-secret-value",
        ["kafka.topic"] = "orders",
        ["output.data.format"] = "JSON",
        ["quickstart"] = "ORDERS",
        ["tasks.max"] = tasks,
    };
}

/// <summary>Captures every log line (formatted message plus structured values).</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
    public void Dispose() { }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{logLevel} {category}: {formatter(state, exception)}";
            if (state is IEnumerable<KeyValuePair<string, object?>> kvs)
                line += " | " + string.Join("; ", kvs.Select(kv => $"{kv.Key}={Render(kv.Value)}"));
            if (exception != null) line += " | " + exception;
            owner.Lines.Enqueue(line);
        }

        private static string Render(object? v) => v switch
        {
            null => "null",
            string s => s,
            System.Collections.IEnumerable e => string.Join(",", e.Cast<object?>().Select(x => x?.ToString())),
            _ => v.ToString() ?? "",
        };
    }
}
