using System.CommandLine;

namespace ConnectOperator.Cli;

/// <summary><c>connect-operator validate -f …</c>: offline checks for pull requests (implemented in the packaging issue).</summary>
public static class ValidateCommand
{
    public static Command Create()
    {
        var command = new Command("validate", "Validate ManagedConnector manifests offline against the CRD schemas, department policy and quotas.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("validate: not implemented yet");
            return 2;
        });
        return command;
    }
}
