using System.CommandLine;
using ConnectOperator.Hosting;

namespace ConnectOperator.Cli;

/// <summary><c>connect-operator run [--Operator:Key=value …]</c>: the operator itself.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var command = new Command("run", "Run the operator: reconcilers (on the leader), admission webhooks, metrics and health endpoints.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(async (parse, ct) =>
        {
            // Unmatched tokens are configuration overrides, e.g. --Operator:PollInterval=00:00:05.
            WebApplication app;
            try { app = OperatorHost.Build(parse.UnmatchedTokens.ToArray()); }
            catch (InvalidOperationException e) when (e.Source == OperatorHost.ConfigurationErrorSource)
            {
                await Console.Error.WriteLineAsync("connect-operator: " + e.Message);
                return 2;
            }
            await app.RunAsync(ct);
            return 0;
        });
        return command;
    }
}
