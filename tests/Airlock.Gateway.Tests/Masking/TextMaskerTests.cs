using System.Security.Cryptography;
using Airlock.Gateway.Masking;
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
}
