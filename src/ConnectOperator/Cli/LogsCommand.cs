using System.CommandLine;

namespace ConnectOperator.Cli;

/// <summary><c>connect-operator logs ns/name</c>: a connector's status history and traces (observability issue).</summary>
public static class LogsCommand
{
    public static Command Create()
    {
        var command = new Command("logs", "Print a ManagedConnector's status history and recent traces.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("logs: not implemented yet");
            return 2;
        });
        return command;
    }
}
