using Airlock.Gateway.Normalization;

namespace Airlock.Gateway.Tests.Normalization;

public class RequestTargetNormalizerTests
{
    [Theory]
    [InlineData("/billing/v1/customers", "/billing/v1/customers")]
    [InlineData("/billing", "/billing")]
    [InlineData("/billing/", "/billing/")]
    [InlineData("/", "/")]
    [InlineData("//billing//v1///customers", "/billing/v1/customers")]
    [InlineData("/billing/v1/../admin", "/billing/admin")]
    [InlineData("/billing/v1/%2e%2e/admin", "/billing/admin")]
    [InlineData("/billing/v1/%2E%2E/admin", "/billing/admin")]
    [InlineData("/billing/v1/.%2e/admin", "/billing/admin")]
    [InlineData("/billing/./v1/./customers", "/billing/v1/customers")]
    [InlineData("/billing/v1/.", "/billing/v1/")]
    [InlineData("/billing/v1/x/..", "/billing/v1/")]
    [InlineData("/billing/v1/customers/", "/billing/v1/customers/")]
    [InlineData("/%62illing/%76%31", "/billing/v1")]
    [InlineData("/billing/a%7Eb%2D%5F", "/billing/a~b-_")]
    [InlineData("/billing/a%20b", "/billing/a%20b")]
    [InlineData("/billing/a%3fb", "/billing/a%3Fb")]
    [InlineData("/billing/100%25", "/billing/100%25")]
    [InlineData("/billing/50%25", "/billing/50%25")]
    [InlineData("/billing/50%25off", "/billing/50%25off")]
    [InlineData("/billing/caf%C3%A9", "/billing/caf%C3%A9")]
    [InlineData("/billing/caf%c3%a9", "/billing/caf%C3%A9")]
    [InlineData("/billing/%F0%9F%94%91", "/billing/%F0%9F%94%91")]
    [InlineData("/billing/a\"b", "/billing/a%22b")]
    [InlineData("/billing/{id}", "/billing/%7Bid%7D")]
    [InlineData("/billing/user@x:1,a=b,c+d!$&'()*", "/billing/user@x:1,a=b,c+d!$&'()*")]
    [InlineData("/billing/a%3Bb", "/billing/a%3Bb")]
    [InlineData("/billing/...", "/billing/...")]
    [InlineData("/billing/.hidden", "/billing/.hidden")]
    // The first and last lead byte of each UTF-8 length, in shortest form, are characters.
    [InlineData("/billing/%C2%A9", "/billing/%C2%A9")]
    [InlineData("/billing/%df%bf", "/billing/%DF%BF")]
    [InlineData("/billing/%E0%A0%80", "/billing/%E0%A0%80")]
    [InlineData("/billing/%EF%BF%BD", "/billing/%EF%BF%BD")]
    [InlineData("/billing/%F0%90%80%80", "/billing/%F0%90%80%80")]
    [InlineData("/billing/%F4%8F%BF%BF", "/billing/%F4%8F%BF%BF")]
    // Every hex digit, either case, in both places of an escape.
    [InlineData("/billing/%30%39%41%5A%61%7a%6A%4a%6F%4F", "/billing/09AZazjJoO")]
    [InlineData("/billing/%2a%2A%3a%5b%5D%7c%7C", "/billing/%2A%2A%3A%5B%5D%7C%7C")]
    [InlineData("/billing/a%2e", "/billing/a.")]
    [InlineData("/billing/./", "/billing/")]
    [InlineData("/billing/v1/x/../..", "/billing/")]
    [InlineData("/billing/v1/x/../y/../../z", "/billing/z")]
    [InlineData("/billing/a/./b/../../c/", "/billing/c/")]
    [InlineData("///", "/")]
    [InlineData("/./billing", "/billing")]
    [InlineData("/billing/a%25x%25", "/billing/a%25x%25")]
    [InlineData("/billing/<a>|^`", "/billing/%3Ca%3E%7C%5E%60")]
    // An escape followed by letters that are hex digits is not an escaped escape.
    [InlineData("/billing/%41bcd/%20ff", "/billing/Abcd/%20ff")]
    public void Paths_have_one_canonical_form(string raw, string canonical)
    {
        var error = RequestTargetNormalizer.Normalize(raw, out var target);

        Assert.Equal(NormalizationError.None, error);
        Assert.Equal(canonical, target.Path);
        Assert.Null(target.Query);
    }

