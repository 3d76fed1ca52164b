using System.Buffers;
using System.Text.Unicode;

namespace Airlock.Gateway.Normalization;

/// <summary>
/// Turns the raw request target into its one canonical form, or refuses it.
/// <para>
/// The path is read from the raw bytes the client sent (Kestrel's own decoding is not used,
/// because it hides <c>%2F</c> and decodes differently from many upstreams). In order:
/// </para>
/// <list type="number">
/// <item>percent-escapes of unreserved characters (RFC 3986 §2.3) are decoded, so
/// <c>%61dmin</c> and <c>admin</c>, <c>%2e%2e</c> and <c>..</c> are the same; every other escape
/// is kept, in upper-case hex;</item>
/// <item>ambiguous forms are refused (see <see cref="NormalizationError"/>): among them ';'
/// path parameters and double encoding, which some upstreams read differently;</item>
/// <item>repeated slashes collapse to one;</item>
/// <item>'.' and '..' segments are removed (RFC 3986 §5.2.4); a '..' that would leave the
/// first segment, the connection, is refused.</item>
/// </list>
/// The query string is kept byte for byte once it is known to be well formed: valid escapes,
/// valid UTF-8, no NUL, no raw control characters.
/// </summary>
internal static class RequestTargetNormalizer
{
    public static NormalizationError Normalize(string rawTarget, out NormalizedTarget target)
    {
        target = default;
        if (rawTarget.Length == 0 || rawTarget[0] != '/')
        {
            return NormalizationError.NotOriginForm;
        }

        var queryStart = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var rawPath = queryStart < 0 ? rawTarget.AsSpan() : rawTarget.AsSpan(0, queryStart);
        string? query = null;
        if (queryStart >= 0)
        {
            query = rawTarget[(queryStart + 1)..];
            var queryError = ValidateQuery(query);
            if (queryError != NormalizationError.None)
            {
                return queryError;
            }
        }

        // Decoding only shrinks; re-escaping a raw character grows it threefold at most.
        var decoded = ArrayPool<char>.Shared.Rent((rawPath.Length * 3) + 1);
        var output = ArrayPool<char>.Shared.Rent((rawPath.Length * 3) + 1);
        var segmentStarts = ArrayPool<int>.Shared.Rent(rawPath.Length + 1);
        try
        {
            var error = Decode(rawPath, decoded, out var decodedLength);
            if (error != NormalizationError.None)
            {
                return error;
            }

            // Checked again on the decoded form: "%25%32%65" decodes its escaped hex digits and
            // becomes "%252e", the escape of an escape that Decode refuses when it is sent as such
            // (an upstream that decodes twice would read '.'), and which would not be a fixed point.
            if (HasEscapedEscape(decoded.AsSpan(0, decodedLength)))
            {
                return NormalizationError.DoubleEncoding;
            }

            error = RemoveDotSegments(decoded.AsSpan(0, decodedLength), output, segmentStarts, out var pathLength);
            if (error != NormalizationError.None)
            {
                return error;
            }

            var path = pathLength == rawPath.Length && rawPath.SequenceEqual(output.AsSpan(0, pathLength))
                ? (queryStart < 0 ? rawTarget : rawTarget[..queryStart])
                : new string(output, 0, pathLength);
            target = new NormalizedTarget(path, query);
            return NormalizationError.None;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(decoded);
            ArrayPool<char>.Shared.Return(output);
            ArrayPool<int>.Shared.Return(segmentStarts);
        }
    }

