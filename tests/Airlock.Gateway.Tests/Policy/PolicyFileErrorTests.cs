using System.Text;
using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>
/// A policy file that is wrong is refused, never half-loaded, and every mistake is reported
/// where it is (line:column, the path to the key, what is wrong), as <c>airlock policy check</c>
/// and a rejected reload show it.
/// </summary>
public class PolicyFileErrorTests
{
    private static PolicyLoadResult Load(string yaml, IReadOnlySet<string>? connections = null) =>
        PolicyParser.Load(Encoding.UTF8.GetBytes(yaml), "/p/policy.yaml", connections);

    /// <summary>Every error as <c>line:column path: message</c>; the file must be refused.</summary>
    private static List<string> Errors(string yaml, IReadOnlySet<string>? connections = null)
    {
        var result = Load(yaml, connections);
        Assert.False(result.Succeeded);
        Assert.Null(result.Policy);
        Assert.All(result.Errors, e => Assert.Equal("/p/policy.yaml", e.File));
        return [.. result.Errors.Select(e => $"{e.Line}:{e.Column} {e.Path}: {e.Message}")];
    }

    /// <summary>The errors are exactly these; one ending in "invalid regular expression" is followed by .NET's reason.</summary>
    private static void AssertErrors(string[] expected, List<string> actual)
    {
        Assert.True(expected.Length == actual.Count
            && expected.Zip(actual).All(p => p.First.EndsWith("invalid regular expression", StringComparison.Ordinal)
                ? p.Second.StartsWith(p.First + ": ", StringComparison.Ordinal)
                : p.First == p.Second),
            $"expected:\n{string.Join("\n", expected)}\nactual:\n{string.Join("\n", actual)}");
    }

    [Theory]
    [InlineData("", "0:0 : the file is empty")]
    [InlineData("- rules\n", "1:1 : must be a mapping of keys to values")]
    [InlineData("rules: []\nrule: []\n", "2:1 rule: unknown key; expected one of: rules, guardrails, allowUnmatched")]
    [InlineData("rules: { name: a }\n", "1:8 rules: must be a list of rules")]
    [InlineData("rules:\n  - a\n", "2:5 rules[0]: must be a mapping of keys to values")]
    [InlineData("guardrails: g\n", "1:13 guardrails: must be a list of guardrails")]
    [InlineData("guardrails:\n  - g\n", "2:5 guardrails[0]: must be a mapping of keys to values")]
    [InlineData("allowUnmatched: { status: yes }\n", "1:17 allowUnmatched: must be a value or a list of values")]
    [InlineData("allowUnmatched: [[status]]\n", "1:18 allowUnmatched[0]: must be a single value")]
    public void A_file_that_is_not_a_policy_is_refused_at_its_place(string yaml, string error)
    {
        Assert.Equal(error, Assert.Single(Errors(yaml)));
    }

