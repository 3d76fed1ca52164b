using Airlock.Gateway.Policy;
using static Airlock.Gateway.Tests.Policy.PolicyFixture;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>Which responses a guardrail blocks: the requests it is scoped to (an ambiguous one in
/// scope), the statuses and content types it names (a type clients may read several ways in
/// scope), and what it finds in headers and body.</summary>
public class ResponseGuardrailTests
{
    // Compiled per test, not once per class: mutation testing runs many mutants in one test
    // process, and a policy compiled under one mutant would decide the next mutant's tests.
    private readonly CompiledPolicy Policy = Compile("""
        rules:
          - name: reads
            when: { methods: [GET] }
            action: allow
        guardrails:
          - name: billing-cards
            when: { connections: [billing], query: { limit: { lte: 100 } } }
            response: { detectors: [payment-card, iban] }
          - name: server-errors
            response: { status: [500, 502] }
          - name: json-or-text
            response: { contentTypes: [application/json, text/*] }
          - name: secret-word
            response: { bodyMatches: "s[e3]cret" }
          - name: secret-cards
            response: { bodyMatches: "card", detectors: [payment-card] }
          - name: html-errors
            response: { status: [500], contentTypes: [text/html] }
          - name: admin-errors
            when: { paths: [/billing/admin/**] }
            response: { status: [500] }
        """);

    private ResponseGuardrail Guardrail(string name) => Policy.Guardrails.Single(g => g.Name == name);

    [Theory]
    [InlineData("/billing/v1/invoices", "limit=50", true)]
    [InlineData("/billing/v1/invoices", "limit=500", false)]
    [InlineData("/billing/v1/invoices", "limit=50&limit=500", true)]
    [InlineData("/crm/contacts", "limit=50", false)]
    public void A_guardrail_applies_to_the_requests_its_when_holds_for_and_to_ambiguous_ones(string path, string query, bool applies)
    {
        Assert.Equal(applies, Guardrail("billing-cards").AppliesTo(Request("GET", path, query)));
    }

    [Theory]
    [InlineData("/billing/admin/users")]
    [InlineData("/billing/ADMIN/users")]
    [InlineData("/Billing/Admin/Users")]
    public void A_guardrail_scoped_to_paths_applies_in_any_letter_case_as_a_deny_rule_does(string path)
    {
        Assert.True(Guardrail("admin-errors").AppliesTo(Request("GET", path)));
        Assert.False(Guardrail("admin-errors").AppliesTo(Request("GET", "/billing/users")));
    }

    [Fact]
    public void A_guardrail_without_when_applies_to_every_request()
    {
        Assert.True(Guardrail("server-errors").AppliesTo(Request("DELETE", "/crm/contacts/1")));
        Assert.Equal(["server-errors", "json-or-text", "secret-word", "secret-cards", "html-errors"],
            Policy.GuardrailsFor(Request("GET", "/crm/contacts")).Select(g => g.Name));
    }

    [Theory]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(200, false)]
    [InlineData(501, false)]
    public void A_status_guardrail_matches_its_statuses(int status, bool matches)
    {
        Assert.Equal(matches, Guardrail("server-errors").StatusAndTypeMatch(status, "application/json"));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("Application/JSON; charset=utf-8")]
    [InlineData(" application/json ;charset=utf-8")]
    [InlineData("text/plain")]
    [InlineData("text/html; charset=utf-8")]
    [InlineData("TEXT/CSV")]
    public void A_content_type_guardrail_matches_its_types_and_whole_types(string contentType)
    {
        Assert.True(Guardrail("json-or-text").StatusAndTypeMatch(200, contentType));
    }

    [Theory]
    [InlineData("application/json-seq")]
    [InlineData("application/jsonp")]
    [InlineData("application/xml")]
    [InlineData("textual/plain")]
    [InlineData("image/png")]
    public void A_content_type_guardrail_leaves_other_types_alone(string contentType)
    {
        Assert.False(Guardrail("json-or-text").StatusAndTypeMatch(200, contentType));
    }

    [Theory]
    [InlineData("text/html, application/json")]
    [InlineData("image/png, image/gif")]
    [InlineData("json")]
    [InlineData("")]
    [InlineData("; charset=utf-8")]
    public void A_content_type_clients_may_read_several_ways_is_in_scope(string contentType)
    {
        Assert.True(Guardrail("json-or-text").StatusAndTypeMatch(200, contentType));
        Assert.True(Guardrail("html-errors").StatusAndTypeMatch(500, contentType));
    }

    [Fact]
    public void A_response_without_a_content_type_is_not_of_the_types_named()
    {
        Assert.False(Guardrail("json-or-text").StatusAndTypeMatch(200, null));
    }

    [Fact]
    public void Status_and_content_type_must_both_hold()
    {
        var guardrail = Guardrail("html-errors");

        Assert.True(guardrail.StatusAndTypeMatch(500, "text/html"));
        Assert.False(guardrail.StatusAndTypeMatch(200, "text/html"));
        Assert.False(guardrail.StatusAndTypeMatch(500, "application/json"));
        Assert.False(guardrail.StatusAndTypeMatch(200, "text/html, application/json"));
    }

    [Fact]
    public void A_guardrail_on_the_body_alone_matches_every_status_and_type()
    {
        Assert.True(Guardrail("secret-word").StatusAndTypeMatch(204, null));
        Assert.True(Guardrail("billing-cards").StatusAndTypeMatch(200, "image/png"));
    }

    [Fact]
    public void Only_a_guardrail_on_the_body_needs_it()
    {
        Assert.Equal([false, false, true, true, false, true],
            new[] { "server-errors", "json-or-text", "secret-word", "secret-cards", "html-errors", "billing-cards" }.Select(n => Guardrail(n).NeedsBody));
    }

    [Theory]
    [InlineData("{\"card\":\"4111 1111 1111 1111\"}", true)]
    [InlineData("{\"iban\":\"NO9386011117947\"}", true)]
    [InlineData("{\"card\":\"4111 1111 1111 1112\"}", false)]
    [InlineData("{\"total\":\"100.00\"}", false)]
    public void A_detector_guardrail_blocks_a_body_any_of_its_detectors_finds_a_value_in(string body, bool blocks)
    {
        Assert.Equal(blocks, Guardrail("billing-cards").BodyMatchesText(body));
    }

    [Theory]
    [InlineData("the secret is out", true)]
    [InlineData("the s3cret is out", true)]
    [InlineData("nothing to see", false)]
    public void A_body_pattern_guardrail_blocks_a_body_it_matches(string body, bool blocks)
    {
        Assert.Equal(blocks, Guardrail("secret-word").BodyMatchesText(body));
    }

    [Theory]
    [InlineData("card 4111 1111 1111 1111", true)]
    [InlineData("4111 1111 1111 1111", false)]
    [InlineData("card 1234", false)]
    public void A_pattern_and_detectors_must_both_find_something(string body, bool blocks)
    {
        Assert.Equal(blocks, Guardrail("secret-cards").BodyMatchesText(body));
    }

    [Theory]
    [InlineData("Location: /cards/4111111111111111\n", true)]
    [InlineData("X-Debug: iban NO9386011117947\n", true)]
    [InlineData("Location: /cards/17\n", false)]
    public void Detectors_read_the_response_headers_too(string headers, bool trips)
    {
        Assert.Equal(trips, Guardrail("billing-cards").HeadersTrip(headers));
    }

    [Fact]
    public void A_guardrail_without_detectors_is_never_tripped_by_headers()
    {
        Assert.False(Guardrail("secret-word").HeadersTrip("X-Secret: secret 4111111111111111\n"));
    }
}
