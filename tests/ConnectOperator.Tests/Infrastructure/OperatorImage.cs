namespace ConnectOperator.Tests.Infrastructure;

/// <summary>
/// The operator image, built once per test run with the repository's Dockerfile on this machine's Docker engine. No
/// registry can be reached here, so the runtime base is made locally (hack/image/make-base.sh) and the `prebuilt`
/// target packs the NativeAOT executable published on the host; the image is otherwise the one users get.
/// </summary>
public static class OperatorImage
{
    public const string Tag = "connect-operator:test";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static bool _built;
    private static string Root => TestCluster.RepoRoot;

    public static Task<(int Code, string Output)> DockerAsync(params string[] args)
        => TestCluster.RunAsync("docker", args, new Dictionary<string, string> { ["DOCKER_BUILDKIT"] = "0" }, TimeSpan.FromMinutes(10));

    /// <summary>A Docker engine that can run containers (started here when only dockerd is installed); otherwise the test is ignored, saying why.</summary>
    public static async Task EnsureEngineAsync()
    {
        if ((await TestCluster.RunAsync("bash", new[] { "-c", "command -v docker" })).Code != 0)
            Assert.Ignore("no docker client on this machine: apt-get install docker.io to run the container image tests");
        if ((await DockerAsync("info")).Code != 0)
        {
            if ((await TestCluster.RunAsync("bash", new[] { "-c", "command -v dockerd" })).Code != 0 || Environment.UserName != "root")
                Assert.Ignore("no running Docker engine and no dockerd to start (needs root and Debian's docker.io)");
            await TestCluster.RunAsync("bash", new[] { "-c", "nohup dockerd >/tmp/connect-operator-dockerd.log 2>&1 &" });
            var up = false;
            for (var i = 0; i < 60 && !up; i++)
            {
                up = (await DockerAsync("info")).Code == 0;
                if (!up) await Task.Delay(500);
            }
            if (!up) Assert.Ignore("dockerd did not start (see /tmp/connect-operator-dockerd.log); container image tests need a working Docker engine");
        }
        var (code, output) = await TestCluster.RunAsync("bash", new[] { Path.Combine(Root, "hack", "image", "make-base.sh"), "connect-operator-base:local" }, timeout: TimeSpan.FromMinutes(5));
        Assert.That(code, Is.Zero, "make-base.sh: " + output);
        (code, output) = await DockerAsync("run", "--rm", "--entrypoint", "/usr/share/dotnet/dotnet", "connect-operator-base:local", "--list-runtimes");
        if (code != 0) Assert.Ignore("the Docker engine here cannot run containers, so the image cannot be tried: " + output.Trim());
    }

    /// <summary>Builds <see cref="Tag"/> (once per run) and returns it; ignores the test where no engine can run containers.</summary>
    public static async Task<string> BuildAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_built) return Tag;
            await EnsureEngineAsync();
            var (code, output) = await TestCluster.RunAsync("bash", new[] { Path.Combine(Root, "hack", "image", "make-base.sh"), "--native", "connect-operator-base-native:local" }, timeout: TimeSpan.FromMinutes(5));
            Assert.That(code, Is.Zero, "make-base.sh --native: " + output);

            var native = Path.GetDirectoryName(await NativeBuild.ExecutableAsync())!;
            var packed = Path.Combine(Root, ".artifacts", "native");
            if (Path.GetFullPath(native).TrimEnd('/') != Path.GetFullPath(packed).TrimEnd('/'))
            {
                if (Directory.Exists(packed)) Directory.Delete(packed, true);
                Directory.CreateDirectory(packed);
                foreach (var f in Directory.GetFiles(native)) File.Copy(f, Path.Combine(packed, Path.GetFileName(f)));
            }
            (code, output) = await DockerAsync("build", "-q", "--target", "prebuilt", "--build-arg", "RUNTIME_IMAGE=connect-operator-base-native:local",
                "--build-arg", "VALIDATE_RUNTIME_IMAGE=connect-operator-base:local", "-t", Tag, Root);
            Assert.That(code, Is.Zero, "docker build (operator): " + output);
            _built = true;
            return Tag;
        }
        finally { Gate.Release(); }
    }
}
