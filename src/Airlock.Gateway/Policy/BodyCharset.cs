using System.Text;
using Airlock.Gateway.Errors;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Policy;

/// <summary>Why a body cannot be read as the upstream reads it: the problem to answer with (415
/// <c>unsupported-charset</c> unless said otherwise), why, and the charset it declared.</summary>
internal sealed record BodyRefusal(string Detail, string? Charset)
{
    public ProblemType Problem { get; init; } = ProblemType.UnsupportedCharset;
}

/// <summary>
/// Policy reads a body as UTF-8; an upstream reads it in the charset it declares. Node's
/// body-parser decodes a JSON body declared <c>charset=utf-7</c> as UTF-7, where
/// <c>+AGEAbQBvAHUAbgB0-</c> is the key <c>amount</c>, so policy and upstream would read two
/// different requests. A body that must be read is therefore taken only when its one reading
/// is UTF-8: no charset, <c>utf-8</c> (or the alias <c>utf8</c>, which every parser that knows
/// it reads as UTF-8), or <c>us-ascii</c> with only ASCII bytes. Anything else is refused, never
/// transcoded: there is nothing to get wrong in a refusal.
/// <para>
/// A charset can be declared inside the body too: by an XML declaration
/// (<see cref="XmlDeclaration"/>), and by each part of a multipart body, in its own
/// Content-Type, its Content-Transfer-Encoding, or a <c>_charset_</c> field
/// (<c>BodyCharset.Parts.cs</c>). Every one of them is held to the same rule.
/// </para>
/// </summary>
internal static partial class BodyCharset
{
    /// <summary>Null when the body, with every part of a multipart body, reads one way, as
    /// UTF-8; else why not. An empty body has no charset.</summary>
    public static BodyRefusal? Check(StringValues contentType, InspectedBody body)
    {
        if (body.Bytes.IsEmpty)
        {
            return null;
        }

        if (Check(contentType, body.Bytes.Span) is { } refusal)
        {
            return refusal;
        }

        if (body.Multipart is { } multipart)
        {
            return CheckParts(multipart, body.Bytes.Span);
        }

        // Read without its parts (InspectedBody.Read rather than ReadAsync): what they declare is unknown.
        return contentType.Count == 1 && MultipartBody.IsMultipart(contentType[0])
            ? new("the multipart body was not split into its parts, so what each declares is unknown", null) { Problem = ProblemType.InvalidBody }
            : null;
    }

    /// <summary>Null when the body reads one way, as UTF-8, by its own Content-Type, its start
    /// and its XML declaration (not its parts: see the other overload); else why not.</summary>
    public static BodyRefusal? Check(StringValues contentType, ReadOnlySpan<byte> body) => Check(contentType, body, "the body");

    /// <param name="what">What is read, as the answer names it: "the body", or a part of it.</param>
    private static BodyRefusal? Check(StringValues contentType, ReadOnlySpan<byte> body, string what)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        if (contentType.Count > 1)
        {
            return new($"{what} has {contentType.Count} Content-Type headers, and upstreams read one or the other; send one", null);
        }

        if (contentType.Count == 1 && DeclaredCharset(contentType[0] ?? "", body, what) is { } declared)
        {
            return declared;
        }

        // RFC 4627 §3 (and Python's json.loads to this day) tells UTF-16 and UTF-32 from where
        // the NULs are in the first bytes, BOM or not.
        if (body.Length >= 2 && (body[0] == 0 || body[1] == 0 || (body[0] == 0xFE && body[1] == 0xFF) || (body[0] == 0xFF && body[1] == 0xFE)))
        {
            return new($"{what} starts like UTF-16 or UTF-32 text (a byte order mark, or a NUL among its first two bytes), "
                + "which JSON parsers that detect the encoding read as such; send it as UTF-8", null);
        }

        var encoding = XmlDeclaration.EncodingOf(body, out var problem);
        if (problem is not null)
        {
            return new($"{what} {problem}; send XML in UTF-8", null);
        }

        return encoding is null ? null : Named(encoding, body, $"{what} is XML whose declaration names the encoding");
    }

    private static BodyRefusal? DeclaredCharset(string contentType, ReadOnlySpan<byte> body, string what)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return new($"the Content-Type of {what} does not parse as a media type, so upstreams may each find another charset in it", null);
        }

        StringSegment? charset = null;
        var charsets = 0;
        foreach (var parameter in media.Parameters)
        {
            if (parameter.Name.Equals("charset", StringComparison.OrdinalIgnoreCase))
            {
                charsets++;
                charset = parameter.Value;
            }
        }

        // "charset" anywhere else (a second parameter, RFC 2231's charset*=, inside another
        // parameter's quoted value) is a charset some parser finds and this one does not.
        if (charsets > 1 || Mentions(contentType, "charset") != charsets)
        {
            return new($"the Content-Type of {what} names a charset more than once, or in a form parsers read differently; declare one charset=utf-8 or none", null);
        }

        if (charset is not { } value)
        {
            return null;
        }

        var name = HeaderUtilities.UnescapeAsQuotedString(HeaderUtilities.RemoveQuotes(value)).ToString();
        return Named(name, body, $"{what} is declared in charset");
    }

    /// <summary>Null when a declared charset reads <paramref name="body"/> as UTF-8 does; else
    /// the refusal, which says "<paramref name="declared"/> '<paramref name="name"/>'; …".</summary>
    private static BodyRefusal? Named(string name, ReadOnlySpan<byte> body, string declared)
    {
        if (name.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || name.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (name.Equals("us-ascii", StringComparison.OrdinalIgnoreCase))
        {
            return Ascii.IsValid(body) ? null
                : new($"{declared} 'us-ascii', yet has bytes that are not ASCII, which upstreams read each their own way; send it as UTF-8", "us-ascii");
        }

        var shown = Printable(name);
        return new($"{declared} '{shown}'; the gateway reads bodies as UTF-8 only, so it cannot see what the upstream would read: send it as UTF-8", shown);
    }

    private static int Mentions(string text, string word)
    {
        var count = 0;
        for (var at = text.IndexOf(word, StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf(word, at + word.Length, StringComparison.OrdinalIgnoreCase))
        {
            count++;
        }

        return count;
    }

    /// <summary>A charset name as a caller wrote it, safe to put in an answer: at most 40
    /// printable ASCII characters.</summary>
    private static string Printable(string name)
    {
        var builder = new StringBuilder(Math.Min(name.Length, 40));
        foreach (var c in name)
        {
            if (builder.Length == 40)
            {
                break;
            }

            builder.Append(c is >= ' ' and <= '~' ? c : '?');
        }

        return builder.ToString();
    }
}
