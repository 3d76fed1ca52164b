using System.Text;
using System.Text.Json;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Masking;
using Airlock.Gateway.Tests.Detection;
using static Airlock.Gateway.Tests.Masking.MaskingTestPlans;

namespace Airlock.Gateway.Tests.Masking;

/// <summary>
/// The shortcuts (the prescreen, strings passed on undecoded, the property name cache, the
/// masker's own writer) must change nothing: the same bodies masked with detectors that cannot
/// be screened, so every one runs on every value, give the same bytes and counts.
/// </summary>
public class MaskingEquivalenceTests
{
    /// <summary>A built-in detector that hides its signal, so nothing skips it.</summary>
    private sealed class Unscreened(IDetector inner) : IDetector
    {
        public string Name => inner.Name;

        public string Label => inner.Label;

        public void Find(ReadOnlySpan<char> text, Func<int, int, bool> found) => inner.Find(text, found);
    }

    [Fact]
    public void Json_masked_with_screened_detectors_is_what_unscreened_ones_give()
    {
        var random = new Random(2411);
        var masked = new Dictionary<string, long>();
        for (var n = 0; n < 300; n++)
        {
            var body = GeneratedJson(random);
            var fields = new[] { Field("$[*].secret", MaskAction.Partial, "SECRET"), Field("$..drop", MaskAction.Drop) };
            var (screened, screenedCounts) = Mask(new MaskingPlan(fields, Detectors.All.Select(d => new DetectorRule(d, MaskAction.Redact)), HashKey), body);
            var (unscreened, unscreenedCounts) = Mask(new MaskingPlan(fields, Detectors.All.Select(d => new DetectorRule(new Unscreened(d), MaskAction.Redact)), HashKey), body);

            Assert.Equal(unscreened, screened);
            Assert.Equal(unscreenedCounts, screenedCounts);
            Assert.DoesNotContain("\"drop\":", screened, StringComparison.Ordinal);
            foreach (var (label, count) in screenedCounts)
            {
                masked[label] = masked.GetValueOrDefault(label) + count;
            }
        }

        // Equal outputs prove nothing if neither side masked: across the bodies, the fields and
        // every detector must have masked something (FIELD is the dropped field).
        Assert.Equal([.. Detectors.All.Select(d => d.Label).Append("SECRET").Append("FIELD").Order(StringComparer.Ordinal)],
            masked.Where(m => m.Value > 0).Select(m => m.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Text_masked_with_screened_detectors_is_what_unscreened_ones_give()
    {
        var random = new Random(2412);
        var text = new StringBuilder();
        for (var line = 0; line < 2000; line++)
        {
            text.Append(Pick(random)).Append(' ').Append(Pick(random)).Append('\n');
        }

        var body = text.ToString();
        var screenedMasker = new TextMasker(new MaskingPlan([], Detectors.All.Select(d => new DetectorRule(d, MaskAction.Redact)), HashKey));
        var screened = Run(screenedMasker, body, 4096);
        var unscreened = Run(new TextMasker(new MaskingPlan([], Detectors.All.Select(d => new DetectorRule(new Unscreened(d), MaskAction.Redact)), HashKey)), body, 4096);

        Assert.Equal(unscreened, screened);
        // Something of every kind was masked, and each count is a redaction in the text.
        Assert.Equal([.. Detectors.All.Select(d => d.Label).Order(StringComparer.Ordinal)],
            screenedMasker.Counts.ByLabel.Where(m => m.Value > 0).Select(m => m.Key).Order(StringComparer.Ordinal));
        foreach (var (label, count) in screenedMasker.Counts.ByLabel)
        {
            Assert.Equal(count, screened.Split($"[REDACTED:{label}]").Length - 1);
        }

        Assert.DoesNotContain("alice@example.com", screened, StringComparison.Ordinal);
        Assert.DoesNotContain("AKIAIOSFODNN7EXAMPLE", screened, StringComparison.Ordinal);
    }

    [Fact]
    public void More_property_names_than_the_cache_keeps_are_still_written_and_matched()
    {
        var json = new StringBuilder("[");
        for (var i = 0; i < 3; i++)
        {
            json.Append(i > 0 ? "," : "").Append('{');
            for (var k = 0; k < 300; k++)
            {
                json.Append($"\"field{k}\":{k},");
            }

            json.Append("\"secret\":\"s3cr3t-value-1234\",\"ada@example.com\":1,\"a\\u0062c\":2,").Append($"\"{new string('n', 100)}\":3}}");
        }

        json.Append(']');
        var body = json.ToString();
        using var masker = new JsonMasker(Plan([Field("$[*].secret", label: "SECRET")], Detect("email")), 1 << 20);

        var output = Run(masker, body, 1000);

        var expected = body.Replace("\"s3cr3t-value-1234\"", "\"[REDACTED:SECRET]\"", StringComparison.Ordinal)
            .Replace("ada@example.com", "[REDACTED:EMAIL]", StringComparison.Ordinal);
        Assert.Equal(expected, output);
        Assert.Equal(3, masker.Counts.ByLabel["EMAIL"]);
        Assert.Equal(3, masker.Counts.ByLabel["SECRET"]);
    }

    private static (string Output, Dictionary<string, long> Counts) Mask(MaskingPlan plan, string body)
    {
        using var masker = new JsonMasker(plan, 1 << 20);
        var output = Run(masker, body, 97);
        return (output, masker.Counts.ByLabel.ToDictionary());
    }

    private static string Pick(Random random) => PrescreenTests.Fragments[random.Next(PrescreenTests.Fragments.Length)];

    /// <summary>An array of objects whose names and values are detector fragments (numbers too).</summary>
    private static string GeneratedJson(Random random)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            for (var record = random.Next(1, 4); record > 0; record--)
            {
                writer.WriteStartObject();
                for (var field = random.Next(1, 8); field > 0; field--)
                {
                    writer.WritePropertyName(random.Next(6) switch
                    {
                        0 => Pick(random),
                        1 => "secret",
                        2 => "drop",
                        _ => $"f{random.Next(5)}",
                    });
                    switch (random.Next(5))
                    {
                        case 0:
                            writer.WriteNumberValue(random.NextInt64(1_000_000_000_000, 9_999_999_999_999_999));
                            break;
                        case 1:
                            writer.WriteStartArray();
                            writer.WriteStringValue(Pick(random));
                            writer.WriteStringValue(Pick(random) + " " + Pick(random));
                            writer.WriteEndArray();
                            break;
                        default:
                            writer.WriteStringValue(Pick(random) + Pick(random));
                            break;
                    }
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
