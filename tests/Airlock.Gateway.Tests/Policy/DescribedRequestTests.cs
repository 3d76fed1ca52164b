using System.Text;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>A request described by a person (<c>airlock policy test</c>, the explain API) becomes
/// the facts the gateway would build for it, or is refused as the gateway would refuse it.</summary>
public class DescribedRequestTests
{
    private static readonly HashSet<string> Connections = ["billing", "crm"];

    private static Task<(RequestFacts? Facts, string? Error)> Build(string subject = "key:billing-agent", string method = "GET",
        string target = "/billing/v1/x", string[]? groups = null, (string, string)[]? headers = null, string? body = null,
        IReadOnlySet<string>? connections = null) =>
        DescribedRequest.BuildAsync(subject, groups ?? ["agents"], method, target,
            (headers ?? []).Select(h => new KeyValuePair<string, string>(h.Item1, h.Item2)),
            body is null ? null : Encoding.UTF8.GetBytes(body), connections ?? Connections, CancellationToken.None);

    [Fact]
    public async Task An_api_key_subject_is_a_key_caller()
    {
        var (facts, error) = await Build("key:billing-agent", groups: ["agents", "finance"]);

        Assert.Null(error);
        Assert.Equal("key:billing-agent", facts!.Identity.Subject);
        Assert.Equal(CallerIdentity.ApiKeyMethod, facts.Identity.AuthMethod);
        Assert.Equal("airlock", facts.Identity.Issuer);
        Assert.Equal("billing-agent", facts.Identity.KeyName);
        Assert.Equal(["agents", "finance"], facts.Identity.Groups.ToArray());
    }

    [Fact]
    public async Task An_issuer_subject_is_a_token_caller()
    {
        var (facts, error) = await Build("corp:alice");

        Assert.Null(error);
        Assert.Equal("corp:alice", facts!.Identity.Subject);
        Assert.Equal(CallerIdentity.OidcMethod, facts.Identity.AuthMethod);
        Assert.Equal("corp", facts.Identity.Issuer);
        Assert.Null(facts.Identity.KeyName);
    }

    [Theory]
    [InlineData("alice")]
    [InlineData(":alice")]
    [InlineData("corp:")]
    [InlineData("")]
    public async Task A_subject_without_an_issuer_and_a_name_is_refused(string subject)
    {
        var (facts, error) = await Build(subject);

        Assert.Null(facts);
        Assert.Equal("write the subject as key:<api key name> or <issuer name>:<sub>, e.g. key:billing-agent or corp:alice", error);
    }

    [Theory]
    [InlineData("get")]
    [InlineData("Get")]
    [InlineData("")]
    [InlineData("GET2")]
    [InlineData("M-SEARCH")]
    public async Task A_method_not_in_upper_case_letters_is_refused_as_the_gateway_refuses_it(string method)
    {
        var (facts, error) = await Build(method: method);

        Assert.Null(facts);
        Assert.Equal($"the method '{method}' must be written in upper case letters, as the gateway requires", error);
    }

    [Theory]
    [InlineData("/billing/../admin/x", "traversal")]
    [InlineData("/billing/a%2Fb", "encoded-separator")]
    [InlineData("/billing/%zz", "invalid-percent-encoding")]
    [InlineData("/billing/x#top", "fragment")]
    public async Task A_path_the_gateway_would_refuse_is_refused_with_its_reason(string target, string reason)
    {
        var (facts, error) = await Build(target: target);

        Assert.Null(facts);
        Assert.Equal($"the gateway would refuse the path '{target}' before policy ({reason})", error);
    }

    [Theory]
    [InlineData("/tickets/x", "tickets")]
    [InlineData("/", "")]
    [InlineData("/Billing/x", "Billing")]
    public async Task A_path_outside_the_configured_connections_is_refused(string target, string connection)
    {
        var (facts, error) = await Build(target: target);

        Assert.Null(facts);
        Assert.Equal($"'{connection}' is not a configured connection; the path starts with /<connection>/", error);
    }

    [Fact]
    public async Task Without_a_configuration_any_connection_is_accepted_but_never_none()
    {
        var (facts, _) = await DescribedRequest.BuildAsync("key:a", [], "GET", "/tickets/x", [], null, null, CancellationToken.None);
        Assert.Equal("tickets", facts!.Connection);
        var (none, error) = await DescribedRequest.BuildAsync("key:a", [], "GET", "/", [], null, null, CancellationToken.None);
        Assert.Null(none);
        Assert.Equal("'' is not a configured connection; the path starts with /<connection>/", error);
    }

    [Fact]
    public async Task The_path_and_query_are_the_normalised_ones_the_gateway_decides_on()
    {
        var (facts, error) = await Build(method: "POST", target: "/billing//v1/./%61dmin/?limit=%31&x=1");

        Assert.Null(error);
        Assert.Equal("billing", facts!.Connection);
        Assert.Equal("POST", facts.Method);
        Assert.Equal("/billing/v1/admin/", facts.Path);
        Assert.Equal("limit=%31&x=1", facts.RawQuery);
        Assert.Equal(["1"], facts.Query["limit"]);
    }

    [Fact]
    public async Task Headers_are_kept_with_every_value()
    {
        var (facts, _) = await Build(headers: [("X-Env", "staging"), ("x-env", "prod"), ("Accept", "application/json")]);

        Assert.Equal(new[] { "staging", "prod" }, (string[])facts!.Headers["X-Env"]!);
        Assert.Equal("application/json", facts.Headers.Accept.ToString());
    }

    [Fact]
    public async Task A_body_is_read_as_the_gateway_reads_it_and_no_body_is_an_empty_one()
    {
        var (json, _) = await Build(method: "POST", headers: [("Content-Type", "application/json")], body: "{\"amount\":250}");
        Assert.Equal(BodyKind.Json, json!.Body!.Kind);
        Assert.Equal(250, json.Body.Json!.RootElement.GetProperty("amount").GetInt32());

        var (form, _) = await Build(method: "POST", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "amount=250");
        Assert.Equal(BodyKind.Opaque, form!.Body!.Kind);

        var (multipart, _) = await Build(method: "POST", headers: [("Content-Type", "multipart/form-data; boundary=b")],
            body: "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n");
        Assert.NotNull(multipart!.Body!.Multipart);

        var (none, _) = await Build();
        Assert.Same(InspectedBody.Empty, none!.Body);
    }
}
