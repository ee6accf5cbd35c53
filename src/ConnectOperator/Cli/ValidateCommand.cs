using System.CommandLine;
using System.Runtime.CompilerServices;
using ConnectOperator.Cli.Validation;

namespace ConnectOperator.Cli;

/// <summary>
/// <c>connect-operator validate -f …</c>: offline checks for pull requests, with no cluster: CRD schema, CEL rules,
/// department policy and quota (see <see cref="ManifestValidator"/>).
/// </summary>
public static class ValidateCommand
{
    public const string Description =
        "Validate ManagedConnector (and Department, ConnectorQuota) manifests offline, without a cluster, against:\n" +
        "  1. the CRD schemas built into this binary (types, required fields, enums, patterns, limits; unknown fields are\n" +
        "     errors, as with kubectl's strict field validation; list-type map/set keys must be unique);\n" +
        "  2. the CRDs' CEL rules: metadata.name length, spec.secretConfig reserved keys. Not covered offline: transition\n" +
        "     rules (oldSelf), which need the live object (our CRDs have none today), and messageExpression (the static\n" +
        "     message is shown); and the spec.config rules the webhook enforces: numbers and booleans are fine, lists and\n" +
        "     maps are not; key format, reserved keys, keys also in secretConfig;\n" +
        "  3. department policy (connector classes, topic prefixes, allowed hosts) and ConnectorQuota, with the same code as\n" +
        "     the admission webhook, using the Departments/ConnectorQuotas from --departments/--quotas and any found among -f.\n" +
        "     The namespace comes from metadata.namespace (required). Quota counts the ManagedConnectors given with -f as the\n" +
        "     department's WHOLE set (the connect-config repository holds all its connectors under departments/<d>/); with no creation times offline,\n" +
        "     connectors beyond a limit are the last ones by namespace/name. Each file notes a check it could not run\n" +
        "     (no Department, or no ConnectorQuota for its department, was given).\n" +
        "Folders are searched recursively: -f samples/ also reads samples/invalid/, whose files are meant to fail.\n" +
        "Exit codes: 0 valid, 1 findings (including unreadable YAML), 2 usage error.";

    public static Command Create()
    {
        var files = new Option<string[]>("--filename", "-f")
        {
            Description = "Manifest files or folders (searched recursively for *.yaml, *.yml); multi-document YAML is read. Repeatable.",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        var departments = new Option<string?>("--departments")
        {
            Description = "File or folder with the Department manifests (policy) to check against.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var quotas = new Option<string?>("--quotas")
        {
            Description = "File or folder with the ConnectorQuota manifests to check against.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "text (default: one finding per line, file:line) or json ({valid, files, objects, findings[]}).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("validate", Description) { files, departments, quotas, output };
        // Usage errors are reported by the action with exit code 2 (the parser's own errors would exit 1, like findings).
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(pr =>
        {
            var stdout = pr.InvocationConfiguration.Output;
            var stderr = pr.InvocationConfiguration.Error;
            if (pr.UnmatchedTokens.Count > 0)
            {
                stderr.WriteLine($"validate: unknown argument(s): {string.Join(" ", pr.UnmatchedTokens)}");
                stderr.WriteLine("usage: connect-operator validate -f <files or folders> [--departments <file or folder>] [--quotas <file or folder>] [--output text|json]");
                return ManifestValidator.ExitUsage;
            }
            var options = new ValidateOptions(
                pr.GetValue(files) ?? Array.Empty<string>(),
                pr.GetValue(departments),
                pr.GetValue(quotas),
                pr.GetValue(output) ?? "text");
            if (!RuntimeFeature.IsDynamicCodeSupported)
            {
                // The operator image's NativeAOT executable: the CRD schema validator (NJsonSchema, over Newtonsoft.Json)
                // builds its model through reflection the native binary does not carry. Say where validate runs instead.
                stderr.WriteLine("validate: this is the operator's native executable, which cannot run the CRD schema validator (NJsonSchema needs "
                    + "reflection). Run validate from the validate image instead, e.g. docker run --rm -v \"$PWD:/work:ro\" "
                    + "ghcr.io/ebs/connect-operator-validate:<version> validate -f /work/... (deploy/ci), or with the JIT build: "
                    + "dotnet connect-operator.dll validate ...");
                return ManifestValidator.ExitUsage;
            }
            return ManifestValidator.Run(options, stdout, stderr);
        });
        return command;
    }
}
