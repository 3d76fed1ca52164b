using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Masking;
using Airlock.Gateway.Policy;
using static Airlock.Gateway.Tests.Policy.PolicyFixture;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>
/// What <c>airlock policy test</c> and the explain API say about a request (docs/policy.md,
/// "Tools"): the decision, why every other rule did not decide, and what the gateway would
/// refuse before acting on the decision.
/// </summary>
public class PolicyExplainerTests
{
    // Compiled per test, not once per class: mutation testing runs many mutants in one test
    // process, and a policy compiled under one mutant would decide the next mutant's tests.
    private readonly CompiledPolicy Billing = Compile("""
        rules:
          - name: agents-read-billing
            when: { connections: [billing], methods: [GET, HEAD], groups: [agents] }
            action: allow
          - name: no-deletes
            when: { methods: [DELETE] }
            action: deny
          - name: small-refunds
            when: { connections: [billing], methods: [POST], paths: [/billing/v1/refunds], body: { $.amount: { lte: 100 } } }
            action: allow
          - name: large-refunds
            when: { connections: [billing], methods: [POST], paths: [/billing/v1/refunds], body: { $.amount: { gt: 100 } } }
            action: review
            review: { approvers: [finance-approvers], approvals: 2 }
        """);

    private static RequestFacts WithContentType(RequestFacts facts, string contentType)
    {
        facts.Headers.ContentType = contentType;
        return facts;
    }

    [Fact]
    public void A_decision_is_explained_rule_by_rule()
    {
        var explanation = PolicyExplainer.Explain(Billing, Request("POST", "/billing/v1/refunds", body: "{\"amount\": 250}"), null);

        var large = Billing.Rules[3];
        Assert.Equal($"review by rule 'large-refunds' (line {large.Line})", explanation.Summary);
        Assert.Equal((PolicyAction.Review, "large-refunds"), (explanation.Decision.Action, explanation.Decision.RuleName));
        Assert.Null(explanation.Refusal);
        Assert.Equal(
        [
            new RuleExplanation("agents-read-billing", Billing.Rules[0].Line, "allow", false, false, "methods: POST is not one of GET, HEAD"),
            new RuleExplanation("no-deletes", Billing.Rules[1].Line, "deny", false, false, "methods: POST is not one of DELETE"),
            new RuleExplanation("small-refunds", Billing.Rules[2].Line, "allow", false, false, "body: $.amount does not satisfy: <= 100"),
            new RuleExplanation("large-refunds", large.Line, "review", true, true, null),
        ], explanation.Rules);
        Assert.True(Billing.Rules[0].Line < Billing.Rules[1].Line);
    }

    [Fact]
    public void A_rule_that_matched_but_did_not_decide_says_which_rule_did_and_why()
    {
        var policy = Compile("""
            rules:
              - { name: reads, when: { methods: [GET] }, action: allow }
              - { name: watched, when: { paths: [/billing/**] }, action: review, review: { approvers: [ops] } }
              - { name: no-admin, when: { paths: [/billing/admin/**] }, action: deny }
              - { name: no-admin-again, when: { paths: [/billing/admin/**] }, action: deny }
              - { name: reads-too, when: { methods: [GET] }, action: allow }
            """);

        var denied = PolicyExplainer.Explain(policy, Request("GET", "/billing/admin/x"), null);
        Assert.Equal($"deny by rule 'no-admin' (line {policy.Rules[2].Line})", denied.Summary);
        Assert.Equal(
            ["matched, but deny beats allow: rule 'no-admin' decides", "matched, but deny beats review: rule 'no-admin' decides", null,
                "matched, but rule 'no-admin' comes first", "matched, but deny beats allow: rule 'no-admin' decides"],
            denied.Rules.Select(r => r.Note));
        Assert.Equal([true, true, true, true, true], denied.Rules.Select(r => r.Matched));
        Assert.Equal([false, false, true, false, false], denied.Rules.Select(r => r.Decided));

        var allowed = PolicyExplainer.Explain(policy, Request("GET", "/crm/x"), null);
        Assert.Equal(["reads", "reads-too"], allowed.Rules.Where(r => r.Matched).Select(r => r.Rule));
        Assert.Equal("matched, but rule 'reads' comes first", allowed.Rules[4].Note);
        Assert.Equal("paths: /crm/x matches none of /billing/**", allowed.Rules[1].Note);
    }

    [Fact]
    public void A_decision_that_rests_on_an_ambiguity_says_so()
    {
        var policy = Compile("""
            rules:
              - { name: no-danger, when: { query: { mode: dangerous } }, action: deny }
            """);

        var explanation = PolicyExplainer.Explain(policy, Request("GET", "/svc/x", query: "mode=safe&mode=dangerous"), null);

        Assert.Equal($"deny by rule 'no-danger' (line {policy.Rules[0].Line}), only because the request could not be read one way: "
            + "the query parameter 'mode' has several values that disagree, or a value that cannot be compared as the rule asks: equals \"dangerous\"",
            explanation.Summary);
        Assert.NotNull(explanation.Decision.Ambiguous);
    }

