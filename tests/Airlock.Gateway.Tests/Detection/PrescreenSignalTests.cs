using System.Text;
using Airlock.Gateway.Detection;
using static Airlock.Gateway.Detection.DetectorSignals;

namespace Airlock.Gateway.Tests.Detection;

/// <summary>
/// The prescreen exists so that masking skips the detectors that cannot match (most values need
/// none): for each condition it reads off a pattern, the smallest text that meets it gets the
/// signal, and the nearest texts that do not meet it get nothing. Every text is screened each
/// way the gateway screens one (UTF-16; UTF-8 alone; a short string inside a body, by masks or
/// by jumps; a long string, by vector search), and all must agree.
/// </summary>
public class PrescreenSignalTests
{
    // Rows, not TheoryData<...>: a public member cannot show the gateway's internal DetectorSignals.
    public static IEnumerable<ITheoryDataRow> Texts => new TheoryData<string, DetectorSignals>
    {
        // payment-card: 13 digits, in runs joined by one space or hyphen.
        { "1234567890123", PaymentCard },
        { "123456789012", None },
        { "1234 5678 9012 3", PaymentCard },
        { "1234-5678-9012-3", PaymentCard },
        { "1234 5678 9012", None },
        { "1234.5678.9012.3", None },
        { "123456 7890123", PaymentCard },
        { "123456  7890123", None },
        { "123456_7890123", None },
        { "123456789012/1", None },
        { "1234567890123456789", PaymentCard },

        // us-ssn: three digits free of a word character or '-' before them, a space or hyphen,
        // two digits.
        { "123-45", UsSsn },
        { "123 45", UsSsn },
        { ".123-45", UsSsn },
        { "+123-45", UsSsn | Phone },
        { "123.45", None },
        { "12-45", None },
        { "1234-56", None },
        { "123-4", None },
        { "a123-45", None },
        { "-123-45", None },
        { "_123-45", None },
        { "z123-45", None },
        { "Z123-45", None },
        { "`123-45", UsSsn },
        { "{123-45", UsSsn },
        { "[123-45", UsSsn },
        { "@123-45", UsSsn | Email },
        { "/123-45", UsSsn },
        { ":123-45", UsSsn },
        { "123-45-6789", UsSsn },
        { "1x3-45", None },

        // phone: '+' and a digit but 0; '(' and a digit; three digits, a separator, exactly
        // three; a run of two to five starting with 0, a space or hyphen, three or more.
        { "+1", Phone },
        { "+9", Phone },
        { "+0", None },
        { "+", None },
        { "+a1", None },
        { "(1", Phone },
        { "(a", None },
        { "(", None },
        { "202-555", Phone },
        { "202 555", Phone },
        { "202.555", Phone },
        { "202_555", None },
        { "2020-555", None },
        { "202-5555", None },
        { "20-555", None },
        { "a202-555", None },
        { ".202-555", None },
        { "-202-555", None },
        { "02 794", Phone },
        { "02-7946", Phone },
        { "0123 794", Phone },
        { "012 7946", Phone },
        { "0123-7946", Phone },
        { "+0123 794", None },
        { ".0123 794", None },
        { "-02 794", None },
        { "01234 794", Phone },
        { "012345 794", None },
        { "0 794", None },
        { "02 79", None },
        { "02.794", None },
        { "12 7946", None },
        { "x02 794", None },
        { "0x12 345", None },
        { "01x23 456", None },
        { "01xx3 456", None },

        // ipv4: an octet free of a word character or '.' before it, '.', an octet; three dots.
        { "1.2.3.4", Ipv4 },
        { "255.1.1.1", Ipv4 },
        { "12.3.4.5", Ipv4 },
        { "123.4.5.6", Ipv4 },
        { "1.234.5.6", Ipv4 },
        { "1.2.3", None },
        { "1234.5.6.7", None },
        { "a1.2.3.4", None },
        { "1.2345.6.7", None },
        { "No.1 a.k.a.", None },

        // iban: two upper-case letters right before a run of two digits or more.
        { "GB82", Iban },
        { "xGB82", Iban },
        { "AZ99", Iban },
        { "GB8", None },
        { "Gb82", None },
        { "gB82", None },
        { "B82", None },
        { "GB 82", None },
        { "G[82", None },
        { "@B82", Email },

        // ipv6: a colon with at most four hex digits before it, free of a word character, ':'
        // or '.' before those, and at most four hex digits and a second colon after it.
        { "a::b", Ipv6 },
        { "::", Ipv6 },
        { "F:f:", Ipv6 },
        { "abcd:ef01:", Ipv6 },
        { "abcd::", Ipv6 },
        { "a:bcd:", Ipv6 },
        { "a:bcde:", Ipv6 },
        { "abcde::", None },
        { "01234::", None },
        { "91234::", None },
        { "z::", None },
        { "Z::", None },
        { "G::", None },
        { "`a::", Ipv6 },
        { "{a::", Ipv6 },
        { "@a::", Ipv6 | Email },
        { "[a::", Ipv6 },
        { "/a::", Ipv6 },
        { "12:30", None },
        { "x12:30:45", None },
        { "g::", None },
        { "12345::", None },
        { "a:bcdef:", None },
        { ".a::", None },
        { "a:g:", None },
        { "a:g1:", None },
        { "a:gg1:", None },
        { "a:ggg1:", None },
        { "axyz::", None },

        { "@", Email },
        { "a@b", Email },

        // The secret formats, by their literals.
        { "sk-", SecretKey },
        { "s-", None },
        { "ks-", None },
        { "sK-", None },
        { "-----BEGIN ", PrivateKey },
        { "-----BEGIN", None },
        { "----BEGIN ", None },
        { "-----BEGiN ", None },
        { "ghp_", GitHubToken },
        { "gho_", GitHubToken },
        { "ghu_", GitHubToken },
        { "ghs_", GitHubToken },
        { "ghr_", GitHubToken },
        { "ghx_", None },
        { "gp_", None },
        { "hp_", None },
        { "Ghp_", None },
        { "github_pat_", GitHubToken },
        { "ithub_pat_", None },
        { "github-pat_", None },
        { "eyJ", Jwt },
        { "ey", None },
        { "yJ", None },
        { "eJ", None },
        { "eYJ", None },
        { "AKIA", AwsAccessKey },
        { "ASIA", AwsAccessKey },
        { "AKI", None },
        { "BKIA", None },
        { "AXIA", None },
        { "AKXA", None },
        { "AKIB", None },

        // A digit beyond ASCII is a \d to a pattern; any other letter is nothing.
        { "\u0663", UsSsn | Phone | Iban | Ipv4 },
        { "\u00e9t\u00e9", None },
        { "\u0661\u0662\u0663-\u0664\u0665", UsSsn | Phone | Iban | Ipv4 },
    };

