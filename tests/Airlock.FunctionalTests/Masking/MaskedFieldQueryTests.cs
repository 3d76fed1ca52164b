using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Microsoft.AspNetCore.Http;

namespace Airlock.FunctionalTests.Masking;

/// <summary>
/// Masking hides an SSN in every answer, yet an agent that may search can recover it one digit
/// at a time from whether the answer is empty (<c>?ssn_like=^1</c>, <c>^12</c>…). A connection
/// with <c>refuseQueriesOnMaskedFields</c> refuses requests that ask about a masked field.
/// The upstream here searches its customers the way json-server does.
/// </summary>
public sealed class MaskedFieldQueryTests : IAsyncLifetime
{
    private const string Ssn = "123-45-6789";
    private const string Card = "4111111111111111";

    private static string Masking(bool refuse) => $"""
            masking:
              detectors:
                - {"{"} detector: us-ssn {"}"}
                - {"{"} detector: payment-card {"}"}
              fields:
                - {"{"} path: "$..ssn" {"}"}
                - {"{"} path: "$[*].customer.card" {"}"}
                - {"{"} path: "$..tax_id" {"}"}
              refuseQueriesOnMaskedFields: {(refuse ? "true" : "false")}
        """;

    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _upstream.Routes["/customers"] = SearchAsync;
        _gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Connection("crm", _upstream.BaseUri, Masking(refuse: true))
            .Connection("open", _upstream.BaseUri, Masking(refuse: false)));
        _key = await _gateway.CreateApiKeyAsync("agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    /// <summary>json-server's filters: <c>?ssn_like=</c> a regular expression over the field.</summary>
    private static async Task SearchAsync(HttpContext context)
    {
        var customers = new[] { new { id = 1, name = "Ada", ssn = Ssn, customer = new { card = Card } } };
        var pattern = context.Request.Query["ssn_like"].ToString();
        var found = customers.Where(c => pattern.Length == 0 || Regex.IsMatch(c.ssn, pattern)).ToArray();
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(found));
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string target, string? body = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(method, target);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        return _gateway.Proxy.SendAsync(request);
    }

    private static async Task<JsonNode> RefusedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{(int)response.StatusCode}: {text}");
        var problem = JsonNode.Parse(text)!;
        Assert.Equal("urn:airlock:problem:masked-field-query", (string?)problem["type"]);
        return problem;
    }

    [Fact]
    public async Task A_search_on_a_masked_field_is_an_oracle_and_is_refused()
    {
        // The premise: masked in every answer, the SSN still shows through whether one comes back.
        using (var hit = await SendAsync(HttpMethod.Get, "/open/customers?ssn_like=^1"))
        using (var miss = await SendAsync(HttpMethod.Get, "/open/customers?ssn_like=^9"))
        {
            var body = await hit.Content.ReadAsStringAsync();
            Assert.DoesNotContain(Ssn, body, StringComparison.Ordinal);
            Assert.Single(JsonNode.Parse(body)!.AsArray());
            Assert.Empty(JsonNode.Parse(await miss.Content.ReadAsStringAsync())!.AsArray());
        }

        var before = _upstream.Received.Count;
        using var response = await SendAsync(HttpMethod.Get, "/crm/customers?ssn_like=^1");

        var problem = await RefusedAsync(response);
        Assert.Equal("ssn_like", (string?)problem["parameter"]);
        Assert.Equal(before, _upstream.Received.Count);
        var session = await _gateway.SessionAsync(response);
        Assert.Equal("masked-field-query", session.Error);
        var events = await _gateway.Store.QueryAuditEventsAsync(new Gateway.Storage.AuditQuery(), CancellationToken.None);
        var denied = Assert.Single(events, e => e.SessionId == session.Id);
        Assert.Equal(AuditKinds.RequestDenied, denied.Kind);
        Assert.Equal("masked-field-query", denied.Detail["reason"]);
        Assert.Equal("ssn", denied.Detail["masked"]);
    }

    [Theory]
    [InlineData("ssn=1")]
    [InlineData("SSN=1")]
    [InlineData("ssn_like=%5E1")]
    [InlineData("ssn_gte=1")]
    [InlineData("ssn%5Bgte%5D=1")]
    [InlineData("filter%5Bssn%5D=1")]
    [InlineData("filters%5Bssn%5D%5B%24startsWith%5D=1")]
    [InlineData("customer.card=4")]
    [InlineData("customer__card__startswith=4")]
    [InlineData("q%5Bcustomer_card_cont%5D=4")]
    [InlineData("customerCard=4")]
    [InlineData("cardLike=4")]
    [InlineData("limit=5&x=1;ssn_like=1")]
    [InlineData("taxId_like=4")]
    [InlineData("tax-id=4")]
    [InlineData("filter%5BTaxID%5D=4")]
    [InlineData("customerSSNPrefix=1")]
    [InlineData("SSNLike=1")]
    public async Task A_parameter_naming_a_masked_field_is_refused(string query)
    {
        using var response = await SendAsync(HttpMethod.Get, "/crm/customers?" + query);

        await RefusedAsync(response);
    }

    [Theory]
    [InlineData("id=1")]
    [InlineData("ssnx=1")]
    [InlineData("discard=1")]
    [InlineData("cardinal=1")]
    [InlineData("name=Ada&limit=5")]
    [InlineData("q=123-45")]
    public async Task Other_parameters_pass(string query)
    {
        using var response = await SendAsync(HttpMethod.Get, "/crm/customers?" + query);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("q=" + Ssn, "q")]
    [InlineData("q=" + Card, "q")]
    [InlineData("search=4111+1111+1111+1111", "search")]
    public async Task A_parameter_whose_value_a_masking_detector_finds_is_refused(string query, string parameter)
    {
        using var response = await SendAsync(HttpMethod.Get, "/crm/customers?" + query);

        var problem = await RefusedAsync(response);
        Assert.Equal(parameter, (string?)problem["parameter"]);
        Assert.DoesNotContain(Ssn, (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/crm/customers/ssn/1*", "3")]
    [InlineData("/crm/customers/SSN/^1", "3")]
    [InlineData("/crm/customers/search/tax-id/4", "4")]
    public async Task A_path_segment_naming_a_masked_field_is_refused(string path, string segment)
    {
        using var response = await SendAsync(HttpMethod.Get, path);

        var problem = await RefusedAsync(response);
        Assert.Equal(segment, (string?)problem["path"]);
    }

    [Theory]
    [InlineData("/crm/ssn-reports")]
    [InlineData("/crm/cards/7")]
    [InlineData("/crm/customers/by-name/Ada")]
    public async Task A_path_whose_segments_only_contain_a_masked_name_passes(string path)
    {
        using var response = await SendAsync(HttpMethod.Get, path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_multipart_part_naming_a_masked_field_is_refused()
    {
        const string body = "--b\r\nContent-Disposition: form-data; name=\"limit\"\r\n\r\n5\r\n"
            + "--b\r\nContent-Disposition: form-data; name=\"customerSSNPrefix\"\r\n\r\n1\r\n--b--\r\n";

        using var response = await SendAsync(HttpMethod.Post, "/crm/customers/search", body, "multipart/form-data; boundary=b");

        var problem = await RefusedAsync(response);
        Assert.Equal(("customerSSNPrefix", "ssn"), ((string?)problem["field"], (string?)problem["masked"]));
        Assert.DoesNotContain(_upstream.Received, r => r.RawTarget.EndsWith("/search", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_multipart_body_naming_no_masked_field_reaches_the_upstream()
    {
        const string body = "--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAda\r\n--b--\r\n";

        using var response = await SendAsync(HttpMethod.Post, "/crm/customers/search", body, "multipart/form-data; boundary=b");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_path_segment_a_masking_detector_finds_is_refused()
    {
        using var response = await SendAsync(HttpMethod.Get, "/crm/customers/by-ssn/" + Ssn);

        await RefusedAsync(response);
    }

    [Theory]
    [InlineData("{\"filter\":{\"ssn\":{\"$regex\":\"^1\"}}}", "application/json")]
    [InlineData("{\"where\":[{\"customer.card\":\"4\"}]}", "application/json")]
    [InlineData("{\"filter\":{\"ssn\":1}, \"filter\":{}}", "application/json")]
    [InlineData("ssn_like=%5E1&limit=5", "application/x-www-form-urlencoded")]
    public async Task A_body_naming_a_masked_field_is_refused(string body, string contentType)
    {
        using var response = await SendAsync(HttpMethod.Post, "/crm/customers/search", body, contentType);

        await RefusedAsync(response);
        Assert.DoesNotContain(_upstream.Received, r => r.RawTarget.EndsWith("/search", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_body_that_names_no_masked_field_reaches_the_upstream_byte_for_byte()
    {
        var body = "{\"filter\":{\"name\":\"Ada\"},\"limit\":5}";
        using var response = await SendAsync(HttpMethod.Post, "/crm/customers/search", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, Encoding.UTF8.GetString(Assert.Single(_upstream.Received, r => r.RawTarget.EndsWith("/search", StringComparison.Ordinal)).Body));
    }

    [Fact]
    public async Task Without_the_option_nothing_is_refused()
    {
        using var response = await SendAsync(HttpMethod.Get, "/open/customers?ssn_like=^1&q=" + Ssn);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