    [Fact]
    public void A_request_no_rule_matches_is_explained_by_its_connections_default()
    {
        var policy = Compile("""
            allowUnmatched: [status]
            rules:
              - { name: no-deletes, when: { methods: [DELETE] }, action: deny }
            """);

        var denied = PolicyExplainer.Explain(policy, Request("GET", "/billing/x"), null);
        var allowed = PolicyExplainer.Explain(policy, Request("GET", "/status/x"), null);

        Assert.Equal("deny: no rule matched, and unmatched requests are denied", denied.Summary);
        Assert.Equal(PolicyAction.Deny, denied.Decision.Action);
        Assert.Equal("allow: no rule matched and connection 'status' allows unmatched requests", allowed.Summary);
        Assert.Equal(PolicyAction.Allow, allowed.Decision.Action);
        Assert.Equal("methods: GET is not one of DELETE", Assert.Single(allowed.Rules).Note);
    }

    [Fact]
    public void Without_a_body_the_request_is_explained_as_one_with_an_empty_body()
    {
        var facts = Request("POST", "/billing/v1/refunds");

        var explanation = PolicyExplainer.Explain(Billing, facts, null);

        Assert.Equal("deny: no rule matched, and unmatched requests are denied", explanation.Summary);
        Assert.Same(InspectedBody.Empty, facts.Body);
        Assert.Equal("body: the request has no body; $.amount is required to satisfy: <= 100", explanation.Rules[2].Note);
    }

