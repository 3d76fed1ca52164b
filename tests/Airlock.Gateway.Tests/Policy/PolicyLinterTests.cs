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

    /// <summary>The warnings about the second of two rules of the same action, the first covering it or not.</summary>
    private static List<string> SecondRule(string wide, string narrow, string action = "deny") =>
        Warnings($"rules:\n  - {{ name: wide, when: {wide}, action: {action} }}\n  - {{ name: narrow, when: {narrow}, action: {action} }}\n");

    private const string Shadowed = "/p/policy.yaml:3:1: rules[1] 'narrow': is shadowed: every request it matches is decided first by rule 'wide' (line 2)";

    [Theory]
    [InlineData("/billing/**", "/billing/v1/x", true)]
    [InlineData("/billing/**", "/billing", true)]
    [InlineData("/billing/**", "/billing/**", true)]
    [InlineData("/billing/*", "/billing/v1", true)]
    [InlineData("/billing/*", "/billing/v1/x", false)]
    [InlineData("/billing/*", "/billing/**", false)]
    [InlineData("/billing/*", "/billing", false)]
    [InlineData("/**/admin", "/billing/v1/admin", true)]
    [InlineData("/**/admin", "/billing/admin/x", false)]
    [InlineData("/*/admin/**", "/billing/admin", true)]
    [InlineData("/billing/x/**/y", "/billing/x/a/b/y", true)]
    [InlineData("/billing/x/**/y", "/billing/x/y", true)]
    [InlineData("/billing/x/**/y", "/billing/x/a/b/z", false)]
    [InlineData("/billing/**/**", "/billing", true)]
    [InlineData("/billing/v1", "/billing/v1/x", false)]
    [InlineData("/billing/v1/x", "/billing/v1", false)]
    [InlineData("/billing/a", "/billing/a", true)]
    [InlineData("/billing/a", "/billing/b", false)]
    [InlineData("/billing/*.csv", "/billing/a.csv", true)]
    [InlineData("/billing/*.csv", "/billing/*.json", false)]
    [InlineData("/billing/*.csv", "/billing/*", false)]
    [InlineData("/billing/*.csv", "/billing/x.CSV", false)]
    [InlineData("/billing/v*", "/billing/*v", false)]
    [InlineData("/**", "/", true)]
    [InlineData("/billing/**", "/crm/x", false)]
    [InlineData("/billing/v1/x", "/crm/v1/x", false)]
    [InlineData("/billing/v*", "/billing/v1", true)]
    [InlineData("/billing/v*", "/billing/v*", true)]
    [InlineData("/billing/*", "/billing/v*", true)]
    public void A_path_rule_is_shadowed_only_when_every_path_it_matches_an_earlier_one_matches(string wide, string narrow, bool shadowed)
    {
        var warnings = SecondRule($"{{ paths: [\"{wide}\"] }}", $"{{ paths: [\"{narrow}\"] }}");

        Assert.Equal(shadowed ? [Shadowed] : [], warnings);
    }

    [Theory]
    [InlineData("{ paths: [/billing/**, /crm/**] }", "{ paths: [/billing/a, /crm/a] }", true)]
    [InlineData("{ paths: [/billing/**] }", "{ paths: [/billing/a, /crm/a] }", false)]
    [InlineData("{ methods: [GET, POST] }", "{ methods: [GET] }", true)]
    [InlineData("{ methods: [GET] }", "{ methods: [GET, POST] }", false)]
    [InlineData("{ subjects: [x] }", "{ keys: [x] }", false)]
    [InlineData("{ keys: [a, b] }", "{ keys: [b], methods: [GET] }", true)]
    [InlineData("{ methods: [GET], keys: [a] }", "{ methods: [GET] }", false)]
    [InlineData("{ groups: [a, b] }", "{ groups: [a] }", true)]
    [InlineData("{ groups: [a] }", "{ groups: [a, b] }", false)]
    [InlineData("{ groups: [a] }", "{ groups: { allOf: [a, c] } }", true)]
    [InlineData("{ groups: [a] }", "{ groups: { allOf: [c] } }", false)]
    [InlineData("{ groups: { allOf: [a] } }", "{ groups: { allOf: [a, b] } }", true)]
    [InlineData("{ groups: { allOf: [a, b] } }", "{ groups: { allOf: [a] } }", false)]
    [InlineData("{ groups: { allOf: [a] } }", "{ groups: [a] }", false)]
    [InlineData("{ groups: { anyOf: [a], allOf: [b] } }", "{ groups: { allOf: [a, b] } }", true)]
    [InlineData("{ groups: { anyOf: [a], allOf: [b] } }", "{ groups: { anyOf: [a], allOf: [c] } }", false)]
    [InlineData("{ query: { limit: { gt: 100 } } }", "{ query: { limit: { gt: 100 } }, methods: [GET] }", true)]
    [InlineData("{ query: { limit: { gt: 100 } } }", "{ query: { Limit: { gt: 100 } } }", false)]
    [InlineData("{ query: { limit: { gt: 100 } } }", "{ query: { limit: { gt: 1000 } } }", false)]
    [InlineData("{ query: { limit: { gt: 100 } } }", "{ headers: { limit: { gt: 100 } } }", false)]
    [InlineData("{ headers: { X-Env: prod } }", "{ headers: { x-env: prod } }", true)]
    [InlineData("{ headers: { X-Env: prod } }", "{ headers: { X-Tenant: prod } }", false)]
    [InlineData("{ headers: { X-Env: prod } }", "{ headers: { X-Env: dev } }", false)]
    [InlineData("{ body: { $.amount: { gt: 1 } } }", "{ body: { $.amount: { gt: 1 } } }", true)]
    [InlineData("{ body: { $.amount: { gt: 1 } } }", "{ body: { $.total: { gt: 1 } } }", false)]
    [InlineData("{ body: { $.amount: { gt: 1 } } }", "{ body: { $.amount: { gt: 2 } } }", false)]
    [InlineData("{ bodyMatches: drop }", "{ bodyMatches: drop }", true)]
    [InlineData("{ bodyMatches: drop }", "{ bodyMatches: truncate }", false)]
    [InlineData("{ connections: [billing] }", "{ connections: [billing], paths: [/billing/x] }", true)]
    public void A_rule_is_shadowed_only_when_each_condition_of_the_earlier_rule_covers_one_of_its_own(string wide, string narrow, bool shadowed)
    {
        Assert.Equal(shadowed ? [Shadowed] : [], SecondRule(wide, narrow));
    }

    [Fact]
    public void A_later_wider_rule_of_the_same_action_does_not_shadow_an_earlier_one()
    {
        Assert.Empty(SecondRule("{ methods: [GET] }", "{ methods: [GET, POST] }"));
        Assert.Empty(Warnings("rules:\n  - { name: narrow, when: { methods: [GET] }, action: deny }\n  - { name: wide, action: deny }\n"));
    }

    [Fact]
    public void A_rule_without_conditions_covers_every_rule_after_it()
    {
        Assert.Equal([Shadowed], SecondRule("{}", "{ methods: [GET], paths: [/billing/x], query: { a: b } }"));
    }

    [Theory]
    [InlineData("deny", "allow", "denied by rule 'strong'")]
    [InlineData("deny", "review", "denied by rule 'strong'")]
    [InlineData("review", "allow", "held for review by rule 'strong'")]
    public void A_rule_a_stronger_rule_always_overrides_never_takes_effect_wherever_it_is(string strong, string weak, string by)
    {
        var review = "review: { approvers: [ops] }";
        string Rule(string name, string action) => $"  - {{ name: {name}, when: {{ methods: [GET] }}, action: {action}{(action == "review" ? ", " + review : "")} }}\n";

        var before = Warnings("rules:\n" + Rule("weak", weak) + Rule("strong", strong));
        Assert.Equal([$"/p/policy.yaml:2:1: rules[0] 'weak': never takes effect: every request it matches is {by}"], before);
        var after = Warnings("rules:\n" + Rule("strong", strong) + Rule("weak", weak));
        Assert.Equal([$"/p/policy.yaml:3:1: rules[1] 'weak': never takes effect: every request it matches is {by}"], after);
    }

    [Theory]
    [InlineData("allow", "deny")]
    [InlineData("allow", "review")]
    [InlineData("review", "deny")]
    public void A_weaker_rule_never_hides_a_stronger_one(string weak, string strong)
    {
        var review = ", review: { approvers: [ops] }";
        var warnings = Warnings($"rules:\n  - {{ name: weak, action: {weak}{(weak == "review" ? review : "")} }}\n  - {{ name: strong, when: {{ methods: [GET] }}, action: {strong}{(strong == "review" ? review : "")} }}\n");

        Assert.DoesNotContain(warnings, w => w.Contains("'strong'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_rule_gets_one_warning_naming_the_first_rule_in_file_order_that_hides_it()
    {
        var warnings = Warnings("""
            rules:
              - { name: lockdown, when: { methods: [GET] }, action: deny }
              - { name: reads, when: { methods: [GET] }, action: allow }
              - { name: reads-again, when: { methods: [GET] }, action: allow }
            """);

        Assert.Equal([
            "/p/policy.yaml:3:1: rules[1] 'reads': never takes effect: every request it matches is denied by rule 'lockdown'",
            "/p/policy.yaml:4:1: rules[2] 'reads-again': never takes effect: every request it matches is denied by rule 'lockdown'",
        ], warnings);
    }

    [Fact]
    public void Only_an_allow_rule_without_conditions_turns_off_default_deny()
    {
        Assert.Empty(Warnings("rules:\n  - { name: all, action: deny }\n"));
        Assert.Empty(Warnings("rules:\n  - { name: all, action: review, review: { approvers: [ops] } }\n"));
        Assert.Empty(Warnings("rules:\n  - { name: some, when: { methods: [GET] }, action: allow }\n"));
        Assert.Equal(["/p/policy.yaml:2:1: rules[0] 'all': allows every request on every connection: it turns off default deny"],
            Warnings("rules:\n  - { name: all, action: allow }\n"));
    }

    [Fact]
    public void A_shadowed_rule_names_the_first_rule_that_decides_it()
    {
        var warnings = Warnings("""
            rules:
              - { name: first, when: { methods: [GET] }, action: deny }
              - { name: second, when: { methods: [GET] }, action: deny }
              - { name: third, when: { methods: [GET] }, action: deny }
            """);

        Assert.Equal([
            "/p/policy.yaml:3:1: rules[1] 'second': is shadowed: every request it matches is decided first by rule 'first' (line 2)",
            "/p/policy.yaml:4:1: rules[2] 'third': is shadowed: every request it matches is decided first by rule 'first' (line 2)",
        ], warnings);
    }
}
