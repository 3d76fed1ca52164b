using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Recording;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.FunctionalTests.Recording;

/// <summary>Every exchange recorded as the agent experienced it, replayable, and expired by policy.</summary>
public sealed class RecordingTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero));
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _upstream.Routes["/customers"] = async context =>
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers["X-Request-Id"] = "r-1";
            await context.Response.WriteAsync("{\"name\":\"Ada\",\"email\":\"ada@example.com\",\"note\":\"" + new string('n', 300) + "\"}");
        };
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Admin = "  adminGroups: [airlock-admins]\n  auditorGroups: [auditors]" }
            .Connection("crm", _upstream.BaseUri, """
                    masking:
                      detectors: [{ detector: email }]
                    recording:
                      maxBodyBytes: 1KiB
                      retentionDays: 30
                """)
            .Connection("bulk", _upstream.BaseUri, "    recording: { bodies: false }")
            .Connection("brief", _upstream.BaseUri, "    recording: { retentionDays: 1 }")
            .TrustIssuer(_idp.Issuer), _time);
        _key = await _gateway.CreateApiKeyAsync("crm-agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<(Guid Id, HttpResponseMessage Response)> PostAsync(string path, string body, params (string, string)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", _key);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await _gateway.Proxy.SendAsync(request);
        return ((await _gateway.SessionAsync(response)).Id, response);
    }

    private Task<ExchangeRecord> ExchangeAsync(Guid id) =>
        Eventually.GetAsync(() => _gateway.Store.GetExchangeAsync(id, CancellationToken.None), what: $"exchange {id}");

    [Fact]
    public async Task The_recording_holds_what_the_agent_saw_never_a_credential_or_a_masked_value()
    {
        var (id, response) = await PostAsync("/crm/v1/customers?limit=5&api_key=s3cr3t-in-query", "{\"lookup\":\"bob@example.com\"}",
            ("X-Api-Token", "t0ken-value"), ("Cookie", "sid=cookie-value"));
        var seen = await response.Content.ReadAsStringAsync();

        var exchange = await ExchangeAsync(id);

        Assert.Equal("limit=5&api_key=%5BWITHHELD%5D", exchange.Query);
        Assert.Contains(exchange.RequestHeaders, h => h.Key == "Authorization" && h.Value == RecordedHeaders.Withheld);
        Assert.Contains(exchange.RequestHeaders, h => h.Key == "X-Api-Token" && h.Value == RecordedHeaders.Withheld);
        Assert.Contains(exchange.RequestHeaders, h => h.Key == "Cookie" && h.Value == RecordedHeaders.Withheld);
        Assert.Equal("{\"lookup\":\"[REDACTED:EMAIL]\"}", Encoding.UTF8.GetString(exchange.RequestBody));
        Assert.Equal(seen, Encoding.UTF8.GetString(exchange.ResponseBody));
        Assert.Contains("[REDACTED:EMAIL]", seen, StringComparison.Ordinal);
        Assert.Contains(exchange.ResponseHeaders, h => h.Key.Equals("X-Request-Id", StringComparison.OrdinalIgnoreCase) && h.Value == "r-1");
        Assert.True(exchange.ResponseHeaders.Any(h => h.Key == "Airlock-Masked" && h.Value == "1"), string.Join("; ", exchange.ResponseHeaders));
        var everything = string.Join('\n', exchange.RequestHeaders.Concat(exchange.ResponseHeaders).Select(h => h.Value))
            + exchange.Query + Encoding.UTF8.GetString(exchange.RequestBody) + Encoding.UTF8.GetString(exchange.ResponseBody);
        foreach (var secret in new[] { _key, "s3cr3t-in-query", "t0ken-value", "cookie-value", "ada@example.com", "bob@example.com", GatewayConfig.UpstreamToken })
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Headers_are_recorded_as_the_agent_saw_them_and_only_credentials_are_withheld()
    {
        _upstream.Routes["/cors"] = async context =>
        {
            context.Response.Headers["Access-Control-Allow-Credentials"] = "true";
            context.Response.Headers["Access-Control-Allow-Headers"] = "Authorization, X-Api-Key";
            context.Response.Headers["Idempotency-Key"] = context.Request.Headers["Idempotency-Key"];
            context.Response.Headers.SetCookie = "sid=upstream-session-value; HttpOnly";
            context.Response.Headers["X-Upstream-Token"] = "opaque-upstream-value";
            context.Response.Headers["X-Build"] = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{}");
        };

        var (id, response) = await PostAsync("/crm/v1/cors", "{}", ("X-Api-Key", "agent-key-value"), ("Idempotency-Key", "refund-42"),
            ("Proxy-Authorization", "Basic cHJveHk6cGFzcw=="), ("X-Session-Id", "session-value"));
        Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());

        var exchange = await ExchangeAsync(id);
        string Recorded(IEnumerable<KeyValuePair<string, string>> headers, string name) =>
            headers.Single(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

        Assert.Equal("true", Recorded(exchange.ResponseHeaders, "Access-Control-Allow-Credentials"));
        Assert.Equal("Authorization, X-Api-Key", Recorded(exchange.ResponseHeaders, "Access-Control-Allow-Headers"));
        Assert.Equal("refund-42", Recorded(exchange.RequestHeaders, "Idempotency-Key"));
        Assert.Equal("refund-42", Recorded(exchange.ResponseHeaders, "Idempotency-Key"));
        Assert.Equal(RecordedHeaders.Withheld, Recorded(exchange.RequestHeaders, "X-Api-Key"));
        Assert.Equal(RecordedHeaders.Withheld, Recorded(exchange.RequestHeaders, "Proxy-Authorization"));
        Assert.Equal(RecordedHeaders.Withheld, Recorded(exchange.RequestHeaders, "X-Session-Id"));
        Assert.Equal(RecordedHeaders.Withheld, Recorded(exchange.ResponseHeaders, "Set-Cookie"));
        Assert.Equal(RecordedHeaders.Withheld, Recorded(exchange.ResponseHeaders, "X-Upstream-Token"));
        Assert.Equal("[REDACTED:JWT]", Recorded(exchange.ResponseHeaders, "X-Build"));
    }

    [Fact]
    public async Task A_secret_in_the_url_or_a_plainly_named_header_reaches_the_upstream_but_no_record()
    {
        // A GitHub token an agent put in the path, in an innocently named query parameter and
        // in an innocently named header: the upstream needs them; nothing the gateway writes
        // down may keep them.
        const string Token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        var (id, response) = await PostAsync($"/crm/v1/hooks/{Token}/ping?q={Token}", "{}", ("X-Forwarded-Repo", Token));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Token, _upstream.Received[^1].RawTarget, StringComparison.Ordinal);

        var session = await _gateway.Store.GetSessionAsync(id, CancellationToken.None);
        var exchange = await ExchangeAsync(id);
        var events = (await _gateway.Store.QueryAuditEventsAsync(new(), CancellationToken.None)).Where(e => e.SessionId == id).ToList();

        Assert.Equal("/crm/v1/hooks/[REDACTED:GITHUB-TOKEN]/ping", session!.Path);
        Assert.Equal("q=[REDACTED:GITHUB-TOKEN]", exchange.Query);
        Assert.Contains(exchange.RequestHeaders, h => h.Key == "X-Forwarded-Repo" && h.Value == "[REDACTED:GITHUB-TOKEN]");
        Assert.Equal("/crm/v1/hooks/[REDACTED:GITHUB-TOKEN]/ping", Assert.Single(events).Target!.Path);
        Assert.DoesNotContain(Token, System.Text.Json.JsonSerializer.Serialize(events), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_cap_is_cut_with_a_marker_and_the_transcript_says_so()
    {
        var big = "{\"text\":\"" + new string('x', 3000) + "\"}";
        var (id, _) = await PostAsync("/crm/v1/anything", big);
        var exchange = await ExchangeAsync(id);

        Assert.True(exchange.RequestTruncated);
        Assert.Equal(1024, exchange.RequestBody.Length);
        var transcript = Transcript.Format((await _gateway.Store.GetSessionAsync(id, CancellationToken.None))!, exchange);
        Assert.Contains($"[truncated: 1,024 of {big.Length:N0} bytes recorded]", transcript, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_metadata_only_connection_keeps_the_session_and_no_headers_or_bodies()
    {
        var (id, response) = await PostAsync("/bulk/v1/customers", "{\"lookup\":\"x\"}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(await _gateway.Store.GetSessionAsync(id, CancellationToken.None));
        Assert.Null(await _gateway.Store.GetExchangeAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Past_its_retention_an_exchange_loses_its_bodies_and_the_session_stays()
    {
        var (brief, _) = await PostAsync("/brief/v1/customers", "{}");
        var (kept, _) = await PostAsync("/crm/v1/customers", "{}");
        await ExchangeAsync(brief);
        await ExchangeAsync(kept);

        // A day and an hour on, past the brief connection's one day and within crm's thirty: the
        // hourly sweep, on the same clock, deletes the one and keeps the other. (Advancing the
        // fake clock steps through every timer's period, so it takes a few seconds.)
        _time.Advance(TimeSpan.FromHours(25));
        await Eventually.GetAsync(async () => await _gateway.Store.GetExchangeAsync(brief, CancellationToken.None) is null ? "gone" : null,
            what: "the expired exchange to be deleted");

        Assert.NotNull(await _gateway.Store.GetSessionAsync(brief, CancellationToken.None));
        Assert.NotNull(await _gateway.Store.GetExchangeAsync(kept, CancellationToken.None));
        Assert.Equal(0, await _gateway.Services.GetRequiredService<RecordingRetention>().SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Many_concurrent_requests_give_one_recording_each()
    {
        const int count = 200;
        var ids = await Task.WhenAll(Enumerable.Range(0, count).Select(async i => (await PostAsync($"/crm/v1/customers?n={i}", $"{{\"n\":{i}}}")).Id));

        var recorded = await Task.WhenAll(ids.Select(ExchangeAsync));

        Assert.Equal(count, recorded.Select(r => r.SessionId).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"n={i}").Order(), recorded.Select(r => r.Query!).Order());
    }

    [Fact]
    public async Task Sessions_show_replays_the_bodies_exactly_as_they_were_and_indents_json_only_on_request()
    {
        const string Sent = "{\"a\":1,\"name\":\"Zoë <z>\"}";
        var (id, response) = await PostAsync("/crm/v1/customers?limit=1", Sent);
        var got = await response.Content.ReadAsStringAsync();
        await ExchangeAsync(id);
        var config = Path.Combine(_gateway.Directory, "airlock.yaml");

        var exact = new StringWriter();
        var exit = await AirlockCli.RunAsync(["sessions", "show", id.ToString(), "--config", config], exact, new StringWriter());
        var indented = new StringWriter();
        await AirlockCli.RunAsync(["sessions", "show", id.ToString(), "--config", config, "--pretty"], indented, new StringWriter());

        Assert.Equal(0, exit);
        var text = exact.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Contains("POST /crm/v1/customers?limit=1 HTTP/1.1\n", text, StringComparison.Ordinal);
        Assert.Contains("Authorization: [WITHHELD]", text, StringComparison.Ordinal);
        Assert.Contains("HTTP/1.1 200\n", text, StringComparison.Ordinal);
        // Both bodies on lines of their own, byte for byte what was sent and what the agent got:
        // compact JSON stays compact.
        Assert.StartsWith("{\"name\":\"Ada\",\"email\":\"[REDACTED:EMAIL]\"", got, StringComparison.Ordinal);
        Assert.Contains("\n\n" + Sent + "\n", text, StringComparison.Ordinal);
        Assert.Contains("\n\n" + got + "\n", text, StringComparison.Ordinal);
        // --pretty indents them, and keeps the strings' characters as they are.
        var pretty = indented.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Contains("{\n  \"a\": 1,\n  \"name\": \"Zoë <z>\"\n}\n", pretty, StringComparison.Ordinal);
        Assert.Contains("\n  \"email\": \"[REDACTED:EMAIL]\",\n", pretty, StringComparison.Ordinal);
        Assert.DoesNotContain(got, pretty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auditors_list_sessions_and_read_recordings_on_the_admin_api()
    {
        var (id, seen) = await PostAsync("/crm/v1/customers", "{}");
        await ExchangeAsync(id);
        var token = await _idp.TokenAsync("auditor");

        using var list = await _gateway.AdminAsync(HttpMethod.Get, "/api/sessions?connection=crm&status=200&limit=5", token);
        using var one = await _gateway.AdminAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
        using var body = await _gateway.AdminAsync(HttpMethod.Get, $"/api/sessions/{id}/response", token);
        using var bad = await _gateway.AdminAsync(HttpMethod.Get, "/api/sessions?status=abc", token);
        using var carol = await _gateway.AdminAsync(HttpMethod.Get, "/api/sessions", await _idp.TokenAsync("carol"));

        Assert.Contains(JsonNode.Parse(await list.Content.ReadAsStringAsync())!.AsArray(), s => (string?)s!["id"] == id.ToString());
        var detail = JsonNode.Parse(await one.Content.ReadAsStringAsync())!;
        Assert.Equal(1, (int)detail["session"]!["masked"]!);
        Assert.Equal("{}", (string?)detail["exchange"]!["request"]!["body"]);
        Assert.Equal(await seen.Content.ReadAsStringAsync(), await body.Content.ReadAsStringAsync());
        Assert.Equal("application/json", body.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, carol.StatusCode);
    }
}