    [Fact]
    public void A_body_the_gateway_must_read_and_cannot_read_as_utf8_is_refused_before_the_rule()
    {
        var facts = WithContentType(Request("POST", "/billing/v1/refunds", body: "{\"amount\": 50}"), "application/json; charset=utf-7");

        var explanation = PolicyExplainer.Explain(Billing, facts, null);

        var refusal = Assert.IsType<PolicyRefusal>(explanation.Refusal);
        Assert.Equal(ProblemType.UnsupportedCharset, refusal.Problem);
        // The first rule that needs the body is no-deletes: a POST's JSON body may carry _method.
        Assert.Equal("no-deletes", refusal.Rule);
        Assert.Contains("utf-7", refusal.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.Equal($"refused with 415 unsupported-charset before rule 'no-deletes' could apply: {refusal.Detail}", explanation.Summary);
    }

    [Fact]
    public void A_body_is_read_to_hold_a_request_for_review_even_when_no_rule_reads_it()
    {
        var policy = Compile("""
            rules:
              - { name: writes-reviewed, when: { methods: [POST] }, action: review, review: { approvers: [ops] } }
              - { name: puts, when: { methods: [PUT] }, action: allow }
            """);

        var held = PolicyExplainer.Explain(policy, WithContentType(Request("POST", "/svc/x", body: "hello"), "text/plain; charset=utf-7"), null);
        Assert.Equal(ProblemType.UnsupportedCharset, held.Refusal?.Problem);
        Assert.Equal("writes-reviewed", held.Refusal?.Rule);

        // Allowed without reading the body: it is forwarded as it is, nothing refuses it.
        var allowed = PolicyExplainer.Explain(policy, WithContentType(Request("PUT", "/svc/x", body: "hello"), "text/plain; charset=utf-7"), null);
        Assert.Null(allowed.Refusal);
        Assert.Equal($"allow by rule 'puts' (line {policy.Rules[1].Line})", allowed.Summary);

        var plain = PolicyExplainer.Explain(policy, WithContentType(Request("POST", "/svc/x", body: "hello"), "text/plain; charset=utf-8"), null);
        Assert.Null(plain.Refusal);
    }

    private static MaskingConfig Masking(bool refuse, params string[] fields)
    {
        var rules = fields.Select(f =>
        {
            Assert.True(JsonPathPattern.TryParse(f, out var path, out _));
            return new FieldRule(path!, MaskAction.Redact, f.TrimStart('$', '.').ToUpperInvariant());
        });
        return new MaskingConfig(new MaskingPlan(rules, [], null), [], 4096, 1024) { RefuseQueriesOnMaskedFields = refuse };
    }

    private readonly CompiledPolicy Crm = Compile("""
        rules:
          - { name: crm-reads, when: { connections: [crm], methods: [GET, POST] }, action: allow }
          - { name: support-reads, when: { connections: [crm], methods: [PUT] }, action: allow, mask: { fields: [{ path: "$..ssn" }] } }
          - { name: no-deletes, when: { methods: [DELETE] }, action: deny }
        """);

    [Fact]
    public void A_question_about_a_masked_value_is_refused_on_a_connection_that_refuses_them()
    {
        var explanation = PolicyExplainer.Explain(Crm, Request("GET", "/crm/customers", query: "ssn_like=^1"), Masking(true, "$..ssn"));

        var refusal = Assert.IsType<PolicyRefusal>(explanation.Refusal);
        Assert.Equal(ProblemType.MaskedFieldQuery, refusal.Problem);
        Assert.Equal("crm-reads", refusal.Rule);
        Assert.Equal("the query parameter 'ssn_like' refers to the field 'ssn', which the connection masks: "
            + "searching or filtering on it would reveal the value through which answers come back; this connection refuses such requests", refusal.Detail);
        Assert.Equal($"refused with 403 masked-field-query before rule 'crm-reads' could apply: {refusal.Detail}", explanation.Summary);
    }

    [Fact]
    public void A_path_segment_naming_a_masked_field_is_counted_from_the_connection()
    {
        var explanation = PolicyExplainer.Explain(Crm, Request("GET", "/crm/customers/ssn/1"), Masking(true, "$..ssn"));

        Assert.StartsWith("segment 3 of the path names the field 'ssn'", explanation.Refusal?.Detail, StringComparison.Ordinal);
        Assert.Null(PolicyExplainer.Explain(Crm, Request("GET", "/crm"), Masking(true, "$..ssn")).Refusal);
        Assert.Null(PolicyExplainer.Explain(Crm, Request("GET", "/crm/"), Masking(true, "$..ssn")).Refusal);
    }

    [Fact]
    public void Masked_value_questions_are_refused_only_where_the_connection_says_so_and_never_instead_of_a_deny()
    {
        Assert.Null(PolicyExplainer.Explain(Crm, Request("GET", "/crm/customers", query: "ssn_like=^1"), Masking(false, "$..ssn")).Refusal);
        Assert.Null(PolicyExplainer.Explain(Crm, Request("GET", "/crm/customers", query: "ssn_like=^1"), null).Refusal);
        Assert.Null(PolicyExplainer.Explain(Crm, Request("GET", "/crm/customers", query: "name=x"), Masking(true, "$..ssn")).Refusal);

        var denied = PolicyExplainer.Explain(Crm, Request("DELETE", "/crm/customers", query: "ssn_like=^1"), Masking(true, "$..ssn"));
        Assert.Null(denied.Refusal);
        Assert.Equal(PolicyAction.Deny, denied.Decision.Action);

        // Unmatched requests are denied: nothing to refuse either.
        Assert.Null(PolicyExplainer.Explain(Crm, Request("PATCH", "/crm/customers", query: "ssn_like=^1"), Masking(true, "$..ssn")).Refusal);
    }

    [Fact]
    public void On_a_default_allow_connection_a_request_no_rule_matches_is_checked_against_the_connections_mask()
    {
        var open = Compile("""
            rules:
              - { name: no-deletes, when: { methods: [DELETE] }, action: deny }
            allowUnmatched: [crm]
            """);

        var explanation = PolicyExplainer.Explain(open, Request("GET", "/crm/customers", query: "ssn_like=^1"), Masking(true, "$..ssn"));

        Assert.Equal((PolicyAction.Allow, "(default)"), (explanation.Decision.Action, explanation.Decision.RuleName));
        var refusal = Assert.IsType<PolicyRefusal>(explanation.Refusal);
        Assert.Equal(ProblemType.MaskedFieldQuery, refusal.Problem);
        Assert.StartsWith("the query parameter 'ssn_like' refers to the field 'ssn'", refusal.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void The_deciding_rules_mask_counts_as_masked()
    {
        // The connection masks nothing by name; the rule that lets the request through masks ssn.
        var viaRule = PolicyExplainer.Explain(Crm, Request("PUT", "/crm/customers", query: "ssn_like=^1"), Masking(true));
        Assert.Equal(ProblemType.MaskedFieldQuery, viaRule.Refusal?.Problem);
        Assert.Equal("support-reads", viaRule.Refusal?.Rule);

        Assert.Null(PolicyExplainer.Explain(Crm, Request("GET", "/crm/customers", query: "ssn_like=^1"), Masking(true)).Refusal);
    }

    [Fact]
    public void On_a_connection_that_refuses_masked_questions_every_body_is_read_and_must_be_utf8()
    {
        var facts = WithContentType(Request("GET", "/crm/customers", body: "{\"ssn\":\"1\"}"), "application/json; charset=utf-7");
        var refused = PolicyExplainer.Explain(Crm, facts, Masking(true, "$..email"));
        Assert.Equal(ProblemType.UnsupportedCharset, refused.Refusal?.Problem);
        Assert.Equal("crm-reads", refused.Refusal?.Rule);

        var notRead = PolicyExplainer.Explain(Crm, WithContentType(Request("GET", "/crm/customers", body: "{\"ssn\":\"1\"}"), "application/json; charset=utf-7"),
            Masking(false, "$..email"));
        Assert.Null(notRead.Refusal);

        var noBody = PolicyExplainer.Explain(Crm, WithContentType(Request("GET", "/crm/customers"), "application/json; charset=utf-7"), Masking(true, "$..email"));
        Assert.Null(noBody.Refusal);

        var inBody = PolicyExplainer.Explain(Crm, Request("POST", "/crm/search", body: "{\"ssn\":\"1\"}"), Masking(true, "$..ssn"));
        Assert.Equal("the body field 'ssn' refers to the field 'ssn', which the connection masks: "
            + "searching or filtering on it would reveal the value through which answers come back; this connection refuses such requests", inBody.Refusal?.Detail);
    }
}
