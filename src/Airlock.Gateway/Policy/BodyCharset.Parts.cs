using System.Text;
using Airlock.Gateway.Errors;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Policy;

/// <summary>
/// The parts of a multipart body, each of which may say how its content is to be read, and is
/// read so by some upstream: Werkzeug and busboy decode a part in the charset of its own
/// Content-Type (busboy reads <c>utf-16le</c>, <c>latin1</c>, even <c>base64</c>; a MIME parser
/// <c>utf-7</c>), MIME parsers undo a base64 or quoted-printable Content-Transfer-Encoding, and
/// RFC 7578 §4.6 lets a <c>_charset_</c> field set the charset of parts that name none. Policy
/// reads the body's bytes as UTF-8, so each part must read that way too: its Content-Type,
/// start and XML declaration are held to the whole body's rule, its transfer encoding must be
/// none (<c>7bit</c>, <c>8bit</c>, <c>binary</c>), a <c>_charset_</c> field must name UTF-8, and
/// its Content-Disposition must name it one way.
/// </summary>
internal static partial class BodyCharset
{
    private static BodyRefusal? CheckParts(MultipartBody multipart, ReadOnlySpan<byte> whole)
    {
        if (multipart.Error is { } error)
        {
            return new($"{error}; the gateway reads a multipart body only when it splits into parts one way", null) { Problem = ProblemType.InvalidBody };
        }

        for (var i = 0; i < multipart.Parts.Length; i++)
        {
            var part = multipart.Parts[i];
            var what = part.Name is { } name ? $"part '{Printable(name)}' of the multipart body" : $"part {i + 1} of the multipart body";
            var refusal = Transfer(part, what) ?? Disposition(part, what)
                ?? Check(part.Headers.TryGetValue(HeaderNames.ContentType, out var type) ? type : StringValues.Empty, part.Content.Span, what);
            if (refusal is not null)
            {
                return refusal;
            }

            if (string.Equals(part.Name, "_charset_", StringComparison.OrdinalIgnoreCase)
                && Named(Encoding.Latin1.GetString(part.Content.Span).Trim(), whole,
                    "the multipart body's _charset_ field, the charset its parts without one are read in (RFC 7578 §4.6), names") is { } charset)
            {
                return charset;
            }
        }

        return null;
    }

    /// <summary>RFC 2045 §6: 7bit, 8bit and binary say the content is as it is; any other
    /// (base64, quoted-printable, or something unknown) is decoded, or not, by each parser.</summary>
    private static BodyRefusal? Transfer(MultipartPart part, string what)
    {
        if (!part.Headers.TryGetValue("Content-Transfer-Encoding", out var encodings))
        {
            return null;
        }

        var encoding = encodings.Count == 1 ? encodings[0]?.Trim() : null;
        return encoding is not null && (encoding.Equals("7bit", StringComparison.OrdinalIgnoreCase)
                || encoding.Equals("8bit", StringComparison.OrdinalIgnoreCase) || encoding.Equals("binary", StringComparison.OrdinalIgnoreCase))
            ? null
            : new($"{what} is sent with Content-Transfer-Encoding '{Printable(encodings.ToString())}', which some parsers decode (RFC 2045) "
                + "and the gateway does not; send its content as it is (7bit, 8bit or binary)", null) { Problem = ProblemType.UnsupportedContentEncoding };
    }

    /// <summary>A part's name must read one way: one Content-Disposition that parses, each
    /// parameter once, no <c>name*</c> (RFC 2231: read in place of <c>name</c> by some parsers,
    /// ignored by others), and a <c>filename*</c> only in UTF-8.</summary>
    private static BodyRefusal? Disposition(MultipartPart part, string what)
    {
        if (!part.Headers.TryGetValue(HeaderNames.ContentDisposition, out var values))
        {
            return null;
        }

        if (values.Count > 1 || !ContentDispositionHeaderValue.TryParse(values[0], out var disposition))
        {
            return new($"{what} has {(values.Count > 1 ? "several Content-Disposition headers" : "a Content-Disposition that does not parse")}, "
                + "so parsers may each find another name in it; send one", null) { Problem = ProblemType.InvalidBody };
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var parameter in disposition.Parameters)
        {
            var name = parameter.Name.ToString();
            if (name.Equals("name*", StringComparison.OrdinalIgnoreCase))
            {
                return new($"{what} gives its name as name* (RFC 2231), which some parsers read in place of name and others ignore; "
                    + "give it once, as name=\"…\"", null) { Problem = ProblemType.InvalidBody };
            }

            if (!seen.Add(name))
            {
                return new($"{what} gives its Content-Disposition parameter '{Printable(name)}' twice, and parsers keep one or the other; give it once", null)
                    { Problem = ProblemType.InvalidBody };
            }

            if (name.EndsWith('*'))
            {
                // RFC 8187: charset'language'value.
                var value = parameter.Value.ToString();
                var quote = value.IndexOf('\'', StringComparison.Ordinal);
                if (Named(quote < 0 ? value : value[..quote], [], $"the {Printable(name)} of {what} is declared in charset") is { } charset)
                {
                    return charset;
                }
            }
        }

        return null;
    }
}
