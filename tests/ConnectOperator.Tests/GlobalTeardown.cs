using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests;

/// <summary>Stops the shared API server once every test in the assembly has run (NUnit scopes a SetUpFixture to its namespace).</summary>
[SetUpFixture]
public sealed class GlobalTeardown
{
    [OneTimeTearDown]
    public Task StopAsync() => TestCluster.StopSharedAsync();
}
