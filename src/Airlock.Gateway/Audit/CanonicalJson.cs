using System.Buffers;
using System.Globalization;
using System.Text;

namespace Airlock.Gateway.Audit;

/// <summary>
/// RFC 8785 (JSON Canonicalization Scheme) for the values audit events hold: objects, arrays,
/// strings, integers, true/false and null. Object members are sorted by their names' UTF-16 code
/// units; there is no whitespace; strings escape only '"', '\', and control characters (the five
/// short forms \b \t \n \f \r, others as \u00xx in lower-case hex); integers are plain decimal.
/// The output is UTF-8. A third party can reproduce it with any RFC 8785 implementation.
/// </summary>
internal sealed class CanonicalJson
{
    /// <summary>What a string must escape: '"', '\' and the controls below U+0020.</summary>
    private static readonly SearchValues<char> Escaped = SearchValues.Create("\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f");

    private readonly ArrayBufferWriter<byte> _out;

    /// <summary>A writer for callers that write members themselves, already in canonical order
    /// (<see cref="AuditChain"/>, once per event: no tree, no sorting).</summary>
    public CanonicalJson(int capacity = 512) => _out = new ArrayBufferWriter<byte>(capacity);

    /// <summary>The canonical bytes written so far.</summary>
    public ReadOnlySpan<byte> Written => _out.WrittenSpan;

    /// <summary>A JSON object under construction: members can be added in any order.</summary>
    public sealed class Obj
    {
        internal readonly SortedDictionary<string, object?> Members = new(StringComparer.Ordinal);

        public Obj Add(string name, object? value)
        {
            Members[name] = value;
            return this;
        }
    }

    public static byte[] Serialize(Obj value)
    {
        var json = new CanonicalJson();
        json.Write(value);
        return json._out.WrittenSpan.ToArray();
    }

    /// <summary>Writes one structural byte ('{', '}', '[', ']', ',' or ':').</summary>
    public void Punctuation(char c)
    {
        _out.GetSpan(1)[0] = (byte)c;
        _out.Advance(1);
    }

    /// <summary>Writes a member's name and its ':', with a ',' before it unless it is the first.</summary>
    public void Name(string name, bool first = false)
    {
        if (!first)
        {
            Punctuation(',');
        }

        Text(name);
        Punctuation(':');
    }

    public void Null() => Ascii("null");

    public void Number(long value)
    {
        var span = _out.GetSpan(20);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        _out.Advance(written);
    }

    /// <summary>A string, or <c>null</c> for a null reference.</summary>
    public void Text(string? value)
    {
        if (value is null)
        {
            Null();
            return;
        }

        Punctuation('"');
        var rest = Sanitize(value).AsSpan();
        while (!rest.IsEmpty)
        {
            var at = rest.IndexOfAny(Escaped);
            var plain = at < 0 ? rest : rest[..at];
            if (!plain.IsEmpty)
            {
                _out.Advance(Encoding.UTF8.GetBytes(plain, _out.GetSpan(Encoding.UTF8.GetMaxByteCount(plain.Length))));
            }

            if (at < 0)
            {
                break;
            }

            Escape(rest[at]);
            rest = rest[(at + 1)..];
        }

        Punctuation('"');
    }

    public void Strings(IEnumerable<string> items)
    {
        Punctuation('[');
        var first = true;
        foreach (var item in items)
        {
            if (!first)
            {
                Punctuation(',');
            }

            first = false;
            Text(item);
        }

        Punctuation(']');
    }

    private void Escape(char c)
    {
        switch (c)
        {
            case '"':
                Ascii("\\\"");
                break;
            case '\\':
                Ascii("\\\\");
                break;
            case '\b':
                Ascii("\\b");
                break;
            case '\t':
                Ascii("\\t");
                break;
            case '\n':
                Ascii("\\n");
                break;
            case '\f':
                Ascii("\\f");
                break;
            case '\r':
                Ascii("\\r");
                break;
            default:
                Ascii("\\u00");
                Ascii(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                break;
        }
    }

    private void Ascii(string text)
    {
        var span = _out.GetSpan(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            span[i] = (byte)text[i];
        }

        _out.Advance(text.Length);
    }

    private void Write(object? value)
    {
        switch (value)
        {
            case null:
                Null();
                break;
            case bool b:
                Ascii(b ? "true" : "false");
                break;
            case long or int:
                Number(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case string s:
                Text(s);
                break;
            case Obj o:
                Punctuation('{');
                var first = true;
                foreach (var (name, member) in o.Members)
                {
                    Name(name, first);
                    first = false;
                    Write(member);
                }

                Punctuation('}');
                break;
            case IEnumerable<string> items:
                Strings(items);
                break;
            default:
                throw new ArgumentException($"an audit event cannot hold a {value.GetType().Name}", nameof(value));
        }
    }

    /// <summary>RFC 8785 requires I-JSON: a lone surrogate (possible in a token's claims) becomes
    /// U+FFFD before the event is sealed.</summary>
    public static string Sanitize(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsSurrogate(s[i]) && !(char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])))
            {
                return FixSurrogates(s);
            }

            if (char.IsHighSurrogate(s[i]))
            {
                i++;
            }
        }

        return s;
    }

    private static string FixSurrogates(string s)
    {
        var fixedText = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                fixedText.Append(s[i]).Append(s[i + 1]);
                i++;
            }
            else
            {
                fixedText.Append(char.IsSurrogate(s[i]) ? '\uFFFD' : s[i]);
            }
        }

        return fixedText.ToString();
    }
}
