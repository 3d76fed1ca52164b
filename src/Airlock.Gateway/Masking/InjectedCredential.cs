using System.Buffers;
using System.Text;
using Airlock.Gateway.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Airlock.Gateway.Masking;

/// <summary>
/// The credential a connection injects, as the values that must never come back to the agent,
/// built once per connection when the configuration loads. An upstream that echoes its request
/// (a debugging endpoint, an error page, a webhook tester) would hand the agent the very
/// credential the gateway exists to keep from it, so every response on the connection is
/// scrubbed of it, whatever the masking settings.
/// <para>
/// The values: the secret (a bearer token, an API key; for basic credentials the
/// <c>user:password</c> pair, and the password alone from eight characters), and the base64 of
/// each (as sent in <c>Basic</c>, or inside a longer base64 text at any of the three alignments:
/// the characters that encode only the secret's bytes). A value is found however each of its
/// characters is written: as itself, percent-encoded (<c>%2B</c>, <c>%2b</c>, and again:
/// <c>%252B</c>), string-escaped (<c>\u002B</c>, <c>\x2B</c>, <c>\/</c>), or as an HTML character
/// reference (<c>&amp;#43;</c>, <c>&amp;#x2B;</c>, <c>&amp;plus;</c>), and base64 in either alphabet
/// (<c>+/</c> or <c>-_</c>): whichever of its characters an encoder escaped. Where a
/// value's characters are found is searched by its longest run of characters no encoder
/// changes (letters, digits, <c>-._</c>), with a vectorised search.
/// </para>
/// </summary>
internal sealed class InjectedCredential
{
    public const string Label = "UPSTREAM-CREDENTIAL";
    public const string Replacement = "[REDACTED:" + Label + "]";

    /// <summary>Derived values shorter than this would be found by chance in ordinary data.</summary>
    private const int ShortestDerived = 8;

    /// <summary>The most bytes one character of a value can take when written escaped
    /// (<c>&amp;#x00002B;</c>, <c>&amp;UnderBar;</c>).</summary>
    private const int LongestEscape = 10;

    private static readonly byte[] ReplacementBytes = Encoding.ASCII.GetBytes(Replacement);

    private readonly Form[] _forms;
    private readonly bool[] _mayStart = new bool[256];

    private InjectedCredential(List<Form> forms)
    {
        _forms = [.. forms];
        foreach (var form in _forms)
        {
            _mayStart[form.Value[0]] = true;
            if (form.Base64)
            {
                _mayStart[Alternate(form.Value[0])] = true;
            }

            LongestWritten = Math.Max(LongestWritten, form.Value.Length * LongestEscape);
        }

        _mayStart['%'] = _mayStart['\\'] = _mayStart['&'] = true;
    }

    /// <summary>The most bytes one value can take as written: what a piece of a stream must
    /// keep back, at most, to find a value cut by the piece's end.</summary>
    public int LongestWritten { get; }

    /// <summary>How many values are searched for (for tests and benchmarks).</summary>
    public int FormCount => _forms.Length;

    /// <summary>The values to scrub for a connection's credential; null when it injects none.</summary>
    public static InjectedCredential? For(UpstreamCredential credential)
    {
        if (credential.HeaderValue is not { IsResolved: true } header)
        {
            return null;
        }

        var sent = header.Reveal();
        var secrets = new List<(byte[] Value, bool Always)>();
        switch (credential.Kind)
        {
            case "bearer":
                secrets.Add((Encoding.UTF8.GetBytes(sent["Bearer ".Length..]), true));
                break;
            case "basic":
                var pair = Convert.FromBase64String(sent["Basic ".Length..]);
                secrets.Add((pair, true));
                secrets.Add((pair[(Array.IndexOf(pair, (byte)':') + 1)..], false));
                break;
            default:
                secrets.Add((Encoding.UTF8.GetBytes(sent), true));
                break;
        }

        var forms = new List<Form>();
        foreach (var (value, always) in secrets)
        {
            if (!always && value.Length < ShortestDerived)
            {
                continue;
            }

            Add(forms, new Form(value, base64: false));
            Add(forms, new Form(Encoding.ASCII.GetBytes(Convert.ToBase64String(value)), base64: true));
            for (var shift = 0; shift < 3; shift++)
            {
                if (AlignedBase64(value, shift) is { Length: >= ShortestDerived } inside)
                {
                    Add(forms, new Form(inside, base64: true));
                }
            }
        }

        return new InjectedCredential(forms);
    }

