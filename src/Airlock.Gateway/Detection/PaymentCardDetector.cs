namespace Airlock.Gateway.Detection;

/// <summary>
/// Payment card numbers: 13 to 19 digits, optionally grouped by single spaces or hyphens,
/// that pass the Luhn check (ISO/IEC 7812). A digit run inside a longer run of digits is not a
/// card number, so order ids and timestamps of other lengths are left alone; a Luhn-invalid
/// number is left alone.
/// </summary>
public sealed class PaymentCardDetector : IDetector
{
    public const int MinDigits = 13;
    public const int MaxDigits = 19;

    public string Name => "payment-card";

    public string Label => "CARD";

    public DetectorSignals Needs => DetectorSignals.PaymentCard;

    public void Find(ReadOnlySpan<char> text, Func<int, int, bool> found)
    {
        Span<byte> digits = stackalloc byte[MaxDigits];
        var i = 0;
        while (i < text.Length)
        {
            if (!char.IsAsciiDigit(text[i]) || (i > 0 && (char.IsAsciiDigit(text[i - 1]) || IsJoinedSeparator(text, i - 1))))
            {
                i++;
                continue;
            }

            // Collect digits, allowing one separator between digit groups.
            var count = 0;
            var end = i;
            var j = i;
            var tooLong = false;
            while (j < text.Length)
            {
                if (char.IsAsciiDigit(text[j]))
                {
                    if (count == MaxDigits)
                    {
                        tooLong = true;
                        break;
                    }

                    digits[count++] = (byte)(text[j] - '0');
                    end = ++j;
                }
                else if ((text[j] == ' ' || text[j] == '-') && j + 1 < text.Length && char.IsAsciiDigit(text[j + 1]) && count > 0)
                {
                    j++;
                }
                else
                {
                    break;
                }
            }

            if (!tooLong && count >= MinDigits && Luhn(digits[..count]) && !found(i, end - i))
            {
                return;
            }

            // Past a run that is too long, the check at the top skips the rest of it: every digit
            // there follows a digit or a joined separator.
            i = Math.Max(end, i + 1);
        }
    }

    /// <summary>A separator between two digits continues a number rather than starting one.</summary>
    private static bool IsJoinedSeparator(ReadOnlySpan<char> text, int at) =>
        (text[at] == ' ' || text[at] == '-') && at > 0 && char.IsAsciiDigit(text[at - 1]);

    public static bool Luhn(ReadOnlySpan<byte> digits)
    {
        var sum = 0;
        var doubleIt = false;
        for (var k = digits.Length - 1; k >= 0; k--)
        {
            var d = digits[k];
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return sum % 10 == 0;
    }
}
