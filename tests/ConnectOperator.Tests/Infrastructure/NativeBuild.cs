namespace ConnectOperator.Tests.Infrastructure;

/// <summary>
/// The NativeAOT executable of the operator, the build the container image ships (hack/publish-native.sh). hack/test.sh
/// publishes it before the tests and names it in <c>CONNECT_OPERATOR_NATIVE</c>, so no test waits minutes for the
/// compiler while others run; a test run without it (one test from an IDE) publishes it here, once.
/// </summary>
public static class NativeBuild
{
    public const string Variable = "CONNECT_OPERATOR_NATIVE";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _published;

    public static async Task<string> ExecutableAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
        {
            Assert.That(File.Exists(given), Is.True, $"{Variable}={given}: no such file (hack/publish-native.sh makes it)");
            return given;
        }
        await Gate.WaitAsync();
        try
        {
            if (_published != null) return _published;
            var dir = Path.Combine(TestCluster.RepoRoot, ".artifacts", "native");
            var (code, output) = await TestCluster.RunAsync("bash", new[] { Path.Combine(TestCluster.RepoRoot, "hack", "publish-native.sh"), dir },
                timeout: TimeSpan.FromMinutes(20));
            Assert.That(code, Is.Zero, "hack/publish-native.sh: " + output);
            return _published = Path.Combine(dir, "connect-operator");
        }
        finally { Gate.Release(); }
    }
}
