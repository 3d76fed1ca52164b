using Airlock.Gateway.Policy;
using Airlock.Gateway.Policy.Conditions;
using static Airlock.Gateway.Tests.Policy.PolicyFixture;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>Body conditions (docs/policy.md, "JSON field paths" and <c>bodyMatches</c>): which
/// values a field path reaches, and what a deny rule and an allow rule make of them.</summary>
public class BodyConditionTests
{
    /// <summary>(allowed, denied) for one body under an allow rule on connection <c>a</c> and a
    /// deny rule on <c>d</c> with the same body condition.</summary>
    private static (bool Allowed, bool Denied) OnBody(string path, string test, string body)
    {
        var policy = Compile($$"""
            rules:
              - { name: allowed, when: { connections: [a], body: { "{{path}}": {{test}} } }, action: allow }
              - { name: denied, when: { connections: [d], body: { "{{path}}": {{test}} } }, action: deny }
            """);
        return (Decide(policy, Request("POST", "/a/x", body: body)).RuleName == "allowed",
            Decide(policy, Request("POST", "/d/x", body: body)).RuleName == "denied");
    }

    [Theory]
    [InlineData("{\"items\":[{\"sku\":\"forbidden\"}]}", true)]
    [InlineData("{\"items\":[{\"sku\":\"ok\"},{\"sku\":\"forbidden\"}]}", true)]
    [InlineData("{\"items\":[{\"sku\":\"forbidden\"},{\"sku\":\"ok\"}]}", true)]
    [InlineData("{\"items\":[{\"sku\":\"ok\"},{\"sku\":\"forbidden\"},{\"sku\":\"ok\"}]}", true)]
    [InlineData("{\"items\":[{\"sku\":\"ok\"},{\"sku\":\"ok\"}]}", false)]
    [InlineData("{\"items\":[{\"sku\":\"ok\"},{\"other\":1}]}", false)]
    [InlineData("{\"items\":[]}", false)]
    [InlineData("{\"items\":[{\"SKU\":\"forbidden\"},{\"sku\":\"ok\"}]}", true)]
    [InlineData("{\"items\":[5,{\"sku\":\"forbidden\"}]}", true)]
    [InlineData("{\"items\":[\"x\",null,{\"sku\":\"forbidden\"}]}", true)]
    public void A_deny_rule_on_every_item_is_met_by_any_item_wherever_it_is(string body, bool denied)
    {
        Assert.Equal(denied, OnBody("$.items[*].sku", "forbidden", body).Denied);
    }

