using System.Diagnostics;
using System.Globalization;
using System.Text;
using Newtonsoft.Json.Linq;

namespace ConnectOperator.Tests.Unit.Packaging;

/// <summary>
/// Runs the Argo CD health scripts (deploy/argocd/health/connect.ebs.io_*.lua) with a real Lua 5.1 interpreter
/// (Argo CD embeds gopher-lua, a Lua 5.1) against the fixtures of deploy/argocd/health/health_test.yaml, the way
/// Argo CD does: the object is the global <c>obj</c>, the script returns a table with status and message.
/// </summary>
public class ArgoCdHealthLuaTests
{
    private const string Lua = "/usr/bin/lua5.1";
    private static readonly string[] Kinds = { "ManagedConnector", "Department", "ConnectorQuota" };

    private static string HealthDir => Path.Combine(PackagingFiles.Deploy, "argocd", "health");

    internal static string ScriptFor(string kind) => Path.Combine(HealthDir, $"connect.ebs.io_{kind}.lua");

    public sealed record Fixture(string InputPath, string Status, string Message)
    {
        public override string ToString() => InputPath;
    }

    public static IEnumerable<Fixture> Fixtures()
    {
        var tests = PackagingFiles.YamlFileToJson(Path.Combine(HealthDir, "health_test.yaml"))["tests"]!;
        return tests.Select(t => new Fixture((string)t["inputPath"]!, (string)t["healthStatus"]!["status"]!, (string?)t["healthStatus"]!["message"] ?? ""));
    }

    [TestCaseSource(nameof(Fixtures))]
    public void HealthScriptGivesTheExpectedStatusAndMessage(Fixture fixture)
    {
        RequireLua();
        var obj = PackagingFiles.YamlFileToJson(Path.Combine(HealthDir, fixture.InputPath));
        Assert.That((string?)obj["apiVersion"], Is.EqualTo("connect.ebs.io/v1alpha1"), fixture.InputPath);
        var kind = (string)obj["kind"]!;
        Assert.That(Kinds, Does.Contain(kind), fixture.InputPath);

        var (status, message) = RunHealth(ScriptFor(kind), obj);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(fixture.Status), fixture.InputPath + " status");
            Assert.That(message, Is.EqualTo(fixture.Message), fixture.InputPath + " message");
        });
    }

    [Test]
    public void FixturesCoverEveryStatusAndEveryKind()
    {
        var fixtures = Fixtures().ToList();
        var files = Directory.GetFiles(Path.Combine(HealthDir, "testdata"), "*.yaml").Select(f => "testdata/" + Path.GetFileName(f));
        Assert.That(fixtures.Select(f => f.InputPath), Is.EquivalentTo(files), "every testdata file is in health_test.yaml exactly once");
        var mc = fixtures.Where(f => f.InputPath.Contains("managedconnector")).Select(f => f.Status).Distinct();
        Assert.That(mc, Is.EquivalentTo(new[] { "Healthy", "Progressing", "Degraded", "Suspended" }));
        foreach (var kind in Kinds)
        {
            Assert.That(File.Exists(ScriptFor(kind)), Is.True, ScriptFor(kind));
            Assert.That(fixtures.Count(f => f.InputPath.Contains(kind.ToLowerInvariant())), Is.GreaterThanOrEqualTo(2), kind);
        }
    }

    [Test]
    public void HarnessSeesTheScriptsDecision()
    {
        // Guards the harness itself: the same object flips from Healthy to Degraded when Stalled turns True.
        RequireLua();
        var obj = JObject.Parse("""
            { "apiVersion": "connect.ebs.io/v1alpha1", "kind": "Department", "metadata": { "name": "x", "generation": 1 },
              "status": { "observedGeneration": 1, "conditions": [
                { "type": "Ready", "status": "True", "reason": "Ok", "message": "fine \"quoted\" \\ back\nslash" } ] } }
            """);
        Assert.That(RunHealth(ScriptFor("Department"), obj), Is.EqualTo(("Healthy", "fine \"quoted\" \\ back\nslash")));
        ((JArray)obj["status"]!["conditions"]!).Add(JObject.Parse("""{ "type": "Stalled", "status": "True", "reason": "Broken", "message": "" }"""));
        Assert.That(RunHealth(ScriptFor("Department"), obj), Is.EqualTo(("Degraded", "Stalled: Broken")));
    }

    internal static void RequireLua()
    {
        if (!File.Exists(Lua)) Assert.Ignore("lua5.1 not installed: apt-get install lua5.1");
    }

    internal static (string Status, string Message) RunHealth(string script, JToken obj)
    {
        var harness = new StringBuilder();
        harness.Append("obj = ").Append(ToLua(obj)).Append('\n');
        harness.Append("local chunk = assert(loadfile([==[").Append(script).Append("]==]))\n");
        harness.Append("local ok, hs = pcall(chunk)\n");
        harness.Append("if not ok then io.stderr:write(tostring(hs)) os.exit(2) end\n");
        harness.Append("if type(hs) ~= 'table' then io.stderr:write('script returned ' .. type(hs)) os.exit(3) end\n");
        harness.Append("io.write(tostring(hs.status), '\\n', tostring(hs.message or ''))\n");

        var file = Path.Combine(Path.GetTempPath(), $"argocd-health-{Guid.NewGuid():N}.lua");
        File.WriteAllText(file, harness.ToString(), new UTF8Encoding(false));
        try
        {
            var psi = new ProcessStartInfo(Lua, file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(30_000)) { p.Kill(); Assert.Fail("lua5.1 timed out"); }
            Assert.That(p.ExitCode, Is.EqualTo(0), $"lua5.1 failed on {script}: {stderr.Result}");
            var output = stdout.Result;
            var nl = output.IndexOf('\n');
            Assert.That(nl, Is.GreaterThan(0), "unexpected harness output: " + output);
            return (output[..nl], output[(nl + 1)..]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>JSON → Lua table literal, as Argo CD converts the live object (null fields are absent).</summary>
    internal static string ToLua(JToken token) => token switch
    {
        JObject o => "{" + string.Join(", ", o.Properties().Where(p => p.Value.Type != JTokenType.Null)
            .Select(p => "[" + LuaString(p.Name) + "] = " + ToLua(p.Value))) + "}",
        JArray a => "{" + string.Join(", ", a.Where(x => x.Type != JTokenType.Null).Select(ToLua)) + "}",
        JValue { Type: JTokenType.String } v => LuaString((string)v!),
        JValue { Type: JTokenType.Date } v => LuaString(((DateTime)v!).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)),
        JValue { Type: JTokenType.Integer } v => ((long)v!).ToString(CultureInfo.InvariantCulture),
        JValue { Type: JTokenType.Float } v => ((double)v!).ToString("R", CultureInfo.InvariantCulture),
        JValue { Type: JTokenType.Boolean } v => (bool)v! ? "true" : "false",
        JValue { Type: JTokenType.Null } => "nil",
        _ => throw new NotSupportedException(token.Type.ToString()),
    };

    private static string LuaString(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            if (b == '"' || b == '\\') sb.Append('\\').Append((char)b);
            else if (b < 0x20 || b >= 0x7f) sb.Append('\\').Append(b.ToString(CultureInfo.InvariantCulture).PadLeft(3, '0'));
            else sb.Append((char)b);
        }
        return sb.Append('"').ToString();
    }
}

