using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Storage;

namespace Airlock.FunctionalTests.Policy;

/// <summary>
/// A charset can be declared inside a body: by each part of a multipart body, and by an XML
/// declaration. Two real upstreams read such parts in what they declare: an express app with
/// busboy (a part in <c>utf-16le</c>) and a WSGI app reading the body with Python's email
/// package (a part in <c>utf-7</c>, or sent base64 or quoted-printable). A deny rule that looks
/// for "refund-all" would read past every one of them as UTF-8; the gateway refuses them instead.
/// </summary>
public sealed class MultipartCharsetTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - name: forms
            when: { methods: [POST] }
            action: allow
          - name: no-refund-all
            when: { methods: [POST], paths: [/node/**, /mime/form/**], bodyMatches: "refund-all" }
            action: deny
            message: Refunding everything needs a person.
          - name: exports
            when: { methods: [POST], paths: [/mime/exports] }
            action: review
            review: { approvers: [finance-approvers] }
        """;

    private const string Boundary = "airlock-test-boundary";

    private ProcessUpstream _node = null!;
    private ProcessUpstream _mime = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _node = await ProcessUpstream.ExpressAsync();
        _mime = await ProcessUpstream.MimeFormAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy }
            .Connection("node", _node.BaseUri)
            .Connection("mime", _mime.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _mime.DisposeAsync();
        await _node.DisposeAsync();
    }

    /// <summary>A multipart/form-data body with one field, <c>note</c>, its part headers and content as given.</summary>
    private static byte[] Form(string partHeaders, byte[] content) =>
        [
            .. Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n{partHeaders}\r\n"),
            .. content,
            .. Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n"),
        ];

    private static ByteArrayContent Content(byte[] body, string contentType = $"multipart/form-data; boundary={Boundary}")
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private async Task<HttpResponseMessage> PostAsync(string path, byte[] body, string contentType = $"multipart/form-data; boundary={Boundary}")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Content(body, contentType) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        return await _gateway.Proxy.SendAsync(request);
    }

    private static async Task<JsonNode> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status && response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{(int)response.StatusCode}: {text}");
        var problem = JsonNode.Parse(text)!;
        Assert.Equal("urn:airlock:problem:" + type, (string?)problem["type"]);
        return problem;
    }

    /// <summary>What the upstream reads in the field <c>note</c> of a body sent straight to it.</summary>
    private static async Task<string?> ReadDirectlyAsync(Uri upstream, byte[] body)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(new Uri(upstream, "/form/direct"), Content(body));
        return (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["stored"]!["note"];
    }

    public static TheoryData<string, string, byte[], string> PartsUpstreamsReadAnotherWay => new()
    {
        // busboy decodes a field in the charset of its part.
        { "node", "Content-Type: text/plain; charset=utf-16le\r\n", Encoding.Unicode.GetBytes("refund-all"), "unsupported-charset" },
        // Python's email package too, UTF-7 included, and it undoes transfer encodings.
        { "mime", "Content-Type: text/plain; charset=utf-7\r\n", "+AHI-efund-all"u8.ToArray(), "unsupported-charset" },
        { "mime", "Content-Transfer-Encoding: base64\r\n", "cmVmdW5kLWFsbA=="u8.ToArray(), "unsupported-content-encoding" },
        { "mime", "Content-Transfer-Encoding: quoted-printable\r\n", "=72efund-all"u8.ToArray(), "unsupported-content-encoding" },
    };

    [Theory]
    [MemberData(nameof(PartsUpstreamsReadAnotherWay))]
    public async Task A_part_an_upstream_reads_in_another_charset_or_encoding_is_refused(string connection, string partHeaders, byte[] content, string type)
    {
        var body = Form(partHeaders, content);
        // The premise: sent straight to the upstream, the field says what the deny rule looks for.
        Assert.Equal("refund-all", await ReadDirectlyAsync(connection == "node" ? _node.BaseUri : _mime.BaseUri, body));

        using var response = await PostAsync($"/{connection}/form/notes", body);

        var problem = await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType, type);
        Assert.Contains("part 'note'", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal("no-refund-all", (string?)problem["rule"]);
        var session = await _gateway.SessionAsync(response);
        Assert.Null(session.UpstreamAttempts);
        var denied = Assert.Single(await _gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None), e => e.SessionId == session.Id);
        Assert.Equal((AuditKinds.RequestDenied, type), (denied.Kind, denied.Detail["reason"]));
    }

    [Fact]
    public async Task The_same_field_in_utf8_is_read_and_denied_and_a_harmless_one_passes()
    {
        using var denied = await PostAsync("/node/form/notes", Form("Content-Type: text/plain; charset=utf-8\r\n", "refund-all"u8.ToArray()));
        using var allowed = await PostAsync("/node/form/notes", Form("Content-Type: text/plain; charset=utf-8\r\n", "Z\u00fcrich"u8.ToArray()));

        Assert.Equal("Refunding everything needs a person.", (string?)(await ProblemAsync(denied, HttpStatusCode.Forbidden, "denied"))["detail"]);
        Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        Assert.Equal("Z\u00fcrich", (string?)JsonNode.Parse(await allowed.Content.ReadAsStringAsync())!["stored"]!["note"]);
    }

    [Fact]
    public async Task A_charset_field_naming_another_charset_is_refused()
    {
        byte[] body =
        [
            .. Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"_charset_\"\r\n\r\nutf-7\r\n"),
            .. Form("", "+AHI-efund-all"u8.ToArray()),
        ];

        using var response = await PostAsync("/node/form/notes", body);

        Assert.Equal("utf-7", (string?)(await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-charset"))["charset"]);
    }

    [Theory]
    [InlineData("application/xml")]
    [InlineData("text/plain")]
    public async Task An_xml_body_declaring_another_encoding_is_refused(string contentType)
    {
        var body = "<?xml version=\"1.0\" encoding=\"UTF-7\"?><refund>+AHI-efund-all</refund>"u8.ToArray();

        using var response = await PostAsync("/node/refunds", body, contentType);

        Assert.Equal("UTF-7", (string?)(await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-charset"))["charset"]);
    }

    [Fact]
    public async Task An_xml_part_declaring_another_encoding_is_refused()
    {
        using var response = await PostAsync("/node/form/notes", Form("Content-Type: application/xml\r\n",
            "<?xml version=\"1.0\" encoding=\"utf-7\"?><a>+AHI-efund-all</a>"u8.ToArray()));

        await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-charset");
    }

    [Theory]
    [InlineData($"multipart/form-data; boundary={Boundary}", $"--{Boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nrefund-all")]
    [InlineData("multipart/form-data", $"--{Boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nrefund-all\r\n--{Boundary}--\r\n")]
    public async Task A_multipart_body_that_does_not_split_into_parts_is_refused(string contentType, string body)
    {
        using var response = await PostAsync("/node/form/notes", Encoding.ASCII.GetBytes(body), contentType);

        await ProblemAsync(response, HttpStatusCode.BadRequest, "invalid-body");
    }

    [Fact]
    public async Task A_request_held_for_review_is_refused_too_an_approver_would_read_it_as_utf8()
    {
        using var response = await PostAsync("/mime/exports", Form("Content-Type: text/plain; charset=utf-7\r\n", "+AHI-efund-all"u8.ToArray()));

        Assert.Equal("exports", (string?)(await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-charset"))["rule"]);
        Assert.Empty(await _gateway.Store.ListReviewsAsync(Gateway.Reviews.ReviewStatus.Pending, 10, CancellationToken.None));
    }
}
