using Microsoft.Extensions.Logging;

namespace ConnectOperator.Emulator;

/// <summary>The standalone emulator's log lines as source-generated <see cref="LoggerMessageAttribute"/> methods (CA1848). A list argument is written comma-separated.</summary>
internal static partial class EmulatorLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "No Emulator:Keys configured; accepting the default key 'emulator-key' / 'emulator-secret'")]
    public static partial void DefaultKey(this ILogger log);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connect v1 emulator listening on {Urls} (admin endpoints {Admin})")]
    public static partial void Listening(this ILogger log, IEnumerable<string> urls, string admin);
}
