using System.Text;
using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Tests.Policy;

public class PolicyLinterTests
{
    private static List<string> Warnings(string yaml)
    {
        var result = PolicyParser.Load(Encoding.UTF8.GetBytes(yaml), "/p/policy.yaml");
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Warnings.Select(w => w.ToString()).ToList();
    }

    [Fact]
    public void A_rule_matched_first_by_an_earlier_rule_of_the_same_action_is_shadowed()
    {
        var warnings = Warnings("""
            rules:
              - { name: wide, when: { paths: [/billing/**] }, action: deny }
              - { name: narrow, when: { paths: [/billing/v1/*], methods: [POST] }, action: deny }
            """);

        Assert.Contains(warnings, w => w.Contains("'narrow': is shadowed: every request it matches is decided first by rule 'wide' (line 2)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_rule_a_stronger_action_always_overrides_never_takes_effect()
    {
        var warnings = Warnings("""
            rules:
              - { name: read, when: { connections: [billing], methods: [GET] }, action: allow }
              - { name: lockdown, when: { connections: [billing] }, action: deny }
              - { name: pricing, when: { paths: ["/billing/v1/plans/*"], methods: [PUT] }, action: review, review: { approvers: [finance] } }
              - { name: all-puts, when: { methods: [PUT] }, action: deny }
            """);

        Assert.Contains(warnings, w => w.Contains("'read': never takes effect: every request it matches is denied by rule 'lockdown'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'pricing': never takes effect: every request it matches is denied by rule 'all-puts'", StringComparison.Ordinal));
    }

    [Fact]
    public void Rules_that_only_overlap_are_not_flagged()
    {
        var warnings = Warnings("""
            rules:
              - { name: a, when: { paths: [/billing/v1/*], methods: [GET] }, action: allow }
              - { name: b, when: { paths: [/billing/**], methods: [DELETE] }, action: deny }
              - { name: c, when: { paths: [/billing/v1/x], groups: [finance] }, action: allow }
              - { name: d, when: { paths: [/billing/*/x], groups: { allOf: [finance, ops] } }, action: review, review: { approvers: [x] } }
            """);

        Assert.Empty(warnings);
    }

    [Fact]
    public void Default_allow_and_allow_everything_are_loud()
    {
        var warnings = Warnings("""
            allowUnmatched: [status]
            rules:
              - { name: everything, action: allow }
            """);

        Assert.Contains(warnings, w => w.Contains("connection 'status' is on default ALLOW", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'everything': allows every request on every connection", StringComparison.Ordinal));
    }
}
