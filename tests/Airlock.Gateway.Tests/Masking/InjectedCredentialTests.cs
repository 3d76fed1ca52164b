using System.Buffers;
using System.Text;
using System.Text.Json;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Masking;

namespace Airlock.Gateway.Tests.Masking;

public class InjectedCredentialTests
{
    private const string Token = "Up5tream+Secret/Token=9f8e7d42c0ffee";
    private const string Redacted = InjectedCredential.Replacement;

    private static InjectedCredential Bearer(string token) =>
        InjectedCredential.For(new UpstreamCredential("bearer", "Authorization", new Secret("env:T", "Bearer " + token)))!;

    private static InjectedCredential Basic(string user, string password) =>
        InjectedCredential.For(new UpstreamCredential("basic", "Authorization",
            new Secret("env:B", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")))))!;

    /// <summary>Scrubs the text fed in pieces of <paramref name="pieceSize"/> bytes (0: whole)
    /// through the stream the gateway uses.</summary>
    private static (string Output, long Count) Scrub(InjectedCredential credential, string text, int pieceSize = 0)
    {
        var counts = new MaskCounts();
        var bytes = Encoding.UTF8.GetBytes(text);
        using var stream = new CredentialScrubbingStream(new Pieces(bytes, pieceSize == 0 ? bytes.Length : pieceSize), credential, counts);
        using var output = new MemoryStream();
        stream.CopyTo(output);
        return (Encoding.UTF8.GetString(output.ToArray()), counts.Total);
    }

    public static TheoryData<string> Written => new()
    {
        Token,
        "Bearer " + Token,
        Uri.EscapeDataString(Token),
        Uri.EscapeDataString(Token).Replace("%2B", "%2b", StringComparison.Ordinal).Replace("%2F", "%2f", StringComparison.Ordinal),
        System.Web.HttpUtility.UrlEncode(Token),
        JsonEncodedText.Encode(Token).ToString(),
        JsonEncodedText.Encode(Token).ToString().Replace("\\u002B", "\\u002b", StringComparison.Ordinal),
        Token.Replace("/", "\\/", StringComparison.Ordinal),
        // Mixed: one character percent-encoded, another JSON-escaped, as a JSON-in-URL would have it.
        "Up5tream%2BSecret\\/Token=9f8e7d42c0ffee",
        // Percent-encoded twice (and three times), string escapes, HTML character references.
        Uri.EscapeDataString(Uri.EscapeDataString(Token)),
        Uri.EscapeDataString(Uri.EscapeDataString(Uri.EscapeDataString(Token))),
        "Up5tream\\x2bSecret\\x2FToken\\x3D9f8e7d42c0ffee",
        "Up5tream\\+Secret\\/Token\\=9f8e7d42c0ffee",
        System.Text.Encodings.Web.HtmlEncoder.Default.Encode(Token),
        "Up5tream&#43;Secret&#047;Token&#61;9f8e7d42c0ffee",
        "Up5tream&#X2b;Secret&#x00002F;Token&#x3d;9f8e7d42c0ffee",
        "Up5tream&plus;Secret&sol;Token&equals;9f8e7d42c0ffee",
        Convert.ToBase64String(Encoding.UTF8.GetBytes(Token)),
        // Base64url without padding (the token's own Base64 has no '+', '/' or '=', so it is
        // written one character in, where the padding shows).
        Convert.ToBase64String(Encoding.UTF8.GetBytes("x" + Token)).Replace('+', '-').Replace('/', '_').TrimEnd('='),
        Convert.ToBase64String(Encoding.UTF8.GetBytes("Authorization: Bearer " + Token + "\r\n")),
        Convert.ToBase64String(Encoding.UTF8.GetBytes("x-Authorization: Bearer " + Token + "\r\n")),
        Convert.ToBase64String(Encoding.UTF8.GetBytes("xy-Authorization: Bearer " + Token + "\r\n")),
    };

    [Theory]
    [MemberData(nameof(Written))]
    public void The_credential_is_found_however_it_is_written(string written)
    {
        var (output, count) = Scrub(Bearer(Token), "before " + written + " after");

        Assert.Equal(1, count);
        Assert.Contains(Redacted, output, StringComparison.Ordinal);
        Assert.DoesNotContain("Secret", output, StringComparison.Ordinal);
        Assert.StartsWith("before ", output, StringComparison.Ordinal);
        Assert.EndsWith(" after", output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Written))]
    public void Cut_anywhere_between_pieces_it_is_found_the_same_way(string written)
    {
        var text = "{\"a\":\"" + written + "\",\"b\":\"" + written + "\"}";
        var whole = Scrub(Bearer(Token), text);

        for (var size = 1; size <= text.Length; size += size < 24 ? 1 : 7)
        {
            Assert.Equal(whole, Scrub(Bearer(Token), text, size));
        }

        Assert.Equal(2, whole.Count);
    }

    [Fact]
    public void A_body_without_the_credential_passes_as_it_came()
    {
        const string text = "{\"note\":\"100% of Up5tream+Secret is not the token\"}\\";
        var credential = Bearer(Token);
        ArrayBufferWriter<byte>? output = null;

        var settled = credential.Scrub(Encoding.UTF8.GetBytes(text), final: true, ref output, new MaskCounts(), out var replaced);

        Assert.Equal(0, replaced);
        Assert.Null(output);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), settled);
        Assert.Equal((text, 0L), Scrub(credential, text, 5));
    }