    private static NormalizationError Decode(ReadOnlySpan<char> raw, Span<char> output, out int written)
    {
        written = 0;
        for (int i = 0; i < raw.Length;)
        {
            var c = raw[i];
            if (c != '%')
            {
                var error = c == ';' ? NormalizationError.PathParameter : CheckRaw(c);
                if (error != NormalizationError.None)
                {
                    return error;
                }

                if (IsPathChar(c) || c == '/')
                {
                    output[written++] = c;
                }
                else
                {
                    // A printable character RFC 3986 wants escaped: escape it, so that a raw
                    // '"' and a sent '%22' are one form.
                    written += WriteEscape((byte)c, output[written..]);
                }

                i++;
                continue;
            }

            if (!TryHexByte(raw, i, out var b))
            {
                return NormalizationError.InvalidPercentEncoding;
            }

            if (b >= 0x80)
            {
                var utf8Error = ReadEscapedUtf8(raw, ref i, output, ref written);
                if (utf8Error != NormalizationError.None)
                {
                    return utf8Error;
                }

                continue;
            }

            // "%25" then two hex digits: the escape of an escape.
            if (b == (byte)'%' && TryHexByte(raw, i + 2, out _))
            {
                return NormalizationError.DoubleEncoding;
            }

            var decodedError = CheckDecoded(b);
            if (decodedError != NormalizationError.None)
            {
                return decodedError;
            }

            if (IsUnreserved((char)b))
            {
                output[written++] = (char)b;
            }
            else
            {
                written += WriteEscape(b, output[written..]);
            }

            i += 3;
        }

        return NormalizationError.None;
    }

    /// <summary>
    /// Reads one UTF-8 character written as escapes (<c>%E2%82%AC</c>) and checks that it is
    /// whole and in shortest form: overlong forms such as <c>%C0%AF</c> (a hidden '/'),
    /// surrogates and code points above U+10FFFF are refused.
    /// </summary>
    private static NormalizationError ReadEscapedUtf8(ReadOnlySpan<char> s, ref int i, Span<char> output, ref int written)
    {
        Span<byte> sequence = stackalloc byte[4];
        TryHexByte(s, i, out var lead);
        var length = lead switch
        {
            >= 0xC2 and <= 0xDF => 2,
            >= 0xE0 and <= 0xEF => 3,
            >= 0xF0 and <= 0xF4 => 4,
            _ => 0,
        };
        if (length == 0)
        {
            return NormalizationError.InvalidUtf8;
        }

        for (int k = 0; k < length; k++)
        {
            if (i >= s.Length || s[i] != '%' || !TryHexByte(s, i, out var b) || (k > 0 && (b & 0xC0) != 0x80))
            {
                return NormalizationError.InvalidUtf8;
            }

            sequence[k] = b;
            if (!output.IsEmpty)
            {
                written += WriteEscape(b, output[written..]);
            }

            i += 3;
        }

        return Utf8.IsValid(sequence[..length]) ? NormalizationError.None : NormalizationError.InvalidUtf8;
    }

    /// <summary>
    /// Collapses repeated slashes and removes '.' and '..' segments (RFC 3986 §5.2.4), writing
    /// the result to <paramref name="output"/>. A '..' that would pop the first segment is
    /// refused: it would move the request from one connection to another.
    /// </summary>
    private static NormalizationError RemoveDotSegments(ReadOnlySpan<char> decoded, Span<char> output, Span<int> segmentStarts, out int length)
    {
        length = 0;
        var depth = 0;
        var trailingSlash = false;
        var position = 0;
        while (true)
        {
            while (position < decoded.Length && decoded[position] == '/')
            {
                position++;
            }

            if (position == decoded.Length)
            {
                break;
            }

            var end = decoded[position..].IndexOf('/');
            end = end < 0 ? decoded.Length : position + end;
            var segment = decoded[position..end];
            if (segment is ".")
            {
                trailingSlash = true;
            }
            else if (segment is "..")
            {
                if (depth <= 1)
                {
                    return NormalizationError.Traversal;
                }

                length = segmentStarts[--depth];
                trailingSlash = true;
            }
            else
            {
                segmentStarts[depth++] = length;
                output[length++] = '/';
                segment.CopyTo(output[length..]);
                length += segment.Length;
                trailingSlash = false;
            }

            position = end;
        }

        // "/a/b/" keeps its final slash, as do "/a/b/." and "/a/b/c/.."; "/" is the root.
        if (length == 0)
        {
            output[length++] = '/';
        }
        else if (trailingSlash || decoded[^1] == '/')
        {
            output[length++] = '/';
        }

        return NormalizationError.None;
    }

