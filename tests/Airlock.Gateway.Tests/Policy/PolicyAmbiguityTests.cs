using Airlock.Gateway.Policy;
using static Airlock.Gateway.Tests.Policy.PolicyFixture;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>Requests an upstream could read differently from policy: each counts against itself.</summary>
public class PolicyAmbiguityTests
{
    // Compiled per test, not once per class: mutation testing runs many mutants in one test
    // process, and a policy compiled under one mutant would decide the next mutant's tests.
    private readonly CompiledPolicy Policy = Compile("""
        rules:
          - { name: deny-dangerous, when: { connections: [svc], query: { mode: dangerous } }, action: deny }
          - { name: no-debug, when: { connections: [api], paths: [/api/run], body: { $.debug: { exists: false } } }, action: allow }
          - { name: small-items, when: { connections: [api], paths: [/api/orders], body: { "$.items[*].qty": { lte: 10 } } }, action: allow }
          - { name: prod-review, when: { connections: [api], paths: [/api/deploy], body: { $.environment: production } }, action: review, review: { approvers: [ops] } }
          - { name: any-deploy, when: { connections: [api], paths: [/api/deploy] }, action: allow }
          - { name: no-sql, when: { connections: [notes], bodyMatches: "(?i)drop\\s+table" }, action: deny }
          - { name: notes, when: { connections: [notes] }, action: allow }
          - { name: small-refunds, when: { connections: [api], paths: [/api/refunds], body: { $.amount: { lte: 100 } } }, action: allow }
          - { name: kind-safe, when: { connections: [api], paths: [/api/kind], body: { $.kind: safe } }, action: allow }
          - { name: kind-danger, when: { connections: [api], paths: [/api/kind], body: { $.kind: dangerous } }, action: deny }
          - { name: reads, when: { connections: [svc], methods: [GET] }, action: allow }
          - { name: svc-all, when: { connections: [svc] }, action: allow }
          - { name: no-deletes, when: { methods: [DELETE] }, action: deny }
        """);

    [Theory]
    [InlineData("mode=dangerous", "deny-dangerous")]
    [InlineData("a=1;mode=dangerous", "deny-dangerous")]
    [InlineData("MODE=dangerous", "deny-dangerous")]
    [InlineData("a=1;b=2", "reads")]
    [InlineData("mode=safe", "reads")]
    public void Query_separators_and_name_case_cannot_hide_a_parameter(string query, string rule)
    {
        Assert.Equal(rule, Decide(Policy, Request("GET", "/svc/x", query: query)).RuleName);
    }

    [Theory]
    [InlineData("{\"run\":1}", "no-debug")]
    [InlineData("{\"Debug\":true}", "(default)")]
    [InlineData("{\"items\":[{\"qty\":1},{\"qty\":10}]}", "small-items")]
    [InlineData("{\"items\":[{\"qty\":1},{\"QTY\":5000}]}", "(default)")]
    [InlineData("{\"items\":{\"0\":{\"qty\":5000}}}", "(default)")]
    public void Allow_rules_do_not_match_keys_an_upstream_could_read_in_another_case(string body, string rule)
    {
        var path = body.Contains("items", StringComparison.Ordinal) ? "/api/orders" : "/api/run";
        Assert.Equal(rule, Decide(Policy, Request("POST", path, body: body)).RuleName);
    }

    [Theory]
    [InlineData("{\"environment\":\"production\"}", "prod-review")]
    [InlineData("{\"environment\":[\"production\"]}", "prod-review")]
    [InlineData("{\"environment\":{\"name\":\"production\"}}", "prod-review")]
    [InlineData("{\"environment\":\"staging\"}", "any-deploy")]
    public void A_container_compared_with_a_value_has_no_single_reading(string body, string rule)
    {
        Assert.Equal(rule, Decide(Policy, Request("POST", "/api/deploy", body: body)).RuleName);
    }

    [Theory]
    [InlineData("{\"note\":\"DROP\\u0020TABLE users\"}", "no-sql")]
    [InlineData("note=DROP+TABLE+users", "no-sql")]
    [InlineData("note=DROP%20TABLE%20users", "no-sql")]
    [InlineData("{\"note\":\"a drop of tea at the table\"}", "notes")]
    public void Body_expressions_see_the_body_as_an_upstream_decodes_it(string body, string rule)
    {
        Assert.Equal(rule, Decide(Policy, Request("POST", "/notes/x", body: body)).RuleName);
    }

    [Theory]
    [InlineData("{\"amount\":100}", "small-refunds")]
    [InlineData("{\"amount\":100.00000000000000000000000000001}", "(default)")]
    [InlineData("{\"amount\":99.99999999999999999999999999}", "small-refunds")]
    [InlineData("{\"amount\":1e2}", "small-refunds")]
    public void Numbers_beyond_exact_comparison_are_not_allowed(string body, string rule)
    {
        Assert.Equal(rule, Decide(Policy, Request("POST", "/api/refunds", body: body)).RuleName);
    }

