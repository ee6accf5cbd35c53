using System.Collections.Concurrent;
using System.Web;
using ConnectOperator.Tests.Unit.Packaging;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Integration.Rbac;

/// <summary>One API request as RBAC sees it: verb, group, resource, subresource, namespace, name; and the HTTP status.</summary>
public sealed record ApiRequest(string Verb, string Group, string Resource, string Subresource, string Namespace, string Name, int Status)
{
    public string FullResource => Subresource.Length == 0 ? Resource : Resource + "/" + Subresource;

    /// <summary>The request attributes of <paramref name="uri"/> the way the API server's request-info resolver derives them.</summary>
    public static ApiRequest Parse(HttpMethod method, Uri uri, int status)
    {
        var seg = uri.AbsolutePath.Trim('/').Split('/');
        string group;
        string[] rest;
        if (seg[0] == "api") (group, rest) = ("", seg[2..]);
        else (group, rest) = (seg[1], seg[3..]);
        var ns = "";
        if (rest.Length >= 3 && rest[0] == "namespaces") (ns, rest) = (rest[1], rest[2..]);
        var resource = rest.Length > 0 ? rest[0] : "";
        var name = rest.Length > 1 ? rest[1] : "";
        var sub = rest.Length > 2 ? rest[2] : "";
        var watch = HttpUtility.ParseQueryString(uri.Query)["watch"] == "true";
        var verb = method.Method switch
        {
            "GET" => name.Length > 0 ? "get" : watch ? "watch" : "list",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => name.Length > 0 ? "delete" : "deletecollection",
            var m => m.ToLowerInvariant(),
        };
        return new ApiRequest(verb, group, resource, sub, ns, name, status);
    }
}

/// <summary>Records every request of the operator's KubeApiClient (watches included), with the response status.</summary>
public sealed class ApiRequestRecorder : DelegatingHandler
{
    public ConcurrentQueue<ApiRequest> Requests { get; } = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            var resp = await base.SendAsync(request, cancellationToken);
            Requests.Enqueue(ApiRequest.Parse(request.Method, request.RequestUri!, (int)resp.StatusCode));
            return resp;
        }
        catch (Exception)
        {
            Requests.Enqueue(ApiRequest.Parse(request.Method, request.RequestUri!, 0));
            throw;
        }
    }
}

/// <summary>One grant, flattened: which role, group, resource, verb and (optional) resource name.</summary>
public sealed record Grant(string Role, string Group, string Resource, string Verb, string Name)
{
    public override string ToString() => $"{Role}: {Verb} {(Group.Length == 0 ? "" : Group + "/")}{Resource}{(Name.Length == 0 ? "" : " " + Name)}";

    /// <summary>upstream's rbac rule matching (RuleAllows): exact group/resource/verb, resourceNames only for named requests.</summary>
    public bool Covers(ApiRequest r)
        => (Group == r.Group || Group == "*") && (Resource == r.FullResource || Resource == "*") && (Verb == r.Verb || Verb == "*")
           && (Name.Length == 0 || Name == r.Name);

    public static List<Grant> Of(string role, YamlNode roleDoc)
        => ChartRenderTests.Flatten(ChartRenderTests.Rules(roleDoc)).Select(line =>
        {
            var p = line.Split('|');
            return new Grant(role, p[0], p[1], p[2], p[3]);
        }).ToList();
}
