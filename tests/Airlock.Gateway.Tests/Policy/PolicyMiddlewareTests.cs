using System.IO.Compression;
using System.Text;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Airlock.Gateway.Tests.Policy.PolicyStage;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>
/// The policy stage: every request gets one decision, recorded before it is acted on; deny is
/// answered 403 with the documented problem+json, review and allow go on with the body the
/// upstream will read being the body policy read; a body that cannot be read one way is refused,
/// never allowed unread. Real configuration, SQLite store and audit trail (<see cref="PolicyStage"/>).
/// </summary>
public sealed class PolicyMiddlewareTests : IAsyncLifetime
{
    private const string Rules = """
        rules:
          - name: small-refunds
            when:
              connections: [billing]
              methods: [POST]
              paths: [/billing/refunds]
              body:
                $.amount: { lte: 100 }
            action: allow
          - name: medium-refunds
            when:
              methods: [POST]
              paths: [/billing/refunds]
              body:
                $.amount: { gt: 100 }
            action: review
            review: { approvers: [finance] }
          - name: large-refunds
            when:
              methods: [POST]
              paths: [/billing/refunds]
              body:
                $.amount: { gt: 1000 }
            action: deny
            message: Refunds over 1000 are never made by agents.
          - name: reads
            when: { methods: [GET] }
            action: allow
          - name: no-deletes
            when: { methods: [DELETE] }
            action: deny
          - name: crm-writes
            when: { connections: [crm], methods: [POST] }
            action: allow
        guardrails:
          - name: no-cards
            when: { connections: [billing] }
            response: { detectors: [payment-card] }
          - name: no-server-errors
            response: { status: [500] }
        """;

    private readonly PolicyStage _stage = new();
    private PolicyProvider _policies = null!;
    private readonly CapturedLog<PolicyMiddleware> _log = new();

    /// <summary>What reached the next stage: the body it would forward, and the trail by then.</summary>
    private byte[]? _forwarded;
    private List<AuditEvent>? _trailWhenForwarded;
    private bool _reachedNext;

    public async ValueTask InitializeAsync()
    {
        await _stage.InitializeAsync();
        _policies = _stage.Policies(Rules);
    }

    public ValueTask DisposeAsync() => _stage.DisposeAsync();

