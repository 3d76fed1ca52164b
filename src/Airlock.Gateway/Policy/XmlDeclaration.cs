using System.Text;

namespace Airlock.Gateway.Policy;

/// <summary>
/// An XML document names its own encoding in its declaration, <c>&lt;?xml version="1.0"
/// encoding="UTF-7"?&gt;</c>, and XML parsers (libxml2, expat, Xerces, .NET's XmlReader) read
/// the document in it when no charset comes with the body: a second charset declaration, inside
/// the body, which policy would read past as UTF-8. Found here, whatever the Content-Type says
/// (upstreams parse XML under any media type): at the start of the body, after a UTF-8 byte
/// order mark and, for lenient parsers, white space. libxml2 also recognises an EBCDIC
/// declaration from its first four bytes, which are not ASCII at all.
/// </summary>
internal static class XmlDeclaration
{
    /// <summary>How far into the body the declaration must end: XML puts it first, and it is short.</summary>
    private const int MaxLength = 1024;

    /// <summary>The encoding the body's XML declaration names; null when there is no declaration
    /// or it names none. <paramref name="problem"/> says why a declaration cannot be read one way,
    /// to follow the body's name ("… has an XML declaration that …").</summary>
    public static string? EncodingOf(ReadOnlySpan<byte> body, out string? problem)
    {
        problem = null;
        var text = body.StartsWith("\uFEFF"u8) ? body[3..] : body;
        var start = 0;
        while (start < text.Length && text[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            start++;
        }

        text = text[start..];
        if (text.StartsWith((ReadOnlySpan<byte>)[0x4C, 0x6F, 0xA7, 0x94]))
        {
            problem = "starts like an XML declaration in EBCDIC, which XML parsers detect and read as such";
            return null;
        }

        // "<?xml" followed by white space or "?>": "<?xml-stylesheet" is another instruction.
        if (!text.StartsWith("<?xml"u8) || (text.Length > 5 && text[5] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'?')))
        {
            return null;
        }

        var end = text[..Math.Min(text.Length, MaxLength)].IndexOf("?>"u8);
        if (end < 0)
        {
            problem = $"has an XML declaration that does not end within its first {MaxLength} bytes";
            return null;
        }

        var declaration = text[..end];
        var at = declaration.IndexOf("encoding"u8);
        if (at < 0)
        {
            return null;
        }

        if (declaration[(at + 1)..].IndexOf("encoding"u8) >= 0)
        {
            problem = "has an XML declaration that names an encoding more than once";
            return null;
        }

        var rest = SkipSpace(declaration[(at + "encoding".Length)..]);
        if (rest.IsEmpty || rest[0] != '=')
        {
            problem = "has an XML declaration whose encoding does not parse";
            return null;
        }

        rest = SkipSpace(rest[1..]);
        var close = rest.IsEmpty || rest[0] is not ((byte)'"' or (byte)'\'') ? -1 : rest[1..].IndexOf(rest[0]);
        if (close < 0)
        {
            problem = "has an XML declaration whose encoding does not parse";
            return null;
        }

        return Encoding.Latin1.GetString(rest.Slice(1, close));
    }

    private static ReadOnlySpan<byte> SkipSpace(ReadOnlySpan<byte> text)
    {
        var i = 0;
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            i++;
        }

        return text[i..];
    }
}
