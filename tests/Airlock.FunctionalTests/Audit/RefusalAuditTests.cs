using System.Net;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.FunctionalTests.Reviews;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.FunctionalTests.Audit;

/// <summary>
/// Every refusal is on the audit trail: refusals before anyone is known (and rate-limited ones)
/// as counts written once a minute, so a flood cannot fill the disk; a known caller's refusal as
/// its own event; a response withheld after the request was allowed as <c>response.blocked</c>.
/// On a clock the test moves, so a minute passes when the test says so.
/// </summary>
public sealed class RefusalAuditTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - name: refunds
            when: { methods: [POST], paths: [/billing/v1/refunds] }
            action: review
            review: { approvers: [finance-approvers], hold: 30s }
          - { name: allow-all, action: allow }
        guardrails:
          - name: no-card-numbers
            when: { connections: [billing] }
            response: { detectors: [payment-card] }
        """;

    private const string Masking = """
            masking:
              detectors:
                - { detector: pii }
        """;

    /// <summary>A bit more than the minute refusals are counted over.</summary>
    private static readonly TimeSpan Minute = TimeSpan.FromSeconds(61);

    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow());
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy, PolicySettings = "  maxBodyBytes: 1KiB" }
            .Connection("billing", _upstream.BaseUri)
            .Connection("masked", _upstream.BaseUri, Masking)
            .Connection("limited", _upstream.BaseUri, "    rateLimit: { requests: 2, per: 1h }")
            .TrustIssuer(_idp.Issuer), _time);
        _key = await _gateway.CreateApiKeyAsync("agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<IReadOnlyList<AuditEvent>> EventsAsync() =>
        _gateway.Store.QueryAuditEventsAsync(new AuditQuery(Limit: 1000), CancellationToken.None);

    /// <summary>The refusal counts written so far, once there are at least <paramref name="atLeast"/>.</summary>
    private Task<List<AuditEvent>> CountsAsync(int atLeast) =>
        Eventually.GetAsync(async () => (await EventsAsync()).Where(e => e.Kind == "requests.refused").ToList() is var counts && counts.Count >= atLeast ? counts : null,
            what: $"{atLeast} refusal counts on the trail");

    private static AuditEvent CountOf(List<AuditEvent> counts, string problem, string reason) =>
        Assert.Single(counts, e => e.Detail["problem"] == problem && e.Detail["reason"] == reason);

    private static string SessionOf(HttpResponseMessage response) => Assert.Single(response.Headers.GetValues("Airlock-Session"));

    private async Task AssertChainVerifiesAsync()
    {
        var verified = await AuditStoreVerification.VerifyAsync(_gateway.Store, null, CancellationToken.None);
        Assert.True(verified.Valid, verified.Break?.Problem);
    }

    [Fact]
    public async Task Refusals_before_anyone_is_known_are_counted_by_reason_and_written_once_a_minute()
    {
        using var noCredential1 = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/a"));
        using var noCredential2 = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/b"));
        var old = await _gateway.CreateApiKeyAsync("old-agent", "agents");
        Assert.NotNull(await _gateway.Services.GetRequiredService<ApiKeyService>().RevokeAsync("old-agent", CancellationToken.None));
        using var revoked = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/c", old));
        var now = TimeProvider.System.GetUtcNow();
        var expiredToken = await _idp.SignAsync(new Dictionary<string, object>
        {
            ["iss"] = _idp.Issuer, ["sub"] = "billing-agent", ["aud"] = OidcProvider.Audience,
            ["iat"] = now.AddHours(-2).ToUnixTimeSeconds(), ["exp"] = now.AddHours(-1).ToUnixTimeSeconds(),
        });
        using var expired = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/d", expiredToken));
        var badTarget = await RawHttp.SendAsync(_gateway.ProxyUri, "/billing/a%2Fb", _key);
        var badMethod = await RawHttp.SendAsync(_gateway.ProxyUri, "/billing/v1/e", _key, method: "get");
        Assert.All(new[] { noCredential1, noCredential2, revoked, expired }, r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        Assert.Equal((400, 400), (badTarget.Status, badMethod.Status));

        // Counted, not yet written: the minute is not over.
        Assert.DoesNotContain(await EventsAsync(), e => e.Kind == "requests.refused");
        _time.Advance(Minute);
        var counts = await CountsAsync(5);

        Assert.Equal(5, counts.Count);
        var none = CountOf(counts, "unauthenticated", "no-credential");
        Assert.Equal(("2", "401", "refused"), (none.Detail["count"], none.Detail["status"], none.Outcome));
        Assert.Equal((SessionOf(noCredential1), SessionOf(noCredential2)), (none.Detail["firstSessionId"], none.Detail["lastSessionId"]));
        Assert.Equal("127.0.0.1=2", none.Detail["clients"]);
        Assert.Null(none.Actor);
        var key = CountOf(counts, "unauthenticated", "revoked-key");
        Assert.Equal(("1", "key:old-agent", SessionOf(revoked)), (key.Detail["count"], key.Detail["subject"], key.Detail["firstSessionId"]));
        Assert.Equal("1", CountOf(counts, "unauthenticated", "expired-token").Detail["count"]);
        var target = CountOf(counts, "invalid-request-target", "encoded-separator");
        Assert.Equal(("1", "400", badTarget.Headers["Airlock-Session"]), (target.Detail["count"], target.Detail["status"], target.Detail["firstSessionId"]));
        Assert.Equal(badMethod.Headers["Airlock-Session"], CountOf(counts, "invalid-method", "not-upper-case").Detail["firstSessionId"]);
        // Written when the minute ended, after the refusals it counts.
        Assert.All(counts, e => Assert.True(DateTimeOffset.Parse(e.Detail["lastAt"], System.Globalization.CultureInfo.InvariantCulture) < e.At));
        await AssertChainVerifiesAsync();
    }

    [Fact]
    public async Task A_flood_of_unauthenticated_requests_costs_a_few_events_whose_counts_add_up_to_the_flood()
    {
        var unknownKey = "alk_0123456789abcdef_" + new string('A', 43);
        async Task<int> FloodAsync(int anonymous, int withUnknownKey)
        {
            var sent = await Task.WhenAll(Enumerable.Range(0, anonymous + withUnknownKey).Select(async i =>
            {
                using var response = await _gateway.Proxy.SendAsync(TestGateway.Get($"/billing/v1/{i}", i < anonymous ? null : unknownKey));
                return response.StatusCode;
            }));
            Assert.All(sent, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
            return sent.Length;
        }

        var flooded = await FloodAsync(300, 100);
        _time.Advance(Minute);
        await CountsAsync(2);
        flooded += await FloodAsync(50, 0);
        _time.Advance(Minute);
        var counts = await CountsAsync(3);

        // One event per reason and minute, however many requests: 450 refusals, 3 events.
        Assert.Equal(3, counts.Count);
        Assert.Equal(flooded, counts.Sum(e => long.Parse(e.Detail["count"], System.Globalization.CultureInfo.InvariantCulture)));
        var first = counts.Take(2).ToDictionary(e => e.Detail["reason"], e => e.Detail["count"]);
        Assert.Equal(("300", "100"), (first["no-credential"], first["unknown-key"]));
        Assert.Equal(("no-credential", "50"), (counts[2].Detail["reason"], counts[2].Detail["count"]));
        await AssertChainVerifiesAsync();
    }

    [Fact]
    public async Task A_rate_limited_caller_is_named_in_its_count()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await _gateway.Proxy.SendAsync(TestGateway.Get($"/limited/v1/{i}", _key));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], statuses);
        _time.Advance(Minute);
        var limited = CountOf(await CountsAsync(1), "rate-limited", "connection-limit");

        Assert.Equal(("3", "429"), (limited.Detail["count"], limited.Detail["status"]));
        Assert.Equal(("key:agent", "apikey"), (limited.Actor!.Subject, limited.Actor.AuthMethod));
        Assert.Equal("limited", limited.Target!.Connection);
        await AssertChainVerifiesAsync();
    }

    [Fact]
    public async Task A_known_callers_refusal_is_its_own_event_on_the_trail_before_it_is_answered()
    {
        using var unknown = await _gateway.Proxy.SendAsync(TestGateway.Get("/nowhere/v1/x", _key));
        using var notTheirs = await _gateway.Proxy.SendAsync(TestGateway.Get($"/api/reviews/{Guid.NewGuid()}", _key));

        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (unknown.StatusCode, notTheirs.StatusCode));
        // No waiting: the event is durable before the refusal is answered.
        var refused = (await EventsAsync()).Where(e => e.Kind == "request.refused").ToList();
        Assert.Equal(2, refused.Count);
        Assert.Equal(Guid.Parse(SessionOf(unknown)), refused[0].SessionId);
        Assert.Equal(("unknown-connection", "404", "refused"), (refused[0].Detail["problem"], refused[0].Detail["status"], refused[0].Outcome));
        Assert.Equal((null, "GET", "/nowhere/v1/x"), (refused[0].Target!.Connection, refused[0].Target!.Method, refused[0].Target!.Path));
        Assert.Equal(Guid.Parse(SessionOf(notTheirs)), refused[1].SessionId);
        Assert.Equal("review-not-found", refused[1].Detail["problem"]);
        Assert.All(refused, e => Assert.Equal(("key:agent", "apikey"), (e.Actor!.Subject, e.Actor.AuthMethod)));
        await AssertChainVerifiesAsync();
    }

    [Fact]
    public async Task A_rate_limited_caller_flooding_unknown_connections_and_foreign_reviews_costs_a_few_events_whose_counts_add_up()
    {
        // The caller limit comes before anything that writes an event of its own: a known
        // caller's events are bounded by its limit, and the rest of its flood is counted.
        var gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy, TopLevel = "rateLimits:\n  perIdentity: { requests: 5, per: 1h }" }
            .Connection("billing", _upstream.BaseUri), _time);
        await using var _ = gateway;
        var key = await gateway.CreateApiKeyAsync("flooder", "agents");
        string Target(int i) => i % 2 == 0 ? $"/nope/{i}" : $"/api/reviews/{Guid.NewGuid()}";

        var statuses = new List<HttpStatusCode>();
        using (var allowed = await gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/customers", key)))
        {
            statuses.Add(allowed.StatusCode);
        }

        for (var i = 0; i < 254; i++)
        {
            using var response = await gateway.Proxy.SendAsync(TestGateway.Get(Target(i), key));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, .. Enumerable.Repeat(HttpStatusCode.NotFound, 4), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 250)], statuses);
        _time.Advance(Minute);
        var events = await Eventually.GetAsync(async () =>
            (await gateway.Store.QueryAuditEventsAsync(new AuditQuery(Limit: 1000), CancellationToken.None)) is var all && all.Any(e => e.Kind == "requests.refused") ? all : null,
            what: "the refusal count on the trail");

        var callers = events.Where(e => e.Actor?.Subject == "key:flooder").ToList();
        Assert.Equal(["request.allowed", "request.refused", "request.refused", "request.refused", "request.refused", "requests.refused"], callers.Select(e => e.Kind));
        var limited = callers[^1];
        Assert.Equal(("rate-limited", "caller-limit", "250"), (limited.Detail["problem"], limited.Detail["reason"], limited.Detail["count"]));
        Assert.Equal(statuses.Count, callers.Sum(e => e.Kind == "requests.refused" ? long.Parse(e.Detail["count"], System.Globalization.CultureInfo.InvariantCulture) : 1));
        Assert.True((await AuditStoreVerification.VerifyAsync(gateway.Store, null, CancellationToken.None)).Valid);
    }

    [Fact]
    public async Task A_request_too_large_to_hold_for_review_is_denied_on_the_trail()
    {
        using var refused = await _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", $"{{\"note\":\"{new string('x', 2048)}\"}}", _key));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        var denied = Assert.Single(await EventsAsync(), e => e.SessionId == Guid.Parse(SessionOf(refused)));
        Assert.Equal(("request.denied", "refunds", "body-too-large"), (denied.Kind, denied.Rule, denied.Detail["reason"]));
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task A_response_a_guardrail_blocks_is_recorded_after_the_request_was_allowed()
    {
        using var blocked = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/card", _key));

        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        var story = (await EventsAsync()).Where(e => e.SessionId == Guid.Parse(SessionOf(blocked))).ToList();
        Assert.Equal(["request.allowed", "response.blocked"], story.Select(e => e.Kind));
        var block = story[1];
        Assert.Equal(("blocked", "allow-all", "/billing/v1/card"), (block.Outcome, block.Rule, block.Target!.Path));
        Assert.Equal(("response-blocked", "no-card-numbers", "200"), (block.Detail["problem"], block.Detail["guardrail"], block.Detail["upstreamStatus"]));
        Assert.Equal("key:agent", block.Actor!.Subject);
        await AssertChainVerifiesAsync();
    }

    [Fact]
    public async Task A_response_that_cannot_be_masked_is_recorded_as_withheld()
    {
        using var withheld = await _gateway.Proxy.SendAsync(TestGateway.Get("/masked/v1/document?content-type=application/pdf", _key));

        Assert.Equal(HttpStatusCode.BadGateway, withheld.StatusCode);
        var story = (await EventsAsync()).Where(e => e.SessionId == Guid.Parse(SessionOf(withheld))).ToList();
        Assert.Equal(["request.allowed", "response.blocked"], story.Select(e => e.Kind));
        Assert.Equal(("response-not-maskable", "200"), (story[1].Detail["problem"], story[1].Detail["upstreamStatus"]));
        Assert.False(story[1].Detail.ContainsKey("guardrail"));
    }

    [Fact]
    public async Task Counts_not_yet_written_are_written_when_the_gateway_stops_and_the_last_checkpoint_covers_them()
    {
        var directory = Directory.CreateTempSubdirectory("airlock-refusals-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "audit-key.pem"), AuditSigner.Generate().PrivatePem);
        var gateway = await TestGateway.StartAsync(new GatewayConfig { Audit = "  signingKey: { file: ./audit-key.pem }" }
            .Connection("billing", _upstream.BaseUri), _time, directory: directory);
        using (var refused = await gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/a")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await gateway.StopAsync();
        IReadOnlyList<AuditEvent> events;
        long signed;
        await using (var store = new Gateway.Storage.Sqlite.SqliteStore(Path.Combine(directory, "airlock.db"), TimeProvider.System))
        {
            events = await store.QueryAuditEventsAsync(new AuditQuery(Limit: 1000), CancellationToken.None);
            signed = (await store.ListAuditCheckpointsAsync(CancellationToken.None)).Max(c => c.Count);
        }

        var count = Assert.Single(events, e => e.Kind == "requests.refused");
        Assert.Equal(("no-credential", "1"), (count.Detail["reason"], count.Detail["count"]));
        // Written before the gateway signed its head for the last time.
        Assert.True(signed >= count.Seq, $"the last checkpoint covers {signed} events; the count is event {count.Seq}");
    }
}