    // Internal: it takes the gateway's internal NormalizationError, and xunit runs internal test methods too.
    [Theory]
    [InlineData("/billing/v1/%2Fetc", NormalizationError.EncodedSeparator)]
    [InlineData("/billing/v1/%2fetc", NormalizationError.EncodedSeparator)]
    [InlineData("/billing/v1/%5Cetc", NormalizationError.EncodedSeparator)]
    [InlineData("/billing/v1\\etc", NormalizationError.Backslash)]
    [InlineData("/billing/v1/%00", NormalizationError.Nul)]
    [InlineData("/billing/v1/\0", NormalizationError.Nul)]
    [InlineData("/billing/v1/%0A", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/v1/%7F", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/v1/a b", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/v1/caf\u00e9", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/v1/%", NormalizationError.InvalidPercentEncoding)]
    [InlineData("/billing/v1/%4", NormalizationError.InvalidPercentEncoding)]
    [InlineData("/billing/v1/%zz", NormalizationError.InvalidPercentEncoding)]
    [InlineData("/billing/v1/%u002f", NormalizationError.InvalidPercentEncoding)]
    [InlineData("/billing/v1/%C0%AF", NormalizationError.InvalidUtf8)]
    // Several ambiguities: the first in the target is the reason given.
    [InlineData("/billing/%2541/%2F", NormalizationError.DoubleEncoding)]
    [InlineData("/billing/%2F/%2541", NormalizationError.EncodedSeparator)]
    [InlineData("/billing/v1/%E0%80%AF", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%C0%AE%C0%AE", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%C3", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%C3x", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%A9", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%ED%A0%80", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%F4%90%80%80", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%FF", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%80", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%C1%BF", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%F5%80%80%80", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%E2%82", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%E2%82%2F", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%C3%C3%A9", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%C3%41", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%E2%8", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/v1/%4g", NormalizationError.InvalidPercentEncoding)]
    [InlineData("/billing/v1/%g4", NormalizationError.InvalidPercentEncoding)]
    [InlineData("/billing/v1/%/", NormalizationError.InvalidPercentEncoding)]
    [InlineData("/billing/v1/\u007F", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/v1/\t", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/v1/%1F", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/v1/%01", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/v1/%5c", NormalizationError.EncodedSeparator)]
    [InlineData("/billing/a%25x%25%32%65", NormalizationError.DoubleEncoding)]
    [InlineData("/billing/%25%46%46", NormalizationError.DoubleEncoding)]
    [InlineData("/billing/%25af", NormalizationError.DoubleEncoding)]
    // Decoded, an escaped escape right after an escaped '%' ("%25" then "%252e"): the search
    // goes on from just past the first, where the second begins.
    [InlineData("/billing/%25%25%32%65", NormalizationError.DoubleEncoding)]
    [InlineData("/billing/v1/x/../../..", NormalizationError.Traversal)]
    [InlineData("/billing/..", NormalizationError.Traversal)]
    [InlineData("/%2e%2e", NormalizationError.Traversal)]
    [InlineData("/billing/../admin", NormalizationError.Traversal)]
    [InlineData("/billing/%2e%2e/admin", NormalizationError.Traversal)]
    [InlineData("/billing/v1/../../admin", NormalizationError.Traversal)]
    [InlineData("/../billing", NormalizationError.Traversal)]
    [InlineData("/..", NormalizationError.Traversal)]
    [InlineData("/billing/v1#frag", NormalizationError.Fragment)]
    [InlineData("/billing/x;a/..;/admin", NormalizationError.PathParameter)]
    [InlineData("/billing/admin;jsessionid=1/users", NormalizationError.PathParameter)]
    [InlineData("/billing/%252e%252e/admin", NormalizationError.DoubleEncoding)]
    [InlineData("/billing/%252F", NormalizationError.DoubleEncoding)]
    // Found by NormalizationProperties: hex digits sent escaped are decoded, and the result was
    // the escape of an escape ("%252e"), forwarded upstream and refused when normalised again.
    [InlineData("/billing/%25%32%65%25%32%65/admin", NormalizationError.DoubleEncoding)]
    [InlineData("/billing/%252%31", NormalizationError.DoubleEncoding)]
    [InlineData("/billing/%25%34%31", NormalizationError.DoubleEncoding)]
    [InlineData("http://example.com/billing", NormalizationError.NotOriginForm)]
    [InlineData("*", NormalizationError.NotOriginForm)]
    [InlineData("", NormalizationError.NotOriginForm)]
    internal void Ambiguous_targets_are_refused(string raw, NormalizationError expected)
    {
        Assert.Equal(expected, RequestTargetNormalizer.Normalize(raw, out _));
    }

