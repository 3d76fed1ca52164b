using System.Text;
using Airlock.Gateway.Audit;

namespace Airlock.Gateway.Tests.Audit;

/// <summary>
/// <see cref="CanonicalJson"/> against RFC 8785 (JSON Canonicalization Scheme). Where the RFC
/// publishes an example for a rule, the example's input and output are used as they stand.
/// </summary>
public class CanonicalJsonTests
{
    private static string Json(CanonicalJson.Obj value) => Encoding.UTF8.GetString(CanonicalJson.Serialize(value));

    [Fact]
    public void Members_are_sorted_by_utf16_code_units_as_in_the_rfc_sorting_example()
    {
        // RFC 8785 §3.2.3: the emoji (U+1F600, surrogates D83D DE00) sorts before U+FB33
        // because the comparison is by UTF-16 code unit, not by code point.
        var value = new CanonicalJson.Obj()
            .Add("\u20ac", "Euro Sign")
            .Add("\r", "Carriage Return")
            .Add("\ufb33", "Hebrew Letter Dalet With Dagesh")
            .Add("1", "One")
            .Add("\ud83d\ude00", "Emoji: Grinning Face")
            .Add("\u0080", "Control")
            .Add("\u00f6", "Latin Small Letter O With Diaeresis");

        Assert.Equal(
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\"," +
            "\"\u20ac\":\"Euro Sign\",\"\ud83d\ude00\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}",
            Json(value));
    }

