using Airlock.Gateway.Policy;
using static Airlock.Gateway.Tests.Policy.PolicyFixture;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>How a compiled policy picks the one decision (docs/policy.md, "How a decision is
/// made"): which rules reach which connection, the default, and what a decision carries.</summary>
public class CompiledPolicyTests
{
    [Fact]
    public void A_connection_on_default_allow_keeps_the_deny_rules_limited_to_it()
    {
        var policy = Compile("""
            allowUnmatched: [status, docs]
            rules:
              - { name: status-read-only, when: { connections: [status], methods: [POST, PUT, PATCH, DELETE] }, action: deny }
              - { name: status-admin-reviewed, when: { connections: [status, billing], paths: [/status/admin/**, /billing/admin/**] }, action: review, review: { approvers: [ops] } }
              - { name: no-deletes, when: { methods: [DELETE] }, action: deny }
            """);

        Assert.Equal("status-read-only", Decide(policy, Request("POST", "/status/incidents")).RuleName);
        Assert.Equal("status-read-only", Decide(policy, Request("DELETE", "/status/incidents/1")).RuleName);
        Assert.Equal("status-admin-reviewed", Decide(policy, Request("GET", "/status/admin/x")).RuleName);
        var read = Decide(policy, Request("GET", "/status/incidents"));
        Assert.Equal((PolicyAction.Allow, "(default)"), (read.Action, read.RuleName));
        // A connection on default allow that no rule names still gets the rules for every connection.
        Assert.Equal("no-deletes", Decide(policy, Request("DELETE", "/docs/page")).RuleName);
        Assert.Equal(PolicyAction.Allow, Decide(policy, Request("POST", "/docs/page")).Action);
        Assert.Equal(["docs", "status"], policy.AllowUnmatched.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Rules_limited_to_other_connections_never_apply()
    {
        var policy = Compile("""
            rules:
              - { name: billing-reads, when: { connections: [billing], methods: [GET] }, action: allow }
              - { name: two-connections, when: { connections: [crm, tickets], methods: [POST] }, action: allow }
              - { name: everyone-reads-status, when: { paths: [/status/**] }, action: allow }
              - { name: no-crm-admin, when: { connections: [crm], paths: [/crm/admin/**] }, action: deny }
            """);

        Assert.Equal("billing-reads", Decide(policy, Request("GET", "/billing/x")).RuleName);
        Assert.Equal("(default)", Decide(policy, Request("GET", "/crm/x")).RuleName);
        Assert.Equal("two-connections", Decide(policy, Request("POST", "/crm/x")).RuleName);
        Assert.Equal("two-connections", Decide(policy, Request("POST", "/tickets/x")).RuleName);
        Assert.Equal("(default)", Decide(policy, Request("POST", "/billing/x")).RuleName);
        Assert.Equal("no-crm-admin", Decide(policy, Request("POST", "/crm/admin/x")).RuleName);
        // A connection no rule names: only the rules for every connection.
        Assert.Equal("everyone-reads-status", Decide(policy, Request("GET", "/status/x")).RuleName);
        var other = Decide(policy, Request("GET", "/other/x"));
        Assert.Equal((PolicyAction.Deny, "(default)", null), (other.Action, other.RuleName, other.Rule));
    }

    [Fact]
    public void Deny_beats_review_beats_allow_and_file_order_decides_within_an_action()
    {
        var policy = Compile("""
            rules:
              - { name: allow-1, when: { methods: [GET, POST, PUT] }, action: allow }
              - { name: allow-2, when: { methods: [GET, POST, PUT] }, action: allow }
              - { name: review-1, when: { methods: [POST, PUT] }, action: review, review: { approvers: [ops] } }
              - { name: review-2, when: { methods: [POST, PUT] }, action: review, review: { approvers: [ops] } }
              - { name: deny-1, when: { methods: [PUT] }, action: deny }
              - { name: deny-2, when: { methods: [PUT] }, action: deny }
            """);

        var get = Decide(policy, Request("GET", "/svc/x"));
        var post = Decide(policy, Request("POST", "/svc/x"));
        var put = Decide(policy, Request("PUT", "/svc/x"));

        Assert.Equal((PolicyAction.Allow, "allow-1"), (get.Action, get.RuleName));
        Assert.Equal((PolicyAction.Review, "review-1"), (post.Action, post.RuleName));
        Assert.Equal((PolicyAction.Deny, "deny-1"), (put.Action, put.RuleName));
        Assert.Same(policy.Rules[4], put.Rule);
        Assert.Equal(policy.Version, put.PolicyVersion);
        Assert.False(put.NeedsBody);
        Assert.Null(put.Ambiguity);
    }

    [Fact]
    public void The_body_is_asked_for_only_by_a_rule_whose_other_conditions_hold()
    {
        var policy = Compile("""
            rules:
              - { name: reads, when: { methods: [GET] }, action: allow }
              - { name: small, when: { methods: [POST], body: { $.amount: { lte: 100 } } }, action: allow }
              - { name: large, when: { methods: [POST], paths: [/billing/refunds], body: { $.amount: { gt: 100 } } }, action: review, review: { approvers: [ops] } }
              - { name: no-deletes, when: { methods: [DELETE] }, action: deny }
            """);

        var get = policy.Decide(Request("GET", "/billing/refunds"));
        Assert.False(get.NeedsBody);
        Assert.Equal("reads", get.RuleName);

        // The review rule could decide first: the body is needed, and that rule is the one asking.
        var post = policy.Decide(Request("POST", "/billing/refunds"));
        Assert.True(post.NeedsBody);
        Assert.Equal((PolicyAction.Review, "large"), (post.Action, post.RuleName));

        var elsewhere = policy.Decide(Request("POST", "/billing/other"));
        Assert.True(elsewhere.NeedsBody);
        Assert.Equal((PolicyAction.Allow, "small"), (elsewhere.Action, elsewhere.RuleName));

        Assert.False(policy.Decide(Request("DELETE", "/billing/refunds")).NeedsBody);
        Assert.Equal("no-deletes", policy.Decide(Request("DELETE", "/billing/refunds")).RuleName);

        Assert.Equal("small", Decide(policy, Request("POST", "/billing/refunds", body: "{\"amount\":50}")).RuleName);
        Assert.Equal("large", Decide(policy, Request("POST", "/billing/refunds", body: "{\"amount\":500}")).RuleName);
        Assert.True(policy.Rules[1].NeedsBody);
        Assert.False(policy.Rules[0].NeedsBody);
    }

    [Fact]
    public void A_decision_names_the_first_condition_that_held_only_because_of_an_ambiguity()
    {
        var policy = Compile("""
            rules:
              - { name: no-danger, when: { methods: [POST], query: { mode: dangerous } }, action: deny }
              - { name: posts, when: { methods: [POST] }, action: allow }
            """);

        var plain = Decide(policy, Request("POST", "/svc/x", query: "mode=dangerous"));
        Assert.Equal("no-danger", plain.RuleName);
        Assert.Null(plain.Ambiguity);
        Assert.Null(plain.WithReasons(Request("POST", "/svc/x", query: "mode=dangerous")).Ambiguous);

        var query = Decide(policy, Request("POST", "/svc/x", query: "mode=safe&mode=dangerous"));
        Assert.Equal("no-danger", query.RuleName);
        Assert.Equal("query", query.Ambiguity?.Key);

        var both = Decide(policy, Request("POST", "/svc/x", query: "_method=PUT&mode=safe&mode=dangerous"));
        Assert.Equal("no-danger", both.RuleName);
        Assert.Equal("methods", both.Ambiguity?.Key);

        // An allow rule is never met by an ambiguity, so it never carries one.
        var allowed = Decide(policy, Request("POST", "/svc/x", query: "mode=safe"));
        Assert.Equal("posts", allowed.RuleName);
        Assert.Null(allowed.Ambiguity);
    }

    [Fact]
    public void A_rule_with_no_conditions_matches_every_request()
    {
        var policy = Compile("""
            rules:
              - { name: everything, action: review, review: { approvers: [ops] } }
            """);

        Assert.Equal("everything", Decide(policy, Request("DELETE", "/any/x")).RuleName);
        Assert.Equal("everything", Decide(policy, Request("GET", "/other")).RuleName);
    }

    [Fact]
    public void A_policy_keeps_where_it_came_from_and_what_it_holds()
    {
        var policy = Compile("""
            rules:
              - { name: a, when: { methods: [GET] }, action: allow }
              - { name: b, when: { methods: [DELETE] }, action: deny, message: No deletes. }
            guardrails:
              - { name: g, response: { status: [500] } }
            """);

        Assert.Equal("/etc/airlock/policy.yaml", policy.SourcePath);
        Assert.Equal(["a", "b"], policy.Rules.Select(r => r.Name));
        Assert.Equal([0, 1], policy.Rules.Select(r => r.Index));
        Assert.Equal("g", Assert.Single(policy.Guardrails).Name);
        Assert.Empty(policy.AllowUnmatched);
        Assert.Equal("No deletes.", policy.Rules[1].Message);
        Assert.Equal("allow rule 'a'", policy.Rules[0].ToString());
        Assert.Equal("deny rule 'b'", policy.Rules[1].ToString());
        Assert.True(policy.Rules[0].Strict);
        Assert.False(policy.Rules[1].Strict);
    }

    [Fact]
    public void Guardrails_apply_to_the_requests_their_conditions_hold_for_ambiguous_ones_included()
    {
        var policy = Compile("""
            rules: []
            guardrails:
              - { name: billing-cards, when: { connections: [billing] }, response: { detectors: [payment-card] } }
              - { name: everywhere, response: { status: [500] } }
              - { name: prod-only, when: { query: { env: prod } }, response: { status: [502] } }
            """);

        Assert.Equal(["billing-cards", "everywhere"], policy.GuardrailsFor(Request("GET", "/billing/x")).Select(g => g.Name));
        Assert.Equal(["everywhere"], policy.GuardrailsFor(Request("GET", "/crm/x")).Select(g => g.Name));
        Assert.Equal(["everywhere", "prod-only"], policy.GuardrailsFor(Request("GET", "/crm/x", query: "env=PROD")).Select(g => g.Name));
        Assert.Equal(["everywhere", "prod-only"], policy.GuardrailsFor(Request("GET", "/crm/x", query: "env=dev&env=prod")).Select(g => g.Name));

        var none = Compile("rules: []");
        Assert.Empty(none.GuardrailsFor(Request("GET", "/crm/x")));
        Assert.False(none.GuardrailsFor(Request("GET", "/crm/x")).IsDefault);
    }

    [Fact]
    public void A_rules_mask_is_added_to_the_connections_once_per_connection()
    {
        var policy = Compile("""
            rules:
              - { name: plain, when: { methods: [GET] }, action: allow }
              - { name: masked, when: { methods: [POST] }, action: allow, mask: { detectors: [{ detector: email }] } }
            """);
        var connection = new Airlock.Gateway.Configuration.MaskingConfig(new Airlock.Gateway.Masking.MaskingPlan([], [], null), [], 4096, 1024);

        Assert.Same(connection, policy.Rules[0].MaskingOn("crm", connection));
        Assert.Null(policy.Rules[0].MaskingOn("crm", null));
        var crm = policy.Rules[1].MaskingOn("crm", connection);
        Assert.Contains(crm!.Plan.Detectors, d => d.Detector.Name == "email");
        Assert.Same(crm, policy.Rules[1].MaskingOn("crm", connection));
        Assert.NotSame(crm, policy.Rules[1].MaskingOn("billing", connection));
    }
}
