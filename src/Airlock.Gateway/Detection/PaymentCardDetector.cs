namespace Airlock.Gateway.Detection;

/// <summary>
/// Payment card numbers: 13 to 19 digits, optionally grouped by single spaces or hyphens,
/// that pass the Luhn check (ISO/IEC 7812). Digits joined by single separators read as one
/// number, so order ids, timestamps and grouped account numbers of other lengths are left
/// alone, and a Luhn-invalid number is left alone. One exception: an unbroken run of 13 to 19
/// digits that passes the check is a card even when one space or hyphen joins it to other
/// digits, as in a card followed by its security code (<c>4111111111111111 123</c>) or a list of
/// cards one space apart; a card is written either unbroken or grouped, never half of each.
/// </summary>
internal sealed class PaymentCardDetector : IDetector
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
            // Every number is read whole and the scan goes on after it, so a digit met here
            // starts one.
            if (!char.IsAsciiDigit(text[i]))
            {
                i++;
                continue;
            }

            // The whole number: digit groups joined by one separator each.
            var count = 0;
            var end = i;
            var j = i;
            while (j < text.Length)
            {
                if (char.IsAsciiDigit(text[j]))
                {
                    if (count < digits.Length)
                    {
                        digits[count] = (byte)(text[j] - '0');
                    }

                    count++;
                    end = ++j;
                }
                else if ((text[j] == ' ' || text[j] == '-') && j + 1 < text.Length && char.IsAsciiDigit(text[j + 1]))
                {
                    j++;
                }
                else
                {
                    break;
                }
            }

            var stop = count is >= MinDigits and <= MaxDigits && Luhn(digits[..count])
                ? !found(i, end - i)
                : !FindUnbrokenCards(text, i, end, digits, found);
            if (stop)
            {
                return;
            }

            i = end;
        }
    }

    /// <summary>
    /// The unbroken runs of 13 to 19 digits inside <c>text[start..end]</c>, a number that is not
    /// a card as a whole, that pass the Luhn check. False when <paramref name="found"/> asks to stop.
    /// </summary>
    private static bool FindUnbrokenCards(ReadOnlySpan<char> text, int start, int end, Span<byte> digits, Func<int, int, bool> found)
    {
        var run = start;
        while (run < end)
        {
            var after = run;
            while (after < end && char.IsAsciiDigit(text[after]))
            {
                after++;
            }

            var length = after - run;
            if (length is >= MinDigits and <= MaxDigits)
            {
                for (var k = 0; k < length; k++)
                {
                    digits[k] = (byte)(text[run + k] - '0');
                }

                if (Luhn(digits[..length]) && !found(run, length))
                {
                    return false;
                }
            }

            // Past the separator to the next run.
            run = after + 1;
        }

        return true;
    }

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
