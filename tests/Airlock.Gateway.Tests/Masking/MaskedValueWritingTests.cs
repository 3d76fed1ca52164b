using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Masking;
using static Airlock.Gateway.Tests.Masking.MaskingTestPlans;

namespace Airlock.Gateway.Tests.Masking;

/// <summary>
/// The shortcuts of the masked path (issue 19): a masked string that is plain ASCII is written
/// without the JSON writer, a masked JSON value is rendered into a reused buffer instead of a
/// string, and detectors count digits with a loop. Each must give exactly what the long way gives.
/// </summary>
public class MaskedValueWritingTests
{
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private static string Spliced(string text)
    {
        var output = new ArrayBufferWriter<byte>();
        using var splicer = new JsonSplicer(Encoder);
        splicer.Begin(0, output);
        splicer.WriteString(text);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static string Written(string text)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = Encoder, SkipValidation = true }))
        {
            writer.WriteStringValue(text);
        }

        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    public static TheoryData<string> Strings() =>
    [
        "", "[REDACTED:EMAIL]", "a***@example.com", "****1111", "say \"hi\"", "back\\slash", "tab\there", "line\nbreak",
        "\u007f", "caf\u00e9", "\u2028", "emoji \U0001F600", "<script>&'+`", "[CARD:0123456789abcdef]",
    ];

    [Theory]
    [MemberData(nameof(Strings))]
    public void A_string_is_written_as_the_json_writer_writes_it(string text) =>
        Assert.Equal(Written(text), Spliced(text));

    [Fact]
    public void Every_ascii_character_is_written_as_the_json_writer_writes_it()
    {
        for (var c = (char)0; c < 0x80; c++)
        {
            var text = $"x{c}y";
            Assert.True(Written(text) == Spliced(text), $"U+{(int)c:X4}");
        }
    }

    [Fact]
    public void Only_printable_ascii_the_encoder_leaves_alone_goes_out_verbatim()
    {
        var verbatim = JsonSplicer.Verbatim(Encoder);

        Assert.True(verbatim.Contains('a'));
        Assert.True(verbatim.Contains(' '));
        Assert.True(verbatim.Contains('~'));
        Assert.False(verbatim.Contains('"'));
        Assert.False(verbatim.Contains('\\'));
        Assert.False(verbatim.Contains('\u001f'));
        Assert.False(verbatim.Contains('\u007f'));
        Assert.False(verbatim.Contains('\u00e9'));
        // The default encoder escapes what HTML reads; those then take the writer's way.
        var strict = JsonSplicer.Verbatim(JavaScriptEncoder.Default);
        Assert.False(strict.Contains('<'));
        Assert.False(strict.Contains('+'));
        Assert.True(strict.Contains('a'));
    }

    [Fact]
    public void A_masked_value_in_the_reused_buffer_is_the_masked_string_whatever_came_before()
    {
        var plan = Plan(null, Detect("email"), Detect("payment-card"), Detect("phone"));
        var spans = new ValueMasker(plan, new MaskCounts());
        var strings = new ValueMasker(plan, new MaskCounts());
        // Long after short makes the buffer grow; short after long reads only its own part.
        string[] values =
        [
            "ada@example.com",
            "cards " + string.Join(", ", Enumerable.Repeat("4111 1111 1111 1111", 20)) + " and ada@example.com",
            "+44 20 7946 0958",
            "nothing here",
            "call +44 20 7946 0958 or mail grace@example.org",
        ];
        foreach (var value in values)
        {
            var expected = strings.Mask(value, out var masked);
            var outcome = spans.MaskToSpan(value, Prescreen.Scan(value), out var span);
            Assert.Equal(expected, outcome);
            Assert.Equal(expected == ValueMasker.Outcome.Unchanged ? "" : masked, span.ToString());
        }

        Assert.Equal(strings.Counts.ByLabel.ToDictionary(), spans.Counts.ByLabel.ToDictionary());
    }

    [Fact]
    public void A_dropped_value_in_the_reused_buffer_is_the_text_without_it()
    {
        var spans = new ValueMasker(Plan(null, Detect("email", MaskAction.Drop)), new MaskCounts());

        Assert.Equal(ValueMasker.Outcome.Drop, spans.MaskToSpan("mail ada@example.com now", DetectorSignals.Email, out var span));
        Assert.Equal("mail  now", span.ToString());
    }

    [Theory]
    [InlineData("", 3, 0)]
    [InlineData("no digits", 3, 0)]
    [InlineData("a1b2c3", 2, 2)]
    [InlineData("a1b2c3", 3, 3)]
    [InlineData("a1b2c3", 4, 3)]
    [InlineData("12345678", 8, 8)]
    [InlineData("12345678", 0, 0)]
    [InlineData("٣٤٥ 12", 5, 2)]
    public void Digits_are_counted_up_to_enough_and_only_ascii_ones(string text, int enough, int expected) =>
        Assert.Equal(expected, RegexDetector.CountDigits(text, enough));

    [Fact]
    public void A_phone_number_in_a_json_body_is_masked_after_a_clean_one_and_a_card()
    {
        var body = "[{\"contact\":\"none on file\"},{\"contact\":\"+44 20 7946 0958\"},{\"contact\":\"4111 1111 1111 1111\"},{\"contact\":\"customer3@example.com\"},{\"contact\":\"\\u0041 +44 20 7946 0958\"}]"u8.ToArray();
        var plan = Plan(null, Detect("email"), Detect("phone"), Detect("payment-card"));
        using var masker = new JsonMasker(plan, 1 << 20);
        var output = new ArrayBufferWriter<byte>();
        masker.Write(body, output);
        masker.Complete(output);

        Assert.Equal(
            "[{\"contact\":\"none on file\"},{\"contact\":\"[REDACTED:PHONE]\"},{\"contact\":\"[REDACTED:CARD]\"},{\"contact\":\"[REDACTED:EMAIL]\"},{\"contact\":\"A [REDACTED:PHONE]\"}]",
            Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(4, masker.Counts.Total);
    }
}