    private static void Add(List<Form> forms, Form form)
    {
        if (!forms.Exists(f => f.Value.AsSpan().SequenceEqual(form.Value) && f.Base64 == form.Base64))
        {
            forms.Add(form);
        }
    }

    /// <summary>
    /// The base64 characters that encode only the value's bytes when the value starts
    /// <paramref name="shift"/> bytes into a 3-byte group of a longer text: character i covers
    /// bits [6i, 6i + 6) of the text, the value bits [8·shift, 8·(shift + n)).
    /// </summary>
    private static byte[] AlignedBase64(byte[] value, int shift)
    {
        var padded = new byte[shift + value.Length + 2];
        value.CopyTo(padded, shift);
        var encoded = Convert.ToBase64String(padded);
        var first = (8 * shift + 5) / 6;
        var end = 8 * (shift + value.Length) / 6;
        return end > first ? Encoding.ASCII.GetBytes(encoded[first..end]) : [];
    }

    /// <summary>
    /// Scrubs <paramref name="data"/>: returns how many of its bytes are settled. Unless
    /// <paramref name="final"/>, bytes at the end that could begin a value cut off by the end of
    /// the data are not settled; pass them again with what follows. When the settled bytes hold
    /// no value, nothing is written and <paramref name="replaced"/> is 0: they go on as they are.
    /// Otherwise the settled bytes, scrubbed, are written to <paramref name="output"/>.
    /// </summary>
    public int Scrub(ReadOnlySpan<byte> data, bool final, ref ArrayBufferWriter<byte>? output, MaskCounts counts, out int replaced)
    {
        replaced = 0;
        Span<int> starts = _forms.Length <= 32 ? stackalloc int[_forms.Length] : new int[_forms.Length];
        Span<int> ends = _forms.Length <= 32 ? stackalloc int[_forms.Length] : new int[_forms.Length];
        starts.Fill(Unknown);
        var position = 0;
        var settled = -1;
        while (true)
        {
            var bestStart = int.MaxValue;
            var bestEnd = 0;
            for (var i = 0; i < _forms.Length; i++)
            {
                if (starts[i] == Unknown || (starts[i] >= 0 && starts[i] < position))
                {
                    starts[i] = Find(_forms[i], data, position, out ends[i]);
                }

                if (starts[i] >= 0 && (starts[i] < bestStart || (starts[i] == bestStart && ends[i] > bestEnd)))
                {
                    bestStart = starts[i];
                    bestEnd = ends[i];
                }
            }

            if (bestStart == int.MaxValue)
            {
                break;
            }

            if (!final && CutOff(data, bestStart))
            {
                // A longer value may start here and go on past the end: decide with what follows.
                settled = bestStart;
                break;
            }

            output ??= new ArrayBufferWriter<byte>(data.Length + ReplacementBytes.Length);
            output.Write(data[position..bestStart]);
            output.Write(ReplacementBytes);
            counts.Add(Label);
            replaced++;
            position = bestEnd;
        }

        if (settled < 0)
        {
            settled = final ? data.Length : HoldBackFrom(data, position);
        }

        if (replaced > 0)
        {
            output!.Write(data[position..settled]);
        }

        return settled;
    }

