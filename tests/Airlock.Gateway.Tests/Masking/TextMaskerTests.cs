using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Airlock.Gateway.Masking;
using Airlock.Gateway.Tests.Properties;
using static Airlock.Gateway.Tests.Masking.MaskingTestPlans;

namespace Airlock.Gateway.Tests.Masking;

public class TextMaskerTests
{
    private static string Text(MaskingPlan plan, string body, int pieceSize = 0) => Run(new TextMasker(plan), body, pieceSize);

    [Fact]
    public void A_value_split_across_pieces_is_masked_whole()
    {
        const string body = "line one\nwrite to ada@example.com or call 202-555-0143 today\nbye\n";
        var plan = Plan(null, Detect("email"), Detect("phone"));
        var expected = "line one\nwrite to [REDACTED:EMAIL] or call [REDACTED:PHONE] today\nbye\n";

        for (var size = 1; size <= 12; size++)
        {
            Assert.Equal(expected, Text(plan, body, size));
        }
    }

    [Fact]
    public void Multi_byte_characters_split_across_pieces_survive()
    {
        const string body = "naïve café 日本語 ada@example.com\n";

        Assert.Equal("naïve café 日本語 [REDACTED:EMAIL]\n", Text(Plan(null, Detect("email")), body, 1));
    }

    [Fact]
    public void A_private_key_spanning_lines_and_pieces_is_masked_whole()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = "config:\n" + key.ExportPkcs8PrivateKeyPem() + "\ndone\n";

        var output = Text(Plan(null, Detect("private-key")), body, 7);

        Assert.Equal("config:\n[REDACTED:PRIVATE-KEY]\ndone\n", output);
    }

    [Fact]
    public void Server_sent_events_are_masked_event_by_event()
    {
        const string body = "event: message\ndata: {\"to\":\"ada@example.com\"}\n\ndata: done\n\n";

        Assert.Equal("event: message\ndata: {\"to\":\"[REDACTED:EMAIL]\"}\n\ndata: done\n\n", Text(Plan(null, Detect("email")), body, 5));
    }

    [Fact]
    public void Drop_removes_the_value_from_text()
    {
        Assert.Equal("key  here\n", Text(Plan(null, Detect("aws-access-key", MaskAction.Drop)), "key AKIAIOSFODNN7EXAMPLE here\n"));
    }

    [Fact]
    public void A_line_with_no_break_is_still_masked_at_the_end()
    {
        Assert.Equal("to [REDACTED:EMAIL]", Text(Plan(null, Detect("email")), "to ada@example.com", 2));
    }

    [Fact]
    public void A_grouped_card_across_the_segment_limit_of_a_long_line_is_masked_however_the_line_arrives()
    {
        // One line of grouped card numbers, 26 characters a record: the card of the record at
        // 65,520 runs from 65,525 to 65,544, across TextMasker.MaxSegmentChars (65,536), and some
        // card sits across every other place a cut could fall. 5,100 records (132,600 characters)
        // make two cuts, the second counted from the first; more only make the one-character
        // pieces slower.
        const string record = "card 4111 1111 1111 1111, ";
        var body = string.Concat(Enumerable.Repeat(record, 5100));
        Assert.Equal(record, body.Substring(65_520, record.Length));
        var expected = string.Concat(Enumerable.Repeat("card [REDACTED:CARD], ", 5100));
        var plan = Plan(null, Detect("payment-card"));

        // Under mutation testing only the pieces that decide where the cut falls: the mutants
        // scored there are the detectors', which see the same segments whatever the pieces.
        int[] sizes = PropertySize.UnderMutation<int[]>([0, 1, 7, 4096, 65_535, 65_536, 65_537, 100_000], [0, 65_535, 65_537]);
        foreach (var size in sizes)
        {
            Assert.Equal(expected, Text(plan, body, size));
        }
    }

    [Fact]
    public void A_grouped_iban_is_masked_wherever_it_sits_in_a_long_line()
    {
        // Slid across the first cut one character at a time: never split, whatever the pieces.
        var plan = Plan(null, Detect("iban"));
        var step = (int)(37 / PropertySize.Share);
        for (var at = TextMasker.MaxSegmentChars - TextMasker.MaxValueChars - 1100; at < TextMasker.MaxSegmentChars + 40; at += step)
        {
            var body = new string('x', at) + " GB82 WEST 1234 5698 7654 32 " + new string('y', TextMasker.MaxSegmentChars);
            var expected = new string('x', at) + " [REDACTED:IBAN] " + new string('y', TextMasker.MaxSegmentChars);

            Assert.Equal(expected, Text(plan, body));
            Assert.Equal(expected, Text(plan, body, 4093));
        }
    }

    [Fact]
    public void A_line_with_no_break_streams_through_holding_back_at_most_a_segment()
    {
        var masker = new TextMasker(Plan(null, Detect("email")));
        var output = new ArrayBufferWriter<byte>();
        var piece = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("word ada@example.com ", 200)));
        var written = 0L;
        var pieces = PropertySize.Scaled(2000, least: 100);
        for (var n = 0; n < pieces; n++)
        {
            masker.Write(piece, output);
            written += piece.Length;
            Assert.True(written - output.WrittenCount < TextMasker.MaxSegmentChars + piece.Length, $"{written - output.WrittenCount} bytes held back");
        }

        masker.Complete(output);
        Assert.Equal(pieces * 200, masker.Counts.Total);
    }
}