/// <summary>The argocd-cm patch and the argo-cd Helm values embed exactly the Lua source files.</summary>
public class ArgoCdHealthEmbeddingTests
{
    private static readonly string[] Kinds = { "ManagedConnector", "Department", "ConnectorQuota" };

    private static string Source(string kind)
        => File.ReadAllText(Path.Combine(PackagingFiles.Deploy, "argocd", "health", $"connect.ebs.io_{kind}.lua"));

    [TestCaseSource(nameof(Kinds))]
    public void ArgocdCmPatchEmbedsTheLuaSource(string kind)
    {
        var cm = PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Deploy, "argocd", "argocd-cm-health-patch.yaml"));
        Assert.That((string?)cm["kind"], Is.EqualTo("ConfigMap"));
        Assert.That((string?)cm["metadata"]!["name"], Is.EqualTo("argocd-cm"));
        var embedded = (string?)cm["data"]![$"resource.customizations.health.connect.ebs.io_{kind}"];
        Assert.That(embedded, Is.EqualTo(Source(kind)), "run deploy/argocd/health/generate.sh");
    }

    [TestCaseSource(nameof(Kinds))]
    public void ArgoCdHelmValuesEmbedTheLuaSource(string kind)
    {
        var values = PackagingFiles.YamlFileToJson(Path.Combine(PackagingFiles.Deploy, "argocd", "argo-cd-values-health.yaml"));
        var embedded = (string?)values["configs"]!["cm"]![$"resource.customizations.health.connect.ebs.io_{kind}"];
        Assert.That(embedded, Is.EqualTo(Source(kind)), "run deploy/argocd/health/generate.sh");
    }
}