    [Theory]
    [InlineData("{\"items\":[{\"qty\":1},{\"qty\":10}]}", true, true)]
    [InlineData("{\"items\":[{\"qty\":1},{\"qty\":11}]}", false, true)]
    [InlineData("{\"items\":[{\"qty\":11},{\"qty\":1}]}", false, true)]
    [InlineData("{\"items\":[{\"qty\":11},{\"qty\":12}]}", false, false)]
    [InlineData("{\"items\":[{\"qty\":11},{\"qty\":\"lots\"}]}", false, true)]
    [InlineData("{\"items\":[{\"qty\":\"lots\"},{\"qty\":1}]}", false, true)]
    [InlineData("{\"items\":[]}", false, false)]
    [InlineData("{\"items\":[{\"other\":1}]}", false, false)]
    [InlineData("{\"items\":{\"0\":{\"qty\":1}}}", false, true)]
    [InlineData("{\"items\":\"none\"}", false, false)]
    [InlineData("{\"items\":[1, 2]}", false, false)]
    [InlineData("{\"items\":[[{\"qty\":1}]]}", false, true)]
    public void Every_item_of_a_wildcard_must_agree(string body, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnBody("$.items[*].qty", "{ lte: 10 }", body));
    }

    [Theory]
    [InlineData("{\"items\":[]}", true)]
    [InlineData("{\"items\":[{\"debug\":true}]}", false)]
    [InlineData("{\"items\":[{\"x\":1},{\"debug\":true}]}", false)]
    [InlineData("{\"items\":[{\"x\":1},{\"y\":2}]}", true)]
    [InlineData("{}", true)]
    public void A_wildcard_that_reaches_nothing_is_absent(string body, bool allowed)
    {
        Assert.Equal(allowed, OnBody("$.items[*].debug", "{ exists: false }", body).Allowed);
    }

    [Theory]
    [InlineData("$.items[0].sku", "{\"items\":[{\"sku\":\"abc\"},{\"sku\":\"x\"}]}", true, true)]
    [InlineData("$.items[0].sku", "{\"items\":[{\"sku\":\"x\"},{\"sku\":\"abc\"}]}", false, false)]
    [InlineData("$.items[1].sku", "{\"items\":[{\"sku\":\"x\"},{\"sku\":\"abc\"}]}", true, true)]
    [InlineData("$.items[1].sku", "{\"items\":[{\"sku\":\"abc\"}]}", false, false)]
    [InlineData("$.items[2].sku", "{\"items\":[{\"sku\":\"abc\"},{\"sku\":\"abc\"}]}", false, false)]
    [InlineData("$.items[0].sku", "{\"items\":[]}", false, false)]
    [InlineData("$.items[0].sku", "{\"items\":{\"0\":{\"sku\":\"abc\"}}}", false, true)]
    [InlineData("$.items[0].sku", "{\"items\":[{\"SKU\":\"abc\"}]}", false, true)]
    [InlineData("$.items[0].sku", "{\"items\":[{\"sku\":\"ABC\"}]}", false, true)]
    [InlineData("$.items[0]", "{\"items\":[\"abc\",\"x\"]}", true, true)]
    [InlineData("$.items[10]", "{\"items\":[0,1,2,3,4,5,6,7,8,9,\"abc\"]}", true, true)]
    [InlineData("$[0].sku", "[{\"sku\":\"abc\"}]", true, true)]
    [InlineData("$.matrix[1][0]", "{\"matrix\":[[\"x\"],[\"abc\"]]}", true, true)]
    public void A_numeric_index_reaches_that_element_only(string path, string body, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnBody(path, "abc", body));
    }

    [Theory]
    [InlineData("$.refund.amount", "{\"refund\":{\"amount\":50}}", true, true)]
    [InlineData("$.refund.amount", "{\"refund\":{\"amount\":500}}", false, false)]
    [InlineData("$.refund.amount", "{\"refund\":[{\"amount\":50}]}", false, true)]
    [InlineData("$.refund.amount", "{\"refund\":50}", false, false)]
    [InlineData("$.refund.amount", "{\"refund\":null}", false, false)]
    [InlineData("$.refund.amount", "[{\"refund\":{\"amount\":50}}]", false, true)]
    [InlineData("$.refund.amount", "50", false, false)]
    [InlineData("$['odd key'].amount", "{\"odd key\":{\"amount\":50}}", true, true)]
    [InlineData("$['odd key'].amount", "{\"odd\":{\"amount\":50}}", false, false)]
    [InlineData("$['a.b']", "{\"a.b\":50}", true, true)]
    [InlineData("$['a.b']", "{\"a\":{\"b\":50}}", false, false)]
    [InlineData("$['']", "{\"\":50}", true, true)]
    public void Field_names_and_quoted_names_walk_objects(string path, string body, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnBody(path, "{ lte: 100 }", body));
    }

    [Theory]
    [InlineData("{\"Amount\":50}", false, true)]
    [InlineData("{\"AMOUNT\":500}", false, false)]
    [InlineData("{\"amount\":50}", true, true)]
    [InlineData("{\"refund\":{\"Amount\":50}}", false, false)]
    [InlineData("{\"other\":500,\"Amount\":50}", false, true)]
    [InlineData("{\"Amount\":50,\"other\":500}", false, true)]
    public void Allow_rules_read_a_field_only_in_the_case_written_and_deny_rules_in_any(string body, bool allowed, bool denied)
    {
        Assert.Equal((allowed, denied), OnBody("$.amount", "{ lte: 100 }", body));
    }

    [Theory]
    [InlineData("{\"amount\": 40, \"amount\": 5000}")]
    [InlineData("{\"amount\": 40,}")]
    [InlineData("amount=40")]
    public void A_body_that_is_not_strict_json_never_passes_an_allow_rule_and_meets_a_deny_rule(string body)
    {
        Assert.Equal((false, true), OnBody("$.amount", "{ lte: 100 }", body));
        Assert.Equal((false, true), OnBody("$.amount", "{ exists: false }", body));
    }

    [Fact]
    public void A_body_condition_needs_the_body_read_first()
    {
        var condition = new JsonBodyCondition(Path("$.a"), new ValueTest { Exists = true });

        Assert.True(condition.NeedsBody);
        Assert.Equal("body", condition.Key);
        var error = Assert.Throws<InvalidOperationException>(() => condition.Evaluate(Request("POST", "/a/x"), strict: true));
        Assert.Equal("the body was not read before a body condition", error.Message);
    }

    [Theory]
    [InlineData("note=DROP%20TABLE", false, true)]
    [InlineData("note=DROP+TABLE", false, true)]
    [InlineData("note=drop%20table", false, true)]
    [InlineData("DROP TABLE", true, true)]
    [InlineData("{\"note\":\"DROP\\u0020TABLE\"}", false, true)]
    [InlineData("{\"DROP\\u0020TABLE\":1}", false, true)]
    [InlineData("{\"a\":[[\"x\",\"DROP\\u0020TABLE\"]]}", false, true)]
    [InlineData("{\"a\":{\"b\":{\"c\":\"DROP\\u0020TABLE\"}}}", false, true)]
    [InlineData("{\"note\":\"ok\",\"q\":\"DROP\\u0020TABLE\"}", false, true)]
    [InlineData("{\"a\":{\"x\":1,\"b\":\"DROP\\u0020TABLE\"}}", false, true)]
    [InlineData("{\"a\":[1,true,null,\"ok\"]}", false, false)]
    [InlineData("{}", false, false)]
    [InlineData("DROP%20TABLE", false, true)]
    [InlineData("DROP+TABLE", false, true)]
    [InlineData("a=DROP%ZZTABLE", false, false)]
    [InlineData("note=DROP TABLE%", true, true)]
    [InlineData("note=ok+fine", false, false)]
    [InlineData("", false, false)]
    public void Body_expressions_try_the_decoded_body_in_deny_rules_only(string body, bool allowed, bool denied)
    {
        var policy = Compile("""
            rules:
              - { name: allowed, when: { connections: [a], bodyMatches: "(?i)drop\\s+table" }, action: allow }
              - { name: denied, when: { connections: [d], bodyMatches: "(?i)drop\\s+table" }, action: deny }
            """);

        Assert.Equal(allowed, Decide(policy, Request("POST", "/a/x", body: body)).RuleName == "allowed");
        Assert.Equal(denied, Decide(policy, Request("POST", "/d/x", body: body)).RuleName == "denied");
    }

    [Fact]
    public void A_body_expression_is_not_met_by_an_empty_body()
    {
        var policy = Compile("""
            rules:
              - { name: empty, when: { bodyMatches: "^$" }, action: deny }
            """);
        var condition = Assert.IsType<RawBodyCondition>(Assert.Single(policy.Rules[0].Conditions));

        Assert.Equal("(default)", Decide(policy, Request("POST", "/a/x", body: "")).RuleName);
        Assert.Equal(Verdict.No, condition.Evaluate(Request("POST", "/a/x"), strict: false));
        Assert.True(condition.NeedsBody);
        Assert.Equal("bodyMatches", condition.Key);
        Assert.Equal("bodyMatches: /^$/", condition.Describe());
        Assert.Equal("bodyMatches: the body does not match /^$/", condition.Explain(Request("POST", "/a/x", body: "x"), strict: false));
    }

    [Theory]
    [InlineData("{\"items\":[{\"a\":1},{\"b\":2}]}", 0)]
    [InlineData("{\"items\":[{\"a\":1},[5]]}", 1)]
    [InlineData("{\"items\":[[5],{\"a\":1},{\"b\":2},[6]]}", 2)]
    public void An_object_where_an_index_is_expected_stays_ambiguous_and_the_walk_goes_on(string body, int reached)
    {
        using var document = System.Text.Json.JsonDocument.Parse(body);

        var (count, ambiguous) = Path("$.items[*][0]").Visit(document.RootElement, strict: true, _ => true);

        Assert.Equal((reached, true), (count, ambiguous));
    }

    [Theory]
    [InlineData("{\"items\":[[1],[2]]}", 0)]
    [InlineData("{\"items\":[{\"sku\":1},[2],[3]]}", 1)]
    [InlineData("{\"items\":[[1],{\"sku\":1},{\"x\":2},[2],[3]]}", 1)]
    public void An_array_where_a_name_is_expected_stays_ambiguous_however_many_there_are(string body, int reached)
    {
        // Readers of JSON paths differ on whether a name applies to each item of an array, so a
        // name met on an array leaves the field ambiguous: the second such array as much as the first.
        using var document = System.Text.Json.JsonDocument.Parse(body);

        var (count, ambiguous) = Path("$.items[*].sku").Visit(document.RootElement, strict: true, _ => true);

        Assert.Equal((reached, true), (count, ambiguous));
    }

    [Fact]
    public void The_walk_stops_at_the_first_value_refused_however_deep_the_wildcards()
    {
        // A rule stops reading a body once its verdict is settled (ambiguous): the items after
        // that one, in this array or the next, are not walked.
        using var document = System.Text.Json.JsonDocument.Parse("{\"a\":[[1,2],[3]],\"b\":[{\"c\":[1,2]},{\"c\":[3]}]}");

        Assert.Equal(1, Path("$.a[*][*]").Visit(document.RootElement, strict: true, _ => false).Reached);
        Assert.Equal(1, Path("$.b[*].c[*]").Visit(document.RootElement, strict: true, _ => false).Reached);
        Assert.Equal(3, Path("$.a[*][*]").Visit(document.RootElement, strict: true, _ => true).Reached);
    }

    private static JsonFieldPath Path(string text)
    {
        Assert.True(JsonFieldPath.TryParse(text, out var path, out var error), error);
        return path;
    }

    [Theory]
    [InlineData("$.refund.amount")]
    [InlineData("$.items[0].sku")]
    [InlineData("$.items[*].qty")]
    [InlineData("$['odd key']")]
    [InlineData("$['']")]
    [InlineData("$[0]")]
    [InlineData("$.a[12][*]['b c'].d")]
    public void Field_paths_in_the_documented_forms_compile(string text)
    {
        var path = Path(text);

        Assert.Equal(text, path.Text);
        Assert.Equal(text, path.ToString());
    }

    [Theory]
    [InlineData("amount", "a body field path starts with '$', e.g. $.refund.amount")]
    [InlineData("", "a body field path starts with '$', e.g. $.refund.amount")]
    [InlineData("$", "the path names no field")]
    [InlineData("$.", "empty field name at position 2")]
    [InlineData("$..amount", "empty field name at position 2")]
    [InlineData("$.a.", "empty field name at position 4")]
    [InlineData("$.a..b", "empty field name at position 4")]
    [InlineData("$.a.[0]", "empty field name at position 4")]
    [InlineData("$.items[", "'[' at position 7 is not closed")]
    [InlineData("$.items[0", "'[' at position 7 is not closed")]
    [InlineData("$.items[x]", "'[x]' is not an index, [*] or ['name']")]
    [InlineData("$.items[-1]", "'[-1]' is not an index, [*] or ['name']")]
    [InlineData("$.items[+1]", "'[+1]' is not an index, [*] or ['name']")]
    [InlineData("$.items[ 1]", "'[ 1]' is not an index, [*] or ['name']")]
    [InlineData("$.items[]", "'[]' is not an index, [*] or ['name']")]
    [InlineData("$.items[']", "'[']' is not an index, [*] or ['name']")]
    [InlineData("$.items[**]", "'[**]' is not an index, [*] or ['name']")]
    [InlineData("$amount", "unexpected 'a' at position 1; write $.field, [0], [*] or ['name']")]
    [InlineData("$.a[0]b", "unexpected 'b' at position 6; write $.field, [0], [*] or ['name']")]
    public void A_field_path_that_cannot_be_read_says_where(string text, string error)
    {
        Assert.False(JsonFieldPath.TryParse(text, out _, out var message));
        Assert.Equal(error, message);
    }

    [Fact]
    public void A_field_path_error_in_a_policy_names_the_rule_and_the_field()
    {
        var result = PolicyParser.Load("""
            rules:
              - { name: r, when: { body: { "$..x": 1 } }, action: deny }
            """u8.ToArray(), "/etc/airlock/policy.yaml");

        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Errors);
        Assert.Equal("rules[0].when.body.$..x", error.Path);
        Assert.Contains("empty field name at position 2", error.ToString(), StringComparison.Ordinal);
    }
}