    /// <summary>Scrubs a header value; false when it holds no value.</summary>
    public bool Scrub(string value, MaskCounts counts, out string scrubbed)
    {
        scrubbed = value;
        // Header values are Latin-1 on the wire: one byte a character, as the upstream sent them.
        var length = Encoding.Latin1.GetByteCount(value);
        var rented = length > 512 ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> bytes = rented ?? stackalloc byte[512];
        bytes = bytes[..Encoding.Latin1.GetBytes(value, bytes)];
        ArrayBufferWriter<byte>? output = null;
        Scrub(bytes, final: true, ref output, counts, out var replaced);
        if (replaced > 0)
        {
            scrubbed = Encoding.Latin1.GetString(output!.WrittenSpan);
        }

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return replaced > 0;
    }

    /// <summary>Scrubs every response header, the structural ones included: an upstream can echo
    /// a request header under any name.</summary>
    public int ScrubHeaders(IHeaderDictionary headers, MaskCounts counts)
    {
        List<(string, StringValues)>? changed = null;
        foreach (var (name, values) in headers)
        {
            string?[]? scrubbed = null;
            for (var i = 0; i < values.Count; i++)
            {
                if (values[i] is { } value && Scrub(value, counts, out var clean))
                {
                    scrubbed ??= values.ToArray();
                    scrubbed[i] = clean;
                }
            }

            if (scrubbed is not null)
            {
                (changed ??= []).Add((name, new StringValues(scrubbed)));
            }
        }

        foreach (var (name, values) in changed ?? [])
        {
            headers[name] = values;
        }

        return changed?.Count ?? 0;
    }

    private const int Unknown = -2;

    /// <summary>Where the first whole value of <paramref name="form"/> at or after
    /// <paramref name="from"/> starts (-1: none), and where it ends.</summary>
    private static int Find(Form form, ReadOnlySpan<byte> data, int from, out int end)
    {
        end = 0;
        var anchor = form.Value.AsSpan(form.AnchorStart, form.AnchorLength);
        var searchFrom = from + form.AnchorStart;
        while (searchFrom <= data.Length - anchor.Length)
        {
            var hit = data[searchFrom..].IndexOf(anchor);
            if (hit < 0)
            {
                return -1;
            }

            var at = searchFrom + hit;
            // The characters before the anchor take one to six bytes each: try the leftmost start first.
            for (var start = Math.Max(from, at - form.AnchorStart * LongestEscape); start <= at - form.AnchorStart; start++)
            {
                if (Match(form, data, start, out end) == Outcome.Whole)
                {
                    return start;
                }
            }

            searchFrom = at + 1;
        }

        return -1;
    }

