using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Unicode;

namespace Airlock.Gateway.Detection;

/// <summary>
/// One pass over a value that tells which built-in detectors could find anything in it, so a
/// masker runs only those (most values: none) instead of every detector scanning for itself.
/// It jumps between the few characters a detector's match must contain (digits, <c>@ + ( : . - _</c>,
/// the <c>J</c> of <c>eyJ</c>, the <c>A</c> of <c>AKIA</c>, anything not ASCII) and looks around
/// each. Every signal is a necessary condition read off the detector's pattern, never a
/// heuristic: it may say "could" where the pattern then fails, never "cannot" where it matches.
/// It reads UTF-8 (a JSON string before it is decoded) or UTF-16 alike.
/// </summary>
internal static partial class Prescreen
{
    // Everything but these is looked at; whatever is not ASCII is looked at too (a Unicode digit
    // is a \d to a regular expression).
    private const string Plain = " !\"#$%&')*,/;<=>?[\\]^`{|}~\t\r\n" +
        "BCDEFGHIKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private static readonly SearchValues<byte> PlainBytes = SearchValues.Create(Encoding.ASCII.GetBytes(Plain));
    private static readonly SearchValues<char> PlainChars = SearchValues.Create(Plain);
    private static readonly bool[] PlainTable = CreatePlainTable();
    private const int LongStretch = 32;

    /// <summary>The signals of a UTF-8 text; text that is not valid UTF-8 gets every signal.</summary>
    public static DetectorSignals Scan(ReadOnlySpan<byte> utf8) => Scan(utf8, 0, utf8.Length);

    /// <summary>
    /// The signals of <c>around[start..(start + length)]</c>, a UTF-8 text inside a larger buffer
    /// (a JSON string inside the body): the bytes around it may be read, sixteen at a time, though
    /// they never count. Most JSON strings are shorter than sixteen bytes, and reading past their
    /// end is what lets one vector comparison clear a whole string.
    /// </summary>
    public static DetectorSignals Scan(ReadOnlySpan<byte> around, int start, int length)
    {
        if (TryScanShort(around, start, length, out var shortSignals))
        {
            return shortSignals;
        }

        var text = around.Slice(start, length);
        var first = FirstInteresting(around, start, length, out var nonAscii);
        // What the vector read as plain included any non-ASCII before the first interesting byte,
        // which is plain only if it decodes; otherwise the whole text goes the slow way.
        if (nonAscii && !Utf8.IsValid(first < 0 ? text : text[..first]))
        {
            return Scan<byte>(text, 0);
        }

        return first < 0 ? DetectorSignals.Always : Scan<byte>(text, first);
    }

    public static DetectorSignals Scan(ReadOnlySpan<char> text) => Scan<char>(text, 0);

    /// <summary>The scan of each byte in turn, without the masks of short texts: what they are
    /// checked against.</summary>
    internal static DetectorSignals ScanEachByte(ReadOnlySpan<byte> utf8) => Scan<byte>(utf8, 0);

