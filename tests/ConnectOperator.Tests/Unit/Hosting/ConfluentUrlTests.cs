using ConnectOperator.Hosting;

namespace ConnectOperator.Tests.Unit.Hosting;

/// <summary>The operator talks to Confluent over TLS only, unless a test or demo says otherwise.</summary>
public class ConfluentUrlTests
{
    [TestCase("https://api.confluent.cloud", false, null)]
    [TestCase("https://api.confluent.cloud/", false, null)]
    [TestCase("http://127.0.0.1:5000", true, null)]
    [TestCase("http://api.confluent.cloud", false, "is not https")]
    [TestCase("HTTP://api.confluent.cloud", false, "is not https")]
    [TestCase("ftp://api.confluent.cloud", true, "is not an absolute https URL")]
    [TestCase("api.confluent.cloud", true, "is not an absolute https URL")]
    public void Only_https_unless_insecure_is_allowed(string url, bool allowInsecure, string? problem)
    {
        var p = OperatorOptions.ConfluentUrlProblem("Operator:ConfluentBaseUrl", url, allowInsecure);
        if (problem is null) Assert.That(p, Is.Null);
        else Assert.That(p, Does.Contain(problem));
    }

    [Test]
    public void The_operator_refuses_to_start_with_a_plain_http_Confluent_url()
    {
        var e = Assert.Throws<InvalidOperationException>(() => OperatorHost.Build(new[] { "--Operator:ConfluentBaseUrl=http://api.confluent.cloud" }));
        Assert.That(e!.Message, Does.StartWith("Operator:ConfluentBaseUrl http://api.confluent.cloud is not https").And.Contain("Operator:AllowInsecureConfluentUrl=true"));
        Assert.That(e.Source, Is.EqualTo(OperatorHost.ConfigurationErrorSource));

        e = Assert.Throws<InvalidOperationException>(() => OperatorHost.Build(new[] { "--Operator:Throughput:Enabled=true", "--Operator:Throughput:BaseUrl=http://metrics.example.com" }));
        Assert.That(e!.Message, Does.StartWith("Operator:Throughput:BaseUrl http://metrics.example.com is not https"));
    }
}