    [Fact]
    public void Only_bytes_that_could_begin_the_credential_wait_for_the_next_piece()
    {
        var credential = Bearer(Token);
        ArrayBufferWriter<byte>? output = null;

        var events = credential.Scrub("data: {\"n\":1}\n\n"u8, final: false, ref output, new MaskCounts(), out _);
        var cut = credential.Scrub("seen: Up5tream+Sec"u8, final: false, ref output, new MaskCounts(), out _);
        var escape = credential.Scrub("a 10%"u8, final: false, ref output, new MaskCounts(), out _);
        var reference = credential.Scrub("Up5tream&#x2"u8, final: false, ref output, new MaskCounts(), out _);
        var html = credential.Scrub("Tom &amp; Jerry &#x2B;"u8, final: true, ref output, new MaskCounts(), out var replaced);

        Assert.Equal(15, events);
        Assert.Equal("seen: ".Length, cut);
        Assert.Equal("a 10".Length, escape);
        Assert.Equal(0, reference);
        Assert.Equal("Tom &amp; Jerry &#x2B;".Length, html);
        Assert.Equal(0, replaced);
    }

    [Fact]
    public void A_basic_credential_is_found_as_sent_and_as_its_parts()
    {
        var credential = Basic("svc-billing", "basic+Pass/word=7a6b5c4d");
        var sent = Convert.ToBase64String(Encoding.UTF8.GetBytes("svc-billing:basic+Pass/word=7a6b5c4d"));

        Assert.Equal(("Authorization: Basic " + Redacted, 1L), Scrub(credential, "Authorization: Basic " + sent));
        Assert.Equal(("pair " + Redacted, 1L), Scrub(credential, "pair svc-billing:basic+Pass/word=7a6b5c4d"));
        Assert.Equal(("password " + Redacted, 1L), Scrub(credential, "password basic%2BPass%2Fword%3D7a6b5c4d"));
    }

    [Fact]
    public void A_short_password_is_not_searched_for_alone()
    {
        var credential = Basic("svc", "pw1");

        Assert.Equal(("a pw1 b", 0L), Scrub(credential, "a pw1 b"));
        Assert.Equal((Redacted, 1L), Scrub(credential, "svc:pw1"));
    }

    [Fact]
    public void A_connection_without_a_credential_has_nothing_to_scrub()
    {
        Assert.Null(InjectedCredential.For(UpstreamCredential.None));
        Assert.Null(InjectedCredential.For(new UpstreamCredential("bearer", "Authorization", Secret.Unresolved("env:T"))));
    }

    [Fact]
    public void Header_values_are_scrubbed_as_latin1()
    {
        var credential = Bearer(Token);

        Assert.True(credential.Scrub("Bearer " + Token, new MaskCounts(), out var scrubbed));
        Assert.Equal("Bearer " + Redacted, scrubbed);
        Assert.False(credential.Scrub("Bearer someone-else", new MaskCounts(), out _));
    }

    /// <summary>A source that hands out its bytes a piece at a time.</summary>
    private sealed class Pieces(byte[] bytes, int size) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, size));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, size)], cancellationToken);
    }
}
