using System.Globalization;
using System.Text;
using CsCheck;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>A JSON value as generated: what it holds, which of its texts a detector must find
/// (<c>Planted</c>) and which a field rule lists (<c>Tokens</c>).</summary>
internal abstract record JsonNode;

internal sealed record JsonText(string Value, string[] Planted, string[] Tokens) : JsonNode;

/// <summary>A number or a literal, written as it is.</summary>
internal sealed record JsonRaw(string Text, string[] Planted) : JsonNode;

internal sealed record JsonList(JsonNode[] Items) : JsonNode;

internal sealed record JsonMap((JsonText Name, JsonNode Value)[] Members) : JsonNode;

/// <summary>
/// Random JSON for the masker: nested objects and arrays, strings with every kind of escape
/// (short ones, <c>\uXXXX</c> in either case, surrogate pairs), numbers and literals, with
/// sensitive values planted in strings, names and numbers, and listed values under <c>ssn</c>
/// anywhere and at <c>$.items[*].secret</c>. Rendering escapes characters at random and adds
/// random whitespace, both from a seed, so a sample is reproducible.
/// </summary>
internal static class JsonModel
{
    public const string DropName = "ssn";
    public const string SecretPath = "$.items[*].secret";

    private static readonly Gen<(string Text, bool Planted)> Part = Gen.Frequency(
        (5, SensitiveValues.SafeWord.Select(w => (w, false))),
        (2, SensitiveValues.Any.Select(v => (v, true))),
        // Lone surrogates: \uD800 without its pair is valid JSON text (RFC 8259 §8.2 leaves
        // such strings to the reader), so a masker must cope with it.
        (1, Gen.OneOf("\uD800", "x\uDC00", "\uDBFFz").Select(w => (w, false))));

    /// <summary>A string of words and planted values. Parts are joined by ", ": a value next to
    /// another by a single space would be one longer digit run, which detectors leave alone.</summary>
    public static readonly Gen<JsonText> Text = Part.Array[0, 4].Select(parts =>
        new JsonText(string.Join(", ", parts.Select(p => p.Text)), [.. parts.Where(p => p.Planted).Select(p => p.Text)], []));

    private static readonly Gen<JsonText> SafeText = SensitiveValues.SafeWord.Array[0, 3].Select(words => new JsonText(string.Join(", ", words), [], []));

    private static readonly Gen<JsonNode> Number = Gen.Frequency(
        (4, Gen.OneOf("0", "-1", "7", "3.25", "-0.5", "1e10", "2E-3", "-12.5e+2", "123456", "1000000").Select(n => (JsonNode)new JsonRaw(n, []))),
        (1, SensitiveValues.Card.Where(c => !c.Contains(' ', StringComparison.Ordinal) && !c.Contains('-', StringComparison.Ordinal)).Select(c => (JsonNode)new JsonRaw(c, [c]))));

    private static readonly Gen<JsonNode> Literal = Gen.OneOf("true", "false", "null").Select(l => (JsonNode)new JsonRaw(l, []));

    /// <summary>A value a field rule lists: a token as a string, or inside an object or array.</summary>
    private static readonly Gen<JsonNode> Listed = Gen.Select(SensitiveValues.FieldToken, Gen.Int[0, 2], (token, shape) =>
    {
        var text = new JsonText(token, [], [token]);
        return shape switch
        {
            0 => (JsonNode)text,
            1 => new JsonMap([(Name("t"), text), (Name("n"), new JsonRaw("1", []))]),
            _ => new JsonList([new JsonRaw("2", []), text]),
        };
    });

    private static readonly Gen<JsonText> MemberName = Gen.Frequency(
        (6, Gen.OneOf("id", "name", "note", "caf\u00e9", "a\"b", "", "x\\y", "items", "value").Select(Name)),
        (1, Text));

    private static Gen<JsonNode> Tree(Gen<JsonText> text) => Gen.Recursive<JsonNode>((depth, self) =>
    {
        var leaf = Gen.Frequency((4, text.Select(t => (JsonNode)t)), (2, Number), (1, Literal));
        if (depth >= 4)
        {
            return leaf;
        }

        var member = Gen.Frequency(
            (8, Gen.Select(MemberName, self, (name, value) => (name, value))),
            (1, Listed.Select(value => (Name(DropName), value))));
        return Gen.Frequency(
            (3, leaf),
            (1, self.Array[0, 4].Select(items => (JsonNode)new JsonList(items))),
            (2, member.Array[0, 4].Select(members => (JsonNode)new JsonMap(members))));
    });

    /// <summary>A document: any value, or an object with <c>items</c> whose elements hold a
    /// listed <c>secret</c>.</summary>
    public static readonly Gen<JsonNode> Document = Gen.Frequency(
        (2, Tree(Text)),
        (1, Gen.Select(Tree(Text).Array[0, 3], Listed.Array[1, 3], (others, secrets) =>
            (JsonNode)new JsonMap([
                (Name("items"), new JsonList([.. secrets.Select(s => new JsonMap([(Name("secret"), s), (Name("note"), new JsonRaw("1", []))]))])),
                .. others.Select((o, i) => (Name("other" + i.ToString(CultureInfo.InvariantCulture)), o)),
            ]))));

