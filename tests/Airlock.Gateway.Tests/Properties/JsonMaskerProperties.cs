using System.Text;
using System.Text.Json;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Masking;
using Airlock.Gateway.Tests.Masking;
using CsCheck;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>
/// Properties of <see cref="JsonMasker"/> over random JSON cut at random boundaries
/// (docs/masking.md is the specification): valid JSON in gives valid JSON out, no planted or
/// listed value survives in any form, dropped fields are gone, what nothing lists passes byte
/// for byte, the output does not depend on where the body was cut, and a body that is not JSON
/// is masked as text with every detector or refused.
/// </summary>
public class JsonMaskerProperties
{
    private static readonly long Iterations = PropertySize.Iterations(1_500);

    private static readonly Gen<MaskAction> DetectorAction = Gen.OneOf(MaskAction.Redact, MaskAction.Partial, MaskAction.Hash, MaskAction.Drop);

    /// <summary>Every built-in detector, each with an action of its own.</summary>
    private static readonly Gen<DetectorRule[]> DetectorRules = DetectorAction.Array[Detectors.All.Length]
        .Select(actions => Detectors.All.Select((d, i) => new DetectorRule(d, actions[i])).ToArray());

    private static readonly Gen<MaskAction> SecretAction = Gen.OneOf(MaskAction.Redact, MaskAction.Partial, MaskAction.Hash, MaskAction.Drop);

    private static MaskingPlan Plan(DetectorRule[] detectors, MaskAction secretAction) => new(
        [
            new FieldRule(MaskingTestPlans.Path("$.." + JsonModel.DropName), MaskAction.Drop, "SSN"),
            new FieldRule(MaskingTestPlans.Path(JsonModel.SecretPath), secretAction, "SECRET"),
        ],
        detectors, MaskingTestPlans.HashKey);

    [Fact]
    public void Masked_json_is_valid_holds_no_listed_value_and_does_not_depend_on_the_cuts()
    {
        Gen.Select(JsonModel.Document, DetectorRules, SecretAction, Gen.Int, Gen.Int).Check((document, detectors, secretAction, renderSeed, cutSeed) =>
        {
            var body = Encoding.UTF8.GetBytes(JsonModel.Render(document, new Random(renderSeed), 0.1, new Random(renderSeed + 1)));
            using (JsonDocument.Parse(body))
            {
                // The generator's own promise: the input is valid JSON.
            }

            var plan = Plan(detectors, secretAction);
            var whole = Mask(plan, body, null);
            Assert.Equal(whole, Mask(plan, body, Pieces.Bytewise(body.Length)));
            Assert.Equal(whole, Mask(plan, body, Pieces.Cuts(body.Length, cutSeed)));

            using var output = JsonDocument.Parse(whole.Output);
            var texts = new List<string>();
            Collect(output.RootElement, texts);
            foreach (var value in JsonModel.Planted(document).Concat(JsonModel.Tokens(document)))
            {
                Assert.DoesNotContain(value, whole.Output, StringComparison.Ordinal);
                Assert.DoesNotContain(texts, t => t.Contains(value, StringComparison.Ordinal));
            }

            Assert.DoesNotContain(texts, t => t == "name:" + JsonModel.DropName);
        }, iter: Iterations, print: s => Print(s.Item1));
    }

    [Fact]
    public void Json_nothing_lists_passes_byte_for_byte()
    {
        Gen.Select(JsonModel.SafeDocument, DetectorRules, Gen.Int, Gen.Int).Check((document, detectors, renderSeed, cutSeed) =>
        {
            // Whitespace, escaped names and escaped values: the body is written as it came.
            var text = JsonModel.Render(document, new Random(renderSeed), 0.1, new Random(renderSeed + 1), escapeNames: true);
            var body = Encoding.UTF8.GetBytes(text);
            var plan = Plan(detectors, MaskAction.Redact);

            var (output, count) = Mask(plan, body, Pieces.Cuts(body.Length, cutSeed));

            Assert.Equal(0L, count);
            Assert.Equal(text, output);
        }, iter: Iterations, print: s => Print(s.Item1));
    }

