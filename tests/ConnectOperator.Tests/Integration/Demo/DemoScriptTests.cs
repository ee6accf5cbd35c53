using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests.Integration.Demo;

/// <summary>The README's main job, run exactly as a user runs it, so the quick start cannot rot.</summary>
[NonParallelizable]
public class DemoScriptTests
{
    [Test]
    public async Task Demo_runs_end_to_end_and_shows_what_the_README_promises()
    {
        var (code, output) = await TestCluster.RunAsync("bash", new[] { Path.Combine(TestCluster.RepoRoot, "hack", "demo.sh") }, timeout: TimeSpan.FromMinutes(15));
        AssertDemo(code, output);
    }

    /// <summary>The same demo with the NativeAOT executable the image ships: kubeconfig, informers, webhooks over TLS,
    /// status, events and restarts, all through code compiled ahead of time (no reflection left to fail at run time).</summary>
    [Test]
    public async Task Demo_runs_the_same_with_the_native_executable_the_image_ships()
    {
        var native = await NativeBuild.ExecutableAsync();
        var (code, output) = await TestCluster.RunAsync("bash", new[] { Path.Combine(TestCluster.RepoRoot, "hack", "demo.sh") },
            new Dictionary<string, string> { ["CONNECT_OPERATOR_BIN"] = native }, TimeSpan.FromMinutes(15));
        AssertDemo(code, output);
        Assert.That(output, Does.Contain($"the operator is {native}"));
    }

    private static void AssertDemo(int code, string output)
    {
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Contain("condition met"), "every sample ManagedConnector became Ready");
        foreach (var sample in new[] { "postgres-ledger-cdc", "s3-ledger-archive", "datagen-employees", "http-payroll-sink", "ledger-audit" })
            Assert.That(output, Does.Contain($"managedconnector.connect.ebs.io/{sample}"));
        Assert.That(output, Does.Match(@"\nclcc-[a-z0-9]+\n"), "the custom connector's id");
        Assert.That(output, Does.Contain("denied the request: spec.config[kafka.topic]: topic hr.salaries does not start with an allowed prefix of department finance"));
        Assert.That(output, Does.Contain("Failed      connector fin.finance.s3-ledger-archive is DEGRADED"));
        Assert.That(output, Does.Contain("auto-restart 1/"));
        Assert.That(output, Does.Contain("Stalled=True ConnectorFailed"));
        Assert.That(output, Does.Contain("Demo done"));
    }
}
