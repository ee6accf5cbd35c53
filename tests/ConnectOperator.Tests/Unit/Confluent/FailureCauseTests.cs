using System.Text.Json;
using ConnectOperator.Confluent;

namespace ConnectOperator.Tests.Unit.Confluent;

/// <summary>The most specific cause from one recorded-shape status body (issue 14): empty strings are absent.</summary>
public class FailureCauseTests
{
    private static ConnectorStatus Parse(string json) => JsonSerializer.Deserialize(json, ConnectJsonContext.Default.ConnectorStatus)!;

    private const string Recorded = """{"name":"c","connector":{"state":"RUNNING","worker_id":"c","trace":""},"tasks":[{"id":0,"state":"RUNNING","worker_id":"c","msg":""}],"type":"source","errors_from_trace":[],"validation_errors":[],"override_message":""}""";

    [Test]
    public void The_recorded_healthy_body_has_no_cause() => Assert.That(FailureCause.Of(Parse(Recorded)), Is.Null);

    [Test]
    public void Connector_trace_first()
        => Assert.That(FailureCause.Of(Parse("""{"connector":{"state":"FAILED","trace":"boom"},"tasks":[{"id":0,"state":"FAILED","msg":"task boom"}],"errors_from_trace":["x"]}""")), Is.EqualTo("boom"));

    [Test]
    public void Then_the_first_failed_tasks_message_when_the_trace_is_empty()
        => Assert.That(FailureCause.Of(Parse("""{"connector":{"state":"DEGRADED","trace":""},"tasks":[{"id":2,"state":"USER_ACTIONABLE_ERROR","msg":"bad creds"},{"id":1,"state":"FAILED","msg":""},{"id":0,"state":"RUNNING","msg":"ignored"}]}""")),
            Is.EqualTo("task 2: bad creds"));

    [Test]
    public void Then_errors_from_trace_validation_errors_and_override_message()
    {
        Assert.That(FailureCause.Of(Parse("""{"connector":{"state":"FAILED","trace":""},"tasks":[],"errors_from_trace":[{"error":""},{"error":"topic missing"}]}""")), Is.EqualTo("topic missing"));
        Assert.That(FailureCause.Of(Parse("""{"connector":{"state":"FAILED","trace":""},"validation_errors":["a: required", {"field":"b","message":"bad"}]}""")),
            Is.EqualTo("config validation: a: required; b: bad"));
        Assert.That(FailureCause.Of(Parse("""{"connector":{"state":"FAILED","trace":""},"override_message":"Contact support"}""")), Is.EqualTo("Contact support"));
    }
}