    [Fact]
    public void Json_cut_short_or_corrupted_never_crashes_the_masker_nor_leaks()
    {
        Gen.Select(JsonModel.Document, DetectorRules, Gen.Bool, Corruption, Gen.Int).Check((document, detectors, withFields, corrupt, cutSeed) =>
        {
            var text = Corrupt(document, corrupt);
            var body = Encoding.UTF8.GetBytes(text);
            var plan = withFields ? Plan(detectors, MaskAction.Redact) : new MaskingPlan([], detectors, MaskingTestPlans.HashKey);

            (string Output, long Count) result;
            try
            {
                result = Mask(plan, body, Pieces.Cuts(body.Length, cutSeed));
            }
            catch (MaskingFailedException e) when (withFields || e.Message.Contains("left out", StringComparison.Ordinal))
            {
                // Refused, as docs/masking.md says of a body with field rules that is not JSON,
                // and of one that breaks inside a value a detector's drop was leaving out.
                return;
            }

            foreach (var value in JsonModel.Planted(document).Where(v => StandsAlone(text, v)))
            {
                Assert.DoesNotContain(value, result.Output, StringComparison.Ordinal);
            }
        }, iter: Iterations, print: s => Print(s.Item1));
    }

    [Fact]
    public void A_body_that_is_not_json_is_masked_with_every_detector_not_only_the_configured_ones()
    {
        var notJson = Gen.OneOf("<html>", "tru ", "{'a': ", "]", "\\uZZ", "# ");
        Gen.Select(JsonModel.Document, notJson, Gen.Int, Gen.Int).Check((document, prefix, renderSeed, cutSeed) =>
        {
            // Planted values written plainly: text masking reads text, not JSON escapes.
            var text = prefix + JsonModel.Render(document, new Random(renderSeed), 0, new Random(renderSeed + 1));
            var body = Encoding.UTF8.GetBytes(text);
            var plan = new MaskingPlan([], [MaskingTestPlans.Detect("email", MaskAction.Partial)], MaskingTestPlans.HashKey);

            var (output, _) = Mask(plan, body, Pieces.Cuts(body.Length, cutSeed));

            foreach (var value in JsonModel.Planted(document).Where(v => StandsAlone(text, v)))
            {
                Assert.DoesNotContain(value, output, StringComparison.Ordinal);
            }
        }, iter: Iterations, print: s => Print(s.Item1));
    }

    /// <summary>Where to corrupt a rendered document (a seed), how (cut it short there, insert
    /// something, insert it twice, or put it first), and what.</summary>
    private static readonly Gen<(int Seed, int How, string Garbage)> Corruption =
        Gen.Select(Gen.Int, Gen.Int[0, 3], Gen.OneOf("{", "}", "[", "]", ",", ":", "\"", "\u00ff", "tru", "\\", "\n", "\u0000"));

    private static string Corrupt(JsonNode document, (int Seed, int How, string Garbage) corruption)
    {
        var random = new Random(corruption.Seed);
        // Planted values written plainly: text masking reads text, not JSON escapes.
        var text = JsonModel.Render(document, random, 0, random);
        var at = random.Next(text.Length + 1);
        var garbage = corruption.Garbage;
        return corruption.How switch
        {
            0 => text[..at],
            1 => text.Insert(at, garbage),
            2 => text[..at] + garbage + text[at..] + garbage,
            _ => garbage + text,
        };
    }

    /// <summary>Whether the value occurs with no letter or digit either side: a detector finds
    /// only whole values, so garbage glued to one ("truAKIA...") hides it by design.</summary>
    private static bool StandsAlone(string text, string value)
    {
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + 1, StringComparison.Ordinal))
        {
            var end = at + value.Length;
            if ((at == 0 || !Glued(text[at - 1])) && (end == text.Length || !Glued(text[end])))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Glued(char c) => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or '@' or '+';

    private static (string Output, long Count) Mask(MaskingPlan plan, byte[] body, int[]? cuts)
    {
        using var masker = new JsonMasker(plan, 1 << 20);
        return Pieces.Feed(masker, body, cuts);
    }

    /// <summary>Every string, property name (as <c>name:...</c>) and number in the document, unescaped.</summary>
    private static void Collect(JsonElement element, List<string> texts)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    texts.Add("name:" + UnescapedName(property));
                    Collect(property.Value, texts);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, texts);
                }

                break;
            case JsonValueKind.String:
                texts.Add(Unescaped(element));
                break;
            default:
                texts.Add(element.GetRawText());
                break;
        }
    }

    /// <summary>A string's text; one holding a lone surrogate escape (valid JSON, but not valid
    /// UTF-16) is read from its raw form with the escapes taken literally.</summary>
    private static string Unescaped(JsonElement element)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return element.GetRawText();
        }
    }

    private static string UnescapedName(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return property.ToString();
        }
    }

    private static string Print(JsonNode document) => JsonModel.Render(document, new Random(0), 0, null);
}
