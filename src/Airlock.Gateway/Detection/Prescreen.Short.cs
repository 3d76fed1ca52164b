using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Unicode;

namespace Airlock.Gateway.Detection;

/// <summary>
/// The scan for short ASCII texts (up to 64 bytes: nearly every JSON string), computed for every
/// position at once. Each class of byte (digit, separator, word character…) becomes a 64-bit
/// mask with bit i for byte i, read sixteen bytes at a time, and each condition of the scan
/// becomes shifts and ands of those masks: <c>digits &lt;&lt; 1</c> has bit i set where byte
/// i - 1 is a digit. A timestamp, an id or an amount costs a few dozen instructions instead
/// of a branch per character, and the scan's branches on characters were mispredicted often
/// enough to make it the most expensive part of masking a JSON body.
/// <para>
/// The conditions are the scan's, position by position (each is commented with the check it
/// replaces), with one deliberate loosening: a card needs a chain of digits and single
/// separators 13 long, not 13 digits. Bits past the text are zero, which reads as "no
/// character", as <see cref="At{T}"/>'s -1 does. The secret formats are checked at their
/// trigger characters by the scan's own code.
/// </para>
/// </summary>
internal static partial class Prescreen
{
    private const int ShortBytes = 64;

    /// <summary>From this many bytes to look at, the masks are cheaper than the scan.</summary>
    private const int ManyInteresting = 6;

    /// <summary>
    /// The signals of <c>around[start..(start + length)]</c> when it is at most 64 bytes and the
    /// buffer holds 64 bytes to read around it; false (and the caller scans) otherwise.
    /// </summary>
    private static bool TryScanShort(ReadOnlySpan<byte> around, int start, int length, out DetectorSignals signals)
    {
        signals = DetectorSignals.Always;
        if (length > ShortBytes || around.Length < ShortBytes || !Vector128.IsHardwareAccelerated)
        {
            return false;
        }

        // One 64-byte vector from a base that keeps it inside the buffer; its masks are then
        // moved so that bit 0 is the text's first byte, and cut to the text's length. (Without
        // 512-bit hardware, .NET runs a Vector512 as two 256-bit or four 128-bit halves.)
        var text = around.Slice(start, length);
        var origin = Math.Min(start, around.Length - ShortBytes);
        var shift = start - origin;
        var inside = length == ShortBytes ? ulong.MaxValue : (1UL << length) - 1;
        var bytes = Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(around), (nuint)origin);
        var interesting = Interesting(bytes).ExtractMostSignificantBits();
        var nonAscii = bytes.ExtractMostSignificantBits();
        interesting = (interesting >> shift) & inside;
        if (((nonAscii >> shift) & inside) != 0)
        {
            // The scan decodes what is not ASCII, and what does not decode gets the digit signals.
            signals = !Utf8.IsValid(text) ? Scan<byte>(text, 0)
                : interesting == 0 ? DetectorSignals.Always
                : Scan<byte>(text, BitOperations.TrailingZeroCount(interesting));
            return true;
        }