    [Fact]
    public void Strings_are_escaped_as_in_the_rfc_example()
    {
        // RFC 8785 §3.2.2.2: "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/" canonicalises to
        // "€$\u000f\nA'B\"\\\\\"/": only '"', '\' and controls are escaped, '/' is not, and a
        // control without a short form is \u00xx in lower-case hex.
        var value = new CanonicalJson.Obj().Add("string", "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"/");

        Assert.Equal("{\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}", Json(value));
    }

    [Fact]
    public void The_literals_serialise_as_in_the_rfc_example()
    {
        // RFC 8785 §3.2.2.2 example: "literals": [null, true, false] → null,true,false.
        var value = new CanonicalJson.Obj().Add("c", false).Add("a", null).Add("b", true);

        Assert.Equal("{\"a\":null,\"b\":true,\"c\":false}", Json(value));
    }

    [Fact]
    public void Every_control_character_uses_its_short_form_or_lower_case_u00xx_and_nothing_else_is_escaped()
    {
        var controls = new string([.. Enumerable.Range(0, 0x20).Select(i => (char)i)]);
        var expected = new StringBuilder("{\"s\":\"");
        for (var i = 0; i < 0x20; i++)
        {
            expected.Append(i switch
            {
                0x08 => "\\b",
                0x09 => "\\t",
                0x0a => "\\n",
                0x0c => "\\f",
                0x0d => "\\r",
                _ => $"\\u{i:x4}",
            });
        }

        expected.Append(" ~\u007f\u00e9<>&'/\"}");

        Assert.Equal(expected.ToString(), Json(new CanonicalJson.Obj().Add("s", controls + " ~\u007f\u00e9<>&'/")));
    }

    [Fact]
    public void Output_is_utf8_without_whitespace_or_a_byte_order_mark()
    {
        var bytes = CanonicalJson.Serialize(new CanonicalJson.Obj().Add("k", "\u20ac").Add("n", new CanonicalJson.Obj().Add("x", 1)));

        // € is E2 82 AC in UTF-8 (RFC 8785 §3.2.4: the output is UTF-8).
        Assert.Equal("{\"k\":\"\u20ac\",\"n\":{\"x\":1}}"u8.ToArray(), bytes);
        Assert.Equal([0x22, 0xE2, 0x82, 0xAC, 0x22], bytes[5..10]);
    }

    [Theory]
    // RFC 8785 Appendix B: 0 → "0"; 9007199254740992 (2^53) and its negative as plain digits.
    [InlineData(0L, "0")]
    [InlineData(9007199254740992L, "9007199254740992")]
    [InlineData(-9007199254740992L, "-9007199254740992")]
    [InlineData(1L, "1")]
    [InlineData(-1L, "-1")]
    [InlineData(1000000L, "1000000")]
    public void Integers_are_plain_decimal_without_exponent_or_fraction(long number, string expected)
    {
        Assert.Equal($"{{\"n\":{expected}}}", Json(new CanonicalJson.Obj().Add("n", number)));
        if (number is >= int.MinValue and <= int.MaxValue)
        {
            Assert.Equal($"{{\"n\":{expected}}}", Json(new CanonicalJson.Obj().Add("n", (int)number)));
        }
    }

    [Fact]
    public void Values_an_audit_event_cannot_hold_are_refused_rather_than_serialised_loosely()
    {
        // Fractions would need the ECMAScript number algorithm of RFC 8785 §3.2.2.3; events hold none.
        Assert.Throws<ArgumentException>(() => CanonicalJson.Serialize(new CanonicalJson.Obj().Add("n", 4.50)));
        Assert.Throws<ArgumentException>(() => CanonicalJson.Serialize(new CanonicalJson.Obj().Add("n", 4.5m)));
        Assert.Throws<ArgumentException>(() => CanonicalJson.Serialize(new CanonicalJson.Obj().Add("t", DateTimeOffset.UnixEpoch)));
    }

    [Fact]
    public void Nested_objects_are_sorted_and_arrays_keep_their_order()
    {
        var value = new CanonicalJson.Obj()
            .Add("z", new CanonicalJson.Obj().Add("b", "2").Add("a", "1").Add("B", "0"))
            .Add("a", new[] { "zeta", "alpha", "\u00e9" })
            .Add("m", Array.Empty<string>())
            .Add("e", new CanonicalJson.Obj());

        Assert.Equal("{\"a\":[\"zeta\",\"alpha\",\"\u00e9\"],\"e\":{},\"m\":[],\"z\":{\"B\":\"0\",\"a\":\"1\",\"b\":\"2\"}}", Json(value));
    }

    [Fact]
    public void Adding_a_member_again_replaces_it_so_a_name_appears_once()
    {
        Assert.Equal("{\"a\":\"second\"}", Json(new CanonicalJson.Obj().Add("a", "first").Add("a", "second")));
    }

    [Fact]
    public void Member_order_of_construction_does_not_change_the_bytes()
    {
        var names = new[] { "seq", "at", "kind", "actor", "\u00e9t\u00e9", "Z", "a1", "a10", "a2", "\ud83d\ude00", "\uffff" };
        var forward = new CanonicalJson.Obj();
        var backward = new CanonicalJson.Obj();
        foreach (var name in names)
        {
            forward.Add(name, name);
        }

        foreach (var name in names.Reverse())
        {
            backward.Add(name, name);
        }

        Assert.Equal(CanonicalJson.Serialize(forward), CanonicalJson.Serialize(backward));
        Assert.Equal("{\"Z\":\"Z\",\"a1\":\"a1\",\"a10\":\"a10\",\"a2\":\"a2\",\"actor\":\"actor\",\"at\":\"at\",\"kind\":\"kind\",\"seq\":\"seq\"," +
            "\"\u00e9t\u00e9\":\"\u00e9t\u00e9\",\"\ud83d\ude00\":\"\ud83d\ude00\",\"\uffff\":\"\uffff\"}", Json(forward));
    }

    [Fact]
    public void A_lone_surrogate_becomes_the_replacement_character_because_jcs_requires_i_json()
    {
        // RFC 8785 §3.1 requires I-JSON (RFC 7493), which forbids unpaired surrogates.
        Assert.Equal("{\"s\":\"a\ufffdb\ufffd\"}", Json(new CanonicalJson.Obj().Add("s", "a\ud800b\udc00")));
        Assert.Equal("{\"s\":\"\ud83d\ude00\ufffd\"}", Json(new CanonicalJson.Obj().Add("s", "\ud83d\ude00\ud83d")));
        Assert.Equal("{\"\ufffd\":\"x\"}", Json(new CanonicalJson.Obj().Add("\udfff", "x")));
        Assert.Same("well formed \ud83d\ude00", CanonicalJson.Sanitize("well formed \ud83d\ude00"));
    }
}
