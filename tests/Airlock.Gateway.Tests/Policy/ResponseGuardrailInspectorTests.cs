using System.IO.Compression;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using static Airlock.Gateway.Tests.Policy.PolicyStage;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>
/// Guardrails applied to the upstream's response before any of it reaches the agent: a match is
/// withheld with 403 <c>response-blocked</c> and a <c>response.blocked</c> event; a body that must
/// be read and cannot be is withheld with 502 <c>response-not-inspectable</c>; a response that
/// passes goes on byte for byte. Real configuration, SQLite store and audit trail.
/// </summary>
public sealed class ResponseGuardrailInspectorTests : IAsyncLifetime
{
    private const string Rules = """
        rules:
          - name: reads
            when: { methods: [GET, HEAD] }
            action: allow
        guardrails:
          - name: no-cards
            response: { detectors: [payment-card] }
            message: The billing API answered with a payment card number; Airlock withheld it.
          - name: no-secrets
            response: { bodyMatches: "internal-secret" }
          - name: no-server-errors
            response: { status: [500] }
          - name: no-html
            response: { contentTypes: [text/html] }
        """;

    private readonly PolicyStage _stage = new();
    private CompiledPolicy _policy = null!;
    private ResponseGuardrailInspector _inspector = null!;
    private readonly CapturedLog<ResponseGuardrailInspector> _log = new();

    public async ValueTask InitializeAsync()
    {
        await _stage.InitializeAsync();
        _policy = PolicyFixture.Compile(Rules);
        _inspector = new ResponseGuardrailInspector(_stage.Configuration, _stage.Trail, _log);
    }

    public ValueTask DisposeAsync() => _stage.DisposeAsync();

    private (HttpContext Context, SessionFeature Session) Exchange(string method = "GET", params string[] guardrails)
    {
        var (context, session) = _stage.Request(method, "/billing/invoices/1");
        context.Features.Set(new DecisionFeature(_policy.Decide(new RequestFacts(Agent, "billing", method, session.Path, null, context.Request.Headers)),
            [.. guardrails.Select(name => _policy.Guardrails.Single(g => g.Name == name))]));
        return (context, session);
    }

    private static HttpResponseMessage Response(string body, string? contentType = "application/json", HttpStatusCode status = HttpStatusCode.OK) =>
        Response(Encoding.UTF8.GetBytes(body), contentType, status);

