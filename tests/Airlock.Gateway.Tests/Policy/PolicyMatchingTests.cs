using Airlock.Gateway.Policy;
using static Airlock.Gateway.Tests.Policy.PolicyFixture;

namespace Airlock.Gateway.Tests.Policy;

public class PolicyMatchingTests
{
    // Compiled per test, not once per class: mutation testing runs many mutants in one test
    // process, and a policy compiled under one mutant would decide the next mutant's tests.
    private readonly CompiledPolicy Policy = Compile("""
        rules:
          - name: agents-read-billing
            when:
              connections: [billing]
              methods: [GET, HEAD]
              paths: [/billing/v1/**]
              groups: { anyOf: [agents] }
            action: allow
          - name: no-deletes
            when: { methods: [DELETE] }
            action: deny
            message: Deletes are never allowed through Airlock.
          - name: pricing-needs-finance
            when:
              methods: [PUT, PATCH]
              paths: [/billing/v1/plans/*]
            action: review
            review: { approvers: [finance-approvers] }
          - name: refunds-small
            when:
              methods: [POST]
              paths: [/billing/v1/refunds]
              body:
                $.amount: { lte: 100 }
            action: allow
          - name: refunds-large
            when:
              methods: [POST]
              paths: [/billing/v1/refunds]
              body:
                $.amount: { gt: 100 }
            action: review
            review: { approvers: [finance-approvers], approvals: 2 }
          - name: admin-never
            when: { paths: [/billing/admin/**] }
            action: deny
          - name: json-exports
            when: { paths: ["/billing/v1/exports/*.json"], methods: [GET] }
            action: deny
          - name: leads-all-of
            when:
              connections: [crm]
              groups: { allOf: [agents, sales] }
            action: allow
          - name: crm-limit
            when:
              connections: [crm]
              methods: [GET]
              query:
                limit: { lte: 100 }
            action: allow
          - name: prod-header
            when:
              connections: [crm]
              headers:
                X-Env: prod
            action: deny
        """);

    [Theory]
    [InlineData("GET", "/billing/v1/customers", "allow", "agents-read-billing")]
    [InlineData("HEAD", "/billing/v1/customers/42", "allow", "agents-read-billing")]
    [InlineData("GET", "/billing/v1", "allow", "agents-read-billing")]
    [InlineData("GET", "/billing/v2/customers", "deny", null)]
    [InlineData("POST", "/billing/v1/customers", "deny", null)]
    [InlineData("DELETE", "/billing/v1/customers/42", "deny", "no-deletes")]
    [InlineData("DELETE", "/crm/contacts/1", "deny", "no-deletes")]
    [InlineData("PUT", "/billing/v1/plans/42", "review", "pricing-needs-finance")]
    [InlineData("PATCH", "/billing/v1/plans/42/", "review", "pricing-needs-finance")]
    [InlineData("PUT", "/billing/v1/plans/42/items", "deny", null)]
    [InlineData("GET", "/billing/admin/users", "deny", "admin-never")]
    [InlineData("GET", "/billing/ADMIN/users", "deny", "admin-never")]
    [InlineData("GET", "/billing/v1/exports/2026.json", "deny", "json-exports")]
    [InlineData("GET", "/billing/v1/exports/2026.csv", "allow", "agents-read-billing")]
    public void Methods_paths_and_precedence_decide(string method, string path, string action, string? rule)
    {
        var decision = Decide(Policy, Request(method, path));

        Assert.Equal(action, decision.Action.ToString().ToLowerInvariant());
        Assert.Equal(rule, decision.Rule?.Name);
        Assert.StartsWith("sha256:", decision.PolicyVersion, StringComparison.Ordinal);
    }

    [Fact]
    public void Deny_beats_review_beats_allow_whatever_the_order()
    {
        var policy = Compile("""
            rules:
              - { name: allow-all-billing, when: { connections: [billing] }, action: allow }
              - { name: review-writes, when: { methods: [POST] }, action: review, review: { approvers: [ops] } }
              - { name: deny-secrets, when: { paths: [/billing/secrets/**] }, action: deny }
            """);

        Assert.Equal("allow-all-billing", Decide(policy, Request("GET", "/billing/x")).RuleName);
        Assert.Equal("review-writes", Decide(policy, Request("POST", "/billing/x")).RuleName);
        Assert.Equal("deny-secrets", Decide(policy, Request("POST", "/billing/secrets/1")).RuleName);
    }

