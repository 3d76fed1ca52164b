using Airlock.Gateway.Policy.Conditions;
using static Airlock.Gateway.Tests.Policy.PolicyFixture;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>Path globs (docs/policy.md, "Paths"): what a pattern matches in an allow rule (exact)
/// and in a deny or review rule (without letter case).</summary>
public class PathPatternTests
{
    [Theory]
    // '**' as the last segment: any number of segments, none included.
    [InlineData("/billing/**", "/billing", true)]
    [InlineData("/billing/**", "/billing/v1/a/b/c", true)]
    [InlineData("/billing/**", "/billingx/v1", false)]
    // '**' in the middle: any number of segments between, the rest still has to match.
    [InlineData("/billing/**/export", "/billing/export", true)]
    [InlineData("/billing/**/export", "/billing/v1/export", true)]
    [InlineData("/billing/**/export", "/billing/v1/a/b/c/export", true)]
    [InlineData("/billing/**/export", "/billing/v1/exports", false)]
    [InlineData("/billing/**/export", "/billing/v1/export/x", false)]
    [InlineData("/billing/**/export", "/crm/v1/export", false)]
    // The first candidate for what follows '**' is not always the right one.
    [InlineData("/billing/**/b/c", "/billing/b/x/b/c", true)]
    [InlineData("/billing/**/b/c", "/billing/b/c/b/c", true)]
    [InlineData("/billing/**/b/c", "/billing/b/c/b", false)]
    [InlineData("/billing/**/a/**/z", "/billing/x/a/y/y/z", true)]
    [InlineData("/billing/**/a/**/z", "/billing/a/z", true)]
    [InlineData("/billing/**/a/**/z", "/billing/z/a", false)]
    [InlineData("/**/admin", "/billing/admin", true)]
    [InlineData("/**/admin", "/billing/v1/v2/admin", true)]
    [InlineData("/**/admin", "/billing/admin/users", false)]
    [InlineData("/**", "/", true)]
    [InlineData("/**", "/billing/anything/at/all", true)]
    // '*' as a whole segment: exactly one segment.
    [InlineData("/billing/*", "/billing/42", true)]
    [InlineData("/billing/*", "/billing", false)]
    [InlineData("/billing/*", "/billing/42/items", false)]
    [InlineData("/*/admin", "/crm/admin", true)]
    [InlineData("/billing/*/*", "/billing/a/b", true)]
    [InlineData("/billing/*/*", "/billing/a", false)]
    // '*' inside a segment: any characters within it (none included), never a '/'.
    [InlineData("/billing/*.json", "/billing/2026.json", true)]
    [InlineData("/billing/*.json", "/billing/.json", true)]
    [InlineData("/billing/*.json", "/billing/2026.json.bak", false)]
    [InlineData("/billing/*.json", "/billing/a/2026.json", false)]
    [InlineData("/billing/report-*.csv", "/billing/report-2026.csv", true)]
    [InlineData("/billing/report-*.csv", "/billing/report-.csv", true)]
    [InlineData("/billing/report-*.csv", "/billing/xreport-2026.csv", false)]
    [InlineData("/billing/report-*.csv", "/billing/report-2026.csvx", false)]
    [InlineData("/billing/report*", "/billing/report", true)]
    [InlineData("/billing/report*", "/billing/reports", true)]
    [InlineData("/billing/report*", "/billing/repor", false)]
    [InlineData("/billing/v*", "/billing/v1", true)]
    [InlineData("/billing/v*", "/billing/x1", false)]
    [InlineData("/billing/*ab", "/billing/aab", true)]
    [InlineData("/billing/*ab", "/billing/abab", true)]
    [InlineData("/billing/*ab", "/billing/aba", false)]
    [InlineData("/billing/a*b*c", "/billing/abxbc", true)]
    [InlineData("/billing/a*b*c", "/billing/abxbcx", false)]
    [InlineData("/billing/a*b*c", "/billing/acb", false)]
    [InlineData("/billing/*-*", "/billing/a-b", true)]
    [InlineData("/billing/*-*", "/billing/ab", false)]
    // A trailing slash is ignored on both sides.
    [InlineData("/billing/admin", "/billing/admin/", true)]
    [InlineData("/billing/admin/", "/billing/admin", true)]
    [InlineData("/billing/admin/", "/billing/admin/", true)]
    [InlineData("/billing/admin", "/billing/admin/x", false)]
    [InlineData("/billing/admin", "/billing", false)]
    [InlineData("/billing", "/billing/", true)]
    [InlineData("/", "/", true)]
    [InlineData("/", "/billing", false)]
    public void A_pattern_matches_the_paths_the_docs_say(string pattern, string path, bool matches)
    {
        var glob = new PathPattern(pattern);

        Assert.Equal(matches, glob.Matches(path, ignoreCase: false));
        Assert.Equal(matches, glob.Matches(path, ignoreCase: true));
    }

