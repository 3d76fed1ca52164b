using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Policy.Conditions;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>A valid policy file compiles to what docs/policy.md says each key means.</summary>
public class PolicyCompileTests
{
    private static CompiledPolicy Compile(string yaml) => PolicyFixture.Compile(yaml);

    private static List<string> Conditions(PolicyRule rule) => [.. rule.Conditions.Select(c => c.Describe())];

    private static ValueTest QueryTest(string test) =>
        Assert.IsType<QueryCondition>(Assert.Single(Compile($"rules:\n  - {{ name: r, action: deny, when: {{ query: {{ a: {test} }} }} }}\n").Rules).Conditions.Single()).Test;

    [Fact]
    public void A_rule_keeps_its_name_place_action_and_message()
    {
        var policy = Compile("""
            rules:
              - name: reads
                description: for people
                when: { methods: [GET] }
                action: allow

              - name: no-deletes
                when: { methods: [DELETE] }
                action: deny
                message: Ask a person.
              - name: big.refunds_2
                action: review
                review: { approvers: [finance] }
            """);

        Assert.Equal(
            [("reads", 0, 2, PolicyAction.Allow, (string?)null), ("no-deletes", 1, 7, PolicyAction.Deny, "Ask a person."), ("big.refunds_2", 2, 11, PolicyAction.Review, null)],
            policy.Rules.Select(r => (r.Name, r.Index, r.Line, r.Action, r.Message)));
        Assert.Null(policy.Rules[0].Review);
        Assert.Null(policy.Rules[1].Review);
        Assert.Null(policy.Rules[0].Mask);
        Assert.Equal("/etc/airlock/policy.yaml", policy.SourcePath);
    }

