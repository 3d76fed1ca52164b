using static Airlock.Gateway.Tests.Policy.PolicyFixture;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>
/// The tests on one value (docs/policy.md, "Tests"), each tried in an allow rule and in a deny
/// rule: allow rules compare exactly and are never met by an ambiguous value; deny rules compare
/// loosely and are always met by one. Every row says (allowed, denied).
/// </summary>
public class ValueTestTests
{
    private static (bool Allowed, bool Denied) OnQuery(string test, string? query) =>
        Both($"query: {{ p: {test} }}", (method, connection) => Request(method, $"/{connection}/x", query: query));

    private static (bool Allowed, bool Denied) OnHeader(string test, params string[] values) =>
        Both($"headers: {{ X-P: {test} }}", (method, connection) =>
            Request(method, $"/{connection}/x", headers: values.Length == 0 ? null : new() { ["x-p"] = values }));

    private static (bool Allowed, bool Denied) OnBody(string path, string test, string body) =>
        Both($"body: {{ \"{path}\": {test} }}", (method, connection) => Request(method, $"/{connection}/x", body: body));

    /// <summary>One allow rule on connection <c>a</c> and one deny rule on <c>d</c>, both with the
    /// same condition; which of them the request meets.</summary>
    private static (bool Allowed, bool Denied) Both(string condition, Func<string, string, Airlock.Gateway.Policy.RequestFacts> request)
    {
        var policy = Compile($$"""
            rules:
              - { name: allowed, when: { connections: [a], {{condition}} }, action: allow }
              - { name: denied, when: { connections: [d], {{condition}} }, action: deny }
            """);
        return (Decide(policy, request("POST", "a")).RuleName == "allowed", Decide(policy, request("POST", "d")).RuleName == "denied");
    }