    private static NormalizationError ValidateQuery(string query)
    {
        for (int i = 0; i < query.Length;)
        {
            var c = query[i];
            if (c != '%')
            {
                if (c is '#')
                {
                    return NormalizationError.Fragment;
                }

                if (c <= ' ' || c >= (char)0x7F)
                {
                    return c == 0 ? NormalizationError.Nul : NormalizationError.InvalidCharacter;
                }

                i++;
                continue;
            }

            if (!TryHexByte(query, i, out var b))
            {
                return NormalizationError.InvalidPercentEncoding;
            }

            if (b >= 0x80)
            {
                var written = 0;
                var error = ReadEscapedUtf8(query, ref i, [], ref written);
                if (error != NormalizationError.None)
                {
                    return error;
                }

                continue;
            }

            // Encoded line breaks and tabs are ordinary data in a query value; only NUL,
            // which truncates strings in some upstreams, is refused.
            if (b == 0)
            {
                return NormalizationError.Nul;
            }

            i += 3;
        }

        return NormalizationError.None;
    }

    /// <summary>
    /// A raw target made safe to store and print, for requests that could not be normalised:
    /// control, space and non-ASCII characters are percent-escaped, and it is cut to
    /// <paramref name="maxLength"/> characters.
    /// </summary>
    public static string EscapeForRecord(string raw, int maxLength)
    {
        var span = raw.AsSpan(0, Math.Min(raw.Length, maxLength));
        if (!span.ContainsAnyExceptInRange('!', '~'))
        {
            return span.Length == raw.Length ? raw : span.ToString();
        }

        var escaped = new System.Text.StringBuilder(span.Length + 16);
        Span<char> hex = stackalloc char[3];
        foreach (var c in span)
        {
            if (c is > ' ' and < (char)0x7F)
            {
                escaped.Append(c);
            }
            else
            {
                WriteEscape((byte)Math.Min((int)c, 0xFF), hex);
                escaped.Append(hex);
            }
        }

        return escaped.ToString();
    }

    /// <summary>"%25" followed by two hex digits, in a decoded path (where every escape left is
    /// in upper case and unreserved characters stand for themselves).</summary>
    private static bool HasEscapedEscape(ReadOnlySpan<char> decoded)
    {
        for (var at = decoded.IndexOf("%25", StringComparison.Ordinal); at >= 0; at = decoded.IndexOf("%25", StringComparison.Ordinal))
        {
            if (TryHexByte(decoded, at + 2, out _))
            {
                return true;
            }

            decoded = decoded[(at + 3)..];
        }

        return false;
    }

    private static NormalizationError CheckRaw(char c) => c switch
    {
        '\0' => NormalizationError.Nul,
        '\\' => NormalizationError.Backslash,
        '#' => NormalizationError.Fragment,
        <= ' ' or >= (char)0x7F => NormalizationError.InvalidCharacter,
        _ => NormalizationError.None,
    };

    private static NormalizationError CheckDecoded(byte b) => b switch
    {
        0 => NormalizationError.Nul,
        (byte)'/' or (byte)'\\' => NormalizationError.EncodedSeparator,
        < 0x20 or 0x7F => NormalizationError.InvalidCharacter,
        _ => NormalizationError.None,
    };

    private static bool TryHexByte(ReadOnlySpan<char> s, int percentAt, out byte value)
    {
        value = 0;
        if (percentAt + 2 >= s.Length)
        {
            return false;
        }

        var hi = HexValue(s[percentAt + 1]);
        var lo = HexValue(s[percentAt + 2]);
        if (hi < 0 || lo < 0)
        {
            return false;
        }

        value = (byte)((hi << 4) | lo);
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };

    private static int WriteEscape(byte b, Span<char> output)
    {
        const string Hex = "0123456789ABCDEF";
        output[0] = '%';
        output[1] = Hex[b >> 4];
        output[2] = Hex[b & 0xF];
        return 3;
    }

    /// <summary>RFC 3986 §2.3.</summary>
    private static bool IsUnreserved(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~';

    /// <summary>RFC 3986 pchar, without pct-encoded: unreserved, sub-delims, ':' and '@'.</summary>
    private static bool IsPathChar(char c) =>
        IsUnreserved(c) || c is '!' or '$' or '&' or '\'' or '(' or ')' or '*' or '+' or ',' or ';' or '=' or ':' or '@';
}
