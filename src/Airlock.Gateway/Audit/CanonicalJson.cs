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
    private readonly StringBuilder _text = new(512);

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
        return Encoding.UTF8.GetBytes(json._text.ToString());
    }

    private void Write(object? value)
    {
        switch (value)
        {
            case null:
                _text.Append("null");
                break;
            case bool b:
                _text.Append(b ? "true" : "false");
                break;
            case long or int:
                _text.Append(Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
                break;
            case string s:
                WriteString(s);
                break;
            case Obj o:
                _text.Append('{');
                var first = true;
                foreach (var (name, member) in o.Members)
                {
                    if (!first)
                    {
                        _text.Append(',');
                    }

                    first = false;
                    WriteString(name);
                    _text.Append(':');
                    Write(member);
                }

                _text.Append('}');
                break;
            case IEnumerable<string> items:
                _text.Append('[');
                var firstItem = true;
                foreach (var item in items)
                {
                    if (!firstItem)
                    {
                        _text.Append(',');
                    }

                    firstItem = false;
                    WriteString(item);
                }

                _text.Append(']');
                break;
            default:
                throw new ArgumentException($"an audit event cannot hold a {value.GetType().Name}", nameof(value));
        }
    }

    private void WriteString(string s)
    {
        _text.Append('"');
        foreach (var c in Sanitize(s))
        {
            switch (c)
            {
                case '"':
                    _text.Append("\\\"");
                    break;
                case '\\':
                    _text.Append("\\\\");
                    break;
                case '\b':
                    _text.Append("\\b");
                    break;
                case '\t':
                    _text.Append("\\t");
                    break;
                case '\n':
                    _text.Append("\\n");
                    break;
                case '\f':
                    _text.Append("\\f");
                    break;
                case '\r':
                    _text.Append("\\r");
                    break;
                case < ' ':
                    _text.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
                default:
                    _text.Append(c);
                    break;
            }
        }

        _text.Append('"');
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