    /// <summary>A document with nothing planted, nothing listed, and no lone surrogate (which no
    /// reader compares).</summary>
    public static readonly Gen<JsonNode> SafeDocument = Tree(SafeText).Where(n => Planted(n).Count == 0 && Tokens(n).Count == 0 && !HasLoneSurrogate(n));

    public static JsonText Name(string name) => new(name, [], []);

    private static bool HasLoneSurrogate(JsonNode node)
    {
        var lone = false;
        // UTF-8 has no form for a lone surrogate: a round trip replaces it.
        Walk(node, n => lone |= n is JsonText t && Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(t.Value)) != t.Value);
        return lone;
    }

    public static List<string> Planted(JsonNode node)
    {
        var found = new List<string>();
        Walk(node, n => found.AddRange(n switch { JsonText t => t.Planted, JsonRaw r => r.Planted, _ => [] }));
        return found;
    }

    public static List<string> Tokens(JsonNode node)
    {
        var found = new List<string>();
        Walk(node, n => found.AddRange(n is JsonText t ? t.Tokens : []));
        return found;
    }

    /// <summary>Writes <paramref name="node"/> as JSON. <paramref name="escapes"/> decides which
    /// characters are escaped that need not be (0 to escape none; property names only when
    /// <paramref name="escapeNames"/>); <paramref name="whitespace"/>, when given, where
    /// whitespace goes.</summary>
    public static string Render(JsonNode node, Random escapes, double escapeRate, Random? whitespace, bool escapeNames = true)
    {
        var output = new StringBuilder();
        Write(node, output, escapes, escapeRate, whitespace, escapeNames ? escapeRate : 0);
        Space(output, whitespace);
        return output.ToString();
    }

    private static void Write(JsonNode node, StringBuilder output, Random escapes, double rate, Random? whitespace, double nameRate)
    {
        Space(output, whitespace);
        switch (node)
        {
            case JsonText text:
                WriteString(text.Value, output, escapes, rate);
                break;
            case JsonRaw raw:
                output.Append(raw.Text);
                break;
            case JsonList list:
                output.Append('[');
                for (var i = 0; i < list.Items.Length; i++)
                {
                    output.Append(i > 0 ? "," : "");
                    Write(list.Items[i], output, escapes, rate, whitespace, nameRate);
                    Space(output, whitespace);
                }

                Space(output, whitespace);
                output.Append(']');
                break;
            case JsonMap map:
                output.Append('{');
                for (var i = 0; i < map.Members.Length; i++)
                {
                    output.Append(i > 0 ? "," : "");
                    Space(output, whitespace);
                    WriteString(map.Members[i].Name.Value, output, escapes, nameRate);
                    Space(output, whitespace);
                    output.Append(':');
                    Write(map.Members[i].Value, output, escapes, rate, whitespace, nameRate);
                    Space(output, whitespace);
                }

                Space(output, whitespace);
                output.Append('}');
                break;
        }
    }

    private static void WriteString(string value, StringBuilder output, Random escapes, double rate)
    {
        output.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var pair = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]);
            var escape = escapes.NextDouble() < rate;
            if (c is '"' or '\\' || c < 0x20 || char.IsSurrogate(c) && !pair || escape)
            {
                var shortForm = c switch { '"' => "\\\"", '\\' => "\\\\", '/' => "\\/", '\b' => "\\b", '\f' => "\\f", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => null };
                var upper = escapes.Next(2) == 0;
                output.Append(shortForm is not null && escapes.Next(2) == 0 ? shortForm : Unicode(c, upper));
                if (pair)
                {
                    output.Append(Unicode(value[++i], upper));
                }
            }
            else
            {
                output.Append(c);
                if (pair)
                {
                    output.Append(value[++i]);
                }
            }
        }

        output.Append('"');
    }

    private static string Unicode(char c, bool upper) => "\\u" + ((int)c).ToString(upper ? "X4" : "x4", CultureInfo.InvariantCulture);

    private static void Space(StringBuilder output, Random? whitespace)
    {
        while (whitespace is not null && whitespace.Next(4) == 0)
        {
            output.Append(" \t\r\n"[whitespace.Next(4)]);
        }
    }

    private static void Walk(JsonNode node, Action<JsonNode> visit)
    {
        visit(node);
        switch (node)
        {
            case JsonList list:
                foreach (var item in list.Items)
                {
                    Walk(item, visit);
                }

                break;
            case JsonMap map:
                foreach (var (name, value) in map.Members)
                {
                    Walk(name, visit);
                    Walk(value, visit);
                }

                break;
        }
    }
}