    [Theory]
    [InlineData("/billing/*.json", "/billing/2026.JSON")]
    [InlineData("/billing/*.json", "/billing/2026.Json")]
    [InlineData("/billing/report-*.csv", "/billing/REPORT-2026.CSV")]
    [InlineData("/billing/v*", "/billing/V1")]
    [InlineData("/billing/*ab", "/billing/AAB")]
    [InlineData("/billing/admin", "/billing/ADMIN")]
    [InlineData("/billing/admin", "/Billing/Admin/")]
    [InlineData("/billing/**/export", "/billing/V1/EXPORT")]
    public void Deny_rules_match_any_letter_case_and_allow_rules_only_the_written_one(string pattern, string path)
    {
        var glob = new PathPattern(pattern);

        Assert.True(glob.Matches(path, ignoreCase: true));
        Assert.False(glob.Matches(path, ignoreCase: false));
    }

    [Theory]
    // Non-ASCII letters arrive as escaped UTF-8, whose hex differs between the cases ('é' is
    // %C3%A9, 'É' is %C3%89); a case-insensitive upstream decodes before it folds.
    [InlineData("/billing/caf%C3%A9", "/billing/CAF%C3%89")]
    [InlineData("/billing/caf%C3%A9", "/billing/caf%C3%89")]
    [InlineData("/billing/%C3%A9t%C3%A9/*", "/billing/%C3%89T%C3%89/2026")]
    [InlineData("/billing/*%C3%A9", "/billing/CAF%C3%89")]
    [InlineData("/billing/caf*", "/billing/CAF%C3%89")]
    [InlineData("/billing/%D0%B0%D0%B4%D0%BC%D0%B8%D0%BD", "/billing/%D0%90%D0%94%D0%9C%D0%98%D0%9D")]
    // Letters that Java-style folding takes to ASCII: the long s, the dotless i, the Kelvin sign.
    [InlineData("/billing/secret", "/billing/%C5%BFecret")]
    [InlineData("/billing/admin", "/billing/adm%C4%B1n")]
    [InlineData("/billing/key", "/billing/%E2%84%AAey")]
    [InlineData("/billing/%C5%BFecret", "/billing/SECRET")]
    // An ASCII escape before the letter: every escape in the segment is looked at, not the first.
    [InlineData("/billing/top%20secret", "/billing/TOP%20%C5%BFECRET")]
    [InlineData("/billing/%20secret", "/billing/%20%C5%BFECRET")]
    // 'À' is %C3%80: the lowest continuation byte is part of the letter too.
    [InlineData("/billing/voil%C3%A0", "/billing/VOIL%C3%80")]
    public void Deny_rules_match_non_ascii_letters_in_any_case_and_allow_rules_only_the_written_bytes(string pattern, string path)
    {
        var glob = new PathPattern(pattern);

        Assert.True(glob.Matches(path, ignoreCase: true));
        Assert.False(glob.Matches(path, ignoreCase: false));
    }

    [Theory]
    // Only escapes of non-ASCII bytes are decoded to compare: an escaped '*' stays a literal,
    // an escaped '/' never splits a segment, and invalid UTF-8 stays as written.
    [InlineData("/billing/%2A%C3%A9", "/billing/x%C3%A9")]
    [InlineData("/billing/a%2Fb%C3%A9", "/billing/a/b%C3%A9")]
    [InlineData("/billing/caf%C3%A9", "/billing/cafe")]
    [InlineData("/billing/caf%C3%A9", "/billing/caf%C3")]
    [InlineData("/billing/caf%C3%A9", "/billing/caf%C3%A9x")]
    public void Decoding_non_ascii_letters_never_makes_a_different_path_match(string pattern, string path)
    {
        Assert.False(new PathPattern(pattern).Matches(path, ignoreCase: true));
    }

    [Fact]
    public void An_upper_case_non_ascii_path_cannot_slip_past_a_deny_rule()
    {
        var policy = Compile("""
            rules:
              - { name: no-cafe, when: { paths: ["/billing/v1/caf%C3%A9/**"] }, action: deny }
              - { name: billing-reads, when: { connections: [billing], methods: [GET] }, action: allow }
            """);

        Assert.Equal("no-cafe", Decide(policy, Request("GET", "/billing/v1/CAF%C3%89/menu")).RuleName);
        Assert.Equal("no-cafe", Decide(policy, Request("GET", "/billing/v1/Caf%C3%A9")).RuleName);
        Assert.Equal("billing-reads", Decide(policy, Request("GET", "/billing/v1/cafe/menu")).RuleName);
    }

