namespace ConnectOperator.Tests.Unit.Packaging;

/// <summary>The chart ships the reviewed CRDs from crds/ unchanged.</summary>
public class ChartCrdsTests
{
    [Test]
    public void ChartCrdsAreByteIdenticalToTopLevelCrds()
    {
        var top = Path.Combine(PackagingFiles.Root, "crds");
        var chart = Path.Combine(PackagingFiles.Chart, "crds");
        Assert.That(Directory.Exists(chart), Is.True, chart + " is missing");

        var topFiles = Directory.GetFiles(top).Select(Path.GetFileName).OrderBy(x => x, StringComparer.Ordinal).ToList();
        var chartFiles = Directory.GetFiles(chart).Select(Path.GetFileName).OrderBy(x => x, StringComparer.Ordinal).ToList();
        Assert.That(topFiles, Is.Not.Empty);
        Assert.That(chartFiles, Is.EqualTo(topFiles),
            "charts/connect-operator/crds/ must hold exactly the files of crds/ (cp crds/*.yaml charts/connect-operator/crds/)");

        foreach (var name in topFiles)
        {
            var a = File.ReadAllBytes(Path.Combine(top, name!));
            var b = File.ReadAllBytes(Path.Combine(chart, name!));
            Assert.That(b, Is.EqualTo(a), $"charts/connect-operator/crds/{name} differs from crds/{name}: copy it again");
        }
    }
}
