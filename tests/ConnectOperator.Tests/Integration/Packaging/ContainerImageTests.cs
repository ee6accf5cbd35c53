using System.Text.Json;
using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests.Integration.Packaging;

/// <summary>
/// Builds the operator image with the repository's Dockerfile and runs it (<see cref="OperatorImage"/> says how it is
/// built without a registry): non-root, no shell, both ports exposed. PodLikeContainerTests runs it as its pod would.
/// </summary>
[NonParallelizable]
public class ContainerImageTests
{
    private const string Image = OperatorImage.Tag;
    private const string ValidateImage = "connect-operator-validate:test";
    private static readonly string Root = TestCluster.RepoRoot;

    private static Task<(int Code, string Output)> Docker(params string[] args) => OperatorImage.DockerAsync(args);

    [OneTimeSetUp]
    public async Task BuildImageAsync()
    {
        // The operator image: the NativeAOT executable (shared with the tests that run it as its pod would).
        await OperatorImage.BuildAsync();

        // The validate image: the JIT build.
        var publish = Path.Combine(Root, ".artifacts", "publish");
        if (Directory.Exists(publish)) Directory.Delete(publish, true);
        var (code, output) = await TestCluster.RunAsync("dotnet", new[] { "publish", Path.Combine(Root, "src", "ConnectOperator"), "-c", "Release", "-o", publish, "-nologo", "-v", "q" }, timeout: TimeSpan.FromMinutes(10));
        Assert.That(code, Is.Zero, "dotnet publish: " + output);
        (code, output) = await Docker("build", "-q", "--target", "prebuilt-validate", "--build-arg", "RUNTIME_IMAGE=connect-operator-base-native:local",
            "--build-arg", "VALIDATE_RUNTIME_IMAGE=connect-operator-base:local", "-t", ValidateImage, Root);
        Assert.That(code, Is.Zero, "docker build (validate): " + output);
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