    [Fact]
    public void An_upper_case_extension_cannot_slip_past_a_deny_rule_on_json_exports()
    {
        var policy = Compile("""
            rules:
              - { name: no-json-exports, when: { paths: ["/billing/v1/exports/*.json"] }, action: deny }
              - { name: json-reads, when: { paths: ["/billing/v1/reports/*.json"] }, action: allow }
              - { name: billing-reads, when: { connections: [billing], methods: [GET] }, action: allow }
            """);

        Assert.Equal("no-json-exports", Decide(policy, Request("GET", "/billing/v1/exports/2026.JSON")).RuleName);
        Assert.Equal("no-json-exports", Decide(policy, Request("GET", "/billing/v1/Exports/2026.json")).RuleName);
        Assert.Equal("billing-reads", Decide(policy, Request("GET", "/billing/v1/exports/2026.csv")).RuleName);
        Assert.Equal("json-reads", Decide(policy, Request("POST", "/billing/v1/reports/2026.json")).RuleName);
        Assert.Equal("(default)", Decide(policy, Request("POST", "/billing/v1/reports/2026.JSON")).RuleName);
    }

    [Theory]
    [InlineData(33)]
    [InlineData(34)]
    [InlineData(40)]
    [InlineData(200)]
    public void A_path_deeper_than_32_segments_is_matched_segment_by_segment(int depth)
    {
        // Single-letter segments: the most segments a path of its length can have.
        var deep = "/billing" + string.Concat(Enumerable.Repeat("/a", depth - 2)) + "/admin";
        var policy = Compile("""
            rules:
              - { name: no-admin, when: { paths: [/billing/**/admin] }, action: deny }
              - { name: billing, when: { connections: [billing] }, action: allow }
            """);

        Assert.Equal(depth, deep.Split('/').Length - 1);
        Assert.Equal("no-admin", Decide(policy, Request("GET", deep)).RuleName);
        Assert.Equal("billing", Decide(policy, Request("GET", deep + "/x")).RuleName);
        Assert.True(new PathPattern("/billing/**/a/admin").Matches(deep, ignoreCase: false));
    }

    [Theory]
    [InlineData(33)]
    [InlineData(34)]
    [InlineData(100)]
    public void A_path_of_many_one_letter_segments_is_matched_whole(int depth)
    {
        // "/a/a/.../a/z": as many segments as a path of its length can hold.
        var deep = string.Concat(Enumerable.Repeat("/a", depth - 1)) + "/z";
        var policy = Compile("""
            rules:
              - { name: no-z, when: { paths: [/a/**/z] }, action: deny }
              - { name: a, when: { connections: [a] }, action: allow }
            """);

        Assert.Equal("no-z", Decide(policy, Request("GET", deep)).RuleName);
        Assert.Equal("a", Decide(policy, Request("GET", deep + "/a")).RuleName);
        Assert.True(new PathPattern(string.Concat(Enumerable.Repeat("/*", depth))).Matches(deep, ignoreCase: false));
        Assert.False(new PathPattern(string.Concat(Enumerable.Repeat("/*", depth - 1))).Matches(deep, ignoreCase: false));
        Assert.False(new PathPattern(string.Concat(Enumerable.Repeat("/*", depth + 1))).Matches(deep, ignoreCase: false));
        Assert.True(new PathPattern(string.Concat(Enumerable.Repeat("/a", depth - 1)) + "/*").Matches(deep, ignoreCase: true));
    }

    [Fact]
    public void A_one_segment_wildcard_does_not_match_an_empty_segment()
    {
        Assert.False(new PathPattern("/billing/*/x").Matches("/billing//x", ignoreCase: false));
        Assert.True(new PathPattern("/billing/*/x").Matches("/billing/a/x", ignoreCase: false));
    }

    [Fact]
    public void A_pattern_keeps_its_text_and_segments()
    {
        var glob = new PathPattern("/billing/**/x/");

        Assert.Equal("/billing/**/x/", glob.Text);
        Assert.Equal("/billing/**/x/", glob.ToString());
        Assert.Equal(["billing", "**", "x"], glob.Segments);
        Assert.Empty(new PathPattern("/").Segments);
    }

    [Fact]
    public void A_paths_condition_holds_when_any_pattern_matches_and_says_which_it_tried()
    {
        var policy = Compile("""
            rules:
              - { name: admin, when: { paths: [/billing/admin/**, /crm/admin/**] }, action: deny }
            """);
        var condition = Assert.IsType<PathCondition>(Assert.Single(policy.Rules[0].Conditions));

        Assert.Equal("admin", Decide(policy, Request("GET", "/billing/admin/x")).RuleName);
        Assert.Equal("admin", Decide(policy, Request("GET", "/crm/admin/x")).RuleName);
        Assert.Equal("(default)", Decide(policy, Request("GET", "/crm/users")).RuleName);
        Assert.Equal("paths", condition.Key);
        Assert.Equal("paths: /billing/admin/**, /crm/admin/**", condition.Describe());
        Assert.Equal("paths: /crm/users matches none of /billing/admin/**, /crm/admin/**", condition.Explain(Request("GET", "/crm/users"), strict: false));
    }
}
