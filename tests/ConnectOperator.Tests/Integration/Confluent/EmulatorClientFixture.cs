using ConnectOperator.Confluent;

namespace ConnectOperator.Tests.Integration.Confluent;

/// <summary>
/// One in-process emulator per class, reset before each test, with a fresh client (no retries) and a
/// <see cref="ConfluentProbe"/> to read what the emulator holds.
/// </summary>
public abstract class EmulatorClientFixture
{
    protected static readonly ClusterRef Cluster = EmulatorHost.Cluster;
    protected EmulatorHost _emu = null!;
    protected ConnectClientFactory _factory = null!;
    protected IConnectClient _client = null!;
    protected ConfluentProbe _confluent = null!;

    [OneTimeSetUp]
    public async Task StartEmulator()
    {
        _emu = await EmulatorHost.StartAsync();
        _confluent = new ConfluentProbe(_emu);
    }

    [OneTimeTearDown]
    public async Task StopEmulator()
    {
        _confluent.Dispose();
        await _emu.DisposeAsync();
    }

    [SetUp]
    public void NewClient()
    {
        _emu.State.Reset();
        ConfigureEmulator();
        _factory = new ConnectClientFactory(_emu.FastOptions(o => o.MaxRetries = 0));
        _client = _factory.Create(EmulatorHost.KeyA, EmulatorHost.SecretA);
    }

    [TearDown]
    public void DisposeClient() => _factory.Dispose();

    /// <summary>Options a class wants on the freshly reset emulator.</summary>
    protected virtual void ConfigureEmulator() { }
}
