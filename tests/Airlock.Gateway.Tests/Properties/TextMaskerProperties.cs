using System.Text;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Masking;
using Airlock.Gateway.Tests.Masking;
using CsCheck;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>
/// Properties of <see cref="TextMasker"/>: text with planted values, cut at random boundaries
/// (inside UTF-8 sequences and values included), gives the same output however it was cut, and
/// no planted value survives.
/// </summary>
public class TextMaskerProperties
{
    private static readonly long Iterations = PropertySize.Iterations(1_500);

    private static readonly Gen<(string Text, string[] Planted)> Line = Gen.Frequency(
        (3, SensitiveValues.SafeWord.Select(w => (Text: w, Planted: false))),
        (1, SensitiveValues.Any.Select(v => (Text: v, Planted: true))))
        .Array[0, 6]
        .Select(parts => (string.Join(", ", parts.Select(p => p.Text)), parts.Where(p => p.Planted).Select(p => p.Text).ToArray()));

    private static readonly Gen<DetectorRule[]> DetectorRules = Gen.OneOf(MaskAction.Redact, MaskAction.Partial, MaskAction.Hash, MaskAction.Drop)
        .Array[Detectors.All.Length]
        .Select(actions => Detectors.All.Select((d, i) => new DetectorRule(d, actions[i])).ToArray());

    [Fact]
    public void Masked_text_holds_no_planted_value_and_does_not_depend_on_the_cuts()
    {
        Gen.Select(Line.Array[0, 12], Gen.OneOf("\n", "\r\n"), DetectorRules, Gen.Int).Check((lines, newline, detectors, cutSeed) =>
        {
            var text = string.Join(newline, lines.Select(l => l.Text));
            var planted = lines.SelectMany(l => l.Planted).ToArray();
            AssertMasked(text, planted, detectors, cutSeed);
        }, iter: Iterations, print: s => string.Join("\n", s.Item1.Select(l => l.Text)));
    }

    // Found by this property (seed 3DGV0nJ_G9o2): the cut used to fall at the last whitespace of
    // whatever was held, so it depended on the pieces and could split a value that holds spaces
    // ("4357 6393 3227 6324", "DE89 3704 ..."), leaving both halves unmasked.
    [Fact]
    public void A_line_longer_than_a_segment_is_masked_however_it_is_cut()
    {
        // Past TextMasker.MaxSegmentChars without a line break, text is cut: the cut must not
        // depend on the pieces, nor split a value that holds spaces.
        Gen.Select(Line.Array[1, 8], DetectorRules, Gen.Int).Check((lines, detectors, cutSeed) =>
        {
            var line = string.Join(" | ", lines.Select(l => l.Text.Replace('\n', ' ')));
            var text = new StringBuilder();
            while (text.Length <= TextMasker.MaxSegmentChars + 4096)
            {
                text.Append(line).Append(" | ");
            }

            AssertMasked(text.ToString(), [.. lines.SelectMany(l => l.Planted)], detectors, cutSeed);
        }, iter: PropertySize.UnderMutation(30, 2), print: s => string.Join(" | ", s.Item1.Select(l => l.Text)));
    }

    private static void AssertMasked(string text, string[] planted, DetectorRule[] detectors, int cutSeed)
    {
        var body = Encoding.UTF8.GetBytes(text);
        var plan = new MaskingPlan([], detectors, MaskingTestPlans.HashKey);

        var whole = Pieces.Feed(new TextMasker(plan), body, null);
        Assert.Equal(whole, Pieces.Feed(new TextMasker(plan), body, Pieces.Cuts(body.Length, cutSeed)));
        foreach (var value in planted)
        {
            Assert.DoesNotContain(value, whole.Output, StringComparison.Ordinal);
        }
    }
}