    [Theory]
    [InlineData("{ exists: true }", "p=1", true, true)]
    [InlineData("{ exists: true }", "p=", true, true)]
    [InlineData("{ exists: true }", "p", true, true)]
    [InlineData("{ exists: true }", "q=1", false, false)]
    [InlineData("{ exists: true }", null, false, false)]
    [InlineData("{ exists: false }", null, true, true)]
    [InlineData("{ exists: false }", "q=1", true, true)]
    [InlineData("{ exists: false }", "p=1", false, false)]
    [InlineData("{ exists: false }", "p=", false, false)]
    [InlineData("{ exists: true, equals: prod }", "p=prod", true, true)]
    [InlineData("{ exists: true, equals: prod }", "p=dev", false, false)]
    [InlineData("{ exists: true, lte: 10 }", "p=5", true, true)]
    [InlineData("{ exists: true, matches: '^[a-z]+$' }", "p=abc", true, true)]
    [InlineData("{ exists: true, matches: '^[a-z]+$' }", "p=ab1", false, false)]
    public void Exists_asks_whether_the_parameter_is_there(string test, string? query, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnQuery(test, query));
    }

    [Theory]
    [InlineData("prod", "p=prod", true, true)]
    [InlineData("prod", "p=PROD", false, true)]
    [InlineData("prod", "p=Prod", false, true)]
    [InlineData("prod", "p=production", false, false)]
    [InlineData("prod", "p=", false, false)]
    [InlineData("prod", null, false, false)]
    [InlineData("{ equals: prod }", "p=prod", true, true)]
    [InlineData("{ equals: prod }", "p=PROD", false, true)]
    [InlineData("\"100\"", "p=100", true, true)]
    [InlineData("100", "p=100", true, true)]
    [InlineData("100", "p=100.0", true, true)]
    [InlineData("100", "p=1e2", true, true)]
    [InlineData("100", "p=1E2", true, true)]
    [InlineData("100", "p=%2B100", true, true)]
    [InlineData("100", "p=+100", false, false)]
    [InlineData("100", "p=101", false, false)]
    [InlineData("100", "p=100x", false, false)]
    [InlineData("-5", "p=-5", true, true)]
    [InlineData("-5", "p=5", false, false)]
    [InlineData("true", "p=true", true, true)]
    [InlineData("true", "p=TRUE", false, true)]
    [InlineData("[staging, dev]", "p=dev", true, true)]
    [InlineData("[staging, dev]", "p=staging", true, true)]
    [InlineData("[staging, dev]", "p=DEV", false, true)]
    [InlineData("[staging, dev]", "p=prod", false, false)]
    [InlineData("{ in: [1, two] }", "p=1.0", true, true)]
    [InlineData("{ in: [1, two] }", "p=two", true, true)]
    [InlineData("{ in: [1, two] }", "p=three", false, false)]
    [InlineData("{ matches: '^v[0-9]+$' }", "p=v12", true, true)]
    [InlineData("{ matches: '^v[0-9]+$' }", "p=v12x", false, false)]
    [InlineData("{ matches: '^v[0-9]+$' }", null, false, false)]
    public void Equals_in_and_matches_compare_exactly_in_allow_rules_and_without_case_in_deny_rules(string test, string? query, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnQuery(test, query));
    }

    [Theory]
    [InlineData("{ gt: 10 }", "p=11", true, true)]
    [InlineData("{ gt: 10 }", "p=10.001", true, true)]
    [InlineData("{ gt: 10 }", "p=10", false, false)]
    [InlineData("{ gt: 10 }", "p=9", false, false)]
    [InlineData("{ gte: 10 }", "p=10", true, true)]
    [InlineData("{ gte: 10 }", "p=11", true, true)]
    [InlineData("{ gte: 10 }", "p=9.999", false, false)]
    [InlineData("{ lt: 10 }", "p=9.999", true, true)]
    [InlineData("{ lt: 10 }", "p=-10", true, true)]
    [InlineData("{ lt: 10 }", "p=10", false, false)]
    [InlineData("{ lt: 10 }", "p=11", false, false)]
    [InlineData("{ lte: 10 }", "p=10", true, true)]
    [InlineData("{ lte: 10 }", "p=9", true, true)]
    [InlineData("{ lte: 10 }", "p=10.001", false, false)]
    [InlineData("{ gte: 1, lte: 10 }", "p=1", true, true)]
    [InlineData("{ gte: 1, lte: 10 }", "p=0", false, false)]
    [InlineData("{ gte: 1, lte: 10 }", "p=11", false, false)]
    [InlineData("{ gt: 1, lt: 10 }", "p=1", false, false)]
    [InlineData("{ gt: 1, lt: 10 }", "p=10", false, false)]
    [InlineData("{ gt: 1, lt: 10 }", "p=5", true, true)]
    [InlineData("{ gte: 1e2 }", "p=100", true, true)]
    [InlineData("{ lte: 10 }", "p=1e1", true, true)]
    [InlineData("{ lte: 10 }", "p=-1e3", true, true)]
    [InlineData("{ lte: 10 }", "p=.5", true, true)]
    public void Numeric_bounds_compare_as_numbers(string test, string? query, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnQuery(test, query));
    }

    [Theory]
    [InlineData("{ lte: 100 }", "p=lots")]
    [InlineData("{ lte: 100 }", "p=")]
    [InlineData("{ lte: 100 }", "p=0x10")]
    [InlineData("{ lte: 100 }", "p=1,000")]
    [InlineData("{ lte: 100 }", "p=%2050")]
    [InlineData("{ gte: 0 }", "p=Infinity")]
    [InlineData("{ gt: 100 }", "p=NaN")]
    [InlineData("{ lte: 100 }", "p=100.00000000000000000000000000001")]
    [InlineData("{ lte: 100 }", "p=10000000000000000000000000001")]
    [InlineData("{ equals: prod, lte: 100 }", "p=prod")]
    public void A_value_that_cannot_be_compared_as_a_number_never_passes_an_allow_rule_and_meets_a_deny_rule(string test, string query)
    {
        Assert.Equal((false, true), OnQuery(test, query));
    }

    [Theory]
    [InlineData("{ lte: 100 }", "p=1234567890123456789012345678e-26")]
    [InlineData("{ lte: 100 }", "p=99.99999999999999999999999999")]
    [InlineData("{ lte: 100 }", "p=0.0000000000000000000000000001")]
    [InlineData("{ lte: 100 }", "p=000000000000000000000000000001")]
    [InlineData("{ gte: 1 }", "p=1.000000000000000000000000000000")]
    public void Numbers_of_up_to_28_significant_digits_compare(string test, string query)
    {
        Assert.Equal((true, true), OnQuery(test, query));
    }

    [Theory]
    [InlineData("p=1&p=1", true, true)]
    [InlineData("p=1&p=1&p=1", true, true)]
    [InlineData("p=1&p=2", false, true)]
    [InlineData("p=2&p=1", false, true)]
    [InlineData("p=1&p=1&p=2", false, true)]
    [InlineData("p=2&p=1&p=1", false, true)]
    [InlineData("p=1&p=2&p=1", false, true)]
    [InlineData("p=2&p=2", false, false)]
    public void A_repeated_parameter_decides_only_when_every_value_agrees(string query, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnQuery("1", query));
    }

    [Theory]
    [InlineData("mode=safe&mode=dangerous")]
    [InlineData("mode=dangerous&mode=safe")]
    [InlineData("mode=safe&mode=safe&mode=dangerous")]
    [InlineData("mode=dangerous&mode=safe&mode=safe")]
    [InlineData("mode=safe&MODE=dangerous")]
    [InlineData("MODE=dangerous&mode=safe")]
    public void A_deny_rule_on_a_repeated_parameter_is_ambiguous_not_last_wins(string query)
    {
        var policy = Compile("""
            rules:
              - { name: no-danger, when: { query: { mode: dangerous } }, action: deny }
              - { name: only-safe, when: { query: { mode: safe } }, action: allow }
            """);

        Assert.Equal("no-danger", Decide(policy, Request("GET", "/svc/x", query: query)).RuleName);
        Assert.Equal("only-safe", Decide(policy, Request("GET", "/svc/x", query: "mode=safe&mode=safe")).RuleName);
    }

    [Theory]
    [InlineData("P=1", false, true)]
    [InlineData("p=1&P=1", false, true)]
    [InlineData("P=1&p=1", false, true)]
    [InlineData("%50=1", false, true)]
    [InlineData("p=1", true, true)]
    public void A_parameter_named_in_another_case_is_read_by_deny_rules_and_ambiguous_to_allow_rules(string query, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnQuery("{ exists: true }", query));
    }

    [Fact]
    public void A_parameter_name_other_runtimes_fold_to_the_rules_name_meets_a_deny_rule()
    {
        // U+212A KELVIN SIGN: Java lower-cases it to 'k', so "\u212Aind" is "kind" there.
        var policy = Compile("""
            rules:
              - { name: no-danger, when: { query: { kind: dangerous } }, action: deny }
              - { name: safe-kinds, when: { query: { kind: { exists: false } } }, action: allow }
            """);

        Assert.Equal("no-danger", Decide(policy, Request("GET", "/svc/x", query: "%E2%84%AAind=dangerous")).RuleName);
        Assert.Equal("(default)", Decide(policy, Request("POST", "/svc/x", query: "%E2%84%AAind=x")).RuleName);
        Assert.Equal("safe-kinds", Decide(policy, Request("POST", "/svc/x", query: "%C3%A9=x")).RuleName);
    }

    [Theory]
    [InlineData("a=1;p=1", false, true)]
    [InlineData("a=1;b=2", true, true)]
    [InlineData("a=1&b=2", true, true)]
    [InlineData("p=1;a=1", false, false)]
    [InlineData("p=1&a=1", false, false)]
    public void A_query_read_differently_when_semicolons_separate_is_ambiguous(string query, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnQuery("{ exists: false }", query));
    }

    [Theory]
    [InlineData("prod", new[] { "prod" }, true, true)]
    [InlineData("prod", new[] { "PROD" }, false, true)]
    [InlineData("prod", new[] { "prod", "prod" }, true, true)]
    [InlineData("prod", new[] { "prod", "staging" }, false, true)]
    [InlineData("prod", new[] { "staging", "prod" }, false, true)]
    [InlineData("prod", new[] { "staging", "staging" }, false, false)]
    [InlineData("prod", new string[0], false, false)]
    [InlineData("{ exists: false }", new string[0], true, true)]
    [InlineData("{ exists: false }", new[] { "x" }, false, false)]
    [InlineData("{ exists: true }", new[] { "" }, true, true)]
    [InlineData("{ lte: 10 }", new[] { "5", "50" }, false, true)]
    [InlineData("{ lte: 10 }", new[] { "5", "7" }, true, true)]
    public void Header_values_are_tested_like_query_values(string test, string[] values, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnHeader(test, values));
    }

    // A header the collection holds without a value (code can put one there; the wire gives "")
    // reads as an empty value, not as some other text.
    [Fact]
    public void A_header_held_without_a_value_reads_as_empty()
    {
        Assert.Equal((true, true), OnHeader("{ matches: \"^$\" }", [null!]));
        Assert.Equal((false, false), OnHeader("{ matches: \"^$\" }", ["x"]));
    }

    [Theory]
    [InlineData("{ exists: true }", "{\"p\":1}", true, true)]
    [InlineData("{ exists: true }", "{\"p\":null}", true, true)]
    [InlineData("{ exists: true }", "{\"p\":[1]}", true, true)]
    [InlineData("{ exists: true }", "{\"p\":{}}", true, true)]
    [InlineData("{ exists: true }", "{\"q\":1}", false, false)]
    [InlineData("{ exists: true }", "", false, false)]
    [InlineData("{ exists: false }", "{\"q\":1}", true, true)]
    [InlineData("{ exists: false }", "", true, true)]
    [InlineData("{ exists: false }", "{\"p\":null}", false, false)]
    [InlineData("{ exists: false }", "{\"p\":false}", false, false)]
    public void Exists_on_a_json_field_counts_null_as_present(string test, string body, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnBody("$.p", test, body));
    }

    [Theory]
    // A number literal: the same JSON number in an allow rule; its text, or a string of it, in a deny rule.
    [InlineData("100", "{\"p\":100}", true, true)]
    [InlineData("100", "{\"p\":100.0}", true, true)]
    [InlineData("100", "{\"p\":1e2}", true, true)]
    [InlineData("100", "{\"p\":\"100\"}", false, true)]
    [InlineData("100", "{\"p\":\"1e2\"}", false, true)]
    [InlineData("100", "{\"p\":101}", false, false)]
    [InlineData("100", "{\"p\":\"lots\"}", false, false)]
    [InlineData("100", "{\"p\":true}", false, false)]
    // A string literal: a JSON string of the same text in an allow rule; any text form, any case, in a deny rule.
    [InlineData("\"100\"", "{\"p\":\"100\"}", true, true)]
    [InlineData("\"100\"", "{\"p\":100}", false, true)]
    [InlineData("prod", "{\"p\":\"prod\"}", true, true)]
    [InlineData("prod", "{\"p\":\"PROD\"}", false, true)]
    [InlineData("prod", "{\"p\":\"prod \"}", false, false)]
    [InlineData("prod", "{\"p\":\"staging\"}", false, false)]
    [InlineData("prod", "{\"q\":\"prod\"}", false, false)]
    [InlineData("prod", "{\"p\":null}", false, false)]
    // true, false, null: the same JSON literal in an allow rule; its text in a deny rule.
    [InlineData("true", "{\"p\":true}", true, true)]
    [InlineData("true", "{\"p\":\"true\"}", false, true)]
    [InlineData("true", "{\"p\":\"TRUE\"}", false, true)]
    [InlineData("true", "{\"p\":false}", false, false)]
    [InlineData("true", "{\"p\":1}", false, false)]
    [InlineData("false", "{\"p\":false}", true, true)]
    [InlineData("false", "{\"p\":true}", false, false)]
    [InlineData("null", "{\"p\":null}", true, true)]
    [InlineData("null", "{\"p\":\"null\"}", false, true)]
    [InlineData("null", "{\"q\":1}", false, false)]
    [InlineData("null", "{\"p\":0}", false, false)]
    [InlineData("\"true\"", "{\"p\":true}", false, true)]
    [InlineData("\"true\"", "{\"p\":\"true\"}", true, true)]
    [InlineData("[1, two, null]", "{\"p\":1}", true, true)]
    [InlineData("[1, two, null]", "{\"p\":\"two\"}", true, true)]
    [InlineData("[1, two, null]", "{\"p\":null}", true, true)]
    [InlineData("[1, two, null]", "{\"p\":\"1\"}", false, true)]
    [InlineData("[1, two, null]", "{\"p\":3}", false, false)]
    public void Json_values_must_have_the_literals_type_in_allow_rules_and_its_text_in_deny_rules(string test, string body, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnBody("$.p", test, body));
    }

    [Theory]
    [InlineData("{ matches: '^ab' }", "{\"p\":\"abc\"}", true, true)]
    [InlineData("{ matches: '^ab' }", "{\"p\":\"xab\"}", false, false)]
    [InlineData("{ matches: '^1[0-9]$' }", "{\"p\":12}", true, true)]
    [InlineData("{ matches: '^1[0-9]$' }", "{\"p\":120}", false, false)]
    [InlineData("{ matches: '^true$' }", "{\"p\":true}", true, true)]
    [InlineData("{ matches: '^[0-9e]+$' }", "{\"p\":1e400}", true, true)]
    [InlineData("{ matches: '^x' }", "{\"p\":[\"x\"]}", false, true)]
    [InlineData("{ matches: '^x' }", "{\"p\":{\"x\":1}}", false, true)]
    [InlineData("{ matches: '^x', lte: 5 }", "{\"p\":\"x\"}", false, true)]
    public void Matches_reads_a_json_value_as_its_text(string test, string body, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnBody("$.p", test, body));
    }

    [Theory]
    [InlineData("{ gt: 10 }", "{\"p\":10.5}", true, true)]
    [InlineData("{ gt: 10 }", "{\"p\":10}", false, false)]
    [InlineData("{ gte: 10 }", "{\"p\":10}", true, true)]
    [InlineData("{ gte: 10 }", "{\"p\":9.5}", false, false)]
    [InlineData("{ lt: 10 }", "{\"p\":9.5}", true, true)]
    [InlineData("{ lt: 10 }", "{\"p\":10}", false, false)]
    [InlineData("{ lte: 10 }", "{\"p\":10}", true, true)]
    [InlineData("{ lte: 10 }", "{\"p\":10.5}", false, false)]
    [InlineData("{ lte: 10 }", "{\"p\":\"9\"}", true, true)]
    [InlineData("{ lte: 10 }", "{\"p\":\"11\"}", false, false)]
    [InlineData("{ lte: 10 }", "{\"p\":-1e3}", true, true)]
    [InlineData("{ gte: 1, lt: 2 }", "{\"p\":1}", true, true)]
    [InlineData("{ gte: 1, lt: 2 }", "{\"p\":2}", false, false)]
    [InlineData("{ lte: 100 }", "{\"p\":1234567890123456789012345678e-26}", true, true)]
    [InlineData("{ lte: 100 }", "{\"p\":0.0000000000000000000000000001}", true, true)]
    [InlineData("{ gte: 100 }", "{\"p\":100.000000000000000000000000000}", true, true)]
    [InlineData("{ gte: 100 }", "{\"p\":1000000000000000000000000000}", true, true)]
    public void Json_numbers_and_numeric_strings_compare_as_numbers(string test, string body, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnBody("$.p", test, body));
    }

    [Theory]
    [InlineData("{ lte: 100 }", "{\"p\":\"lots\"}")]
    [InlineData("{ lte: 100 }", "{\"p\":true}")]
    [InlineData("{ lte: 100 }", "{\"p\":null}")]
    [InlineData("{ lte: 100 }", "{\"p\":[1]}")]
    [InlineData("{ lte: 100 }", "{\"p\":{\"v\":1}}")]
    [InlineData("{ lte: 100 }", "{\"p\":1e400}")]
    [InlineData("{ gt: 0 }", "{\"p\":1e400}")]
    [InlineData("{ lte: 100 }", "{\"p\":100.00000000000000000000000000001}")]
    [InlineData("{ lte: 100 }", "{\"p\":10000000000000000000000000001}")]
    [InlineData("{ lte: 100 }", "{\"p\":\"10000000000000000000000000001\"}")]
    [InlineData("prod", "{\"p\":[\"prod\"]}")]
    [InlineData("prod", "{\"p\":{\"name\":\"prod\"}}")]
    [InlineData("{ in: [prod] }", "{\"p\":[]}")]
    public void A_json_value_that_cannot_be_compared_never_passes_an_allow_rule_and_meets_a_deny_rule(string test, string body)
    {
        Assert.Equal((false, true), OnBody("$.p", test, body));
    }

    // The parser gives every number it reads its value; a number literal without one (one too
    // long to keep exactly) has nothing to be equal to, so an allow rule is never met by it.
    [Theory]
    [InlineData("\"anything\"")]
    [InlineData("1e400")]
    [InlineData("null")]
    public void A_number_literal_without_a_value_equals_nothing_in_an_allow_rule(string json)
    {
        var test = new Airlock.Gateway.Policy.Conditions.ValueTest
        {
            OneOf = [new Airlock.Gateway.Policy.Conditions.Literal(System.Text.Json.JsonValueKind.Number, "1e400", null)],
        };
        using var value = System.Text.Json.JsonDocument.Parse(json);

        Assert.Equal(Airlock.Gateway.Policy.Conditions.Verdict.No, test.Test(value.RootElement, strict: true));
    }
}