    /// <param name="from">Where to start: nothing before it may be other than plain.</param>
    /// <param name="interesting">For a text of at most 64 bytes, a bit per byte that is not plain
    /// (then the scan jumps from one to the next), or 0.</param>
    private static DetectorSignals Scan<T>(ReadOnlySpan<T> text, int from, ulong interesting = 0)
        where T : unmanaged, IBinaryInteger<T>
    {
        var signals = DetectorSignals.Always;
        var dots = 0;
        var colons = 0;
        var ipv4 = false;
        var ipv6 = false;
        var unicodeDigits = false;

        // The digit run before the current one (runs are maximal), for patterns that need two.
        var previousEnd = -2;
        var previousLength = 0;
        var previousFirst = 0;
        var previousBefore = -1;
        var cardDigits = 0;

        var plain = PlainTable;
        var i = from;
        while (i < text.Length)
        {
            var c = int.CreateTruncating(text[i]);
            if ((uint)c < (uint)plain.Length && plain[c])
            {
                if (interesting != 0)
                {
                    var rest = interesting & (ulong.MaxValue << i);
                    if (rest == 0)
                    {
                        break;
                    }

                    i = BitOperations.TrailingZeroCount(rest);
                    c = int.CreateTruncating(text[i]);
                    goto Look;
                }

                // Most values are short: a table lookup per character beats setting up a vector
                // search, which only pays over a long stretch.
                if (text.Length - i <= LongStretch)
                {
                    i++;
                    continue;
                }

                var next = NextInteresting(text[i..]);
                if (next < 0)
                {
                    break;
                }

                i += next;
                c = int.CreateTruncating(text[i]);
            }

        Look:
            switch (c)
            {
                case >= '0' and <= '9':
                {
                    var end = i + 1;
                    while (end < text.Length && IsDigit(int.CreateTruncating(text[end])))
                    {
                        end++;
                    }

                    var length = end - i;
                    var before = At(text, i - 1);
                    var joined = previousEnd == i - 1;
                    // The character between this run and the one before, read only when they are joined.
                    var separator = before;

                    // payment-card: 13-19 digits in groups joined by one space or hyphen.
                    cardDigits = joined && separator is ' ' or '-' ? cardDigits + length : length;
                    if (cardDigits >= PaymentCardDetector.MinDigits)
                    {
                        signals |= DetectorSignals.PaymentCard;
                    }

                    if (joined)
                    {
                        var free = !IsWord(previousBefore) && previousBefore != '-';
                        // us-ssn: (?<![\w\-])\d{3}([\- ])\d{2}\1\d{4}
                        if (previousLength == 3 && separator is ' ' or '-' && length == 2 && free)
                        {
                            signals |= DetectorSignals.UsSsn;
                        }

                        // phone, national forms: (?<![\w+.\-]) then \d{3}[.\- ]\d{3}... or 0\d{1,4}[ \-]\d{3,4}...
                        var phoneFree = free && previousBefore is not ('+' or '.');
                        if (phoneFree && ((previousLength == 3 && separator is ' ' or '-' or '.' && length == 3) ||
                            (previousFirst == '0' && previousLength is >= 2 and <= 5 && separator is ' ' or '-' && length >= 3)))
                        {
                            signals |= DetectorSignals.Phone;
                        }

                        // ipv4: (?<![\w.]) then an octet of 1-3 digits, '.', the next octet.
                        if (previousLength <= 3 && separator == '.' && length <= 3 && !IsWord(previousBefore) && previousBefore != '.')
                        {
                            ipv4 = true;
                        }
                    }

                    // iban: [A-Z]{2}\d{2}
                    if (length >= 2 && IsUpper(before) && IsUpper(At(text, i - 2)))
                    {
                        signals |= DetectorSignals.Iban;
                    }

                    previousEnd = end;
                    previousLength = length;
                    previousFirst = c;
                    previousBefore = before;
                    i = end;
                    continue;
                }

                case '@':
                    signals |= DetectorSignals.Email;
                    break;
                case '+':
                    // phone, E.164: \+[1-9]
                    if (At(text, i + 1) is >= '1' and <= '9')
                    {
                        signals |= DetectorSignals.Phone;
                    }

                    break;
                case '(':
                    // phone: \(\d{3}\)
                    if (IsDigit(At(text, i + 1)))
                    {
                        signals |= DetectorSignals.Phone;
                    }

                    break;
                case '.':
                    dots++;
                    break;
                case ':':
                    colons++;
                    ipv6 = ipv6 || Ipv6CanStartBefore(text, i);
                    break;
                case '-' or '_' or 'J' or 'A':
                    signals |= SecretAt(text, i, c);
                    break;
                case >= 0x80:
                    if (!IsNonAsciiNonDigit(text[i..], out var consumed))
                    {
                        unicodeDigits = true;
                    }

                    i += consumed;
                    continue;
            }

            i++;
        }

        if (ipv4 && dots >= 3)
        {
            signals |= DetectorSignals.Ipv4;
        }

        if (ipv6 && colons >= 2)
        {
            signals |= DetectorSignals.Ipv6;
        }

        if (unicodeDigits)
        {
            // Patterns with \d match any Unicode digit, which the runs above do not follow.
            signals |= DetectorSignals.UsSsn | DetectorSignals.Phone | DetectorSignals.Iban | DetectorSignals.Ipv4;
        }

        return signals;
    }

