using Airlock.Gateway.Policy.Conditions;
using static Airlock.Gateway.Tests.Policy.PolicyFixture;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>
/// What field conditions say to people: what a rule asks (shown to an approver), why a rule did
/// not match (<c>airlock policy test</c>, the explain API), and why a request could not be read one
/// way (the <c>ambiguous</c> member of a 403 or 202 answer, and of audit events).
/// </summary>
public class ConditionWordingTests
{
    private static RuleCondition Condition(string when, string action = "deny")
    {
        var policy = Compile($$"""
            rules:
              - { name: r, when: { {{when}} }, action: {{action}}{{(action == "review" ? ", review: { approvers: [ops] }" : "")}} }
            """);
        return Assert.Single(policy.Rules[0].Conditions);
    }

    [Theory]
    [InlineData("query: { limit: { lte: 100 } }", "query: limit <= 100")]
    [InlineData("query: { limit: { lt: 100 } }", "query: limit < 100")]
    [InlineData("query: { limit: { gte: 1.5 } }", "query: limit >= 1.5")]
    [InlineData("query: { limit: { gt: -2 } }", "query: limit > -2")]
    [InlineData("query: { mode: dangerous }", "query: mode equals \"dangerous\"")]
    [InlineData("query: { mode: \"100\" }", "query: mode equals \"100\"")]
    [InlineData("query: { mode: 100 }", "query: mode equals 100")]
    [InlineData("query: { mode: [a, 1, true, null] }", "query: mode is one of \"a\", 1, true, null")]
    [InlineData("query: { mode: { exists: true } }", "query: mode exists")]
    [InlineData("query: { mode: { exists: false } }", "query: mode is absent")]
    [InlineData("query: { mode: { matches: '^v[0-9]+$' } }", "query: mode matches /^v[0-9]+$/")]
    [InlineData("query: { n: { exists: true, equals: 5, gt: 1, gte: 2, lt: 9, lte: 8 } }", "query: n exists and equals 5 and > 1 and >= 2 and < 9 and <= 8")]
    [InlineData("query: { n: { in: [x], matches: '^x$' } }", "query: n equals \"x\" and matches /^x$/")]
    [InlineData("headers: { X-Env: prod }", "headers: X-Env equals \"prod\"")]
    [InlineData("body: { $.amount: { gt: 100 } }", "body: $.amount > 100")]
    [InlineData("body: { \"$.items[*].qty\": { lte: 10 } }", "body: $.items[*].qty <= 10")]
    public void A_condition_describes_itself_as_the_policy_says_it(string when, string described)
    {
        Assert.Equal(described, Condition(when).Describe());
    }

    [Theory]
    [InlineData("query: { limit: { lte: 100 } }", "limit=500", "query: limit=500 does not satisfy: <= 100")]
    [InlineData("query: { limit: { lte: 100 } }", "limit=5&limit=500", "query: limit=5&limit=500 does not satisfy: <= 100")]
    [InlineData("query: { limit: { lte: 100 } }", null, "query: limit is absent; required: <= 100")]
    [InlineData("query: { limit: { lte: 100 } }", "LIMIT=5", "query: limit is absent; required: <= 100")]
    public void A_query_condition_says_which_values_failed(string when, string? query, string explained)
    {
        var condition = Condition(when, "allow");

        Assert.Equal("query", condition.Key);
        Assert.Equal(explained, condition.Explain(Request("GET", "/svc/x", query: query), strict: true));
    }

    [Fact]
    public void A_header_condition_says_which_values_failed()
    {
        var condition = Condition("headers: { X-Env: prod }", "allow");

        Assert.Equal("headers", condition.Key);
        Assert.Equal("headers: X-Env is absent; required: equals \"prod\"", condition.Explain(Request("GET", "/svc/x"), strict: true));
        Assert.Equal("headers: X-Env: staging,dev does not satisfy: equals \"prod\"",
            condition.Explain(Request("GET", "/svc/x", headers: new() { ["x-env"] = ["staging", "dev"] }), strict: true));
    }

    [Fact]
    public void A_body_condition_says_whether_the_body_was_missing_unreadable_or_failing()
    {
        var condition = Condition("body: { $.amount: { lte: 100 } }", "allow");

        Assert.Equal("body: the request has no body; $.amount is required to satisfy: <= 100",
            condition.Explain(Request("POST", "/svc/x", body: ""), strict: true));
        Assert.Equal("body: the JSON body repeats a key, so $.amount cannot be read one way only",
            condition.Explain(Request("POST", "/svc/x", body: "{\"amount\":1,\"amount\":2}"), strict: true));
        Assert.Equal("body: $.amount does not satisfy: <= 100",
            condition.Explain(Request("POST", "/svc/x", body: "{\"amount\":500}"), strict: true));
    }

    /// <summary>The reason a deny rule gives when it applied only because of an ambiguity.</summary>
    private static string? Reason(string when, string method, string? query = null, string? body = null, Dictionary<string, string[]>? headers = null)
    {
        var policy = Compile($$"""
            rules:
              - { name: r, when: { {{when}} }, action: deny }
            """);
        var facts = Request(method, "/svc/x", query: query, body: body, headers: headers);
        var decision = Decide(policy, facts);
        Assert.Equal("r", decision.RuleName);
        return decision.WithReasons(facts).Ambiguous;
    }