    [Fact]
    public void The_version_is_the_sha256_of_the_files_bytes()
    {
        var text = "rules:\n  - { name: a, action: deny }\n";
        var bytes = Encoding.UTF8.GetBytes(text);
        var policy = PolicyParser.Load(bytes, "/p/policy.yaml").Policy!;

        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)), policy.Version);
        Assert.NotEqual(policy.Version, Compile(text + "# a comment changes the version\n").Version);
    }

    [Fact]
    public void A_rule_lists_its_conditions_cheap_first_and_body_last()
    {
        var rule = Assert.Single(Compile("""
            rules:
              - name: r
                when:
                  bodyMatches: "(?i)drop\\s+table"
                  body: { $.amount: { gt: 100 } }
                  headers: { X-Env: prod }
                  query: { limit: { lte: 100 } }
                  groups: [agents]
                  issuers: [corp]
                  keys: [billing-agent]
                  subjects: ["corp:alice"]
                  paths: [/billing/v1/**]
                  methods: [POST, PUT]
                  connections: [billing]
                action: deny
            """).Rules);

        Assert.Equal([
            "connections: billing",
            "methods: POST, PUT",
            "paths: /billing/v1/**",
            "subjects: corp:alice",
            "keys: billing-agent",
            "issuers: corp",
            "groups: any of agents",
            "query: limit <= 100",
            "headers: X-Env equals \"prod\"",
            "body: $.amount > 100",
            "bodyMatches: /(?i)drop\\s+table/",
        ], Conditions(rule));
        Assert.Equal(["billing"], rule.Connections.ToArray());
        Assert.IsType<ConnectionCondition>(rule.Conditions[0]);
        Assert.IsType<MethodCondition>(rule.Conditions[1]);
        Assert.IsType<SubjectCondition>(rule.Conditions[3]);
        Assert.IsType<KeyCondition>(rule.Conditions[4]);
        Assert.IsType<IssuerCondition>(rule.Conditions[5]);
        Assert.IsType<HeaderCondition>(rule.Conditions[8]);
        Assert.IsType<JsonBodyCondition>(rule.Conditions[9]);
        Assert.IsType<RawBodyCondition>(rule.Conditions[10]);
    }

    [Fact]
    public void A_rule_with_no_when_matches_everything_and_is_limited_to_no_connection()
    {
        var rules = Compile("rules:\n  - { name: a, action: deny }\n  - { name: b, action: deny, when: {} }\n  - { name: c, action: deny, when: ~ }\n").Rules;

        Assert.All(rules, r => Assert.Empty(r.Conditions));
        Assert.All(rules, r => Assert.Empty(r.Connections));
    }

    [Fact]
    public void One_value_may_stand_for_a_list_of_one()
    {
        var rule = Assert.Single(Compile("rules:\n  - { name: r, action: deny, when: { connections: billing, methods: DELETE, groups: agents } }\n").Rules);

        Assert.Equal(["connections: billing", "methods: DELETE", "groups: any of agents"], Conditions(rule));
        Assert.Equal(["billing"], rule.Connections.ToArray());
    }

    [Theory]
    [InlineData("[agents, ops]", "groups: any of agents, ops")]
    [InlineData("{ anyOf: [agents] }", "groups: any of agents")]
    [InlineData("{ allOf: [agents, finance] }", "groups: all of agents, finance")]
    [InlineData("{ anyOf: [a, b], allOf: [c] }", "groups: any of a, b; all of c")]
    public void Groups_are_any_of_a_list_or_any_of_and_all_of(string groups, string described)
    {
        var rule = Assert.Single(Compile($"rules:\n  - {{ name: r, action: deny, when: {{ groups: {groups} }} }}\n").Rules);

        Assert.Equal(described, Assert.IsType<GroupsCondition>(Assert.Single(rule.Conditions)).Describe());
    }

    [Fact]
    public void Paths_compile_to_their_patterns()
    {
        var rule = Assert.Single(Compile("rules:\n  - { name: r, action: deny, when: { paths: [/billing/v1/*, /*/admin/**, \"/crm/*.csv\", /] } }\n").Rules);

        Assert.Equal(["/billing/v1/*", "/*/admin/**", "/crm/*.csv", "/"], Assert.IsType<PathCondition>(Assert.Single(rule.Conditions)).Patterns.Select(p => p.Text));
    }

    [Theory]
    [InlineData("100", JsonValueKind.Number, "100")]
    [InlineData("-2.50", JsonValueKind.Number, "-2.50")]
    [InlineData("1e3", JsonValueKind.Number, "1000")]
    [InlineData("\"100\"", JsonValueKind.String, "100")]
    [InlineData("'true'", JsonValueKind.String, "true")]
    [InlineData("true", JsonValueKind.True, "true")]
    [InlineData("false", JsonValueKind.False, "false")]
    [InlineData("null", JsonValueKind.Null, "null")]
    [InlineData("~", JsonValueKind.Null, "null")]
    [InlineData("prod", JsonValueKind.String, "prod")]
    [InlineData("True", JsonValueKind.String, "True")]
    [InlineData("\"\"", JsonValueKind.String, "")]
    public void Values_keep_their_yaml_type(string yaml, JsonValueKind kind, string text)
    {
        var literal = Assert.Single(QueryTest($"{{ equals: {yaml} }}").OneOf);

        Assert.Equal((kind, text), (literal.Kind, literal.Text));
        Assert.Equal(kind == JsonValueKind.Number ? decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : null, literal.Number);
    }

    [Fact]
    public void An_empty_value_in_a_list_is_null()
    {
        var rule = Assert.Single(Compile("rules:\n  - name: r\n    action: deny\n    when:\n      query:\n        a:\n          - x\n          -\n").Rules);
        var test = Assert.IsType<QueryCondition>(Assert.Single(rule.Conditions)).Test;

        Assert.Equal([(JsonValueKind.String, "x"), (JsonValueKind.Null, "null")], test.OneOf.Select(l => (l.Kind, l.Text)));
    }

    [Fact]
    public void Equals_null_allows_only_null_not_any_value()
    {
        var policy = Compile("""
            rules:
              - { name: no-override, action: allow, when: { methods: [POST], body: { $.override: { equals: null } } } }
            """);

        Assert.Equal(PolicyAction.Allow, PolicyFixture.Decide(policy, PolicyFixture.Request("POST", "/billing/x", body: """{"override": null}""")).Action);
        Assert.Equal(PolicyAction.Deny, PolicyFixture.Decide(policy, PolicyFixture.Request("POST", "/billing/x", body: """{"override": "everything"}""")).Action);
    }

    [Fact]
    public void The_shorthands_are_equals_and_in()
    {
        var one = QueryTest("prod");
        Assert.Equal(["\"prod\""], one.OneOf.Select(l => l.ToString()));
        Assert.Equal("equals \"prod\"", one.ToString());

        var list = QueryTest("[staging, dev, 3]");
        Assert.Equal("is one of \"staging\", \"dev\", 3", list.ToString());
        Assert.Null(list.Exists);
        Assert.Null(list.Matches);
    }

    [Theory]
    [InlineData("{ exists: true }", "exists")]
    [InlineData("{ exists: false }", "is absent")]
    [InlineData("{ exists: true, equals: 5 }", "exists and equals 5")]
    [InlineData("{ in: [a, b] }", "is one of \"a\", \"b\"")]
    [InlineData("{ in: [a] }", "equals \"a\"")]
    [InlineData("{ matches: \"^v[0-9]+$\" }", "matches /^v[0-9]+$/")]
    [InlineData("{ gt: 1, gte: 2, lt: 30, lte: 40.5 }", "> 1 and >= 2 and < 30 and <= 40.5")]
    [InlineData("{ gte: \"-7\" }", ">= -7")]
    public void Tests_on_a_value_compile_to_what_they_say(string test, string described)
    {
        Assert.Equal(described, QueryTest(test).ToString());
    }

    [Fact]
    public void Exists_false_alone_is_absent_and_exists_true_may_be_combined()
    {
        Assert.False(QueryTest("{ exists: false }").Exists);
        var both = QueryTest("{ exists: true, gt: 1 }");
        Assert.True(both.Exists);
        Assert.Equal(1m, both.Gt);
        Assert.Null(QueryTest("{ gt: 1 }").Exists);
    }

    [Fact]
    public void Regular_expressions_are_compiled_to_run_in_linear_time()
    {
        var policy = Compile("""
            rules:
              - { name: r, action: deny, when: { bodyMatches: "a+b", query: { q: { matches: "x+y" } } } }
            guardrails:
              - { name: g, response: { bodyMatches: "c+d" } }
            """);

        var raw = Assert.IsType<RawBodyCondition>(policy.Rules[0].Conditions.Single(c => c is RawBodyCondition)).Pattern;
        var matches = Assert.IsType<QueryCondition>(policy.Rules[0].Conditions.Single(c => c is QueryCondition)).Test.Matches!;
        var guardrail = policy.Guardrails[0].BodyMatches!;
        Assert.All([raw, matches, guardrail], r => Assert.Equal(RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, r.Options));
        Assert.Equal(["a+b", "x+y", "c+d"], new[] { raw, matches, guardrail }.Select(r => r.ToString()));
    }

    [Fact]
    public void Headers_and_body_fields_compile_with_their_names()
    {
        var rule = Assert.Single(Compile("""
            rules:
              - name: r
                action: deny
                when:
                  headers: { X-Env: prod, X-Tenant: { exists: true } }
                  body: { $.refund.amount: { gt: 100 }, "$.items[*].sku": [a, b] }
            """).Rules);

        Assert.Equal(["X-Env", "X-Tenant"], rule.Conditions.OfType<HeaderCondition>().Select(h => h.Name));
        Assert.Equal(["$.refund.amount", "$.items[*].sku"], rule.Conditions.OfType<JsonBodyCondition>().Select(b => b.Path.Text));
    }

    [Fact]
    public void Review_settings_compile_with_their_bounds_included()
    {
        var review = Assert.Single(Compile("""
            rules:
              - name: r
                action: review
                review: { approvers: [finance, ops], approvals: 10, hold: 15m, expires: 15m, maxGrant: 1d }
            """).Rules).Review!;

        Assert.Equal(["finance", "ops"], review.Approvers.ToArray());
        Assert.Equal((10, TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(15), TimeSpan.FromDays(1)), (review.Approvals, review.Hold, review.Expires, review.MaxGrant));

        var smallest = Assert.Single(Compile("rules:\n  - { name: r, action: review, review: { approvers: ops, approvals: 1, hold: 0s, expires: 1m, maxGrant: 0s } }\n").Rules).Review!;
        Assert.Equal((1, TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.Zero), (smallest.Approvals, smallest.Hold, smallest.Expires, smallest.MaxGrant));
        Assert.Equal(["ops"], smallest.Approvers.ToArray());
    }

    [Fact]
    public void A_guardrail_compiles_to_its_request_scope_and_response_tests()
    {
        var policy = Compile("""
            rules:
              - { name: r, action: deny }
            guardrails:
              - name: no-cards
                description: for people
                when: { connections: [billing], methods: [GET] }
                response:
                  status: [100, 599]
                  contentTypes: [application/json, text/*]
                  detectors: [payment-card, secrets]
                message: Withheld.
              - name: errors
                response: { status: 500 }
            """);

        var g = policy.Guardrails[0];
        Assert.Equal(("no-cards", 4, "Withheld."), (g.Name, g.Line, g.Message));
        Assert.Equal(["connections: billing", "methods: GET"], g.Conditions.Select(c => c.Describe()));
        Assert.Equal([100, 599], g.Statuses.ToArray());
        Assert.Equal(["application/json", "text/*"], g.ContentTypes.ToArray());
        Assert.Equal(["payment-card", "private-key", "jwt", "aws-access-key", "github-token", "secret-key"], g.Detectors.Select(d => d.Name));
        Assert.Null(g.BodyMatches);

        var errors = policy.Guardrails[1];
        Assert.Equal(("errors", 12, (string?)null), (errors.Name, errors.Line, errors.Message));
        Assert.Equal([500], errors.Statuses.ToArray());
        Assert.Empty(errors.Conditions);
        Assert.Empty(errors.ContentTypes);
        Assert.Empty(errors.Detectors);
    }

    [Theory]
    [InlineData("{ contentTypes: [text/html] }")]
    [InlineData("{ detectors: [email] }")]
    [InlineData("{ bodyMatches: secret }")]
    [InlineData("{ status: [502] }")]
    public void One_test_on_the_response_is_enough(string response)
    {
        Assert.Single(Compile($"guardrails:\n  - {{ name: g, response: {response} }}\n").Guardrails);
    }

    [Fact]
    public void The_pii_and_all_groups_expand_to_their_detectors()
    {
        var policy = Compile("guardrails:\n  - { name: p, response: { detectors: [pii] } }\n  - { name: a, response: { detectors: [all] } }\n");

        Assert.Equal(["email", "phone", "payment-card", "iban", "us-ssn", "ipv4", "ipv6"], policy.Guardrails[0].Detectors.Select(d => d.Name));
        Assert.Equal(12, policy.Guardrails[1].Detectors.Length);
    }

    [Fact]
    public void Connections_on_default_allow_are_kept_and_warned_about_where_they_are_named()
    {
        var result = PolicyParser.Load(Encoding.UTF8.GetBytes("rules: []\nallowUnmatched: [status, docs]\n"), "/p/policy.yaml",
            new HashSet<string> { "status", "docs" });

        Assert.True(result.Succeeded);
        Assert.Equal(["docs", "status"], result.Policy!.AllowUnmatched.Order(StringComparer.Ordinal));
        Assert.Equal([
            "/p/policy.yaml:2:17: allowUnmatched: connection 'status' is on default ALLOW: any request no rule denies or holds goes through",
            "/p/policy.yaml:2:17: allowUnmatched: connection 'docs' is on default ALLOW: any request no rule denies or holds goes through",
        ], result.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void An_empty_policy_is_valid_and_denies_everything()
    {
        var result = PolicyParser.Load(Encoding.UTF8.GetBytes("rules: []\n"), "/p/policy.yaml");

        Assert.True(result.Succeeded);
        Assert.Empty(result.Errors);
        Assert.Empty(result.Warnings);
        Assert.Empty(result.Policy!.Rules);
        Assert.Empty(result.Policy.Guardrails);
        Assert.Empty(result.Policy.AllowUnmatched);
    }

    [Fact]
    public void A_load_with_errors_has_not_succeeded_even_with_a_policy()
    {
        var policy = Compile("rules: []\n");

        Assert.True(new PolicyLoadResult(policy, [], []).Succeeded);
        Assert.False(new PolicyLoadResult(policy, [new Airlock.Gateway.Configuration.ConfigError("f", 1, 1, "", "x")], []).Succeeded);
        Assert.False(new PolicyLoadResult(null, [], []).Succeeded);
    }
}
