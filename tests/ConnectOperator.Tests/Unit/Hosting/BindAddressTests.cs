using System.Net.Sockets;
using ConnectOperator.Hosting;
using ConnectOperator.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace ConnectOperator.Tests.Unit.Hosting;

/// <summary>The default listening address answers on IPv4 and IPv6 (IPv6-only clusters reach the pod on its IPv6 address).</summary>
public sealed class BindAddressTests
{
    [Test]
    public async Task The_default_answers_on_IPv4_and_IPv6_loopback()
    {
        if (!Socket.OSSupportsIPv6) Assert.Ignore("no IPv6 on this machine");
        var port = TestCluster.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => new OperatorOptions().Listen(k, port));
        await using var app = builder.Build();
        app.MapGet("/", () => "ok");
        await app.StartAsync();
        using var http = new HttpClient();
        Assert.That(await http.GetStringAsync($"http://127.0.0.1:{port}/"), Is.EqualTo("ok"));
        Assert.That(await http.GetStringAsync($"http://[::1]:{port}/"), Is.EqualTo("ok"));
    }
}
