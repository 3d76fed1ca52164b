using System.Text.RegularExpressions;

namespace Airlock.Gateway.Detection;

/// <summary>
/// International bank account numbers (ISO 13616): a country code, two check digits and up to
/// 30 letters and digits, written whole or in groups of four, 15 to 34 characters, that pass
/// the mod-97 check (ISO 7064). The check makes a chance match unlikely (1 in 97).
/// </summary>
internal sealed partial class IbanDetector() : RegexDetector("iban", "IBAN", Pattern(), Mod97)
{
    public override DetectorSignals Needs => DetectorSignals.Iban;

    // The check digits are the only digits an IBAN must have: a basic account number may be
    // letters (Qatar's, Saint Lucia's are 21 and 24 letters or digits).
    protected override bool MightContain(ReadOnlySpan<char> text) => CountDigits(text, 2) >= 2;

    /// <summary>Moves the first four characters to the end, reads letters as 10..35, and checks
    /// the number is 1 mod 97, computed piecewise so it never overflows.</summary>
    internal static bool Mod97(ReadOnlySpan<char> iban)
    {
        Span<char> compact = stackalloc char[34];
        var length = 0;
        foreach (var c in iban)
        {
            if (c != ' ')
            {
                if (length == compact.Length)
                {
                    return false;
                }

                compact[length++] = c;
            }
        }

        if (length < 15)
        {
            return false;
        }

        var remainder = 0;
        for (var i = 0; i < length; i++)
        {
            var c = compact[(i + 4) % length];
            remainder = char.IsAsciiDigit(c)
                ? (remainder * 10 + (c - '0')) % 97
                : (remainder * 100 + (c - 'A' + 10)) % 97;
        }

        return remainder == 1;
    }

    [GeneratedRegex(@"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)(?![A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
