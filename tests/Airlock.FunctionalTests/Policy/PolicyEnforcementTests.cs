using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Policy;

/// <summary>Each action through the real gateway, and the bypass attempts docs/policy.md answers.</summary>
public sealed class PolicyEnforcementTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - name: read-billing
            when: { connections: [billing], methods: [GET], paths: [/billing/v1/**], groups: [agents] }
            action: allow
          - name: no-deletes
            when: { methods: [DELETE] }
            action: deny
            message: Deletes are never allowed through Airlock.
          - name: pricing
            when: { methods: [PUT], paths: ["/billing/v1/plans/*"] }
            action: review
            review: { approvers: [finance-approvers] }
          - name: small-refunds
            when: { methods: [POST], paths: [/billing/v1/refunds], body: { $.amount: { lte: 100 } } }
            action: allow
          - name: large-refunds
            when: { methods: [POST], paths: [/billing/v1/refunds], body: { $.amount: { gt: 100 } } }
            action: deny
            message: Refunds over 100 need a person.
          - name: notes
            when: { methods: [POST], paths: [/billing/v1/notes] }
            action: allow
          - name: no-sql-in-notes
            when: { methods: [POST], paths: [/billing/v1/notes], bodyMatches: "(?i)drop\\s+table" }
            action: deny
          - name: staging-jobs
            when: { methods: [POST], paths: [/billing/v1/jobs], headers: { X-Env: staging } }
            action: allow
        """;

    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy, PolicySettings = "  maxBodyBytes: 4KiB" }
            .Connection("billing", _upstream.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<HttpResponseMessage> SendAsync(string method, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        return _gateway.Proxy.SendAsync(request);
    }

    private static StringContent Json(string json, string mediaType = "application/json") => new(json, Encoding.UTF8, mediaType);

    private static async Task<JsonNode> ProblemAsync(HttpResponseMessage response, string type)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:airlock:problem:" + type, (string?)problem["type"]);
        return problem;
    }

    [Fact]
    public async Task An_allowed_request_is_forwarded_and_stored_with_its_decision()
    {
        using var response = await SendAsync("GET", "/billing/v1/customers");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_upstream.Received);
        var session = await _gateway.SessionAsync(response);
        Assert.Equal("allow", session.Decision);
        Assert.Equal("read-billing", session.Rule);
        Assert.Equal(_gateway.Policies.Current.Version, session.PolicyVersion);
    }

    [Fact]
    public async Task A_denied_request_gets_403_naming_the_rule_and_never_reaches_the_upstream()
    {
        using var response = await SendAsync("DELETE", "/billing/v1/customers/1");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await ProblemAsync(response, "denied");
        Assert.Equal("no-deletes", (string?)problem["rule"]);
        Assert.Equal("Deletes are never allowed through Airlock.", (string?)problem["detail"]);
        Assert.Empty(_upstream.Received);
        var session = await _gateway.SessionAsync(response);
        Assert.Equal("deny", session.Decision);
        Assert.Equal("no-deletes", session.Rule);
        Assert.Equal(403, session.Status);
    }

    [Fact]
    public async Task A_request_no_rule_matches_is_denied_by_default()
    {
        using var response = await SendAsync("POST", "/billing/v1/customers", Json("{}"));

        var problem = await ProblemAsync(response, "denied");
        Assert.Null(problem["rule"]);
        Assert.Contains("denied by default", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal("(default)", (await _gateway.SessionAsync(response)).Rule);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task A_review_decision_holds_the_request_and_sends_nothing()
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "/billing/v1/plans/42") { Content = Json("{\"monthlyPrice\":1}") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        request.Headers.Add("Prefer", "respond-async");

        using var response = await _gateway.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.StartsWith("/api/reviews/", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
        var session = await _gateway.SessionAsync(response);
        Assert.Equal("review", session.Decision);
        Assert.Equal("pricing", session.Rule);
        Assert.NotNull(session.ReviewId);
    }

    [Fact]
    public async Task A_body_rule_sees_the_body_and_the_upstream_gets_the_same_bytes()
    {
        const string body = "{\"customer\":\"ada\",\"amount\":40}";
        using var small = await SendAsync("POST", "/billing/v1/refunds", Json(body));
        using var large = await SendAsync("POST", "/billing/v1/refunds", Json("{\"amount\":400}"));

        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Equal(body, Encoding.UTF8.GetString(_upstream.Only().Body));
        Assert.Equal("large-refunds", (string?)(await ProblemAsync(large, "denied"))["rule"]);
    }

    [Theory]
    [InlineData("{\"amount\":40,\"amount\":400}")]
    [InlineData("{\"amount\":40,\"AMOUNT\":400}")]
    [InlineData("{\"amount\":40 /* ,\"amount\":400 */}")]
    [InlineData("{\"amount\":40,}")]
    [InlineData("{\"amount\":\"400\"}")]
    public async Task Json_tricks_cannot_slip_past_a_body_rule(string body)
    {
        using var response = await SendAsync("POST", "/billing/v1/refunds", Json(body));

        Assert.Equal("large-refunds", (string?)(await ProblemAsync(response, "denied"))["rule"]);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task A_json_body_under_another_content_type_is_still_read_as_json()
    {
        using var response = await SendAsync("POST", "/billing/v1/refunds", Json("{\"amount\":400}", "text/plain"));

        Assert.Equal("large-refunds", (string?)(await ProblemAsync(response, "denied"))["rule"]);
    }

    [Fact]
    public async Task A_gzip_body_is_decoded_for_inspection_and_forwarded_still_compressed()
    {
        var compressed = Gzip("{\"amount\":400}");
        using var denied = await SendAsync("POST", "/billing/v1/refunds", Compressed(compressed, "gzip"));
        var allowedBytes = Gzip("{\"amount\":4}");
        using var allowed = await SendAsync("POST", "/billing/v1/refunds", Compressed(allowedBytes, "gzip"));

        Assert.Equal("large-refunds", (string?)(await ProblemAsync(denied, "denied"))["rule"]);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        var received = _upstream.Only();
        Assert.Equal(allowedBytes, received.Body);
        Assert.Equal("gzip", received.Header("Content-Encoding"));
    }

    [Fact]
    public async Task An_x_gzip_body_is_read_as_gzip_as_RFC_9110_asks()
    {
        // RFC 9110 §8.4.1.3: x-gzip is gzip's old name, and recipients treat the two alike.
        using var denied = await SendAsync("POST", "/billing/v1/refunds", Compressed(Gzip("{\"amount\":400}"), "x-gzip"));
        var allowedBytes = Gzip("{\"amount\":4}");
        using var allowed = await SendAsync("POST", "/billing/v1/refunds", Compressed(allowedBytes, "x-gzip"));

        Assert.Equal("large-refunds", (string?)(await ProblemAsync(denied, "denied"))["rule"]);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(allowedBytes, _upstream.Only().Body);
    }

    [Fact]
    public async Task A_chunked_body_is_inspected_like_any_other()
    {
        var content = new StreamContent(new MemoryStream("{\"amount\":400}"u8.ToArray()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/billing/v1/refunds") { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        request.Headers.TransferEncodingChunked = true;

        using var response = await _gateway.Proxy.SendAsync(request);

        Assert.Equal("large-refunds", (string?)(await ProblemAsync(response, "denied"))["rule"]);
    }

    [Fact]
    public async Task An_encoding_the_gateway_cannot_decode_is_refused_not_skipped()
    {
        using var response = await SendAsync("POST", "/billing/v1/refunds", Compressed("{\"amount\":400}"u8.ToArray(), "compress"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await ProblemAsync(response, "unsupported-content-encoding");
        Assert.Empty(_upstream.Received);
    }

    [Theory]
    [InlineData("gzip", "not gzip at all")]
    [InlineData("br", "not brotli at all")]
    [InlineData("deflate", "not zlib at all")]
    public async Task Corrupt_compressed_data_is_refused(string encoding, string data)
    {
        using var response = await SendAsync("POST", "/billing/v1/refunds", Compressed(Encoding.UTF8.GetBytes(data), encoding));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await ProblemAsync(response, "invalid-body");
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task A_compressed_body_cut_short_is_refused_not_read_as_empty()
    {
        var whole = Gzip("{\"amount\":400,\"note\":\"" + new string('x', 200) + "\"}");
        using var response = await SendAsync("POST", "/billing/v1/refunds", Compressed(whole[..(whole.Length / 2)], "gzip"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await ProblemAsync(response, "invalid-body");
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task A_header_the_caller_marks_hop_by_hop_is_gone_before_policy_sees_it()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/billing/v1/jobs") { Content = Json("{}") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        request.Headers.Add("X-Env", "staging");
        request.Headers.Connection.Add("X-Env");

        using var response = await _gateway.Proxy.SendAsync(request);

        // Policy saw no X-Env (the upstream would not have either), so the staging rule did not apply.
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task A_body_over_the_inspection_limit_is_413_never_allowed_unread()
    {
        var padding = new string(' ', 5000);
        using var declared = await SendAsync("POST", "/billing/v1/refunds", Json("{\"amount\":4}" + padding));
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"amount\":4}" + padding)));
        var request = new HttpRequestMessage(HttpMethod.Post, "/billing/v1/refunds") { Content = chunked };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        request.Headers.TransferEncodingChunked = true;
        using var streamed = await _gateway.Proxy.SendAsync(request);
        using var bomb = await SendAsync("POST", "/billing/v1/refunds", Compressed(Gzip("{\"amount\":4}" + new string(' ', 100_000)), "gzip"));

        // Deny is weighed before allow, so a deny rule is the first that needs the body: for a JSON
        // POST that is no-deletes, whose methods condition reads it for a _method override; for the
        // streamed body, sent without a Content-Type, it is large-refunds.
        foreach (var (response, rule) in new[] { (declared, "no-deletes"), (streamed, "large-refunds"), (bomb, "no-deletes") })
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal(rule, (string?)(await ProblemAsync(response, "body-too-large"))["rule"]);
        }

        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task A_large_body_is_not_read_when_no_rule_that_could_decide_needs_it()
    {
        var body = new string('x', 10_000);
        using var response = await SendAsync("GET", "/billing/v1/customers", Json(body, "text/plain"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, Encoding.UTF8.GetString(_upstream.Only().Body));
    }

    [Fact]
    public async Task A_raw_body_expression_denies()
    {
        using var response = await SendAsync("POST", "/billing/v1/notes", Json("please DROP   table customers", "text/plain"));
        using var fine = await SendAsync("POST", "/billing/v1/notes", Json("a harmless note", "text/plain"));

        Assert.Equal("no-sql-in-notes", (string?)(await ProblemAsync(response, "denied"))["rule"]);
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("Delete")]
    public async Task Method_case_tricks_are_refused(string method)
    {
        var response = await RawHttp.SendAsync(_gateway.ProxyUri, "/billing/v1/customers/1", _key, method);

        Assert.Equal(400, response.Status);
        Assert.Contains("urn:airlock:problem:invalid-method", response.Body, StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
    }

    [Theory]
    [InlineData("/billing/v1/../v2/x")]
    [InlineData("/billing/%76%32/x")]
    [InlineData("/billing//v2/x")]
    public async Task Path_encodings_reach_policy_in_their_one_canonical_form(string target)
    {
        var response = await RawHttp.SendAsync(_gateway.ProxyUri, target, _key);

        Assert.Equal(403, response.Status);
        Assert.Empty(_upstream.Received);
    }

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }

    private static ByteArrayContent Compressed(byte[] bytes, string encoding)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add(encoding);
        return content;
    }
}