    // Internal: it takes the gateway's internal DetectorSignals, and xunit runs internal test methods too.
    [Theory]
    [MemberData(nameof(Texts))]
    internal void Each_condition_signals_its_detector_and_nothing_else(string text, DetectorSignals expected)
    {
        AssertSignals(text, expected | Always);
    }

    // Internal: it takes the gateway's internal DetectorSignals, and xunit runs internal test methods too.
    [Theory]
    [MemberData(nameof(Texts))]
    internal void A_condition_is_read_the_same_among_other_words(string text, DetectorSignals expected)
    {
        // Plain words around the text change nothing, whichever way it is screened.
        AssertSignals($"Some words /{text}/ more words", expected | Always);
    }

    [Fact]
    public void A_long_text_is_screened_whole_wherever_its_value_sits()
    {
        // Long texts are searched 64 bytes at a time for the first byte worth a look, from
        // windows that slide back at the end of the buffer.
        foreach (var length in new[] { 65, 100, 127, 128, 129, 200 })
        {
            for (var at = 0; at + 6 <= length; at += 7)
            {
                var text = new string('/', at) + "123-45" + new string('/', length - at - 6);
                AssertSignals(text, UsSsn | Always);
            }
        }
    }

    [Fact]
    public void A_text_of_exactly_64_bytes_is_screened_to_its_last_byte()
    {
        AssertSignals(new string('/', 58) + "123-45", UsSsn | Always);
        AssertSignals("123-45" + new string('/', 58), UsSsn | Always);
        AssertSignals(new string('/', 60) + "GB82", Iban | Always);
    }

    [Fact]
    public void What_lies_around_a_string_in_a_body_never_counts()
    {
        // The values sit right before and after the string, where a 64-byte read sees them.
        var body = Encoding.UTF8.GetBytes("123-45 GB82 sk- eyJ a::b 1.2.3.4 +1 (1 @ ٣" + "plain text" + "123-45 GB82 sk- eyJ a::b 1.2.3.4 +1 (1 @ ٣");
        var start = body.AsSpan().IndexOf("plain text"u8);
        Assert.Equal(Always, Prescreen.Scan(body, start, "plain text".Length));

        var longBody = Encoding.UTF8.GetBytes("123-45 GB82 @" + new string('/', 100) + "123-45 GB82 @");
        Assert.Equal(Always, Prescreen.Scan(longBody, 13, 100));
        Assert.Equal(Always, Prescreen.Scan(longBody, 13, 70));
        Assert.Equal(Always, Prescreen.Scan(longBody, 43, 70));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(30)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(100)]
    public void Bytes_that_do_not_decode_before_the_first_interesting_one_get_the_digit_signals(int plainBefore)
    {
        // A long text the vector search clears up to its first digit: what it passed over must
        // decode, or the text is read the slow way (where a broken sequence may hide a digit).
        var text = new byte[plainBefore + 80];
        text.AsSpan().Fill((byte)'/');
        text[plainBefore] = 0xC3;
        text[^1] = (byte)'1';
        var signals = Prescreen.Scan(text);
        Assert.Equal(UsSsn | Phone | Iban | Ipv4 | Always, signals);

        // The same with a whole character there: nothing to find.
        var whole = new byte[plainBefore + 81];
        whole.AsSpan().Fill((byte)'/');
        "\u00e9"u8.CopyTo(whole.AsSpan(plainBefore));
        whole[^1] = (byte)'1';
        Assert.Equal(Always, Prescreen.Scan(whole));
    }

