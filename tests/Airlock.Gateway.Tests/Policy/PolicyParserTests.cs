using System.Text;
using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Tests.Policy;

public class PolicyParserTests
{
    private static PolicyLoadResult Load(string yaml, IReadOnlySet<string>? connections = null) =>
        PolicyParser.Load(Encoding.UTF8.GetBytes(yaml), "/p/policy.yaml", connections);

    [Fact]
    public void Every_error_is_reported_with_its_line()
    {
        var result = Load("""
            rules:
              - name: a
                when:
                  methods: [get]
                  paths: [billing/x, "/billing/v1/../x", "/billing/a**"]
                action: allow
              - name: b
                when:
                  body:
                    amount: { gt: 1 }
                    $.n: { gt: lots }
                action: permit
              - name: c
                action: review
              - name: d
                when: { bodyMatches: "(a)\\1" }
                action: deny
              - name: d
                action: deny
                message: dup
            """);

        Assert.False(result.Succeeded);
        var errors = result.Errors.Select(e => e.ToString()).ToList();
        Assert.Contains(errors, e => e.StartsWith("/p/policy.yaml:4:16: rules[0].when.methods: 'get' must be an HTTP method in upper case", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains(":5:14: rules[0].when.paths: 'billing/x' must start with '/'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'/billing/v1/../x' is not in canonical form", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'/billing/a**': '**' must be a whole segment", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("rules[1].when.body.amount: a body field path starts with '$'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("rules[1].when.body.$.n.gt: 'lots' is not a number", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains(":12:13: rules[1].action: 'permit' is not an action", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("rules[2].review: a review rule needs review settings with at least one approver group", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("rules[3].when.bodyMatches: invalid regular expression", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains(":18:5: the name 'd' is used by more than one rule", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_connections_are_errors_when_the_configuration_is_known()
    {
        var result = Load("""
            allowUnmatched: [status]
            rules:
              - { name: a, when: { connections: [billing, crm] }, action: allow }
            """, new HashSet<string> { "billing", "status" });

        var error = Assert.Single(result.Errors);
        Assert.Equal("'crm' is not a configured connection", error.Message);
    }

    [Fact]
    public void Paths_outside_the_rules_connections_are_errors()
    {
        var result = Load("rules:\n  - { name: a, when: { connections: [billing], paths: [/crm/**] }, action: allow }");

        Assert.Contains("outside the rule's connections", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Review_settings_are_checked()
    {
        var result = Load("""
            rules:
              - name: r
                action: review
                review: { approvers: [], approvals: 0, hold: 2h, expires: 1h }
            """);

        var errors = result.Errors.Select(e => e.Message).ToList();
        Assert.Contains(errors, m => m.StartsWith("a review rule needs at least one approver group", StringComparison.Ordinal));
        Assert.Contains(errors, m => m == "must be a whole number from 1 to 10");
        Assert.Contains(errors, m => m.StartsWith("must be between", StringComparison.Ordinal));
    }

    [Fact]
    public void Review_defaults()
    {
        var result = Load("rules:\n  - { name: r, action: review, review: { approvers: [ops] } }");

        var review = Assert.Single(result.Policy!.Rules).Review!;
        Assert.Equal(1, review.Approvals);
        Assert.Equal(TimeSpan.FromSeconds(60), review.Hold);
        Assert.Equal(TimeSpan.FromHours(24), review.Expires);
        Assert.Equal(TimeSpan.Zero, review.MaxGrant);
    }

    [Fact]
    public void Guardrails_are_checked()
    {
        var result = Load("""
            guardrails:
              - name: g1
                response: { detectors: [credit-card] }
              - name: g2
                response: {}
              - name: g3
                when: { bodyMatches: x }
                response: { status: [200, 999] }
            """);

        var errors = result.Errors.Select(e => e.Message).ToList();
        Assert.Contains(errors, m => m.StartsWith("'credit-card' is not a detector; known: aws-access-key, email, github-token, iban, ipv4, ipv6, jwt, payment-card, phone, private-key, secret-key, us-ssn; groups: all, pii, secrets", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.StartsWith("give at least one of status", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.StartsWith("a guardrail's when is about the request", StringComparison.Ordinal));
        Assert.Contains(errors, m => m == "'999' is not an HTTP status");
    }

    [Fact]
    public void Only_deny_rules_carry_a_message()
    {
        var result = Load("rules:\n  - { name: a, action: allow, message: hi }");

        Assert.Equal("only deny rules carry a message for the caller", Assert.Single(result.Errors).Message);
    }

    [Fact]
    public void Invalid_utf8_is_refused()
    {
        var result = PolicyParser.Load([0x72, 0x75, 0xC0, 0xAF], "/p/policy.yaml");

        Assert.Equal("the policy file is not valid UTF-8", Assert.Single(result.Errors).Message);
    }
}