    [Theory]
    [InlineData("    action: allow\n    then: deny\n", "4:5 rules[0].then: unknown key; expected one of: name, description, when, action, message, review, mask")]
    [InlineData("    action: allow\n    when: [GET]\n", "4:11 rules[0].when: must be a mapping of keys to values")]
    [InlineData("    action: allow\n    when: { method: [GET] }\n",
        "4:13 rules[0].when.method: unknown key; expected one of: connections, methods, paths, subjects, keys, issuers, groups, query, headers, body, bodyMatches")]
    [InlineData("    description: no action\n", "2:5 rules[0].action: is required")]
    [InlineData("    action: permit\n", "3:13 rules[0].action: 'permit' is not an action; expected allow, deny or review")]
    [InlineData("    action: Deny\n", "3:13 rules[0].action: 'Deny' is not an action; expected allow, deny or review")]
    [InlineData("    action: review\n    message: wait\n    review: { approvers: [ops] }\n", "4:14 rules[0].message: only deny rules carry a message for the caller")]
    [InlineData("    action: allow\n    review: { approvers: [ops] }\n", "4:13 rules[0].review: only review rules have review settings")]
    [InlineData("    action: deny\n    review: { approvers: [ops] }\n", "4:13 rules[0].review: only review rules have review settings")]
    [InlineData("    action: review\n", "2:5 rules[0].review: a review rule needs review settings with at least one approver group")]
    [InlineData("    action: review\n    review: [ops]\n", "4:13 rules[0].review: must be a mapping of keys to values")]
    [InlineData("    action: review\n    review: { approver: [ops] }\n",
        "4:15 rules[0].review.approver: unknown key; expected one of: approvers, approvals, hold, expires, maxGrant", "4:13 rules[0].review.approvers: a review rule needs at least one approver group; without one nobody could ever approve")]
    [InlineData("    action: review\n    review: { hold: 1m }\n",
        "4:13 rules[0].review.approvers: a review rule needs at least one approver group; without one nobody could ever approve")]
    [InlineData("    action: review\n    review: { approvers: [] }\n",
        "4:26 rules[0].review.approvers: a review rule needs at least one approver group; without one nobody could ever approve")]
    [InlineData("    action: review\n    review: { approvers: [ops], approvals: 0 }\n", "4:44 rules[0].review.approvals: must be a whole number from 1 to 10")]
    [InlineData("    action: review\n    review: { approvers: [ops], approvals: 11 }\n", "4:44 rules[0].review.approvals: must be a whole number from 1 to 10")]
    [InlineData("    action: review\n    review: { approvers: [ops], approvals: +2 }\n", "4:44 rules[0].review.approvals: must be a whole number from 1 to 10")]
    [InlineData("    action: review\n    review: { approvers: [ops], approvals: two }\n", "4:44 rules[0].review.approvals: must be a whole number from 1 to 10")]
    [InlineData("    action: review\n    review: { approvers: [ops], hold: 16m }\n", "4:39 rules[0].review.hold: must be between 0h and 15m")]
    [InlineData("    action: review\n    review: { approvers: [ops], expires: 59s }\n", "4:42 rules[0].review.expires: must be between 1m and 720h")]
    [InlineData("    action: review\n    review: { approvers: [ops], expires: 31d }\n", "4:42 rules[0].review.expires: must be between 1m and 720h")]
    [InlineData("    action: review\n    review: { approvers: [ops], maxGrant: 25h }\n", "4:43 rules[0].review.maxGrant: must be between 0h and 24h")]
    [InlineData("    action: review\n    review: { approvers: [ops], hold: 2m, expires: 1m }\n", "4:39 rules[0].review.hold: cannot be longer than expires")]
    public void A_rule_that_is_wrong_is_an_error_at_its_place(string rest, params string[] errors)
    {
        AssertErrors(errors, Errors("rules:\n  - name: r\n" + rest));
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    [InlineData("slash/name")]
    [InlineData("ünïcode")]
    public void A_rule_name_outside_the_allowed_characters_is_an_error(string name)
    {
        Assert.Equal("2:11 rules[0].name: use letters, digits, '-', '_' and '.', at most 100 characters",
            Assert.Single(Errors($"rules:\n  - name: {name}\n    action: deny\n")));
    }

    [Fact]
    public void A_rule_name_is_at_most_100_characters()
    {
        var longest = new string('n', 100);
        Assert.True(Load($"rules:\n  - name: {longest}\n    action: deny\n").Succeeded);

        Assert.Equal("2:11 rules[0].name: use letters, digits, '-', '_' and '.', at most 100 characters",
            Assert.Single(Errors($"rules:\n  - name: {longest}n\n    action: deny\n")));
    }

    [Fact]
    public void A_rule_without_a_name_is_an_error()
    {
        Assert.Equal("2:5 rules[0].name: is required", Assert.Single(Errors("rules:\n  - action: deny\n")));
    }

    [Fact]
    public void Two_rules_or_guardrails_with_one_name_are_an_error_at_the_second()
    {
        var errors = Errors("""
            rules:
              - name: same
                action: deny
              - name: same
                action: allow
            guardrails:
              - name: same
                response: { status: [500] }
            """);

        Assert.Equal(["4:5 : the name 'same' is used by more than one rule or guardrail", "7:5 : the name 'same' is used by more than one rule or guardrail"], errors);
    }

    [Fact]
    public void A_name_that_is_wrong_still_counts_for_duplicates()
    {
        var errors = Errors("rules:\n  - { name: 'a b', action: deny }\n  - { name: 'a b', action: deny }\n");

        Assert.Contains("3:5 : the name 'a b' is used by more than one rule or guardrail", errors);
    }

    [Fact]
    public void Every_rule_is_checked_not_only_the_first_wrong_one()
    {
        var errors = Errors("""
            rules:
              - { name: a, action: deny, when: { methods: [get] } }
              - { name: b, action: permit }
              - { name: c, action: allow, message: hi }
            guardrails:
              - { name: g, response: { status: [99] } }
            """);

        Assert.Equal(["2", "3", "4", "6", "6"], errors.Select(e => e.Split(':')[0]));
    }

    [Theory]
    [InlineData("{ name: g, response: { status: [99] }, message: [a, b] }",
        "2:53 guardrails[0].message: must be a single value",
        "2:36 guardrails[0].response.status: '99' is not an HTTP status",
        "2:26 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("{ name: g, message: [a, b] }", "2:25 guardrails[0].message: must be a single value", "2:5 guardrails[0].response: is required: the conditions on the response that block it")]
    public void A_guardrail_is_checked_whole_not_only_up_to_its_first_mistake(string guardrail, params string[] expected)
    {
        Assert.Equal(expected, Errors($"guardrails:\n  - {guardrail}\n"));
    }

    [Theory]
    [InlineData("methods: []", "3:22 rules[0].when.methods: must name at least one value; leave the key out to match any")]
    [InlineData("methods: [Get]", "3:22 rules[0].when.methods: 'Get' must be an HTTP method in upper case, e.g. GET")]
    [InlineData("methods: [M-SEARCH]", "3:22 rules[0].when.methods: 'M-SEARCH' must be an HTTP method in upper case, e.g. GET")]
    [InlineData("methods: [GET, post]", "3:22 rules[0].when.methods: 'post' must be an HTTP method in upper case, e.g. GET")]
    [InlineData("subjects: []", "3:23 rules[0].when.subjects: must name at least one value; leave the key out to match any")]
    [InlineData("keys: []", "3:19 rules[0].when.keys: must name at least one value; leave the key out to match any")]
    [InlineData("issuers: []", "3:22 rules[0].when.issuers: must name at least one value; leave the key out to match any")]
    [InlineData("paths: []", "3:20 rules[0].when.paths: must name at least one value; leave the key out to match any")]
    [InlineData("paths: [billing/**]", "3:20 rules[0].when.paths: 'billing/**' must start with '/' and include the connection, e.g. /billing/v1/**")]
    [InlineData("paths: [/billing/**x]", "3:20 rules[0].when.paths: '/billing/**x': '**' must be a whole segment")]
    [InlineData("paths: [/billing/x**/y]", "3:20 rules[0].when.paths: '/billing/x**/y': '**' must be a whole segment")]
    [InlineData("paths: [/billing/./x]", "3:20 rules[0].when.paths: '/billing/./x' is not in canonical form; write /billing/x (docs/normalization.md)")]
    [InlineData("paths: [\"/billing/a%2fb\"]", "3:20 rules[0].when.paths: '/billing/a%2fb' is not in canonical form (docs/normalization.md)")]
    [InlineData("groups: { oneOf: [a] }", "3:23 rules[0].when.groups.oneOf: unknown key; expected one of: anyOf, allOf", "3:21 rules[0].when.groups: name groups in anyOf or allOf")]
    [InlineData("groups: { anyOf: [] }", "3:21 rules[0].when.groups: name groups in anyOf or allOf")]
    [InlineData("groups: { anyOf: [], allOf: [] }", "3:21 rules[0].when.groups: name groups in anyOf or allOf")]
    [InlineData("query: []", "3:20 rules[0].when.query: must be a mapping of keys to values")]
    [InlineData("query: {}", "3:20 rules[0].when.query: name at least one field; leave the key out to match any")]
    [InlineData("headers: {}", "3:22 rules[0].when.headers: name at least one field; leave the key out to match any")]
    [InlineData("body: {}", "3:19 rules[0].when.body: name at least one field; leave the key out to match any")]
    [InlineData("query: { \"\": x }", "3:22 rules[0].when.query: a field name is required")]
    [InlineData("query: { \"\": { gt: x } }", "3:22 rules[0].when.query: a field name is required")]
    [InlineData("body: { amount: 1 }", "3:19 rules[0].when.body.amount: a body field path starts with '$', e.g. $.refund.amount")]
    [InlineData("bodyMatches: \"(a)\\\\1\"", "3:26 rules[0].when.bodyMatches: invalid regular expression")]
    [InlineData("bodyMatches: \"(?=a)\"", "3:26 rules[0].when.bodyMatches: invalid regular expression")]
    [InlineData("bodyMatches: \"(\"", "3:26 rules[0].when.bodyMatches: invalid regular expression")]
    [InlineData("methods: ~", "3:13 rules[0].when.methods: has no value; leave the key out to match any")]
    [InlineData("groups: ", "3:13 rules[0].when.groups: has no value; leave the key out to match any")]
    [InlineData("query: null", "3:13 rules[0].when.query: has no value; leave the key out to match any")]
    [InlineData("methods: [GET], bodyMatches: ", "3:29 rules[0].when.bodyMatches: has no value; leave the key out to match any")]
    public void A_condition_that_is_wrong_is_an_error_at_its_place(string when, params string[] errors)
    {
        AssertErrors(errors, Errors($"rules:\n  - name: r\n    when: {{ {when} }}\n    action: deny\n"));
    }

    [Theory]
    [InlineData("[billing]", "/crm/**", "'/crm/**' is outside the rule's connections (billing): the first segment is the connection")]
    [InlineData("[billing, crm]", "/billing/x, /tickets/x", "'/tickets/x' is outside the rule's connections (billing, crm): the first segment is the connection")]
    public void Paths_outside_the_rules_connections_are_an_error(string connections, string paths, string message)
    {
        Assert.Equal($"5:14 rules[0].when.paths: {message}",
            Assert.Single(Errors($"rules:\n  - name: r\n    when:\n      connections: {connections}\n      paths: [{paths}]\n    action: deny\n")));
    }

    // A path is reported once, for the first thing wrong with it: not again as outside the
    // rule's connections.
    [Theory]
    [InlineData("/billing/**x", "'/billing/**x': '**' must be a whole segment")]
    [InlineData("/billing/./x", "'/billing/./x' is not in canonical form; write /billing/x (docs/normalization.md)")]
    public void A_wrong_path_outside_the_rules_connections_is_one_error(string paths, string message)
    {
        Assert.Equal($"5:14 rules[0].when.paths: {message}",
            Assert.Single(Errors($"rules:\n  - name: r\n    when:\n      connections: [crm]\n      paths: [{paths}]\n    action: deny\n")));
    }

    [Theory]
    [InlineData("/*/admin/**")]
    [InlineData("/**/admin")]
    [InlineData("/billing/x")]
    [InlineData("/")]
    public void Paths_starting_with_a_wildcard_or_the_rules_connection_are_inside_it(string path)
    {
        var result = Load($"rules:\n  - {{ name: r, when: {{ connections: [billing], paths: [\"{path}\"] }}, action: deny }}\n");

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
    }

    [Theory]
    [InlineData("{ exists: yes }", "3:35 rules[0].when.query.a.exists: must be true or false")]
    [InlineData("{ equals: [1, 2] }", "3:35 rules[0].when.query.a.equals: must be one value; use 'in' for a list")]
    [InlineData("{ equals: 1, in: [2] }", "3:42 rules[0].when.query.a.in: give equals or in, not both")]
    [InlineData("{ in: 2 }", "3:31 rules[0].when.query.a.in: must be a list of values")]
    [InlineData("{ in: [[1]] }", "3:32 rules[0].when.query.a.in: must be a string, a number, true, false or null")]
    [InlineData("[1, { a: b }]", "3:29 rules[0].when.query.a: must be a string, a number, true, false or null")]
    [InlineData("{}", "3:25 rules[0].when.query.a: give at least one test: exists, equals, in, matches, gt, gte, lt or lte")]
    [InlineData("{ is: 1 }", "3:27 rules[0].when.query.a.is: unknown key; expected one of: exists, equals, in, matches, gt, gte, lt, lte")]
    [InlineData("{ gt: lots }", "3:31 rules[0].when.query.a.gt: 'lots' is not a number")]
    [InlineData("{ gte: 1x }", "3:32 rules[0].when.query.a.gte: '1x' is not a number")]
    [InlineData("{ lt: \"\" }", "3:31 rules[0].when.query.a.lt: '' is not a number")]
    [InlineData("{ lte: 0x10 }", "3:32 rules[0].when.query.a.lte: '0x10' is not a number")]
    [InlineData("{ lte: 100000000000000000000000000001 }", "3:32 rules[0].when.query.a.lte: '100000000000000000000000000001' is not a number")]
    [InlineData("{ matches: \"(?<=a)b\" }", "3:36 rules[0].when.query.a.matches: invalid regular expression")]
    [InlineData("{ exists: false, equals: x }", "3:25 rules[0].when.query.a: 'exists: false' cannot be combined with tests on the value")]
    [InlineData("{ exists: false, gt: 1 }", "3:25 rules[0].when.query.a: 'exists: false' cannot be combined with tests on the value")]
    [InlineData("{ gt: ~ }", "3:27 rules[0].when.query.a.gt: has no value")]
    [InlineData("{ exists: }", "3:27 rules[0].when.query.a.exists: has no value")]
    [InlineData("{ matches: null, lt: 5 }", "3:27 rules[0].when.query.a.matches: has no value")]
    public void A_value_test_that_is_wrong_is_an_error_at_its_place(string test, params string[] errors)
    {
        AssertErrors(errors, Errors($"rules:\n  - name: r\n    when: {{ query: {{ a: {test} }} }}\n    action: deny\n"));
    }

    [Theory]
    [InlineData("    response: { status: [500] }\n    then: x\n", "4:5 guardrails[0].then: unknown key; expected one of: name, description, when, response, message")]
    [InlineData("    when: { methods: [GET] }\n", "2:5 guardrails[0].response: is required: the conditions on the response that block it")]
    [InlineData("    response: [500]\n", "3:15 guardrails[0].response: must be a mapping of keys to values")]
    [InlineData("    response: { status: [500], code: 1 }\n", "3:32 guardrails[0].response.code: unknown key; expected one of: status, contentTypes, bodyMatches, detectors")]
    [InlineData("    response: {}\n", "3:15 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("    response: { status: [99] }\n", "3:25 guardrails[0].response.status: '99' is not an HTTP status", "3:15 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("    response: { status: [600] }\n", "3:25 guardrails[0].response.status: '600' is not an HTTP status", "3:15 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("    response: { status: [+200] }\n", "3:25 guardrails[0].response.status: '+200' is not an HTTP status", "3:15 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("    response: { status: [5xx] }\n", "3:25 guardrails[0].response.status: '5xx' is not an HTTP status", "3:15 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("    response: { detectors: [cards] }\n", "3:28 guardrails[0].response.detectors: 'cards' is not a detector; known: aws-access-key, email, github-token, iban, ipv4, ipv6, jwt, payment-card, phone, private-key, secret-key, us-ssn; groups: all, pii, secrets", "3:15 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("    response: { status: { code: 500 } }\n", "3:25 guardrails[0].response.status: must be a value or a list of values", "3:15 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("    response: { contentTypes: { json: yes } }\n", "3:31 guardrails[0].response.contentTypes: must be a value or a list of values", "3:15 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("    response: { detectors: { email: on } }\n", "3:28 guardrails[0].response.detectors: must be a value or a list of values", "3:15 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("    response: { bodyMatches: [secret, token] }\n", "3:30 guardrails[0].response.bodyMatches: must be a single value", "3:15 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("    response: { bodyMatches: \"(?!x)\" }\n", "3:30 guardrails[0].response.bodyMatches: invalid regular expression", "3:15 guardrails[0].response: give at least one of status, contentTypes, bodyMatches or detectors")]
    [InlineData("    when: { bodyMatches: x }\n    response: { status: [500] }\n", "3:11 guardrails[0].when: a guardrail's when is about the request; test the response body under response")]
    [InlineData("    when: { body: { $.a: 1 } }\n    response: { status: [500] }\n", "3:11 guardrails[0].when: a guardrail's when is about the request; test the response body under response")]
    [InlineData("    when: { methods: [GET], bodyMatches: x }\n    response: { status: [500] }\n", "3:11 guardrails[0].when: a guardrail's when is about the request; test the response body under response")]
    [InlineData("    when: { methods: [get] }\n    response: { status: [500] }\n", "3:22 guardrails[0].when.methods: 'get' must be an HTTP method in upper case, e.g. GET")]
    public void A_guardrail_that_is_wrong_is_an_error_at_its_place(string rest, params string[] errors)
    {
        AssertErrors(errors, Errors("guardrails:\n  - name: g\n" + rest));
    }

    [Fact]
    public void A_guardrail_without_a_name_is_an_error()
    {
        Assert.Equal("2:5 guardrails[0].name: is required", Assert.Single(Errors("guardrails:\n  - response: { status: [500] }\n")));
    }

    [Fact]
    public void Connections_the_configuration_does_not_have_are_errors_where_they_are_named()
    {
        var connections = new HashSet<string> { "billing", "status" };
        var errors = Errors("""
            allowUnmatched: [status, stauts]
            rules:
              - { name: a, when: { connections: [billing, crm] }, action: allow }
            guardrails:
              - { name: g, when: { connections: [tickets] }, response: { status: [500] } }
            """, connections);

        Assert.Equal([
            "3:37 rules[0].when.connections: 'crm' is not a configured connection",
            "5:37 guardrails[0].when.connections: 'tickets' is not a configured connection",
            "1:17 allowUnmatched: 'stauts' is not a configured connection",
        ], errors);
    }

    [Fact]
    public void Without_the_configuration_any_connection_name_is_accepted()
    {
        var result = Load("allowUnmatched: [status]\nrules:\n  - { name: a, when: { connections: [crm] }, action: allow }\n");

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
    }

    [Fact]
    public void A_file_that_is_not_utf8_is_refused_without_a_line()
    {
        var result = PolicyParser.Load([.. "rules: []\n# "u8, 0xFF], "/p/policy.yaml");

        Assert.Null(result.Policy);
        Assert.False(result.Succeeded);
        Assert.Empty(result.Warnings);
        Assert.Equal("/p/policy.yaml: the policy file is not valid UTF-8", Assert.Single(result.Errors).ToString());
    }

    [Fact]
    public void A_policy_file_that_cannot_be_read_is_an_error_naming_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("airlock-policy-");
        try
        {
            var missing = Path.Combine(dir.FullName, "policy.yaml");
            var result = PolicyParser.LoadFile(missing);

            Assert.Null(result.Policy);
            Assert.Empty(result.Warnings);
            var error = Assert.Single(result.Errors);
            Assert.Equal((missing, 0), (error.File, error.Line));
            Assert.StartsWith("cannot read the policy file: Could not find file", error.Message, StringComparison.Ordinal);
            // As the operator reads it: the file, then what is wrong, with no place in the file.
            Assert.StartsWith($"{missing}: cannot read the policy file: Could not find file", error.ToString(), StringComparison.Ordinal);

            // A directory where the file should be cannot be read either.
            Directory.CreateDirectory(missing);
            Assert.StartsWith("cannot read the policy file: ", Assert.Single(PolicyParser.LoadFile(missing).Errors).Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_policy_file_is_read_by_its_full_path_and_checked_against_the_configured_connections()
    {
        var dir = Directory.CreateTempSubdirectory("airlock-policy-");
        try
        {
            var path = Path.Combine(dir.FullName, "policy.yaml");
            File.WriteAllText(path, "rules:\n  - { name: a, when: { connections: [crm] }, action: allow }\n");

            var loaded = PolicyParser.LoadFile(Path.Combine(dir.FullName, ".", "sub", "..", "policy.yaml"));
            Assert.True(loaded.Succeeded);
            Assert.Equal(path, loaded.Policy!.SourcePath);

            var refused = PolicyParser.LoadFile(path, new HashSet<string> { "billing" });
            Assert.Equal($"{path}:2:37: rules[0].when.connections: 'crm' is not a configured connection", Assert.Single(refused.Errors).ToString());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
