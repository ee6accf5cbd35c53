using System.Text.Json;
using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests.Integration.Packaging;

/// <summary>
/// Builds the operator image with the repository's Dockerfile and runs it. No registry can be reached here, so the
/// runtime base is made locally (hack/image/make-base.sh) and the `prebuilt` target packs the app published on the
/// host; the image is otherwise the one users get: non-root, no shell, both ports exposed.
/// </summary>
[NonParallelizable]
public class ContainerImageTests
{
    private const string Image = "connect-operator:test";
    private static readonly string Root = TestCluster.RepoRoot;

    private static Task<(int Code, string Output)> Docker(params string[] args)
        => TestCluster.RunAsync("docker", args, new Dictionary<string, string> { ["DOCKER_BUILDKIT"] = "0" }, TimeSpan.FromMinutes(10));

    [OneTimeSetUp]
    public async Task BuildImageAsync()
    {
        await EnsureEngineAsync();
        var (code, output) = await TestCluster.RunAsync("bash", new[] { Path.Combine(Root, "hack", "image", "make-base.sh"), "connect-operator-base:local" }, timeout: TimeSpan.FromMinutes(5));
        Assert.That(code, Is.Zero, "make-base.sh: " + output);
        // Can this engine run a container at all (cgroups, namespaces, seccomp)? If not, that is the machine, not the image.
        (code, output) = await Docker("run", "--rm", "--entrypoint", "/usr/share/dotnet/dotnet", "connect-operator-base:local", "--list-runtimes");
        if (code != 0) Assert.Ignore("the Docker engine here cannot run containers, so the image cannot be tried: " + output.Trim());
        var publish = Path.Combine(Root, ".artifacts", "publish");
        if (Directory.Exists(publish)) Directory.Delete(publish, true);
        (code, output) = await TestCluster.RunAsync("dotnet", new[] { "publish", Path.Combine(Root, "src", "ConnectOperator"), "-c", "Release", "-o", publish, "-nologo", "-v", "q" }, timeout: TimeSpan.FromMinutes(10));
        Assert.That(code, Is.Zero, "dotnet publish: " + output);
        (code, output) = await Docker("build", "-q", "--target", "prebuilt", "--build-arg", "RUNTIME_IMAGE=connect-operator-base:local", "-t", Image, Root);
        Assert.That(code, Is.Zero, "docker build: " + output);
    }

    /// <summary>A Docker engine, starting Debian's dockerd when it is installed but not running (as CI does).</summary>
    private static async Task EnsureEngineAsync()
    {
        if ((await TestCluster.RunAsync("bash", new[] { "-c", "command -v docker" })).Code != 0)
            Assert.Ignore("no docker client on this machine: apt-get install docker.io to run the container image tests");
        if ((await Docker("info")).Code == 0) return;
        if ((await TestCluster.RunAsync("bash", new[] { "-c", "command -v dockerd" })).Code != 0 || Environment.UserName != "root")
            Assert.Ignore("no running Docker engine and no dockerd to start (needs root and Debian's docker.io)");
        await TestCluster.RunAsync("bash", new[] { "-c", "nohup dockerd >/tmp/connect-operator-dockerd.log 2>&1 &" });
        for (var i = 0; i < 60; i++)
        {
            if ((await Docker("info")).Code == 0) return;
            await Task.Delay(500);
        }
        Assert.Ignore("dockerd did not start (see /tmp/connect-operator-dockerd.log); container image tests need a working Docker engine");
    }

    [Test]
    public async Task Help_runs_in_the_image()
    {
        var (code, output) = await Docker("run", "--rm", Image, "--help");
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Contain("run").And.Contain("validate").And.Contain("logs"));
    }

    [Test]
    public async Task The_image_validates_a_department_repository_as_the_CI_jobs_do()
    {
        var samples = Path.Combine(Root, "samples");
        var (code, output) = await Docker("run", "--rm", "-v", $"{samples}:/work:ro", Image,
            "validate", "-f", "/work/finance", "--departments", "/work/platform", "--quotas", "/work/platform");
        Assert.That(code, Is.Zero, output);
        (code, output) = await Docker("run", "--rm", "-v", $"{samples}:/work:ro", Image,
            "validate", "-f", "/work/invalid/webhook/mc-too-many-tasks.yaml", "--departments", "/work/platform", "--quotas", "/work/platform");
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("exceeded quota hr: requested tasksPerConnector=3, limited tasksPerConnector=2"));
    }

    [Test]
    public async Task The_image_runs_as_non_root_without_a_shell_and_exposes_both_ports()
    {
        var (code, output) = await Docker("inspect", Image);
        Assert.That(code, Is.Zero, output);
        var config = JsonDocument.Parse(output).RootElement[0].GetProperty("Config");
        Assert.That(config.GetProperty("User").GetString(), Is.EqualTo("1654:1654"));
        Assert.That(config.GetProperty("ExposedPorts").EnumerateObject().Select(p => p.Name), Is.SupersetOf(new[] { "8080/tcp", "9443/tcp" }));
        Assert.That(config.GetProperty("Entrypoint")[0].GetString(), Is.EqualTo("/app/connect-operator"));
        (code, _) = await Docker("run", "--rm", "--entrypoint", "/bin/sh", Image, "-c", "true");
        Assert.That(code, Is.Not.Zero, "the image must not carry a shell");
        (code, output) = await Docker("run", "--rm", "--entrypoint", "/usr/share/dotnet/dotnet", Image, "--list-runtimes");
        Assert.That(output, Does.Contain("Microsoft.AspNetCore.App 10."), "the base carries the ASP.NET Core runtime");
    }
}
