using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;

namespace Airlock.FunctionalTests.Policy;

/// <summary>
/// A body policy reads must be read in the form the upstream reads it. The upstream here is a
/// real express app, whose body parsers decode the charset a request declares (UTF-7
/// included): a body declared in any other charset than UTF-8 is refused, for JSON, form and
/// text alike, and on the review path too.
/// </summary>
public sealed class BodyCharsetTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - name: small-refunds
            when: { methods: [POST], paths: [/shop/refunds], body: { $.amount: { lte: 100 } } }
            action: allow
          - name: large-refunds
            when: { methods: [POST], paths: [/shop/refunds], body: { $.amount: { gt: 100 } } }
            action: deny
            message: Refunds over 100 need a person.
          - name: notes
            when: { methods: [POST], paths: [/shop/notes] }
            action: allow
          - name: no-sql-in-notes
            when: { methods: [POST], paths: [/shop/notes], bodyMatches: "(?i)drop\\s+table" }
            action: deny
          - name: transfers
            when: { methods: [POST], paths: [/shop/transfers] }
            action: review
            review: { approvers: [finance-approvers] }
          - name: reads
            when: { methods: [GET] }
            action: allow
        """;

    private ProcessUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ProcessUpstream.ExpressAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy }.Connection("shop", _upstream.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    /// <summary>UTF-7 as RFC 2152 writes characters in base64: "+" (IMAP's variant, RFC 3501:
    /// "&amp;" and "," for "/"), the UTF-16 code units in base64 without padding, "-".</summary>
    private static string Utf7(string text, bool imap = false)
    {
        var base64 = Convert.ToBase64String(Encoding.BigEndianUnicode.GetBytes(text)).TrimEnd('=');
        return imap ? "&" + base64.Replace('/', ',') + "-" : "+" + base64 + "-";
    }

    private async Task<HttpResponseMessage> PostAsync(string path, byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        request.Headers.Add("Prefer", "respond-async");
        return await _gateway.Proxy.SendAsync(request);
    }

    private Task<HttpResponseMessage> PostAsync(string path, string body, string contentType) =>
        PostAsync(path, Encoding.UTF8.GetBytes(body), contentType);

    /// <summary>What the express upstream stored under a name: what it read from the bodies it took.</summary>
    private async Task<JsonArray> StoredAsync(string name)
    {
        using var http = new HttpClient();
        return JsonNode.Parse(await http.GetStringAsync(new Uri(_upstream.BaseUri, name)))!.AsArray();
    }

    private static async Task<JsonNode> ProblemAsync(HttpResponseMessage response, string type)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{(int)response.StatusCode}: {text}");
        var problem = JsonNode.Parse(text)!;
        Assert.Equal("urn:airlock:problem:" + type, (string?)problem["type"]);
        return problem;
    }

    public static TheoryData<string, string> Utf7Bodies => new()
    {
        // A key only UTF-7 reads: policy saw amount 50, the upstream stored 150.
        { "application/json; charset=utf-7", "{\"amount\":50, \"" + Utf7("amount") + "\":150}" },
        { "application/json; charset=\"UTF-7\"", "{\"amount\":50, \"" + Utf7("amount") + "\":150}" },
        { "application/json; charset=utf-7-imap", "{\"amount\":50, \"" + Utf7("amount", imap: true) + "\":150}" },
        // A string value whose UTF-7 reading closes the string and adds a key.
        { "application/json; charset=utf-7", "{\"amount\":50,\"note\":\"" + Utf7("\",\"amount\":150,\"x\":\"") + "\"}" },
    };

    [Theory]
    [MemberData(nameof(Utf7Bodies))]
    public async Task A_json_body_declared_in_utf7_is_refused_not_read_as_utf8(string contentType, string body)
    {
        // The premise: sent straight to the upstream, the body is a refund of 150, not 50.
        using (var direct = new HttpClient())
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            using var stored = await direct.PostAsync(new Uri(_upstream.BaseUri, "direct"), content);
            Assert.Equal(150, (int)(await StoredAsync("direct")).Single()!["amount"]!);
        }

        using var response = await PostAsync("/shop/refunds", body, contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var problem = await ProblemAsync(response, "unsupported-charset");
        Assert.Contains("utf-7", (string?)problem["detail"], StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("utf-7", (string?)problem["charset"], StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await StoredAsync("refunds"));
    }

    [Fact]
    public async Task A_text_body_declared_in_utf7_cannot_hide_what_a_deny_rule_looks_for()
    {
        using var response = await PostAsync("/shop/notes", "please " + Utf7("DROP TABLE") + " customers", "text/plain; charset=utf-7");

        await ProblemAsync(response, "unsupported-charset");
        Assert.Empty(await StoredAsync("notes"));
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded; charset=iso-8859-1", "note=caf%E9")]
    [InlineData("text/plain; charset=windows-1252", "caf\u00e9")]
    [InlineData("text/plain; charset=utf-16", "note")]
    [InlineData("text/plain; charset=us-ascii", "caf\u00e9")]
    [InlineData("text/plain; charset=", "note")]
    [InlineData("text/plain; charset=utf-8; charset=utf-7", "note")]
    [InlineData("text/plain; charset*=utf-8''utf-7", "note")]
    [InlineData("text/plain; x=\"a;charset=utf-7\"", "note")]
    [InlineData("text/plain, application/json", "note")]
    public async Task Any_other_or_unclear_charset_is_refused_for_form_and_text_too(string contentType, string body)
    {
        using var response = await PostAsync("/shop/notes", body, contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await ProblemAsync(response, "unsupported-charset");
        Assert.Empty(await StoredAsync("notes"));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json; charset=\"UTF-8\"")]
    [InlineData("application/json;charset=utf8")]
    [InlineData("application/json; charset=us-ascii")]
    public async Task Utf8_and_plain_ascii_bodies_are_read_as_sent(string contentType)
    {
        using var response = await PostAsync("/shop/refunds", "{\"amount\":50}", contentType);

        // express refuses the alias "utf8" for JSON itself (415): it never reads another value.
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.UnsupportedMediaType, $"{(int)response.StatusCode}");
        Assert.NotEqual("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_utf8_byte_order_mark_is_read_past_as_the_upstream_does()
    {
        using var response = await PostAsync("/shop/refunds", [0xEF, 0xBB, 0xBF, .. "{\"amount\":50}"u8], "application/json");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(50, (int)(await StoredAsync("refunds")).Single()!["amount"]!);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFE, (byte)'{', 0, (byte)'}', 0 })]
    [InlineData(new byte[] { 0xFE, 0xFF, 0, (byte)'{', 0, (byte)'}' })]
    [InlineData(new byte[] { (byte)'{', 0, (byte)'}', 0 })]
    [InlineData(new byte[] { 0, (byte)'{', 0, (byte)'}' })]
    public async Task A_body_that_reads_as_utf16_or_utf32_is_refused(byte[] body)
    {
        // Python's json.loads (RFC 4627 §3) detects UTF-16 and UTF-32 from the first bytes.
        using var response = await PostAsync("/shop/notes", body, "application/json");

        await ProblemAsync(response, "unsupported-charset");
        Assert.Empty(await StoredAsync("notes"));
    }

    [Fact]
    public async Task Two_content_type_headers_are_refused_when_the_body_is_read()
    {
        var response = await RawHttp.SendAsync(_gateway.ProxyUri, "/shop/notes", _key, "POST",
            ["Content-Type: text/plain; charset=utf-8", "Content-Type: text/plain; charset=utf-7"], "note"u8.ToArray());

        Assert.Equal(415, response.Status);
        Assert.Contains("unsupported-charset", response.Body, StringComparison.Ordinal);
        Assert.Empty(await StoredAsync("notes"));
    }

    [Fact]
    public async Task A_held_request_is_refused_too_an_approver_would_read_it_as_utf8()
    {
        using var response = await PostAsync("/shop/transfers", "{\"amount\":50, \"" + Utf7("amount") + "\":150}", "application/json; charset=utf-7");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("transfers", (string?)(await ProblemAsync(response, "unsupported-charset"))["rule"]);
        Assert.Empty(await _gateway.Store.ListReviewsAsync(Gateway.Reviews.ReviewStatus.Pending, 10, CancellationToken.None));
    }

    [Fact]
    public async Task The_refusal_is_on_the_audit_trail_as_a_denial()
    {
        using var response = await PostAsync("/shop/refunds", "{\"amount\":50}", "application/json; charset=utf-7");

        var session = await _gateway.SessionAsync(response);
        Assert.Equal("unsupported-charset", session.Error);
        Assert.Equal("deny", session.Decision);
        var events = await _gateway.Store.QueryAuditEventsAsync(new Gateway.Storage.AuditQuery(), CancellationToken.None);
        var denied = Assert.Single(events, e => e.SessionId == session.Id);
        Assert.Equal(AuditKinds.RequestDenied, denied.Kind);
        Assert.Equal("unsupported-charset", denied.Detail["reason"]);
    }

    [Fact]
    public async Task Policy_test_refuses_a_described_request_the_same_way()
    {
        var directory = Directory.CreateTempSubdirectory("airlock-charset-cli-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "policy.yaml"), Policy);
        var config = Path.Combine(directory, "airlock.yaml");
        await File.WriteAllTextAsync(config, new GatewayConfig().Connection("shop", new Uri("http://127.0.0.1:9")).ToYaml());
        var stdout = new StringWriter();

        var exit = await AirlockCli.RunAsync(["policy", "test", "--config", config, "--as", "key:agent", "--method", "POST", "--path", "/shop/refunds",
            "-H", "Content-Type: application/json; charset=utf-7", "--body", "{\"amount\":50, \"" + Utf7("amount") + "\":150}"], stdout, new StringWriter());

        Assert.Equal(0, exit);
        Assert.Contains("decision: refused (415 unsupported-charset)", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("utf-7", stdout.ToString(), StringComparison.Ordinal);
    }
}