    private static HttpResponseMessage Response(byte[] body, string? contentType = "application/json", HttpStatusCode status = HttpStatusCode.OK)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        return new HttpResponseMessage(status) { Content = content };
    }

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }

    private async Task<AuditEvent> BlockedEventAsync(SessionFeature session) =>
        Assert.Single(await _stage.EventsAsync(session.Id), e => e.Kind == AuditKinds.ResponseBlocked);

    [Fact]
    public async Task A_response_no_guardrail_matches_goes_on_as_it_came()
    {
        var (context, session) = Exchange("GET", "no-cards", "no-secrets", "no-server-errors", "no-html");
        var body = "{\"invoice\":1,\"total\":\"100.00\"}";
        using var response = Response(body);
        response.Content.Headers.TryAddWithoutValidation("Content-Language", "en");

        Assert.True(await _inspector.InspectAsync(context, session, response, CancellationToken.None));

        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("en", Assert.Single(response.Content.Headers.ContentLanguage));
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Null(session.Error);
        Assert.Empty(await _stage.EventsAsync(session.Id));
    }

    [Fact]
    public async Task A_response_without_guardrails_is_not_read()
    {
        var (context, session) = Exchange("GET");
        using var response = Response("{\"card\":\"4111 1111 1111 1111\"}");
        var content = response.Content;

        Assert.True(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
        Assert.Same(content, response.Content);
    }

    [Fact]
    public async Task A_response_with_a_card_number_is_withheld_with_the_guardrails_message()
    {
        var (context, session) = Exchange("GET", "no-cards");
        using var response = Response("{\"card\":\"4111 1111 1111 1111\"}");

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));

        Assert.Equal(403, context.Response.StatusCode);
        Assert.Equal(new Dictionary<string, string>
        {
            ["type"] = "urn:airlock:problem:response-blocked",
            ["title"] = "The upstream's response was blocked by a guardrail",
            ["status"] = "403",
            ["detail"] = "The billing API answered with a payment card number; Airlock withheld it.",
            ["sessionId"] = session.Id.ToString(),
            ["guardrail"] = "no-cards",
        }, Members(Problem(context)));
        Assert.Equal("response-blocked", session.Error);
        var blocked = await BlockedEventAsync(session);
        Assert.Equal(new Dictionary<string, string> { ["problem"] = "response-blocked", ["guardrail"] = "no-cards", ["upstreamStatus"] = "200" }, blocked.Detail);
        Assert.Equal(("blocked", "reads"), (blocked.Outcome, blocked.Rule));
        Assert.Equal((LogLevel.Warning, 4201, $"Session {session.Id}: response blocked by guardrail no-cards"), Assert.Single(_log.Lines));
    }

    [Fact]
    public async Task A_guardrail_without_a_message_is_named_in_the_detail()
    {
        var (context, session) = Exchange("GET", "no-cards", "no-secrets");
        using var response = Response("{\"note\":\"internal-secret\"}");

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));

        Assert.Equal("the upstream's response was blocked by guardrail 'no-secrets'", Problem(context).GetProperty("detail").GetString());
        Assert.Equal("no-secrets", (await BlockedEventAsync(session)).Detail["guardrail"]);
    }

    [Fact]
    public async Task A_status_guardrail_blocks_from_the_headers_without_reading_the_body()
    {
        var (context, session) = Exchange("GET", "no-secrets", "no-server-errors");
        using var response = Response("{\"error\":\"boom\"}", status: HttpStatusCode.InternalServerError);

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));

        Assert.Equal(403, context.Response.StatusCode);
        Assert.Equal("no-server-errors", Problem(context).GetProperty("guardrail").GetString());
        Assert.Equal("500", (await BlockedEventAsync(session)).Detail["upstreamStatus"]);
    }

    [Fact]
    public async Task A_content_type_guardrail_blocks_a_type_clients_may_read_several_ways()
    {
        var (context, session) = Exchange("GET", "no-html");
        using var response = Response("<p>hi</p>", "application/json, text/html");

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
        Assert.Equal("no-html", Problem(context).GetProperty("guardrail").GetString());
    }

    [Fact]
    public async Task A_content_type_guardrail_reads_the_raw_header_not_a_parse_of_it()
    {
        var (context, session) = Exchange("GET", "no-html");
        using var response = Response("<p>hi</p>", "text/html; charset=\"utf-8");

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
    }

    [Fact]
    public async Task A_content_type_guardrail_leaves_other_types_alone()
    {
        var (context, session) = Exchange("GET", "no-html");
        using var response = Response("{}", "application/json");

        Assert.True(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
        Assert.Equal(200, context.Response.StatusCode);
    }

    [Fact]
    public async Task A_card_number_in_a_response_header_is_withheld_whatever_the_body()
    {
        var (context, session) = Exchange("GET", "no-cards");
        using var response = Response("{}");
        response.Headers.Location = new Uri("/cards/4111111111111111", UriKind.Relative);

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
        Assert.Equal("no-cards", Problem(context).GetProperty("guardrail").GetString());
    }

    [Fact]
    public async Task A_card_number_in_a_content_header_is_withheld_too()
    {
        var (context, session) = Exchange("GET", "no-cards");
        using var response = Response("{}");
        response.Content.Headers.TryAddWithoutValidation("Content-Disposition", "attachment; filename=\"4111-1111-1111-1111.pdf\"");

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
        Assert.Equal(403, context.Response.StatusCode);
    }

    [Fact]
    public async Task A_later_header_is_read_as_well_as_the_first()
    {
        var (context, session) = Exchange("GET", "no-cards");
        using var response = Response("{}");
        response.Headers.TryAddWithoutValidation("X-Request-Id", "17");
        response.Headers.TryAddWithoutValidation("X-Debug", "card=4111111111111111");

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
    }

    [Fact]
    public async Task A_header_name_and_its_value_are_not_read_as_one()
    {
        var (context, session) = Exchange("GET", "no-cards");
        using var response = Response("{}");
        // "X-Card-4111" and "111111111111": no card number in either, nor in "name: value".
        response.Headers.TryAddWithoutValidation("X-Card-4111", "111111111111");

        Assert.True(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
    }

    [Fact]
    public async Task A_content_header_name_and_its_value_are_not_read_as_one()
    {
        var (context, session) = Exchange("GET", "no-cards");
        using var response = Response("{}");
        response.Content.Headers.TryAddWithoutValidation("X-Card-4111", "111111111111");

        Assert.True(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
    }

    [Fact]
    public async Task A_header_value_and_the_next_header_are_not_read_as_one()
    {
        var (context, session) = Exchange("GET", "no-cards");
        using var response = Response("{}");
        response.Headers.TryAddWithoutValidation("X-First", "4111");
        response.Headers.TryAddWithoutValidation("111111111111", "x");

        Assert.True(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
    }

    [Theory]
    [InlineData("HEAD", HttpStatusCode.OK)]
    [InlineData("GET", HttpStatusCode.NoContent)]
    [InlineData("GET", HttpStatusCode.NotModified)]
    public async Task A_response_that_has_no_body_is_not_read(string method, HttpStatusCode status)
    {
        var (context, session) = Exchange(method, "no-cards");
        // Whatever the upstream put there, no body goes to the agent for these.
        using var response = Response("{\"card\":\"4111 1111 1111 1111\"}", status: status);
        var content = response.Content;

        Assert.True(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
        Assert.Same(content, response.Content);
    }

    [Fact]
    public async Task A_compressed_body_is_inspected_decoded()
    {
        var (context, session) = Exchange("GET", "no-cards");
        using var response = Response(Gzip("{\"card\":\"4111 1111 1111 1111\"}"));
        response.Content.Headers.ContentEncoding.Add("gzip");

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
        Assert.Equal(403, context.Response.StatusCode);
    }

    [Fact]
    public async Task A_compressed_body_that_passes_goes_on_compressed_with_its_headers()
    {
        var (context, session) = Exchange("GET", "no-cards");
        var sent = Gzip("{\"total\":\"100.00\"}");
        using var response = Response(sent);
        response.Content.Headers.ContentEncoding.Add("gzip");

        Assert.True(await _inspector.InspectAsync(context, session, response, CancellationToken.None));

        Assert.Equal(sent, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task A_body_larger_than_the_limit_is_withheld_as_not_inspectable()
    {
        var (context, session) = Exchange("GET", "no-secrets", "no-cards");
        using var response = Response(new string('x', 5000));

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));

        Assert.Equal(502, context.Response.StatusCode);
        Assert.Equal(new Dictionary<string, string>
        {
            ["type"] = "urn:airlock:problem:response-not-inspectable",
            ["title"] = "The upstream's response could not be inspected",
            ["status"] = "502",
            ["detail"] = "a guardrail must inspect this response and cannot: the response body is 5000 bytes; at most 4096 are inspected",
            ["sessionId"] = session.Id.ToString(),
            ["guardrail"] = "no-secrets",
        }, Members(Problem(context)));
        Assert.Equal("response-not-inspectable", session.Error);
        var blocked = await BlockedEventAsync(session);
        Assert.Equal(new Dictionary<string, string> { ["problem"] = "response-not-inspectable", ["guardrail"] = "no-secrets", ["upstreamStatus"] = "200" }, blocked.Detail);
        Assert.Equal((LogLevel.Warning, 4202, $"Session {session.Id}: response blocked, not inspectable: the response body is 5000 bytes; at most 4096 are inspected"),
            Assert.Single(_log.Lines));
    }

    [Fact]
    public async Task A_body_of_exactly_the_limit_is_inspected()
    {
        var (context, session) = Exchange("GET", "no-secrets");
        using var response = Response(new string('x', 4096));

        Assert.True(await _inspector.InspectAsync(context, session, response, CancellationToken.None));
        Assert.Equal(4096, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task A_body_in_an_encoding_the_gateway_cannot_decode_is_withheld()
    {
        var (context, session) = Exchange("GET", "no-cards");
        using var response = Response("{}");
        response.Content.Headers.ContentEncoding.Add("zstd");

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));

        Assert.Equal(502, context.Response.StatusCode);
        Assert.Equal("a guardrail must inspect this response and cannot: the response body is encoded with 'zstd', which the gateway cannot decode to inspect; use gzip, br or deflate",
            Problem(context).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_body_the_upstream_breaks_off_is_withheld()
    {
        var (context, session) = Exchange("GET", "no-cards");
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes("{\"card\":\"4111 1111"));
        await pipe.Writer.CompleteAsync(new IOException("the upstream closed the connection"));
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(pipe.Reader.AsStream()) };

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));

        Assert.Equal(502, context.Response.StatusCode);
        Assert.Equal("a guardrail must inspect this response and cannot: the response body ended before its end: the sender broke off", Problem(context).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_body_that_cannot_be_opened_is_withheld()
    {
        var (context, session) = Exchange("GET", "no-cards");
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new UnreadableContent() };

        Assert.False(await _inspector.InspectAsync(context, session, response, CancellationToken.None));

        Assert.Equal(502, context.Response.StatusCode);
        Assert.Equal("a guardrail must inspect this response and cannot: the upstream's body could not be read", Problem(context).GetProperty("detail").GetString());
        Assert.Equal("response-not-inspectable", (await BlockedEventAsync(session)).Detail["problem"]);
    }

    /// <summary>A response whose connection fails before its body can be read at all.</summary>
    private sealed class UnreadableContent : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            throw new HttpRequestException("the upstream connection failed");

        protected override Task<Stream> CreateContentReadStreamAsync() =>
            throw new HttpRequestException("the upstream connection failed");

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
