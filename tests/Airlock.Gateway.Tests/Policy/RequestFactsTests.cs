using System.Text;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Policy.Conditions;
using static Airlock.Gateway.Tests.Policy.PolicyFixture;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>What policy reads of a request: the query as upstreams parse it, and names compared
/// the way case-insensitive frameworks compare them.</summary>
public class RequestFactsTests
{
    private static Dictionary<string, string[]> Parsed(IReadOnlyDictionary<string, List<string>> query) =>
        query.ToDictionary(p => p.Key, p => p.Value.ToArray());

    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("a=1", "a=[1]")]
    [InlineData("a=1&b=2", "a=[1] b=[2]")]
    [InlineData("a=1&a=2", "a=[1,2]")]
    [InlineData("a", "a=[]")]
    [InlineData("a=", "a=[]")]
    [InlineData("a=&a", "a=[,]")]
    [InlineData("=1", "=[1]")]
    [InlineData("a=1&&b=2&", "a=[1] b=[2]")]
    [InlineData("a=b=c", "a=[b=c]")]
    [InlineData("a+b=c+d", "a b=[c d]")]
    [InlineData("%61=%62%2B", "a=[b+]")]
    [InlineData("%E2%84%AA=1", "\u212A=[1]")]
    [InlineData("A=1&a=2", "A=[1] a=[2]")]
    [InlineData("a=1;b=2", "a=[1;b=2]")]
    public void The_query_is_split_on_ampersands_and_form_decoded(string? raw, string expected)
    {
        var facts = Request("GET", "/svc/x", query: raw);

        Assert.Equal(expected, Show(facts.Query));
        Assert.Equal(raw, facts.RawQuery);
    }

    [Theory]
    [InlineData("a=1;b=2", "a=[1] b=[2]")]
    [InlineData("a=1;a=2&a=3", "a=[1,2,3]")]
    [InlineData(";;a=1;", "a=[1]")]
    [InlineData("a=%3B", "a=[;]")]
    public void Servers_that_split_on_semicolons_read_another_query(string raw, string expected)
    {
        Assert.Equal(expected, Show(Request("GET", "/svc/x", query: raw).QueryWithSemicolons));
    }

    [Fact]
    public void A_form_body_is_read_as_the_query_is()
    {
        Assert.Equal("a=[1 2] b=[x;y]", Show(RequestFacts.ParseForm("a=1+2&b=x;y")));
        Assert.Equal("", Show(RequestFacts.ParseForm("")));
        Assert.Equal("caf\u00e9", RequestFacts.TextOf(Encoding.UTF8.GetBytes("caf\u00e9")));
    }

    [Fact]
    public void The_facts_are_what_they_were_built_from()
    {
        var facts = Request("PATCH", "/crm/contacts/1", query: "a=1", subject: "corp:alice", keyName: null, groups: ["sales"]);

        Assert.Equal("crm", facts.Connection);
        Assert.Equal("PATCH", facts.Method);
        Assert.Equal("/crm/contacts/1", facts.Path);
        Assert.Equal("corp:alice", facts.Identity.Subject);
        Assert.Equal(["sales"], facts.Identity.Groups.ToArray());
        Assert.Null(facts.Body);
        Assert.Same(facts.Query, facts.Query);
    }

    private static string Show(IReadOnlyDictionary<string, List<string>> query) =>
        string.Join(" ", Parsed(query).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}=[{string.Join(",", p.Value)}]"));

    [Theory]
    [InlineData("kind", "kind", true)]
    [InlineData("kind", "KIND", true)]
    [InlineData("kind", "Kind", true)]
    [InlineData("kind", "kinds", false)]
    [InlineData("kind", "mind", false)]
    [InlineData("kind", "\u212Aind", true)] // KELVIN SIGN: lower-cased to 'k' (Java)
    [InlineData("\u212AIND", "kind", true)]
    [InlineData("sort", "\u017Fort", true)] // LATIN SMALL LETTER LONG S: upper-cased to 'S'
    [InlineData("\u017Fort", "SORT", true)]
    [InlineData("\u0131d", "ID", true)] // LATIN SMALL LETTER DOTLESS I: upper-cased to 'I'
    [InlineData("\u0131d", "id", true)]
    [InlineData("\u0130D", "id", true)] // LATIN CAPITAL LETTER I WITH DOT ABOVE: Java lower-cases it to 'i'
    [InlineData("\U00010400", "\U00010428", true)] // DESERET CAPITAL and SMALL LONG I
    [InlineData("\u03D0eta", "\u03B2ETA", true)] // GREEK BETA SYMBOL: upper-cased to BETA
    [InlineData("caf\u00e9", "CAF\u00c9", true)]
    [InlineData("caf\u00e9", "cafe", false)]
    [InlineData("\u212Aind", "mind", false)]
    [InlineData("\u00e9", "\u00e8", false)]
    public void Names_are_the_same_if_any_common_case_folding_makes_them_equal(string a, string b, bool same)
    {
        Assert.Equal(same, KeyCase.Same(a, b));
        Assert.Equal(same, KeyCase.Same(b, a));
    }

    [Theory]
    [InlineData("kind", "KIND")]
    [InlineData("kind", "\u212Aind")]
    [InlineData("\u212Aind", "kind")]
    [InlineData("\u212Aind", "KIND")]
    [InlineData("sort", "\u017Fort")]
    [InlineData("\u017Fort", "sort")]
    [InlineData("\u017Fort", "SORT")]
    [InlineData("caf\u00e9", "CAF\u00c9")]
    [InlineData("\u0131d", "ID")]
    [InlineData("ID", "\u0131d")]
    [InlineData("\u0131d", "\u0130D")]
    [InlineData("\U00010400x", "\U00010428X")]
    public void A_name_that_folds_like_one_already_in_an_object_collides(string first, string second)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        Assert.True(KeyCase.AddUnique(seen, first));
        Assert.False(KeyCase.AddUnique(seen, second));
        Assert.True(KeyCase.AddUnique(seen, "other"));
        Assert.False(KeyCase.AddUnique(seen, first));
    }

    [Fact]
    public void Names_that_fold_apart_do_not_collide()
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        Assert.True(KeyCase.AddUnique(seen, "\u212Aind"));
        Assert.True(KeyCase.AddUnique(seen, "mind"));
        Assert.True(KeyCase.AddUnique(seen, "caf\u00e9"));
        Assert.True(KeyCase.AddUnique(seen, "cafe"));
        Assert.True(KeyCase.AddUnique(seen, "\u00e8"));
    }

    [Fact]
    public void Json_keys_folded_alike_make_a_body_opaque()
    {
        Assert.Equal(BodyKind.Opaque, InspectedBody.Read("{\"sort\":1,\"\u017Fort\":2}"u8.ToArray()).Kind);
        Assert.Equal(BodyKind.Opaque, InspectedBody.Read("{\"\u212Aind\":1,\"kind\":2}"u8.ToArray()).Kind);
        Assert.Equal(BodyKind.Json, InspectedBody.Read("{\"\u212Aind\":1,\"mind\":2}"u8.ToArray()).Kind);
    }
}