    /// <summary>The secret formats a '-', '_', 'J' or 'A' at <paramref name="i"/> could be part of:
    /// each format's literal, read around the one character every match of it holds.</summary>
    private static DetectorSignals SecretAt<T>(ReadOnlySpan<T> text, int i, int c)
        where T : unmanaged, IBinaryInteger<T>
    {
        var signals = DetectorSignals.None;
        switch (c)
        {
            case '-':
                if (At(text, i - 2) == 's' && At(text, i - 1) == 'k')
                {
                    signals |= DetectorSignals.SecretKey;
                }

                if (At(text, i + 1) == '-' && StartsWith(text, i, "-----BEGIN "))
                {
                    signals |= DetectorSignals.PrivateKey;
                }

                break;
            case '_':
                if ((At(text, i - 3) == 'g' && At(text, i - 2) == 'h' && At(text, i - 1) is 'p' or 'o' or 'u' or 's' or 'r') ||
                    (i >= 6 && StartsWith(text, i - 6, "github_pat_")))
                {
                    return DetectorSignals.GitHubToken;
                }

                break;
            case 'J':
                if (At(text, i - 2) == 'e' && At(text, i - 1) == 'y')
                {
                    return DetectorSignals.Jwt;
                }

                break;
            case 'A':
                if (At(text, i - 3) == 'A' && At(text, i - 2) is 'K' or 'S' && At(text, i - 1) == 'I')
                {
                    return DetectorSignals.AwsAccessKey;
                }

                break;
        }

        return signals;
    }

    /// <summary>
    /// Where the first byte of <c>around[start..(start + length)]</c> that is not plain is (relative
    /// to <paramref name="start"/>), or -1; and whether a non-ASCII byte came before it. A valid
    /// UTF-8 sequence for a character below U+0660 (ARABIC-INDIC DIGIT ZERO, the first digit past
    /// ASCII) counts as plain here: its lead byte is below 0xD9 and its other bytes are
    /// continuation bytes. Whether it is valid is the caller's to check.
    /// </summary>
    private static int FirstInteresting(ReadOnlySpan<byte> around, int start, int length, out bool nonAscii)
    {
        nonAscii = false;
        if (!Vector128.IsHardwareAccelerated || around.Length < ShortBytes)
        {
            // Without vectors every non-ASCII byte is looked at, so none comes before the first.
            return around.Slice(start, length).IndexOfAnyExcept(PlainBytes);
        }

        ref var origin = ref MemoryMarshal.GetReference(around);
        var end = start + length;
        for (var at = start; at < end;)
        {
            // A window of 64 bytes that holds the next part of the text, sliding back from the end
            // of the buffer when the text is near it.
            var window = Math.Min(at, around.Length - ShortBytes);
            var bytes = Vector512.LoadUnsafe(ref origin, (nuint)window);
            var inside = Lanes(end - window) & ~Lanes(at - window);
            var interesting = Interesting(bytes).ExtractMostSignificantBits() & inside;
            var high = bytes.ExtractMostSignificantBits() & inside;
            if (interesting != 0)
            {
                var first = BitOperations.TrailingZeroCount(interesting);
                nonAscii |= (high & ((1UL << first) - 1)) != 0;
                return window + first - start;
            }

            nonAscii |= high != 0;
            at = window + ShortBytes;
        }

        return -1;
    }

    /// <summary>The lowest <paramref name="count"/> lanes of 64 (all of them past 64).</summary>
    private static ulong Lanes(int count) => count >= ShortBytes ? ulong.MaxValue : (1UL << count) - 1;

