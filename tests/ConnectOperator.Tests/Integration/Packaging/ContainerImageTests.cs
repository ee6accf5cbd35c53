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
    private const string ValidateImage = "connect-operator-validate:test";
    private static readonly string Root = TestCluster.RepoRoot;

    private static Task<(int Code, string Output)> Docker(params string[] args)
        => TestCluster.RunAsync("docker", args, new Dictionary<string, string> { ["DOCKER_BUILDKIT"] = "0" }, TimeSpan.FromMinutes(10));

    [OneTimeSetUp]
    public async Task BuildImageAsync()
    {
        await EnsureEngineAsync();
        var (code, output) = await TestCluster.RunAsync("bash", new[] { Path.Combine(Root, "hack", "image", "make-base.sh"), "connect-operator-base:local" }, timeout: TimeSpan.FromMinutes(5));
        Assert.That(code, Is.Zero, "make-base.sh: " + output);
        (code, output) = await Docker("run", "--rm", "--entrypoint", "/usr/share/dotnet/dotnet", "connect-operator-base:local", "--list-runtimes");
        if (code != 0) Assert.Ignore("the Docker engine here cannot run containers, so the image cannot be tried: " + output.Trim());
        (code, output) = await TestCluster.RunAsync("bash", new[] { Path.Combine(Root, "hack", "image", "make-base.sh"), "--native", "connect-operator-base-native:local" }, timeout: TimeSpan.FromMinutes(5));
        Assert.That(code, Is.Zero, "make-base.sh --native: " + output);

        // The operator image: the NativeAOT executable, from where the prebuilt target packs it.
        var native = Path.GetDirectoryName(await NativeBuild.ExecutableAsync())!;
        var packed = Path.Combine(Root, ".artifacts", "native");
        if (Path.GetFullPath(native).TrimEnd('/') != Path.GetFullPath(packed).TrimEnd('/'))
        {
            if (Directory.Exists(packed)) Directory.Delete(packed, true);
            Directory.CreateDirectory(packed);
            foreach (var f in Directory.GetFiles(native)) File.Copy(f, Path.Combine(packed, Path.GetFileName(f)));
        }
        (code, output) = await Docker("build", "-q", "--target", "prebuilt", "--build-arg", "RUNTIME_IMAGE=connect-operator-base-native:local",
            "--build-arg", "VALIDATE_RUNTIME_IMAGE=connect-operator-base:local", "-t", Image, Root);
        Assert.That(code, Is.Zero, "docker build (operator): " + output);

        // The validate image: the JIT build.
        var publish = Path.Combine(Root, ".artifacts", "publish");
        if (Directory.Exists(publish)) Directory.Delete(publish, true);
        (code, output) = await TestCluster.RunAsync("dotnet", new[] { "publish", Path.Combine(Root, "src", "ConnectOperator"), "-c", "Release", "-o", publish, "-nologo", "-v", "q" }, timeout: TimeSpan.FromMinutes(10));
        Assert.That(code, Is.Zero, "dotnet publish: " + output);
        (code, output) = await Docker("build", "-q", "--target", "prebuilt-validate", "--build-arg", "RUNTIME_IMAGE=connect-operator-base-native:local",
            "--build-arg", "VALIDATE_RUNTIME_IMAGE=connect-operator-base:local", "-t", ValidateImage, Root);
        Assert.That(code, Is.Zero, "docker build (validate): " + output);
    }

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
    public async Task Help_runs_in_both_images()
    {
        foreach (var image in new[] { Image, ValidateImage })
        {
            var (code, output) = await Docker("run", "--rm", "--entrypoint", "/app/connect-operator", image, "--help");
            Assert.That(code, Is.Zero, image + ": " + output);
            Assert.That(output, Does.Contain("run").And.Contain("validate").And.Contain("logs"), image);
        }
    }

    [Test]
    public async Task The_validate_image_validates_a_department_repository_as_the_CI_jobs_do()
    {
        var samples = Path.Combine(Root, "samples");
        var (code, output) = await Docker("run", "--rm", "-v", $"{samples}:/work:ro", ValidateImage,
            "validate", "-f", "/work/finance", "--departments", "/work/platform", "--quotas", "/work/platform");
        Assert.That(code, Is.Zero, output);
        (code, output) = await Docker("run", "--rm", "-v", $"{samples}:/work:ro", ValidateImage,
            "validate", "-f", "/work/invalid/webhook/mc-too-many-tasks.yaml", "--departments", "/work/platform", "--quotas", "/work/platform");
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("exceeded quota hr: requested tasksPerConnector=3, limited tasksPerConnector=2"));
    }

    [Test]
    public async Task The_operator_image_sends_validate_to_the_validate_image()
    {
        var samples = Path.Combine(Root, "samples");
        var (code, output) = await Docker("run", "--rm", "-v", $"{samples}:/work:ro", Image,
            "validate", "-f", "/work/finance", "--departments", "/work/platform", "--quotas", "/work/platform");
        Assert.That(code, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("connect-operator-validate"), "the message names the image to use instead");
    }

    [Test]
    public async Task The_operator_image_is_one_native_executable_run_as_non_root_without_a_shell_and_exposes_both_ports()
    {
        var (code, output) = await Docker("inspect", Image);
        Assert.That(code, Is.Zero, output);
        var config = JsonDocument.Parse(output).RootElement[0].GetProperty("Config");
        Assert.That(config.GetProperty("User").GetString(), Is.EqualTo("1654:1654"));
        Assert.That(config.GetProperty("ExposedPorts").EnumerateObject().Select(p => p.Name), Is.SupersetOf(new[] { "8080/tcp", "9443/tcp" }));
        Assert.That(config.GetProperty("Entrypoint")[0].GetString(), Is.EqualTo("/app/connect-operator"));
        (code, _) = await Docker("run", "--rm", "--entrypoint", "/bin/sh", Image, "-c", "true");
        Assert.That(code, Is.Not.Zero, "the image must not carry a shell");
        (code, _) = await Docker("run", "--rm", "--entrypoint", "/usr/share/dotnet/dotnet", Image, "--list-runtimes");
        Assert.That(code, Is.Not.Zero, "no .NET runtime in the operator image: the executable is compiled ahead of time");
        Assert.That(File.Exists(Path.Combine(Root, ".artifacts", "native", "connect-operator.dll")), Is.False);

        (code, output) = await Docker("inspect", ValidateImage);
        Assert.That(code, Is.Zero, output);
        Assert.That(JsonDocument.Parse(output).RootElement[0].GetProperty("Config").GetProperty("User").GetString(), Is.EqualTo("1654:1654"));
        (code, _) = await Docker("run", "--rm", "--entrypoint", "/bin/sh", ValidateImage, "-c", "true");
        Assert.That(code, Is.Not.Zero, "the validate image must not carry a shell either");
    }
}