    [Theory]
    [InlineData("/billing/x?a=1&b=two", "a=1&b=two")]
    [InlineData("/billing/x?", "")]
    [InlineData("/billing/x?q=%2F%2e%2E&r=caf%C3%A9+x", "q=%2F%2e%2E&r=caf%C3%A9+x")]
    [InlineData("/billing/x?redirect=/a/../b", "redirect=/a/../b")]
    [InlineData("/billing/x?text=line%0Aline%09tab", "text=line%0Aline%09tab")]
    [InlineData("/billing/x?a=%7F%20%C2%A9%F4%8F%BF%BF%25%2525&b=~!", "a=%7F%20%C2%A9%F4%8F%BF%BF%25%2525&b=~!")]
    [InlineData("/billing/./y/../x?a=?", "a=?")]
    public void Query_strings_are_kept_exactly(string raw, string query)
    {
        Assert.Equal(NormalizationError.None, RequestTargetNormalizer.Normalize(raw, out var target));
        Assert.Equal(query, target.Query);
        Assert.Equal("/billing/x", target.Path);
    }

    // Internal: it takes the gateway's internal NormalizationError, and xunit runs internal test methods too.
    [Theory]
    [InlineData("/billing/x?a=%00", NormalizationError.Nul)]
    [InlineData("/billing/x?a=b\nc", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/x?a=%zz", NormalizationError.InvalidPercentEncoding)]
    [InlineData("/billing/x?a=%C0%AF", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/x?a=b#c", NormalizationError.Fragment)]
    [InlineData("/billing/x?a=\0", NormalizationError.Nul)]
    [InlineData("/billing/x?a=b c", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/x?a=\u007F", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/x?a=caf\u00e9", NormalizationError.InvalidCharacter)]
    [InlineData("/billing/x?a=%80", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/x?a=%C3", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/x?a=%ED%A0%80", NormalizationError.InvalidUtf8)]
    [InlineData("/billing/x?a=%4", NormalizationError.InvalidPercentEncoding)]
    [InlineData("/billing/x?a=%C3%A9&b=%00", NormalizationError.Nul)]
    [InlineData("/billing/x?a=%41%00", NormalizationError.Nul)]
    [InlineData("/billing/x/../..?a=1", NormalizationError.Traversal)]
    [InlineData("/billing/x%2F?a=1", NormalizationError.EncodedSeparator)]
    internal void Malformed_queries_are_refused(string raw, NormalizationError expected)
    {
        Assert.Equal(expected, RequestTargetNormalizer.Normalize(raw, out _));
    }

    [Fact]
    public void A_canonical_path_is_a_fixed_point()
    {
        string[] samples = ["/billing/v1/%2e%2e/x/./y//z/", "/%62illing/caf%c3%a9/%7B%7d", "/billing/a%20b/../c", "/billing/50%25off"];
        foreach (var raw in samples)
        {
            Assert.Equal(NormalizationError.None, RequestTargetNormalizer.Normalize(raw, out var once));
            Assert.Equal(NormalizationError.None, RequestTargetNormalizer.Normalize(once.Path, out var twice));
            Assert.Equal(once.Path, twice.Path);
        }
    }

    [Fact]
    public void Long_non_ascii_segments_are_accepted()
    {
        var segment = string.Concat(Enumerable.Repeat("%E6%97%A5%E6%9C%AC", 100));
        Assert.Equal(NormalizationError.None, RequestTargetNormalizer.Normalize("/billing/" + segment, out var target));
        Assert.Equal("/billing/" + segment, target.Path);
    }

    [Fact]
    public void A_path_that_is_already_canonical_comes_back_as_the_same_string()
    {
        const string Raw = "/billing/v1/customers?limit=5";
        Assert.Equal(NormalizationError.None, RequestTargetNormalizer.Normalize(Raw, out var target));
        Assert.Equal("/billing/v1/customers", target.Path);
        Assert.Equal("limit=5", target.Query);

        const string Same = "/billing/v1/customers";
        Assert.Equal(NormalizationError.None, RequestTargetNormalizer.Normalize(Same, out var whole));
        Assert.Same(Same, whole.Path);
    }

    [Theory]
    [InlineData("/billing/x?a=1", 100, "/billing/x?a=1")]
    [InlineData("/billing/a b\t\r\n", 100, "/billing/a%20b%09%0D%0A")]
    [InlineData("/billing/\u007F~!", 100, "/billing/%7F~!")]
    [InlineData("/billing/caf\u00e9\u20ac", 100, "/billing/caf%E9%FF")]
    [InlineData("/billing/\0", 100, "/billing/%00")]
    [InlineData("/billing/v1/customers", 8, "/billing")]
    [InlineData("/billing/a b", 10, "/billing/a")]
    [InlineData("/billing/ab", 11, "/billing/ab")]
    public void A_refused_target_is_recorded_printable_and_cut_to_length(string raw, int maxLength, string recorded)
    {
        Assert.Equal(recorded, RequestTargetNormalizer.EscapeForRecord(raw, maxLength));
    }

    [Fact]
    public void A_printable_target_within_the_length_is_recorded_as_the_same_string()
    {
        const string Raw = "/billing/v1/customers";
        Assert.Same(Raw, RequestTargetNormalizer.EscapeForRecord(Raw, 2048));
    }
}
