using System.CommandLine;
using ConnectOperator.Cli;

// connect-operator: the operator process (`run`, the default) and the tools departments and the platform team use
// around it (`validate` for pull requests, `logs` for a connector's history).
var root = new RootCommand("ConnectOperator: runs Confluent Cloud managed Kafka connectors from Kubernetes custom resources.");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ValidateCommand.Create());
root.Subcommands.Add(LogsCommand.Create());
if (args.Length == 0) args = new[] { "run" };
return await root.Parse(args).InvokeAsync();