    [Theory]
    [InlineData(5, 10)]
    [InlineData(0, 2)]
    [InlineData(70, 90)]
    public void Bytes_that_do_not_decode_just_before_the_first_interesting_one_get_the_digit_signals(int bad, int digit)
    {
        // The broken sequence and the digit fall in the same 64-byte window of a long text.
        var text = new byte[100];
        text.AsSpan().Fill((byte)'/');
        text[bad] = 0xC3;
        text[digit] = (byte)'1';
        Assert.Equal(UsSsn | Phone | Iban | Ipv4 | Always, Prescreen.Scan(text));

        // The same with a whole character there: only the lone digit, which needs nothing.
        "\u00e9"u8.CopyTo(text.AsSpan(bad));
        text[digit] = (byte)'1';
        Assert.Equal(Always, Prescreen.Scan(text));
    }

    [Fact]
    public void Bytes_that_do_not_decode_in_a_later_window_count_after_a_whole_character_in_an_earlier_one()
    {
        // A long text with a whole non-ASCII character in its first 64 bytes, a broken sequence
        // in the next 64, then a digit.
        var text = new byte[128];
        text.AsSpan().Fill((byte)'/');
        "\u00e9"u8.CopyTo(text.AsSpan(10));
        text[80] = 0xC3;
        text[100] = (byte)'1';
        Assert.Equal(UsSsn | Phone | Iban | Ipv4 | Always, Prescreen.Scan(text));
    }

    [Fact]
    public void A_text_with_nul_characters_is_screened_to_its_last_byte()
    {
        // Every other byte NUL, as in UTF-16 read as bytes, and the value in the last byte: past
        // a long stretch the scan searches ahead for the next byte worth a look, over bytes.
        AssertSignals("_" + string.Concat(Enumerable.Repeat("/\0", 20)) + "@", Email | Always);
        AssertSignals("_" + string.Concat(Enumerable.Repeat("/\0", 20)) + "/@", Email | Always);
    }

    [Fact]
    public void What_follows_a_long_string_near_the_end_of_a_body_never_counts()
    {
        // The last 64-byte window slides back from the end of the body, so it also reads what
        // follows the string: a character that is not ASCII and values there change nothing.
        var body = Encoding.UTF8.GetBytes(new string('/', 100) + "\u00e9 123-45 GB82 @");
        Assert.Equal(Always, Prescreen.Scan(body, 0, 100));
        Assert.Equal(Always, Prescreen.Scan(body, 10, 90));
    }

    private static void AssertSignals(string text, DetectorSignals expected)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        var buffer = new byte[utf8.Length + 160];
        buffer.AsSpan().Fill((byte)'/');
        utf8.CopyTo(buffer, 80);
        var longText = new string('/', 80) + text + new string('/', 80);
        // Underscores well away from the text are looked at but signal nothing: with them a short
        // string has enough to look at that it is screened by masks rather than by jumps.
        var underscores = Encoding.UTF8.GetBytes("_____////////" + text);
        var crowded = new byte[underscores.Length + 120];
        crowded.AsSpan().Fill((byte)'/');
        underscores.CopyTo(crowded, 40);
        var ways = new (string Way, DetectorSignals Signals)[]
        {
            ("UTF-16", Prescreen.Scan(text)),
            ("UTF-8", Prescreen.Scan(utf8)),
            ("UTF-8 byte by byte", Prescreen.ScanEachByte(utf8)),
            ("inside a body", Prescreen.Scan(buffer, 80, utf8.Length)),
            ("at the start of a body", Prescreen.Scan(buffer.AsSpan(80), 0, utf8.Length)),
            ("at the end of a body", Prescreen.Scan(buffer.AsSpan(0, 80 + utf8.Length), 80, utf8.Length)),
            ("inside a body among underscores", Prescreen.Scan(crowded, 40, underscores.Length + 8)),
            ("long UTF-16", Prescreen.Scan(longText)),
            ("long UTF-8", Prescreen.Scan(Encoding.UTF8.GetBytes(longText))),
        };

        var wrong = ways.Where(w => w.Signals != expected).Select(w => $"{w.Way}: {w.Signals}").ToList();
        Assert.True(wrong.Count == 0, $"\"{text}\" should get {expected}; got {string.Join("; ", wrong)}");
    }
}
