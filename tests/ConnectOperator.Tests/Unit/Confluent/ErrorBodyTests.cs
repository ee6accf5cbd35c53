using ConnectOperator.Confluent;

namespace ConnectOperator.Tests.Unit.Confluent;

public class ErrorBodyTests
{
    [Test]
    public void Nested_shape() =>
        Assert.That(ConnectClient.ParseErrorBody("{\"error\":{\"code\":404,\"message\":\"account not found\"}}"),
            Is.EqualTo(((string?)"account not found", (int?)404, (string?)null)));

    [Test]
    public void Kafka_connect_shape() =>
        Assert.That(ConnectClient.ParseErrorBody("{\"error_code\":500,\"message\":\"Failed to find any class\"}"),
            Is.EqualTo(((string?)"Failed to find any class", (int?)500, (string?)null)));

    [Test]
    public void Flat_code_shape_and_body_request_id() =>
        Assert.That(ConnectClient.ParseErrorBody("{\"code\":400,\"message\":\"bad\",\"request_id\":\"r-1\"}"),
            Is.EqualTo(((string?)"bad", (int?)400, (string?)"r-1")));

    [Test]
    public void Errors_array_shape() =>
        Assert.That(ConnectClient.ParseErrorBody("{\"errors\":[{\"id\":\"abc\",\"status\":\"403\",\"detail\":\"Forbidden Access\"}]}"),
            Is.EqualTo(((string?)"Forbidden Access", (int?)403, (string?)"abc")));

    [Test]
    public void Non_json_and_empty()
    {
        Assert.That(ConnectClient.ParseErrorBody("<html>bad gateway</html>").Message, Is.EqualTo("<html>bad gateway</html>"));
        Assert.That(ConnectClient.ParseErrorBody(""), Is.EqualTo(((string?)null, (int?)null, (string?)null)));
    }

    [Test]
    public void Exception_flags_and_message()
    {
        var e = new ConfluentApiException(System.Net.HttpStatusCode.Conflict, "POST connectors", "exists", 409, "req-1");
        Assert.That(e.IsConflict && !e.IsNotFound, Is.True);
        Assert.That(e.Message, Does.Contain("POST connectors").And.Contain("409").And.Contain("exists").And.Contain("req-1"));
    }
}
