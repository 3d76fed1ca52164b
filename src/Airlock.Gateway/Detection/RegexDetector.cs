using System.Text.RegularExpressions;

namespace Airlock.Gateway.Detection;

/// <summary>
/// A detector that is a regular expression, optionally with a check a pattern cannot express
/// (a checksum, an excluded range). Matches are enumerated without allocating. Patterns are
/// written so they cannot backtrack badly (no nested quantifiers); custom ones from the
/// configuration run with <see cref="RegexOptions.NonBacktracking"/>.
/// </summary>
internal class RegexDetector(string name, string label, Regex pattern, Func<ReadOnlySpan<char>, bool>? check = null) : IDetector
{
    public string Name { get; } = name;

    public string Label { get; } = label;

    /// <summary>The <see cref="Prescreen"/> signal the pattern needs; a custom pattern is always run.</summary>
    public virtual DetectorSignals Needs => DetectorSignals.Always;

    /// <summary>A cheap test that the text could hold a match at all; most values fail it.</summary>
    protected virtual bool MightContain(ReadOnlySpan<char> text) => true;

    public void Find(ReadOnlySpan<char> text, Func<int, int, bool> found)
    {
        if (!MightContain(text))
        {
            return;
        }

        foreach (var match in pattern.EnumerateMatches(text))
        {
            if ((check is null || check(text.Slice(match.Index, match.Length))) && !found(match.Index, match.Length))
            {
                return;
            }
        }
    }

    /// <summary>A detector from the configuration: linear-time matching, whatever the pattern.</summary>
    public static RegexDetector Custom(string name, string pattern) =>
        new(name, name.ToUpperInvariant(), new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant));

    internal static int CountDigits(ReadOnlySpan<char> text, int enough)
    {
        var count = 0;
        var at = 0;
        while (count < enough && (at = text.IndexOfAnyInRange('0', '9')) >= 0)
        {
            count++;
            text = text[(at + 1)..];
        }

        return count;
    }
}