    [Theory]
    [InlineData("{\"kind\":\"safe\",\"\\u212Aind\":\"dangerous\"}")]
    [InlineData("{\"\\u212Aind\":\"dangerous\"}")]
    [InlineData("{\"\\u212Aind\":\"dangerous\",\"kind\":\"safe\"}")]
    public void Keys_folded_alike_by_other_runtimes_cannot_slip_past_a_deny_rule(string body)
    {
        Assert.Equal("kind-danger", Decide(Policy, Request("POST", "/api/kind", body: body)).RuleName);
    }

    [Fact]
    public void A_string_that_is_not_valid_unicode_makes_the_body_opaque_not_a_crash()
    {
        var facts = Request("POST", "/api/kind", body: "{\"kind\":\"\\ud800\"}");

        var decision = Decide(Policy, facts);

        Assert.Equal(BodyKind.Opaque, facts.Body!.Kind);
        Assert.Equal("kind-danger", decision.RuleName);
    }

    [Theory]
    [InlineData("_method=DELETE")]
    [InlineData("_METHOD=delete")]
    [InlineData("%5Fmethod=DELETE")]
    [InlineData("a=1&_%6Dethod=DELETE")]
    [InlineData("%5F%6D%65%74%68%6F%64=DELETE")]
    public void A_method_override_parameter_makes_the_method_ambiguous(string query)
    {
        Assert.Equal("no-deletes", Decide(Policy, Request("POST", "/svc/x", query: query)).RuleName);
    }

    // Each is a JSON value with no field "environment", and a form whose field is production:
    // express, Python and ASP.NET read a body declared a form by its form fields.
    [Theory]
    [InlineData("application/x-www-form-urlencoded", "\"&environment=production&\"", "prod-review")]
    [InlineData("application/x-www-form-urlencoded; charset=utf-8", "[\"&environment=production&\"]", "prod-review")]
    [InlineData("APPLICATION/X-WWW-FORM-URLENCODED", "{\"a\":\"&environment=production&\"}", "prod-review")]
    [InlineData("multipart/form-data; boundary=x", "{\"environment\":\"staging\"}", "prod-review")]
    [InlineData("application/json", "\"&environment=production&\"", "any-deploy")]
    [InlineData("text/plain", "{\"environment\":\"staging\"}", "any-deploy")]
    public void A_body_declared_a_form_is_not_read_as_json_even_when_it_parses(string contentType, string body, string rule)
    {
        var facts = Request("POST", "/api/deploy", body: body, headers: new() { ["Content-Type"] = [contentType] });

        Assert.Equal(rule, Decide(Policy, facts).RuleName);
    }

    // Rack (Rails) and Symfony run the _method of a POST's form instead of POST, Laravel that of
    // its JSON body too: a methods condition cannot be decided from the method line alone.
    [Theory]
    [InlineData("application/x-www-form-urlencoded", "a=1&_method=DELETE", "no-deletes")]
    [InlineData("application/x-www-form-urlencoded", "_%6Dethod=DELETE", "no-deletes")]
    [InlineData("application/json", "{\"_method\":\"DELETE\"}", "no-deletes")]
    [InlineData("application/json", "{\"id\":7,\"_method\":\"DELETE\"}", "no-deletes")]
    [InlineData("application/vnd.api+json", "{\"\\u005fMETHOD\":\"delete\"}", "no-deletes")]
    [InlineData("application/json", "{\"payment_method\":\"card\"}", "svc-all")]
    [InlineData("application/x-www-form-urlencoded", "payment_method=card", "svc-all")]
    [InlineData("text/plain", "_method=DELETE", "svc-all")]
    public void A_method_override_in_a_post_body_makes_the_method_ambiguous(string contentType, string body, string rule)
    {
        var facts = Request("POST", "/svc/x", headers: new() { ["Content-Type"] = [contentType] });
        var unread = Policy.Decide(facts);
        facts.Body = InspectedBody.Read(System.Text.Encoding.UTF8.GetBytes(body), contentType);

        // A text body is no form to a framework: it is not read for an override.
        Assert.Equal(!contentType.StartsWith("text/", StringComparison.Ordinal), unread.NeedsBody);
        Assert.Equal(rule, Policy.Decide(facts).RuleName);
    }

