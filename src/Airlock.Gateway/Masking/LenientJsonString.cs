using System.Text;

namespace Airlock.Gateway.Masking;

/// <summary>
/// Unescapes a JSON string that <see cref="System.Text.Json.Utf8JsonReader.CopyString(Span{char})"/>
/// refuses: one holding a lone surrogate escape (<c>"\uD800"</c>). RFC 8259 §8.2 lets such a
/// string be valid JSON, and an upstream may send one; .NET will not hand it out as UTF-16, but
/// the detectors must still read the rest of it. A lone half reads as U+FFFD.
/// </summary>
internal static class LenientJsonString
{
    /// <param name="escaped">The string's bytes between its quotes, valid UTF-8 (the reader checked).</param>
    /// <param name="destination">At least as many chars as <paramref name="escaped"/> has bytes.</param>
    /// <returns>The number of chars written.</returns>
    public static int Unescape(ReadOnlySpan<byte> escaped, Span<char> destination)
    {
        var written = 0;
        while (!escaped.IsEmpty)
        {
            var backslash = escaped.IndexOf((byte)'\\');
            var run = backslash < 0 ? escaped : escaped[..backslash];
            written += Encoding.UTF8.GetChars(run, destination[written..]);
            if (backslash < 0)
            {
                break;
            }

            escaped = escaped[backslash..];
            if (escaped[1] != (byte)'u')
            {
                destination[written++] = escaped[1] switch
                {
                    (byte)'b' => '\b',
                    (byte)'f' => '\f',
                    (byte)'n' => '\n',
                    (byte)'r' => '\r',
                    (byte)'t' => '\t',
                    var other => (char)other,
                };
                escaped = escaped[2..];
                continue;
            }

            var unit = Hex(escaped[2..6]);
            escaped = escaped[6..];
            if (char.IsHighSurrogate(unit) && escaped.Length >= 6 && escaped[0] == (byte)'\\' && escaped[1] == (byte)'u'
                && char.IsLowSurrogate(Hex(escaped[2..6])))
            {
                destination[written++] = unit;
                destination[written++] = Hex(escaped[2..6]);
                escaped = escaped[6..];
            }
            else
            {
                destination[written++] = char.IsSurrogate(unit) ? '\uFFFD' : unit;
            }
        }

        return written;
    }

    private static char Hex(ReadOnlySpan<byte> digits)
    {
        var value = 0;
        foreach (var d in digits)
        {
            value = (value << 4) | (d <= '9' ? d - '0' : (d | 0x20) - 'a' + 10);
        }

        return (char)value;
    }
}
