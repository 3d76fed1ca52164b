using System.Text.RegularExpressions;

namespace Airlock.Gateway.Detection;

/// <summary>
/// Telephone numbers: E.164 (<c>+</c>, 8 to 15 digits, optionally grouped by spaces, dots,
/// hyphens or a parenthesised area code) and common national forms: North American
/// <c>(202) 555-0143</c> / <c>202-555-0143</c>, and trunk-prefixed <c>020 7946 0958</c>. A
/// national form needs its separators: a bare run of ten digits is more often an id than a phone.
/// </summary>
internal sealed partial class PhoneDetector() : RegexDetector("phone", "PHONE", Pattern(), DigitCount)
{
    public override DetectorSignals Needs => DetectorSignals.Phone;

    protected override bool MightContain(ReadOnlySpan<char> text) => CountDigits(text, 8) >= 8;

    private static bool DigitCount(ReadOnlySpan<char> match)
    {
        var digits = CountDigits(match, 16);
        return match[0] == '+' ? digits is >= 8 and <= 15 : digits is >= 10 and <= 11;
    }

    [GeneratedRegex(
        @"(?<![\w+.\-])(?:" +
        @"\+[1-9]\d{0,2}(?:[ .\-]?\(?\d{1,4}\)?){1,5}[ .\-]?\d{2,4}" + "|" +
        @"\(\d{3}\)[ .\-]?\d{3}[ .\-]\d{4}" + "|" +
        @"\d{3}([.\-])\d{3}\1\d{4}" + "|" +
        @"\d{3} \d{3} \d{4}" + "|" +
        @"0\d{1,4}[ \-]\d{3,4}[ \-]?\d{3,4}" +
        @")(?![\w\-]|\.\d)",
        RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