    private async Task<(HttpContext Context, SessionFeature Session)> SendAsync(string method, string path, string? body = null, string? contentType = "application/json",
        string? query = null, string? contentEncoding = null, byte[]? bytes = null, bool declareLength = true, Action<HttpContext>? setUp = null)
    {
        var (context, session) = _stage.Request(method, path, query, bytes ?? (body is null ? null : Encoding.UTF8.GetBytes(body)),
            body is null && bytes is null ? null : contentType, contentEncoding, declareLength);
        setUp?.Invoke(context);
        var middleware = new PolicyMiddleware(async next =>
        {
            _reachedNext = true;
            using var forwarded = new MemoryStream();
            await next.Request.Body.CopyToAsync(forwarded);
            _forwarded = forwarded.ToArray();
            _trailWhenForwarded = await _stage.EventsAsync(session.Id);
        }, _policies, _stage.Trail, _stage.Configuration, _log);
        await middleware.InvokeAsync(context);
        return (context, session);
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

    // --- allow

    [Fact]
    public async Task An_allowed_request_goes_on_recorded_before_it_is_sent()
    {
        var (context, session) = await SendAsync("GET", "/billing/invoices");

        Assert.True(_reachedNext);
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal((PolicyAction.Allow, "reads"), (session.Decision!.Value.Action, session.Decision.Value.RuleName));
        var allowed = Assert.Single(_trailWhenForwarded!);
        Assert.Equal((AuditKinds.RequestAllowed, "allowed", "reads"), (allowed.Kind, allowed.Outcome, allowed.Rule));
        Assert.Equal(_policies.Current.Version, allowed.PolicyVersion);
        Assert.Empty(allowed.Detail);
        Assert.Null(session.Error);
    }

    [Fact]
    public async Task A_body_rule_reads_the_body_and_the_upstream_gets_the_very_bytes_policy_read()
    {
        var body = "{\"amount\":50,\"note\":\"Z\u00fcrich\"}";

        var (_, session) = await SendAsync("POST", "/billing/refunds", body);

        Assert.Equal((PolicyAction.Allow, "small-refunds"), (session.Decision!.Value.Action, session.Decision.Value.RuleName));
        Assert.Equal(Encoding.UTF8.GetBytes(body), _forwarded);
        Assert.Equal(AuditKinds.RequestAllowed, Assert.Single(_trailWhenForwarded!).Kind);
    }

    [Fact]
    public async Task A_compressed_body_is_decided_decoded_and_sent_on_as_it_came()
    {
        var sent = Gzip("{\"amount\":5000}");

        var (context, _) = await SendAsync("POST", "/billing/refunds", bytes: sent, contentEncoding: "gzip");

        Assert.Equal(403, context.Response.StatusCode);
        Assert.Equal("large-refunds", Problem(context).GetProperty("rule").GetString());

        var small = Gzip("{\"amount\":50}");
        await SendAsync("POST", "/billing/refunds", bytes: small, contentEncoding: "gzip");
        Assert.Equal(small, _forwarded);
    }

    [Fact]
    public async Task A_request_no_rule_reads_the_body_of_is_not_read()
    {
        var (context, _) = await SendAsync("POST", "/crm/notes", "{\"amount\":5000}", "application/json; charset=utf-7");

        // crm refuses queries on masked fields, so it reads bodies; billing's GET rule does not.
        Assert.Equal(415, context.Response.StatusCode);

        var (read, session) = _stage.Request("GET", "/billing/invoices", body: Encoding.UTF8.GetBytes("{}"), contentType: "application/json; charset=utf-7");
        var original = read.Request.Body;
        await new PolicyMiddleware(_ => Task.CompletedTask, _policies, _stage.Trail, _stage.Configuration, NullLogger<PolicyMiddleware>.Instance).InvokeAsync(read);
        Assert.Same(original, read.Request.Body);
        Assert.Equal(0, original.Position);
        Assert.Equal(PolicyAction.Allow, session.Decision!.Value.Action);
    }

    [Fact]
    public async Task The_guardrails_that_apply_go_on_with_the_request()
    {
        var (billing, _) = await SendAsync("GET", "/billing/invoices");
        Assert.Equal(["no-cards", "no-server-errors"], billing.Features.GetRequiredFeature<DecisionFeature>().Guardrails.Select(g => g.Name));

        var (crm, _) = await SendAsync("GET", "/crm/contacts");
        Assert.Equal(["no-server-errors"], crm.Features.GetRequiredFeature<DecisionFeature>().Guardrails.Select(g => g.Name));
    }

    // --- review

    [Fact]
    public async Task A_request_for_review_goes_on_to_be_held_and_is_recorded_when_held()
    {
        var (context, session) = await SendAsync("POST", "/billing/refunds", "{\"amount\":500}");

        Assert.True(_reachedNext);
        Assert.Equal((PolicyAction.Review, "medium-refunds"), (session.Decision!.Value.Action, session.Decision.Value.RuleName));
        Assert.Empty(_trailWhenForwarded!);
        Assert.Equal(Encoding.UTF8.GetBytes("{\"amount\":500}"), _forwarded);
        Assert.Equal(["no-cards", "no-server-errors"], context.Features.GetRequiredFeature<DecisionFeature>().Guardrails.Select(g => g.Name));
        Assert.Equal(200, context.Response.StatusCode);
    }

    // --- deny

    [Fact]
    public async Task A_denied_request_gets_403_with_the_rules_message_and_is_recorded()
    {
        var (context, session) = await SendAsync("POST", "/billing/refunds", "{\"amount\":5000}");

        Assert.False(_reachedNext);
        Assert.Equal(403, context.Response.StatusCode);
        Assert.Equal(new Dictionary<string, string>
        {
            ["type"] = "urn:airlock:problem:denied",
            ["title"] = "Denied by policy",
            ["status"] = "403",
            ["detail"] = "Refunds over 1000 are never made by agents.",
            ["sessionId"] = session.Id.ToString(),
            ["rule"] = "large-refunds",
            ["policyVersion"] = _policies.Current.Version,
        }, Members(Problem(context)));
        Assert.Equal("denied", session.Error);
        Assert.Equal(PolicyAction.Deny, session.Decision!.Value.Action);
        var denied = Assert.Single(await _stage.EventsAsync(session.Id));
        Assert.Equal((AuditKinds.RequestDenied, "denied", "large-refunds"), (denied.Kind, denied.Outcome, denied.Rule));
        Assert.Empty(denied.Detail);
        Assert.Equal((LogLevel.Information, 4101, $"Session {session.Id}: denied by large-refunds ({_policies.Current.Version})"), Assert.Single(_log.Lines));
    }

    [Fact]
    public async Task A_rule_without_a_message_is_named_in_the_detail()
    {
        var (context, _) = await SendAsync("DELETE", "/billing/invoices/1");

        Assert.Equal("the request is denied by rule 'no-deletes'", Problem(context).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_request_no_rule_allows_is_denied_by_default_and_names_no_rule()
    {
        var (context, session) = await SendAsync("PUT", "/billing/invoices/1", "{}");

        var problem = Members(Problem(context));
        Assert.Equal("no policy rule allows this request; requests are denied by default", problem["detail"]);
        Assert.False(problem.ContainsKey("rule"));
        Assert.Equal(_policies.Current.Version, problem["policyVersion"]);
        var denied = Assert.Single(await _stage.EventsAsync(session.Id));
        Assert.Null(denied.Rule);
        Assert.Equal(AuditKinds.RequestDenied, denied.Kind);
    }

    [Fact]
    public async Task A_deny_that_holds_only_because_the_body_reads_two_ways_says_so()
    {
        var (context, session) = await SendAsync("POST", "/billing/refunds", "{\"amount\":50,\"amount\":5000}");

        Assert.False(_reachedNext);
        var problem = Members(Problem(context));
        Assert.Equal("the JSON body repeats a key", problem["ambiguous"]);
        Assert.Equal("the request could not be read one way only: the JSON body repeats a key. Ambiguity counts against a request, so rule 'large-refunds' "
            + "denies it without knowing whether it is what the rule is about; send it so that it reads one way", problem["detail"]);
        Assert.Equal("large-refunds", problem["rule"]);
        var denied = Assert.Single(await _stage.EventsAsync(session.Id));
        Assert.Equal("the JSON body repeats a key", denied.Detail["ambiguous"]);
    }

    // --- bodies that cannot be read one way

    [Fact]
    public async Task A_body_declared_too_large_is_refused_413_never_allowed_unread()
    {
        var (context, session) = await SendAsync("POST", "/billing/refunds", "{\"amount\":50,\"pad\":\"" + new string('x', 3000) + "\"}");

        Assert.False(_reachedNext);
        Assert.Equal(413, context.Response.StatusCode);
        var problem = Members(Problem(context));
        Assert.Equal("urn:airlock:problem:body-too-large", problem["type"]);
        Assert.Equal("large-refunds", problem["rule"]);
        Assert.StartsWith("the request body is 30", problem["detail"], StringComparison.Ordinal);
        Assert.Equal(session.Id.ToString(), problem["sessionId"]);
        Assert.Equal("body-too-large", session.Error);
        Assert.Equal(PolicyAction.Deny, session.Decision!.Value.Action);
        Assert.False(session.Decision.Value.NeedsBody);
        var denied = Assert.Single(await _stage.EventsAsync(session.Id));
        Assert.Equal((AuditKinds.RequestDenied, "denied", "large-refunds"), (denied.Kind, denied.Outcome, denied.Rule));
        Assert.Equal(new Dictionary<string, string> { ["reason"] = "body-too-large" }, denied.Detail);
    }

    [Fact]
    public async Task A_streamed_body_past_the_limit_is_refused_413()
    {
        var (context, _) = await SendAsync("POST", "/billing/refunds", "{\"amount\":50,\"pad\":\"" + new string('x', 3000) + "\"}", declareLength: false);

        Assert.Equal(413, context.Response.StatusCode);
        Assert.Equal("the request body is larger than the 2048 bytes inspected", Problem(context).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_body_in_an_encoding_the_gateway_cannot_decode_is_refused_415()
    {
        var (context, session) = await SendAsync("POST", "/billing/refunds", "{\"amount\":50}", contentEncoding: "zstd");

        Assert.Equal(415, context.Response.StatusCode);
        Assert.Equal("urn:airlock:problem:unsupported-content-encoding", Problem(context).GetProperty("type").GetString());
        Assert.Equal("unsupported-content-encoding", Assert.Single(await _stage.EventsAsync(session.Id)).Detail["reason"]);
    }

    [Fact]
    public async Task A_body_in_another_charset_is_refused_415_naming_it()
    {
        var (context, session) = await SendAsync("POST", "/billing/refunds", "{\"amount\":50,\"+AGEAbQBvAHUAbgB0-\":5000}", "application/json; charset=utf-7");

        Assert.False(_reachedNext);
        Assert.Equal(415, context.Response.StatusCode);
        var problem = Members(Problem(context));
        Assert.Equal("urn:airlock:problem:unsupported-charset", problem["type"]);
        Assert.Equal("utf-7", problem["charset"]);
        Assert.Equal("large-refunds", problem["rule"]);
        Assert.StartsWith("the body is declared in charset 'utf-7'", problem["detail"], StringComparison.Ordinal);
        Assert.Equal("unsupported-charset", session.Error);
        Assert.Equal(PolicyAction.Deny, session.Decision!.Value.Action);
        var denied = Assert.Single(await _stage.EventsAsync(session.Id));
        Assert.Equal(new Dictionary<string, string> { ["reason"] = "unsupported-charset" }, denied.Detail);
    }

    [Fact]
    public async Task A_body_that_reads_two_ways_without_a_charset_names_none()
    {
        var (context, _) = await SendAsync("POST", "/billing/refunds", bytes: [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00]);

        Assert.Equal(415, context.Response.StatusCode);
        var problem = Members(Problem(context));
        Assert.False(problem.ContainsKey("charset"));
        Assert.Equal("large-refunds", problem["rule"]);
    }

    [Fact]
    public async Task A_multipart_body_that_does_not_split_is_refused_400()
    {
        var (context, session) = await SendAsync("POST", "/billing/refunds", "--b\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n50", "multipart/form-data; boundary=b");

        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal("urn:airlock:problem:invalid-body", Problem(context).GetProperty("type").GetString());
        Assert.Equal("invalid-body", Assert.Single(await _stage.EventsAsync(session.Id)).Detail["reason"]);
    }

    // --- questions about masked values

    [Fact]
    public async Task A_query_about_a_masked_field_is_refused_403_masked_field_query()
    {
        var (context, session) = await SendAsync("GET", "/crm/contacts", query: "ssn_like=%5E1");

        Assert.False(_reachedNext);
        Assert.Equal(403, context.Response.StatusCode);
        var problem = Members(Problem(context));
        Assert.Equal("urn:airlock:problem:masked-field-query", problem["type"]);
        Assert.Equal("ssn_like", problem["parameter"]);
        Assert.Equal("ssn", problem["masked"]);
        Assert.False(problem.ContainsKey("rule"));
        Assert.Equal("masked-field-query", session.Error);
        var denied = Assert.Single(await _stage.EventsAsync(session.Id));
        Assert.Equal((AuditKinds.RequestDenied, "reads"), (denied.Kind, denied.Rule));
        Assert.Equal(new Dictionary<string, string> { ["reason"] = "masked-field-query", ["masked"] = "ssn" }, denied.Detail);
    }

    [Fact]
    public async Task A_body_about_a_masked_field_is_refused_though_no_rule_reads_the_body()
    {
        var (context, _) = await SendAsync("POST", "/crm/search", "{\"filter\":{\"ssn\":\"123\"}}");

        Assert.False(_reachedNext);
        Assert.Equal(403, context.Response.StatusCode);
        Assert.Equal("ssn", Problem(context).GetProperty("masked").GetString());
    }

    [Fact]
    public async Task A_chunked_body_about_a_masked_field_is_read_too()
    {
        var (context, _) = await SendAsync("POST", "/crm/search", "{\"ssn\":\"123\"}", declareLength: false,
            setUp: c => c.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(true)));

        Assert.Equal(403, context.Response.StatusCode);
        Assert.Equal("ssn", Problem(context).GetProperty("masked").GetString());
    }

    // A GET that carries a body: no rule reads it (only a POST's is read for a _method field), so
    // only the connection's refusal of masked-field questions reads it, whether its length is
    // declared or it comes chunked.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_on_a_get_about_a_masked_field_is_refused(bool declareLength)
    {
        var (context, session) = await SendAsync("GET", "/crm/search", "{\"ssn\":\"123\"}", declareLength: declareLength,
            setUp: c => c.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(true)));

        Assert.False(_reachedNext);
        Assert.Equal(403, context.Response.StatusCode);
        Assert.Equal("ssn", Problem(context).GetProperty("masked").GetString());
        Assert.Equal("masked-field-query", session.Error);
    }

    [Fact]
    public async Task A_request_that_can_have_no_body_is_not_read_for_masked_fields()
    {
        // A GET: a POST with a JSON body is read for its methods rule (a _method field in it).
        var (context, session) = await SendAsync("GET", "/crm/search", "{\"ssn\":\"123\"}", declareLength: false,
            setUp: c => c.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(false)));

        Assert.True(_reachedNext);
        Assert.Equal(PolicyAction.Allow, session.Decision!.Value.Action);
        Assert.Equal(200, context.Response.StatusCode);
    }

    [Fact]
    public async Task An_empty_declared_body_is_not_read_for_masked_fields()
    {
        var (_, session) = await SendAsync("POST", "/crm/search", bytes: [], contentType: "application/json; charset=utf-7");

        Assert.True(_reachedNext);
        Assert.Equal(PolicyAction.Allow, session.Decision!.Value.Action);
    }

    [Fact]
    public async Task A_body_without_masked_fields_goes_on_unchanged()
    {
        var body = "{\"name\":\"Ada\"}";

        var (_, session) = await SendAsync("POST", "/crm/search", body);

        Assert.Equal(PolicyAction.Allow, session.Decision!.Value.Action);
        Assert.Equal(Encoding.UTF8.GetBytes(body), _forwarded);
        Assert.Equal(AuditKinds.RequestAllowed, Assert.Single(_trailWhenForwarded!).Kind);
    }

    [Fact]
    public async Task A_denied_request_on_a_masking_connection_is_denied_for_the_rule_first()
    {
        var (context, _) = await SendAsync("DELETE", "/crm/contacts", query: "ssn=1");

        Assert.Equal("urn:airlock:problem:denied", Problem(context).GetProperty("type").GetString());
    }

    // --- a decision that cannot be recorded is not acted on

    [Fact]
    public async Task An_allowed_request_the_trail_cannot_record_is_not_sent()
    {
        await _stage.StopAuditAsync();

        var (context, session) = await SendAsync("GET", "/billing/invoices");

        Assert.False(_reachedNext);
        Assert.Equal(503, context.Response.StatusCode);
        var problem = Members(Problem(context));
        Assert.Equal("urn:airlock:problem:audit-unavailable", problem["type"]);
        Assert.Equal("the gateway cannot record this request in its audit trail, so it does not act on it; try again later", problem["detail"]);
        Assert.Equal(session.Id.ToString(), problem["sessionId"]);
        Assert.Equal("audit-unavailable", session.Error);
    }

    [Fact]
    public async Task A_denial_the_trail_cannot_record_is_answered_503()
    {
        await _stage.StopAuditAsync();

        var (context, session) = await SendAsync("DELETE", "/billing/invoices/1");

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("audit-unavailable", session.Error);
    }

    [Fact]
    public async Task A_refusal_the_trail_cannot_record_is_answered_503()
    {
        await _stage.StopAuditAsync();

        var (context, session) = await SendAsync("POST", "/billing/refunds", "{\"amount\":50}", "application/json; charset=utf-7");

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("urn:airlock:problem:audit-unavailable", Problem(context).GetProperty("type").GetString());
        Assert.Equal("audit-unavailable", session.Error);
        Assert.Equal(PolicyAction.Deny, session.Decision!.Value.Action);
    }

    private sealed class BodyDetection(bool canHaveBody) : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody { get; } = canHaveBody;
    }
}