    [Fact]
    public void A_query_parameter_is_ambiguous_for_a_reason_the_caller_can_act_on()
    {
        Assert.Equal("the query parameter 'mode' has several values that disagree, or a value that cannot be compared as the rule asks: equals \"dangerous\"",
            Reason("query: { mode: dangerous }", "GET", query: "mode=safe&mode=dangerous"));
        Assert.Equal("the query parameter 'mode' has several values that disagree, or a value that cannot be compared as the rule asks: equals \"dangerous\"",
            Reason("query: { mode: dangerous }", "GET", query: "x=1;y=2&mode=safe&mode=dangerous"));
        Assert.Equal("the query parameter 'limit' has several values that disagree, or a value that cannot be compared as the rule asks: > 100",
            Reason("query: { limit: { gt: 100 } }", "GET", query: "limit=lots"));
        Assert.Equal("the query reads differently when ';' also separates parameters, as older Rack, Python and Go servers read it",
            Reason("query: { mode: dangerous }", "GET", query: "a=1;mode=dangerous"));
        // Other spellings of the name beside a ';': still the ';' that makes the two readings differ.
        Assert.Equal("the query reads differently when ';' also separates parameters, as older Rack, Python and Go servers read it",
            Reason("query: { limit: { gt: 100 } }", "GET", query: "LIMIT=500;x"));
        Assert.Equal("the query reads differently when ';' also separates parameters, as older Rack, Python and Go servers read it",
            Reason("query: { limit: { gt: 100 } }", "GET", query: "LIMIT=500&a=1;limit=5"));
        Assert.Null(Reason("query: { mode: dangerous }", "GET", query: "mode=dangerous"));
    }

    [Fact]
    public void A_header_is_ambiguous_when_its_values_disagree()
    {
        Assert.Equal("the header 'X-Env' has several values (lines, or elements of a comma-separated list) that disagree, or a value that cannot be compared as the rule asks: equals \"prod\"",
            Reason("headers: { X-Env: prod }", "GET", headers: new() { ["x-env"] = ["staging", "prod"] }));
    }

    [Theory]
    [InlineData("body: { $.amount: { lte: 100 } }", "{\"amount\":1,\"amount\":2}", "the JSON body repeats a key")]
    [InlineData("body: { $.amount: { lte: 100 } }", "{\"amount\":1,}", "the body is not strict JSON")]
    [InlineData("body: { \"$.items[*].qty\": { lte: 10 } }", "{\"items\":{\"a\":{\"qty\":1}}}",
        "the body's $.items[*].qty runs into an array where an object is expected, or an object where an array is")]
    [InlineData("body: { $.refund.amount: { lte: 10 } }", "{\"refund\":[{\"amount\":1}]}",
        "the body's $.refund.amount runs into an array where an object is expected, or an object where an array is")]
    [InlineData("body: { \"$.items[*].qty\": { gt: 10 } }", "{\"items\":[{\"qty\":1},{\"qty\":50},{\"qty\":2}]}",
        "the body's $.items[*].qty reaches 3 values that do not all agree on: > 10")]
    [InlineData("body: { \"$.items[*].amount\": { gt: 100 } }", "{\"items\":[{\"Amount\":5},{\"amount\":500}]}",
        "the body's $.items[*].amount reaches 2 values that do not all agree on: > 100")]
    [InlineData("body: { $.environment: production }", "{\"environment\":[\"production\"]}",
        "the body's $.environment is an array or object where a value is compared (some deserialisers unwrap it)")]
    [InlineData("body: { $.environment: production }", "{\"environment\":{\"name\":\"production\"}}",
        "the body's $.environment is an array or object where a value is compared (some deserialisers unwrap it)")]
    [InlineData("body: { $.amount: { gt: 100 } }", "{\"amount\":\"lots\"}",
        "the body's $.amount holds a value that cannot be compared as the rule asks (not a number, or one too long to compare exactly): > 100")]
    [InlineData("body: { $.amount: { gt: 100 } }", "{\"amount\":100.00000000000000000000000000001}",
        "the body's $.amount holds a value that cannot be compared as the rule asks (not a number, or one too long to compare exactly): > 100")]
    public void A_body_is_ambiguous_for_a_reason_the_caller_can_act_on(string when, string body, string reason)
    {
        Assert.Equal(reason, Reason(when, "POST", body: body));
    }

    [Fact]
    public void A_body_condition_asked_why_before_the_body_was_read_says_it_cannot_be_read_one_way()
    {
        var condition = Condition("body: { $.amount: { lte: 100 } }");

        Assert.Equal("the body cannot be read one way only", condition.WhyAmbiguous(Request("POST", "/svc/x")));
        Assert.Equal("body: $.amount does not satisfy: <= 100", condition.Explain(Request("POST", "/svc/x"), strict: false));
    }

    [Fact]
    public void A_decision_works_its_reason_out_once()
    {
        var policy = Compile("""
            rules:
              - { name: r, when: { query: { mode: dangerous } }, action: deny }
            """);
        var facts = Request("GET", "/svc/x", query: "mode=safe&mode=dangerous");
        var decision = Decide(policy, facts);

        Assert.Null(decision.Ambiguous);
        var reasoned = decision.WithReasons(facts);
        Assert.StartsWith("the query parameter 'mode'", reasoned.Ambiguous, StringComparison.Ordinal);
        var kept = reasoned with { Ambiguous = "already said" };
        Assert.Equal("already said", kept.WithReasons(facts).Ambiguous);

        var unmatched = Decide(policy, Request("GET", "/svc/x"));
        Assert.Equal("(default)", unmatched.RuleName);
        Assert.Null(unmatched.WithReasons(facts).Ambiguous);
        Assert.Equal(unmatched, unmatched.WithReasons(facts));
    }
}
