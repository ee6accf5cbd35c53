using System.Text.RegularExpressions;
using ConnectOperator.Confluent;
using ConnectOperator.Hosting;

namespace ConnectOperator.Cli.Logs;

/// <summary>
/// Last line of defence for <c>connect-operator logs</c> output: known secret values (those the CLI could read, see
/// <see cref="SecretValueRegistry"/>) are replaced, and so is the value of any <c>name=value</c> / <c>"name": "value"</c>
/// pair whose name looks sensitive (<see cref="ConfigRedactor.DefaultSensitivePatterns"/>), as Confluent log lines and
/// traces may echo connector config.
/// </summary>
public static class LogScrubber
{
    private static readonly Regex Pair = new(
        "(?<name>[A-Za-z0-9_.\\-]*(" + string.Join("|", ConfigRedactor.DefaultSensitivePatterns.Select(Regex.Escape)) + ")[A-Za-z0-9_.\\-]*)" +
        "(?<sep>\"?\\s*[=:]\\s*\"?)(?<value>[^\\s\"',;}\\]]+)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromSeconds(1));

    public static string Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        text = SecretValueRegistry.Scrub(text)!;
        return Pair.Replace(text, m => m.Groups["value"].Value == ConfigRedactor.RedactedValue || ConfigRedactor.IsMasked(m.Groups["value"].Value)
            ? m.Value
            : m.Groups["name"].Value + m.Groups["sep"].Value + ConfigRedactor.RedactedValue);
    }
}