    // The answer names where the override was found; a Content-Type that does not parse may be
    // read as a form by some framework, and a JSON body with more than one reading is not
    // trusted to lack the field.
    [Theory]
    [InlineData("application/x-www-form-urlencoded", "_method=DELETE", "the body carries _method, which Rails, Laravel and Symfony run instead of the POST sent")]
    [InlineData("application/x-www-form-urlencoded; =", "_method=DELETE", "the body carries _method, which Rails, Laravel and Symfony run instead of the POST sent")]
    [InlineData("application/json", "{\"a\":1,\"a\":2,\"note\":\"method\"}", "the body carries _method, which Rails, Laravel and Symfony run instead of the POST sent")]
    public void A_method_override_in_a_post_body_is_named_as_the_reason(string contentType, string body, string reason)
    {
        var facts = Request("POST", "/svc/x", headers: new() { ["Content-Type"] = [contentType] });
        facts.Body = InspectedBody.Read(System.Text.Encoding.UTF8.GetBytes(body), contentType);

        var decision = Policy.Decide(facts).WithReasons(facts);

        Assert.Equal(("no-deletes", reason), (decision.RuleName, decision.Ambiguous));
        Assert.Equal(
            "the query carries _method, which Rails, Laravel and Symfony run instead of the method sent",
            Policy.Decide(Request("POST", "/svc/x", query: "_method=DELETE")).WithReasons(Request("POST", "/svc/x", query: "_method=DELETE")).Ambiguous);
    }

    [Fact]
    public async Task A_method_override_in_a_multipart_form_makes_the_method_ambiguous()
    {
        const string contentType = "multipart/form-data; boundary=b";
        var body = ("--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nclean up\r\n"
            + "--b\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nDELETE\r\n--b--\r\n").Select(c => (byte)c).ToArray();
        var facts = Request("POST", "/svc/x", headers: new() { ["Content-Type"] = [contentType] });
        facts.Body = await InspectedBody.ReadAsync(body, contentType, CancellationToken.None);

        Assert.Equal("no-deletes", Policy.Decide(facts).RuleName);
    }

    // ASP.NET reads a parameter name without case: every spelling's values count for a deny rule,
    // whichever spelling comes first.
    [Theory]
    [InlineData("limit=500&LIMIT=50")]
    [InlineData("Limit=500&LIMIT=50")]
    [InlineData("LIMIT=50&limit=500")]
    public void Every_spelling_of_a_query_parameter_counts_for_a_deny_rule(string query)
    {
        var policy = Compile("""
            rules:
              - { name: no-big-pages, when: { query: { limit: { gt: 100 } } }, action: deny }
              - { name: reads, when: { methods: [GET] }, action: allow }
            """);

        Assert.Equal("no-big-pages", Decide(policy, Request("GET", "/svc/x", query: query)).RuleName);
    }

    [Fact]
    public void A_get_is_decided_without_its_body_whatever_it_carries()
    {
        var facts = Request("GET", "/svc/x", headers: new() { ["Content-Type"] = ["application/json"] });

        var decision = Policy.Decide(facts);

        Assert.False(decision.NeedsBody);
        Assert.Equal("reads", decision.RuleName);
    }

    // Each pair below is one set of values in both orders: reading only the first value gets one
    // row wrong, reading only the last gets the other, so only "ambiguous" passes both.
    [Theory]
    [InlineData("mode=safe&mode=dangerous", "deny-dangerous")]
    [InlineData("mode=dangerous&mode=safe", "deny-dangerous")]
    [InlineData("mode=safe;MODE=dangerous", "deny-dangerous")]
    [InlineData("MODE=dangerous;mode=safe", "deny-dangerous")]
    public void A_repeated_query_parameter_with_different_values_satisfies_a_deny_rule_in_either_order(string query, string rule)
    {
        Assert.Equal(rule, Decide(Policy, Request("GET", "/svc/x", query: query)).RuleName);
    }

    [Theory]
    [InlineData("{\"items\":[{\"qty\":1},{\"qty\":5000}]}", "(default)")]
    [InlineData("{\"items\":[{\"qty\":5000},{\"qty\":1}]}", "(default)")]
    [InlineData("{\"items\":[{\"qty\":1},{\"qty\":2},{\"qty\":5000},{\"qty\":3}]}", "(default)")]
    public void An_allow_rule_on_every_item_is_not_satisfied_by_the_first_or_the_last_alone(string body, string rule)
    {
        Assert.Equal(rule, Decide(Policy, Request("POST", "/api/orders", body: body)).RuleName);
    }

    [Theory]
    [InlineData("{\"environment\":\"staging\",\"environment\":\"production\"}", "prod-review")]
    [InlineData("{\"environment\":\"production\",\"environment\":\"staging\"}", "prod-review")]
    [InlineData("{\"kind\":\"safe\",\"kind\":\"dangerous\"}", "kind-danger")]
    [InlineData("{\"kind\":\"dangerous\",\"kind\":\"safe\"}", "kind-danger")]
    public void A_duplicate_key_counts_against_the_request_whichever_value_comes_first(string body, string rule)
    {
        var path = body.Contains("environment", StringComparison.Ordinal) ? "/api/deploy" : "/api/kind";
        Assert.Equal(rule, Decide(Policy, Request("POST", path, body: body)).RuleName);
    }
}