        // A few interesting bytes (a word with an 'A', a house number) cost the scan a few
        // steps; the masks below cost the same for any text, and win where there are many.
        signals = interesting == 0 ? DetectorSignals.Always
            : BitOperations.PopCount(interesting) < ManyInteresting ? Scan<byte>(text, BitOperations.TrailingZeroCount(interesting), interesting)
            : ScanMasks(bytes, shift, inside, text);
        return true;
    }

    /// <summary>The conditions of the scan, over masks of the text's byte classes.</summary>
    private static DetectorSignals ScanMasks(Vector512<byte> bytes, int shift, ulong inside, ReadOnlySpan<byte> text)
    {
        var signals = DetectorSignals.Always;
        ulong Bits(Vector512<byte> lanes) => (lanes.ExtractMostSignificantBits() >> shift) & inside;
        Vector512<byte> Is(char c) => Vector512.Equals(bytes, Vector512.Create((byte)c));
        Vector512<byte> Within(Vector512<byte> lanes, char first, int count) =>
            Vector512.LessThan(lanes - Vector512.Create((byte)first), Vector512.Create((byte)count));

        var digits = Within(bytes, '0', 10);
        // Setting bit 5 folds 'A'-'Z' onto 'a'-'z' and moves nothing else into that range.
        var folded = bytes | Vector512.Create((byte)0x20);
        var underscores = Is('_');
        var dashes = Is('-');
        var digit = Bits(digits);
        var zero = Bits(Is('0'));
        var upper = Bits(Within(bytes, 'A', 26));
        var word = Bits(digits | Within(folded, 'a', 26) | underscores);
        var dash = Bits(dashes);
        var spaceOrDash = Bits(Is(' ')) | dash;
        var dot = Bits(Is('.'));
        var colon = Bits(Is(':'));
        var plus = Bits(Is('+'));

        if (Bits(Is('@')) != 0)
        {
            signals |= DetectorSignals.Email;
        }

        // Digits one, two, three places before (or after) each position.
        var before1 = digit << 1;
        var before2 = digit << 2;
        var before3 = digit << 3;
        var threeBefore = before1 & before2 & before3;
        var after1 = digit >> 1;
        var after2 = digit >> 2;
        var after3 = digit >> 3;
        var threeAfter = after1 & after2 & after3;

        // phone, E.164: \+[1-9]; and \(\d{3}\).
        if ((plus & ((digit & ~zero) >> 1)) != 0 || (Bits(Is('(')) & after1) != 0)
        {
            signals |= DetectorSignals.Phone;
        }

        // payment-card: digit runs joined by one space or hyphen, 13 long (runs of ones in the
        // chain mask: after the four steps a bit survives where 1 + 1 + 2 + 4 + 5 = 13 follow).
        // Each block below needs some number of digits, dots or colons in all: most texts have
        // too few for most blocks.
        var digitCount = BitOperations.PopCount(digit);
        var chain = digit | (spaceOrDash & before1 & after1);
        chain &= chain >> 1;
        chain &= chain >> 2;
        chain &= chain >> 4;
        chain &= chain >> 5;
        if (digitCount >= PaymentCardDetector.MinDigits && chain != 0)
        {
            signals |= DetectorSignals.PaymentCard;
        }

        // us-ssn: exactly three digits, a space or hyphen, exactly two digits, and before the
        // three neither a word character nor '-'.
        if ((spaceOrDash & threeBefore & ~((word | dash) << 4) & after1 & after2 & ~after3) != 0)
        {
            signals |= DetectorSignals.UsSsn;
        }

        // phone, national forms, free of a word character, '-', '+' or '.' before them:
        // exactly three digits, [ -.], exactly three; or a run of two to five starting with 0,
        // [ -], at least three.
        var phoneBad = word | dash | plus | dot;
        var threeThree = (spaceOrDash | dot) & threeBefore & ~(phoneBad << 4) & threeAfter & ~(digit >> 4);
        var zeroRun = ((zero << 2) & ~(phoneBad << 3)) |
            (before2 & (zero << 3) & ~(phoneBad << 4)) |
            (before2 & before3 & (zero << 4) & ~(phoneBad << 5)) |
            (before2 & before3 & (digit << 4) & (zero << 5) & ~(phoneBad << 6));
        if ((threeThree | (spaceOrDash & threeAfter & before1 & zeroRun)) != 0)
        {
            signals |= DetectorSignals.Phone;
        }

        // ipv4: one to three digits, '.', one to three digits, with neither a word character nor
        // '.' before the first; and three dots in all.
        var ipBad = word | dot;
        var octetBefore = (before1 & ~(ipBad << 2)) | (before1 & before2 & ~(ipBad << 3)) | (threeBefore & ~(ipBad << 4));
        var octetAfter = after1 & ~(threeAfter & (digit >> 4));
        if (BitOperations.PopCount(dot) >= 3 && (dot & octetBefore & octetAfter) != 0)
        {
            signals |= DetectorSignals.Ipv4;
        }

        // iban: [A-Z]{2} right before a run of at least two digits.
        if ((digit & ~before1 & after1 & (upper << 1) & (upper << 2)) != 0)
        {
            signals |= DetectorSignals.Iban;
        }

        // ipv6 (see Ipv6CanStartBefore): a colon with up to four hex digits before it, and before
        // those neither a word character, ':' nor '.'; after it up to four hex digits and a colon.
        if (BitOperations.PopCount(colon) >= 2)
        {
            var hex = Bits(digits | Within(folded, 'a', 6));
            var v6Bad = word | colon | dot;
            var hex1 = hex << 1;
            var hex2 = hex1 & (hex << 2);
            var hex3 = hex2 & (hex << 3);
            var hex4 = hex3 & (hex << 4);
            var canStart = ~(v6Bad << 1) | (hex1 & ~(v6Bad << 2)) | (hex2 & ~(v6Bad << 3)) | (hex3 & ~(v6Bad << 4)) | (hex4 & ~(v6Bad << 5));
            var next1 = hex >> 1;
            var next2 = next1 & (hex >> 2);
            var next3 = next2 & (hex >> 3);
            var next4 = next3 & (hex >> 4);
            var secondColon = (colon >> 1) | (next1 & (colon >> 2)) | (next2 & (colon >> 3)) | (next3 & (colon >> 4)) | (next4 & (colon >> 5));
            if ((colon & canStart & secondColon) != 0)
            {
                signals |= DetectorSignals.Ipv6;
            }
        }

        for (var triggers = Bits(dashes | underscores | Is('J') | Is('A')); triggers != 0; triggers &= triggers - 1)
        {
            var i = BitOperations.TrailingZeroCount(triggers);
            signals |= SecretAt(text, i, text[i]);
        }

        return signals;
    }
}