    [Fact]
    public void Within_an_action_the_first_matching_rule_decides()
    {
        var policy = Compile("""
            rules:
              - { name: first, when: { paths: [/billing/v1/**] }, action: deny }
              - { name: second, when: { paths: [/billing/**] }, action: deny }
            """);

        Assert.Equal("first", Decide(policy, Request("GET", "/billing/v1/x")).RuleName);
        Assert.Equal("second", Decide(policy, Request("GET", "/billing/v2/x")).RuleName);
    }

    [Theory]
    [InlineData(new[] { "agents" }, "allow")]
    [InlineData(new[] { "people" }, "deny")]
    public void Groups_any_of(string[] groups, string action)
    {
        Assert.Equal(action, Decide(Policy, Request("GET", "/billing/v1/x", groups: groups)).Action.ToString().ToLowerInvariant());
    }

    [Theory]
    [InlineData(new[] { "agents", "sales" }, "leads-all-of")]
    [InlineData(new[] { "agents" }, null)]
    [InlineData(new[] { "sales" }, null)]
    public void Groups_all_of(string[] groups, string? rule)
    {
        Assert.Equal(rule, Decide(Policy, Request("POST", "/crm/leads", groups: groups)).Rule?.Name);
    }

    [Theory]
    [InlineData("{\"amount\": 40}", "allow", "refunds-small")]
    [InlineData("{\"amount\": 100}", "allow", "refunds-small")]
    [InlineData("{\"amount\": 100.01}", "review", "refunds-large")]
    [InlineData("{\"amount\": \"500\"}", "review", "refunds-large")]
    [InlineData("{\"amount\": 5e3}", "review", "refunds-large")]
    [InlineData("{\"amount\": \"lots\"}", "review", "refunds-large")]
    [InlineData("{\"refund\": 40}", "deny", null)]
    [InlineData("{\"AMOUNT\": 5000}", "review", "refunds-large")]
    public void Json_body_fields_compare_as_numbers(string body, string action, string? rule)
    {
        var decision = Decide(Policy, Request("POST", "/billing/v1/refunds", body: body));

        Assert.Equal(action, decision.Action.ToString().ToLowerInvariant());
        Assert.Equal(rule, decision.Rule?.Name);
    }

    [Theory]
    [InlineData("{\"amount\": 40, \"amount\": 5000}", "the JSON body repeats a key")]
    [InlineData("{\"amount\": 40, \"Amount\": 5000}", "the JSON body has keys that differ only in letter case")]
    [InlineData("{\"amount\": 40, /* 5000 */ }", "the body is not strict JSON")]
    [InlineData("{\"amount\": 40,}", "the body is not strict JSON")]
    [InlineData("amount=40", "the body is not strict JSON")]
    public void Bodies_with_two_readings_never_pass_an_allow_rule_and_always_meet_a_review_rule(string body, string reason)
    {
        var facts = Request("POST", "/billing/v1/refunds", body: body);

        var decision = Decide(Policy, facts);

        Assert.Equal(BodyKind.Opaque, facts.Body!.Kind);
        Assert.Equal(reason, facts.Body.OpaqueReason);
        Assert.Equal(PolicyAction.Review, decision.Action);
        Assert.Equal("refunds-large", decision.RuleName);
    }

    [Fact]
    public void An_empty_body_has_no_fields()
    {
        Assert.Equal(PolicyAction.Deny, Decide(Policy, Request("POST", "/billing/v1/refunds", body: "")).Action);
    }

    [Fact]
    public void The_body_is_asked_for_only_when_a_rule_that_could_decide_needs_it()
    {
        var withoutBody = Request("POST", "/billing/v1/refunds");
        Assert.True(Policy.Decide(withoutBody).NeedsBody);

        var get = Request("GET", "/billing/v1/customers");
        Assert.False(Policy.Decide(get).NeedsBody);
    }