    /// <summary>The bytes the scan must look at: digits, <c>( + - . : @ _ A J</c>, and lead bytes
    /// from 0xD9 up (which covers bytes that are never valid UTF-8 from 0xF5).</summary>
    private static Vector512<byte> Interesting(Vector512<byte> bytes)
    {
        // '0'-'9' and ':' are adjacent, as are '-' '.' and '@' 'A'.
        var digitOrColon = Vector512.LessThan(bytes - Vector512.Create((byte)'0'), Vector512.Create((byte)11));
        var dashOrDot = Vector512.LessThan(bytes - Vector512.Create((byte)'-'), Vector512.Create((byte)2));
        var atOrA = Vector512.LessThan(bytes - Vector512.Create((byte)'@'), Vector512.Create((byte)2));
        var single = Vector512.Equals(bytes, Vector512.Create((byte)'(')) | Vector512.Equals(bytes, Vector512.Create((byte)'+')) |
            Vector512.Equals(bytes, Vector512.Create((byte)'_')) | Vector512.Equals(bytes, Vector512.Create((byte)'J'));
        var lead = Vector512.GreaterThanOrEqual(bytes, Vector512.Create((byte)0xD9));
        return digitOrColon | dashOrDot | atOrA | single | lead;
    }

    /// <summary>ipv6: (?&lt;![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}. A match's first colon has before it
    /// at most four hex digits, and before those neither a word character, ':' nor '.'; after it,
    /// at most four hex digits and a second colon.</summary>
    private static bool Ipv6CanStartBefore<T>(ReadOnlySpan<T> text, int colon)
        where T : unmanaged, IBinaryInteger<T>
    {
        var start = colon;
        while (start > 0 && colon - start < 4 && IsHex(At(text, start - 1)))
        {
            start--;
        }

        var before = At(text, start - 1);
        if (IsWord(before) || before is ':' or '.')
        {
            return false;
        }

        var next = colon + 1;
        while (next - colon <= 4 && IsHex(At(text, next)))
        {
            next++;
        }

        return At(text, next) == ':';
    }

    private static bool IsHex(int c) => c is (>= '0' and <= '9') or (>= 'A' and <= 'F') or (>= 'a' and <= 'f');

    /// <summary>False for a Unicode digit, or UTF-8 that does not decode (so every signal is set).</summary>
    private static bool IsNonAsciiNonDigit<T>(ReadOnlySpan<T> text, out int consumed)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (typeof(T) == typeof(char))
        {
            consumed = 1;
            return !char.IsDigit((char)At(text, 0));
        }

        var status = Rune.DecodeFromUtf8(MemoryMarshal.Cast<T, byte>(text), out var rune, out consumed);
        consumed = Math.Max(consumed, 1);
        return status == OperationStatus.Done && !Rune.IsDigit(rune);
    }

    /// <summary>Where the next character worth a look is, or -1.</summary>
    private static int NextInteresting<T>(ReadOnlySpan<T> text)
        where T : unmanaged, IBinaryInteger<T> =>
        typeof(T) == typeof(byte)
            ? MemoryMarshal.Cast<T, byte>(text).IndexOfAnyExcept(PlainBytes)
            : MemoryMarshal.Cast<T, char>(text).IndexOfAnyExcept(PlainChars);

    /// <summary>The character at <paramref name="at"/>, or -1 outside the text.</summary>
    private static int At<T>(ReadOnlySpan<T> text, int at)
        where T : unmanaged, IBinaryInteger<T> =>
        (uint)at < (uint)text.Length ? int.CreateTruncating(text[at]) : -1;

    private static bool StartsWith<T>(ReadOnlySpan<T> text, int at, string literal)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (text.Length - at < literal.Length)
        {
            return false;
        }

        for (var k = 0; k < literal.Length; k++)
        {
            if (At(text, at + k) != literal[k])
            {
                return false;
            }
        }

        return true;
    }

    private static bool[] CreatePlainTable()
    {
        var table = new bool[128];
        foreach (var c in Plain)
        {
            table[c] = true;
        }

        return table;
    }

    private static bool IsDigit(int c) => (uint)(c - '0') <= 9;

    private static bool IsUpper(int c) => (uint)(c - 'A') <= 'Z' - 'A';

    /// <summary>An ASCII \w character. Anything else, a Unicode letter included, counts as not a
    /// word character: that only lets more through.</summary>
    private static bool IsWord(int c) => c is (>= '0' and <= '9') or (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or '_';
}