    /// <summary>Whether some value could start at <paramref name="start"/> and is cut off by the end of the data.</summary>
    private bool CutOff(ReadOnlySpan<byte> data, int start)
    {
        foreach (var form in _forms)
        {
            if (Match(form, data, start, out _) == Outcome.CutOff)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Where the bytes that could begin a value cut off by the end of the data start.</summary>
    private int HoldBackFrom(ReadOnlySpan<byte> data, int from)
    {
        for (var start = Math.Max(from, data.Length - LongestWritten + 1); start < data.Length; start++)
        {
            if (_mayStart[data[start]] && CutOff(data, start))
            {
                return start;
            }
        }

        return data.Length;
    }

    private enum Outcome
    {
        None,
        Whole,
        CutOff,
    }

    /// <summary>Reads the value of <paramref name="form"/> from <paramref name="start"/>, each
    /// character as itself or escaped.</summary>
    private static Outcome Match(Form form, ReadOnlySpan<byte> data, int start, out int end)
    {
        var at = start;
        foreach (var expected in form.Value)
        {
            var taken = Character(data, at, expected, form.Base64);
            if (taken <= 0)
            {
                end = 0;
                return taken == 0 ? Outcome.None : Outcome.CutOff;
            }

            at += taken;
        }

        end = at;
        return Outcome.Whole;
    }

    /// <summary>How many bytes at <paramref name="at"/> write <paramref name="expected"/>: 0 when
    /// they do not, -1 when the data ends before it can tell.</summary>
    private static int Character(ReadOnlySpan<byte> data, int at, byte expected, bool base64)
    {
        if (at >= data.Length)
        {
            return -1;
        }

        var b = data[at];
        if (Is(b, expected, base64))
        {
            return 1;
        }

        return b switch
        {
            (byte)'%' => Percent(data, at, expected, base64),
            (byte)'\\' => Backslash(data, at, expected, base64),
            (byte)'&' => Reference(data, at, expected, base64),
            _ => 0,
        };
    }

    /// <summary>RFC 3986 percent-encoding, either case, and the same encoded again (<c>%252B</c>:
    /// the '%' of <c>%2B</c> written <c>%25</c>), up to three times over.</summary>
    private static int Percent(ReadOnlySpan<byte> data, int at, byte expected, bool base64)
    {
        var pos = at + 1;
        for (var layer = 0; layer < 3; layer++, pos += 2)
        {
            var read = Hex(data, pos, 2, out var value);
            if (read <= 0)
            {
                return read;
            }

            if (Is((byte)value, expected, base64))
            {
                return pos + 2 - at;
            }

            if (value != '%')
            {
                return 0;
            }
        }

        return 0;
    }

    /// <summary>A string escape: JSON's <c>\u002B</c> (and JavaScript's, either case), C's and
    /// Python's <c>\x2B</c>, or a backslash before a character that is not a letter or digit
    /// (<c>\/</c> from PHP's json_encode, <c>\+</c> from regex quoting).</summary>
    private static int Backslash(ReadOnlySpan<byte> data, int at, byte expected, bool base64)
    {
        if (at + 1 >= data.Length)
        {
            return -1;
        }

        var next = data[at + 1];
        var digits = next switch
        {
            (byte)'u' => 4,
            (byte)'x' => 2,
            _ => 0,
        };
        if (digits == 0)
        {
            return Is(next, expected, base64) && !char.IsAsciiLetterOrDigit((char)expected) ? 2 : 0;
        }

        var read = Hex(data, at + 2, digits, out var value);
        return read <= 0 ? read : value < 0x80 && Is((byte)value, expected, base64) ? 2 + digits : 0;
    }

    /// <summary>An HTML character reference: decimal (<c>&amp;#43;</c>) or hexadecimal
    /// (<c>&amp;#x2B;</c>, either case), leading zeros allowed, or a named one for ASCII
    /// punctuation (<c>&amp;sol;</c>), with its closing ';'.</summary>
    private static int Reference(ReadOnlySpan<byte> data, int at, byte expected, bool base64)
    {
        var pos = at + 1;
        if (pos >= data.Length)
        {
            return -1;
        }

        if (data[pos] != '#')
        {
            var named = Named(data, at, expected);
            return named != 0 || !base64 || Alternate(expected) == expected ? named : Named(data, at, Alternate(expected));
        }

        pos++;
        if (pos >= data.Length)
        {
            return -1;
        }

        var hex = data[pos] is (byte)'x' or (byte)'X';
        pos += hex ? 1 : 0;
        var value = 0;
        for (var count = 0; ; count++, pos++)
        {
            if (pos >= data.Length)
            {
                return -1;
            }

            var b = data[pos];
            if (b == ';')
            {
                return count > 0 && Is((byte)value, expected, base64) ? pos + 1 - at : 0;
            }

            var digit = Digit(b, hex);
            if (digit < 0 || count == (hex ? 6 : 7))
            {
                return 0;
            }

            value = value * (hex ? 16 : 10) + digit;
            if (value >= 0x80)
            {
                return 0;
            }
        }
    }

    private static int Named(ReadOnlySpan<byte> data, int at, byte expected)
    {
        if (expected >= EntityNames.Length || EntityNames[expected] is not { } names)
        {
            return 0;
        }

        var cutOff = false;
        var rest = data[(at + 1)..];
        foreach (var name in names)
        {
            if (rest.Length > name.Length && rest.StartsWith(name.AsSpan()) && rest[name.Length] == ';')
            {
                return name.Length + 2;
            }

            cutOff |= rest.Length <= name.Length && name.AsSpan().StartsWith(rest);
        }

        return cutOff ? -1 : 0;
    }

    /// <summary>HTML's names for the ASCII punctuation a secret may hold (the short ones: longer
    /// names would lengthen what each piece of a stream keeps back).</summary>
    private static readonly byte[][]?[] EntityNames = BuildEntityNames();

    private static byte[][]?[] BuildEntityNames()
    {
        var names = new byte[][]?[128];
        foreach (var (character, list) in new (char, string[])[]
        {
            ('!', ["excl"]), ('"', ["quot", "QUOT"]), ('#', ["num"]), ('$', ["dollar"]), ('%', ["percnt"]),
            ('&', ["amp", "AMP"]), ('\'', ["apos"]), ('(', ["lpar"]), (')', ["rpar"]), ('*', ["ast", "midast"]),
            ('+', ["plus"]), (',', ["comma"]), ('.', ["period"]), ('/', ["sol"]), (':', ["colon"]), (';', ["semi"]),
            ('<', ["lt", "LT"]), ('=', ["equals"]), ('>', ["gt", "GT"]), ('?', ["quest"]), ('@', ["commat"]),
            ('[', ["lsqb", "lbrack"]), ('\\', ["bsol"]), (']', ["rsqb", "rbrack"]), ('^', ["Hat"]), ('_', ["lowbar", "UnderBar"]),
            ('`', ["grave"]), ('{', ["lcub", "lbrace"]), ('|', ["vert", "verbar"]), ('}', ["rcub", "rbrace"]),
        })
        {
            names[character] = [.. list.Select(Encoding.ASCII.GetBytes)];
        }

        return names;
    }

    /// <summary>Whether a byte is the expected one: base64 values match in either alphabet.</summary>
    private static bool Is(byte b, byte expected, bool base64) => b == expected || (base64 && b == Alternate(expected));

    private static byte Alternate(byte b) => b switch
    {
        (byte)'+' => (byte)'-',
        (byte)'/' => (byte)'_',
        _ => b,
    };

    /// <summary>Reads <paramref name="count"/> hex digits (either case) at <paramref name="at"/>:
    /// how many (their <paramref name="value"/>), 0 when a byte is not one, -1 when the data ends
    /// first (cut off: decide later).</summary>
    private static int Hex(ReadOnlySpan<byte> data, int at, int count, out int value)
    {
        value = 0;
        for (var i = 0; i < count; i++)
        {
            if (at + i >= data.Length)
            {
                return -1;
            }

            var digit = Digit(data[at + i], hex: true);
            if (digit < 0)
            {
                return 0;
            }

            value = (value << 4) | digit;
        }

        return count;
    }

    private static int Digit(byte b, bool hex) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' when hex => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' when hex => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>One value to find, and its anchor: the longest run of characters no encoder
    /// changes, searched for as it is.</summary>
    private sealed class Form
    {
        public Form(byte[] value, bool base64)
        {
            Value = value;
            Base64 = base64;
            var (bestStart, bestLength, runStart) = (0, 0, 0);
            for (var i = 0; i <= value.Length; i++)
            {
                if (i < value.Length && Stable(value[i], base64))
                {
                    continue;
                }

                if (i - runStart > bestLength)
                {
                    (bestStart, bestLength) = (runStart, i - runStart);
                }

                runStart = i + 1;
            }

            // A value with no such character is only found as it is.
            (AnchorStart, AnchorLength) = bestLength > 0 ? (bestStart, bestLength) : (0, value.Length);
        }

        public byte[] Value { get; }

        public bool Base64 { get; }

        public int AnchorStart { get; }

        public int AnchorLength { get; }

        /// <summary>Characters that URL encoders and JSON writers leave as they are (RFC 3986's
        /// unreserved, without '~', which some encoders escape); in base64 the alphabets differ
        /// only in the two symbols, so letters and digits.</summary>
        private static bool Stable(byte b, bool base64) =>
            char.IsAsciiLetterOrDigit((char)b) || (!base64 && b is (byte)'-' or (byte)'.' or (byte)'_');
    }
}