    [Theory]
    [InlineData("limit=50", "crm-limit")]
    [InlineData("limit=100&sort=asc", "crm-limit")]
    [InlineData("limit=500", null)]
    [InlineData("limit=50&limit=500", null)]
    [InlineData("limit=50&limit=50", "crm-limit")]
    [InlineData("limit=fifty", null)]
    [InlineData("", null)]
    public void Query_parameters_must_satisfy_allow_rules_on_every_value(string query, string? rule)
    {
        Assert.Equal(rule, Decide(Policy, Request("GET", "/crm/contacts", query: query, groups: ["people"])).Rule?.Name);
    }

    [Theory]
    [InlineData(new[] { "prod" }, "prod-header")]
    [InlineData(new[] { "PROD" }, "prod-header")]
    [InlineData(new[] { "staging", "prod" }, "prod-header")]
    [InlineData(new[] { "staging" }, null)]
    [InlineData(new[] { "staging, prod" }, "prod-header")]
    [InlineData(new[] { "prod,staging" }, "prod-header")]
    [InlineData(new[] { "staging", "staging,PROD" }, "prod-header")]
    [InlineData(new[] { "staging, dev" }, null)]
    public void Headers_meet_deny_rules_on_any_value_and_without_case(string[] values, string? rule)
    {
        var facts = Request("POST", "/crm/contacts", groups: ["people"], headers: new() { ["x-env"] = values });

        Assert.Equal(rule, Decide(Policy, facts).Rule?.Name);
    }

    [Fact]
    public void Raw_body_expressions_and_wildcards()
    {
        var policy = Compile("""
            rules:
              - name: no-sql-in-notes
                when: { bodyMatches: "(?i)drop\\s+table" }
                action: deny
              - name: small-orders
                when:
                  paths: [/shop/orders]
                  body:
                    $.items[*].qty: { lte: 10 }
                action: allow
            """);

        Assert.Equal("no-sql-in-notes", Decide(policy, Request("POST", "/shop/notes", body: "hi; DROP  TABLE users")).RuleName);
        Assert.Equal("small-orders", Decide(policy, Request("POST", "/shop/orders", body: "{\"items\":[{\"qty\":1},{\"qty\":10}]}")).RuleName);
        Assert.Null(Decide(policy, Request("POST", "/shop/orders", body: "{\"items\":[{\"qty\":1},{\"qty\":11}]}")).Rule);
    }

    [Fact]
    public void Identity_conditions()
    {
        var policy = Compile("""
            rules:
              - { name: by-subject, when: { subjects: ["corp:alice"] }, action: allow }
              - { name: by-key, when: { keys: [billing-agent] }, action: allow }
              - { name: by-issuer, when: { issuers: [partner], connections: [crm] }, action: deny }
            """);

        Assert.Equal("by-subject", Decide(policy, Request("GET", "/billing/x", subject: "corp:alice", keyName: null)).RuleName);
        Assert.Equal("by-key", Decide(policy, Request("GET", "/billing/x", subject: "key:billing-agent", keyName: "billing-agent")).RuleName);
        Assert.Null(Decide(policy, Request("GET", "/billing/x", subject: "key:other", keyName: "other")).Rule);
    }

    [Fact]
    public void Unmatched_requests_are_denied_unless_the_connection_allows_unmatched()
    {
        var policy = Compile("""
            allowUnmatched: [status]
            rules:
              - { name: no-writes, when: { methods: [POST] }, action: deny }
            """);

        Assert.Equal(PolicyAction.Deny, Decide(policy, Request("GET", "/billing/x")).Action);
        Assert.Equal(PolicyAction.Allow, Decide(policy, Request("GET", "/status/x")).Action);
        Assert.Equal("no-writes", Decide(policy, Request("POST", "/status/x")).RuleName);
    }

    [Fact]
    public void The_version_is_the_hash_of_the_file()
    {
        var a = Compile("rules: []");
        var b = Compile("rules: []\n");

        Assert.Equal("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("rules: []"u8)), a.Version);
        Assert.NotEqual(a.Version, b.Version);
    }
}
