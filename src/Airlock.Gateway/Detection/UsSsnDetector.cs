using System.Text.RegularExpressions;

namespace Airlock.Gateway.Detection;

/// <summary>
/// US Social Security numbers written <c>123-45-6789</c> or <c>123 45 6789</c>, without the
/// ranges the SSA never issues: area 000, 666 and 900–999, group 00, serial 0000. Nine bare
/// digits are not looked for: too many other numbers look like that.
/// </summary>
internal sealed partial class UsSsnDetector() : RegexDetector("us-ssn", "SSN", Pattern(), Issuable)
{
    public override DetectorSignals Needs => DetectorSignals.UsSsn;

    protected override bool MightContain(ReadOnlySpan<char> text) => CountDigits(text, 9) >= 9;

    private static bool Issuable(ReadOnlySpan<char> ssn)
    {
        var area = (ssn[0] - '0') * 100 + (ssn[1] - '0') * 10 + (ssn[2] - '0');
        return area is not (0 or 666 or >= 900) && ssn.Slice(4, 2) is not "00" && ssn.Slice(7, 4) is not "0000";
    }

    [GeneratedRegex(@"(?<![\w\-])\d{3}([\- ])\d{2}\1\d{4}(?![\w\-])", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
