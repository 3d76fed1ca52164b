using Airlock.Gateway.Policy;
using Airlock.Gateway.Policy.Conditions;
using static Airlock.Gateway.Tests.Policy.PolicyFixture;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>Conditions on who calls and how: connections, methods (and <c>_method</c>),
/// subjects, keys, issuers and groups; and how each says what it asks and why it fails.</summary>
public class SetConditionTests
{
    // Compiled per test, not once per class: mutation testing runs many mutants in one test
    // process, and a policy compiled under one mutant would decide the next mutant's tests.
    private readonly CompiledPolicy Overrides = Compile("""
        rules:
          - { name: no-deletes, when: { methods: [DELETE] }, action: deny }
          - { name: posts, when: { methods: [POST] }, action: allow }
        """);

    [Theory]
    [InlineData("_method=DELETE")]
    [InlineData("a=1&_method=DELETE")]
    [InlineData("_method=DELETE&a=1")]
    [InlineData("a=1&b=2&_method=DELETE&c=3")]
    [InlineData("_method=")]
    [InlineData("_method")]
    [InlineData("_Method=delete")]
    [InlineData("%5Fmethod=DELETE")]
    [InlineData("_%6Dethod=DELETE")]
    [InlineData("_%6d%65%74%68%6f%64=DELETE")]
    [InlineData("_me%74hod=DELETE")]
    [InlineData("%5F%4D%45%54%48%4F%44=DELETE")]
    [InlineData(".method=DELETE")] // PHP makes '.' in a name '_'
    [InlineData("%2Emethod=DELETE")]
    [InlineData("%20_method=DELETE")] // PHP drops leading spaces
    [InlineData("++.method=DELETE")]
    public void A_method_override_parameter_anywhere_in_the_query_makes_the_method_ambiguous(string query)
    {
        var decision = Decide(Overrides, Request("POST", "/svc/x", query: query));

        Assert.Equal("no-deletes", decision.RuleName);
        Assert.Equal("methods", decision.Ambiguity?.Key);
        Assert.Equal("the query carries _method, which Rails, Laravel and Symfony run instead of the method sent",
            decision.WithReasons(Request("POST", "/svc/x", query: query)).Ambiguous);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a=1")]
    [InlineData("method=DELETE")]
    [InlineData("payment_method=card")]
    [InlineData("_methods=DELETE")]
    [InlineData("a=_method")]
    [InlineData("sort=method&_x=1")]
    [InlineData("+method=DELETE")]
    [InlineData("x.method=DELETE")]
    [InlineData("_method_=DELETE")]
    [InlineData("__method=DELETE")]
    [InlineData("xmethod=DELETE")]
    [InlineData("include=items&payment_method=card")]
    public void A_query_without_a_method_override_leaves_the_method_as_sent(string? query)
    {
        var decision = Decide(Overrides, Request("POST", "/svc/x", query: query));

        Assert.Equal("posts", decision.RuleName);
        Assert.Null(decision.Ambiguity);
    }

    [Fact]
    public void Methods_are_compared_as_sent()
    {
        Assert.Equal("posts", Decide(Overrides, Request("POST", "/svc/x")).RuleName);
        Assert.Equal("no-deletes", Decide(Overrides, Request("DELETE", "/svc/x")).RuleName);
        Assert.Equal("(default)", Decide(Overrides, Request("PUT", "/svc/x")).RuleName);
        Assert.Equal("(default)", Decide(Overrides, Request("delete", "/svc/x")).RuleName);
    }

    [Fact]
    public void Identity_conditions_hold_for_the_named_callers_only()
    {
        var policy = Compile("""
            rules:
              - { name: by-subject, when: { subjects: ["corp:alice", "corp:bob"] }, action: allow }
              - { name: by-key, when: { keys: [billing-agent] }, action: allow }
              - { name: by-issuer, when: { issuers: [partner] }, action: deny }
            """);

        Assert.Equal("by-subject", Decide(policy, Request("GET", "/x/y", subject: "corp:bob", keyName: null)).RuleName);
        Assert.Equal("(default)", Decide(policy, Request("GET", "/x/y", subject: "corp:Alice", keyName: null)).RuleName);
        Assert.Equal("by-key", Decide(policy, Request("GET", "/x/y", subject: "key:billing-agent", keyName: "billing-agent")).RuleName);
        Assert.Equal("(default)", Decide(policy, Request("GET", "/x/y", subject: "key:Billing-Agent", keyName: "Billing-Agent")).RuleName);
        // A caller with a token has no key name: a keys condition never holds for it.
        Assert.Equal("(default)", Decide(policy, Request("GET", "/x/y", subject: "corp:carol", keyName: null)).RuleName);

        var keys = policy.Rules[1].Conditions.Single();
        var token = Request("GET", "/x/y", subject: "corp:carol", keyName: null);
        Assert.Equal("keys: (none) is not one of billing-agent", keys.Explain(token, strict: true));
        var issuer = policy.Rules[2].Conditions.Single();
        Assert.Equal("issuers: corp is not one of partner", issuer.Explain(token, strict: false));
        Assert.Equal("issuers", issuer.Key);
    }

    [Fact]
    public void Set_conditions_describe_themselves_in_the_policys_words_sorted()
    {
        var policy = Compile("""
            rules:
              - name: r
                when:
                  connections: [crm, billing]
                  methods: [PUT, GET, DELETE]
                  subjects: ["corp:bob", "corp:alice"]
                  keys: [b-agent, a-agent]
                  issuers: [corp]
                action: deny
            """);
        var facts = Request("POST", "/tickets/x", subject: "key:c-agent", keyName: "c-agent");

        Assert.Equal(
            ["connections: billing, crm", "methods: DELETE, GET, PUT", "subjects: corp:alice, corp:bob", "keys: a-agent, b-agent", "issuers: corp"],
            policy.Rules[0].Conditions.Select(c => c.Describe()));
        Assert.Equal(
            ["connections: tickets is not one of billing, crm", "methods: POST is not one of DELETE, GET, PUT", "subjects: key:c-agent is not one of corp:alice, corp:bob",
                "keys: c-agent is not one of a-agent, b-agent", "issuers: airlock is not one of corp"],
            policy.Rules[0].Conditions.Select(c => c.Explain(facts, strict: false)));
        Assert.Equal(["connections", "methods", "subjects", "keys", "issuers"], policy.Rules[0].Conditions.Select(c => c.Key));
        Assert.All(policy.Rules[0].Conditions, c => Assert.False(c.NeedsBody));
    }

    [Theory]
    [InlineData(new[] { "agents" }, true)]
    [InlineData(new[] { "people", "finance" }, true)]
    [InlineData(new[] { "people" }, false)]
    [InlineData(new[] { "Agents" }, false)]
    [InlineData(new string[0], false)]
    public void Groups_as_a_list_means_any_of(string[] groups, bool matches)
    {
        var policy = Compile("""
            rules:
              - { name: g, when: { groups: [agents, finance] }, action: allow }
            """);

        Assert.Equal(matches, Decide(policy, Request("GET", "/x/y", groups: groups)).RuleName == "g");
    }

    [Theory]
    [InlineData(new[] { "agents", "finance", "eu" }, true)]
    [InlineData(new[] { "support", "finance", "eu" }, true)]
    [InlineData(new[] { "agents", "finance" }, false)]
    [InlineData(new[] { "agents", "eu" }, false)]
    [InlineData(new[] { "finance", "eu" }, false)]
    [InlineData(new[] { "eu", "finance", "other", "support" }, true)]
    public void Groups_any_of_and_all_of_must_both_hold(string[] groups, bool matches)
    {
        var policy = Compile("""
            rules:
              - { name: g, when: { groups: { anyOf: [agents, support], allOf: [finance, eu] } }, action: allow }
            """);

        Assert.Equal(matches, Decide(policy, Request("GET", "/x/y", groups: groups)).RuleName == "g");
    }

    [Fact]
    public void Groups_say_what_they_ask_and_what_the_caller_lacks()
    {
        var policy = Compile("""
            rules:
              - { name: both, when: { groups: { anyOf: [agents, support], allOf: [finance, eu] } }, action: allow }
              - { name: any, when: { groups: [agents, support] }, action: allow }
              - { name: all, when: { groups: { allOf: [finance, eu] } }, action: allow }
            """);
        var both = policy.Rules[0].Conditions.Single();
        var any = policy.Rules[1].Conditions.Single();
        var all = policy.Rules[2].Conditions.Single();

        Assert.Equal("groups", both.Key);
        Assert.Equal("groups: any of agents, support; all of finance, eu", both.Describe());
        Assert.Equal("groups: any of agents, support", any.Describe());
        Assert.Equal("groups: all of finance, eu", all.Describe());
        Assert.Equal("groups: the caller (groups finance) is not in all of finance, eu; missing eu",
            all.Explain(Request("GET", "/x/y", groups: ["finance"]), strict: true));
        Assert.Equal("groups: the caller (no groups) is not in all of finance, eu; missing finance, eu",
            both.Explain(Request("GET", "/x/y", groups: []), strict: true));
        Assert.Equal("groups: the caller (groups finance, eu) is in none of agents, support",
            both.Explain(Request("GET", "/x/y", groups: ["finance", "eu"]), strict: true));
        Assert.Equal("groups: the caller (no groups) is in none of agents, support",
            any.Explain(Request("GET", "/x/y", groups: []), strict: true));
    }

    [Fact]
    public void A_condition_without_a_reason_of_its_own_says_what_could_be_read_two_ways()
    {
        var condition = new ConnectionCondition(["billing"]);

        Assert.Equal("the request's connections can be read more than one way", condition.WhyAmbiguous(Request("GET", "/billing/x")));
        Assert.Equal(Verdict.Yes, condition.Evaluate(Request("GET", "/billing/x"), strict: true));
        Assert.Equal(Verdict.No, condition.Evaluate(Request("GET", "/Billing/x"), strict: false));
        Assert.Equal(["billing"], condition.Values);
    }
}
