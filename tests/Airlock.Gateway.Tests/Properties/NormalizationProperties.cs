using Airlock.Gateway.Normalization;
using CsCheck;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>
/// Properties of <see cref="RequestTargetNormalizer"/> over targets built from the pieces that
/// make normalisation hard (escapes of dots, separators, '%' itself, overlong UTF-8, ';', '?',
/// '#', controls) and over arbitrary strings. docs/normalization.md is the specification.
/// </summary>
public class NormalizationProperties
{
    private static readonly long Iterations = PropertySize.Iterations(20_000);

    private static readonly string[] Pieces =
    [
        "/", "/", "/", "//", ".", "..", "billing", "v1", "a", "Z", "0", "~", "-", "_",
        "%2e", "%2E", "%2f", "%2F", "%5c", "%5C", "%25", "%32", "%35", "%65", "%45", "%46", "%66", "%34", "%31", "%61",
        "%41", "%7e", "%3b", "%3F", "%20", "%00", "%0A", "%7F", "%C3%A9", "%c3%a9", "%C0%AF", "%C0%AE", "%E0%80%AE",
        "%ED%A0%80", "%F0%9F%94%91", "%F4%90%80%80", "%C3", "%A9", "%FF", "%", "%4", "%zz", "%u002f",
        ";", "?", "&", "=", "#", "\\", "\0", "\t", " ", "\u00e9", "\"", "{", "}", "@", ":", "!", "$", "'", "(", "*", "+", ",",
    ];

    /// <summary>Escapes of '%', of hex digits and of '.', and hex digits: the pieces of which
    /// escapes of escapes are made.</summary>
    private static readonly string[] EscapePieces = ["/", "/", "%25", "%32", "%65", "%45", "%34", "%31", "%66", "%2e", "2", "e", "F", "1", "."];

    /// <summary>Targets made of the troublesome pieces, starting with '/'.</summary>
    private static readonly Gen<string> Target = Gen.Frequency(
        (3, Gen.OneOf(Pieces).Array[0, 16].Select(pieces => "/" + string.Concat(pieces))),
        (1, Gen.OneOf(EscapePieces).Array[0, 10].Select(pieces => "/" + string.Concat(pieces))));

    /// <summary>Targets under a plain connection segment, to check a request never leaves it.</summary>
    private static readonly Gen<(string Connection, string Target)> UnderConnection =
        Gen.Select(Gen.OneOf("billing", "crm"), Gen.OneOf(Pieces).Array[0, 16],
            (connection, pieces) => (connection, "/" + connection + "/" + string.Concat(pieces)));

    private static readonly Gen<string> AnyString = Gen.Frequency(
        (3, Target),
        (1, Gen.String),
        (1, Gen.Char[(char)0, (char)0x200].Array[0, 40].Select(chars => "/" + new string(chars))));

    [Fact]
    public void Any_target_is_accepted_or_refused_with_a_reason_and_never_throws()
    {
        AnyString.Check(raw =>
        {
            var error = RequestTargetNormalizer.Normalize(raw, out var target);

            Assert.True(Enum.IsDefined(error), $"not a reason: {error}");
            if (error == NormalizationError.None)
            {
                Assert.NotNull(target.Path);
            }
            else
            {
                Assert.Equal(default, target);
            }
        }, iter: Iterations, print: Show);
    }

    [Fact]
    public void An_accepted_target_is_canonical_and_normalising_it_again_changes_nothing()
    {
        AnyString.Check(raw =>
        {
            if (RequestTargetNormalizer.Normalize(raw, out var target) != NormalizationError.None)
            {
                return;
            }

            AssertCanonical(target);
            var again = target.Query is null ? target.Path : target.Path + "?" + target.Query;
            Assert.Equal(NormalizationError.None, RequestTargetNormalizer.Normalize(again, out var twice));
            Assert.Equal(target, twice);
        }, iter: Iterations, print: Show);
    }

    [Fact]
    public void An_accepted_target_stays_under_the_connection_it_named()
    {
        UnderConnection.Check(sample =>
        {
            if (RequestTargetNormalizer.Normalize(sample.Target, out var target) != NormalizationError.None)
            {
                return;
            }

            var prefix = "/" + sample.Connection;
            Assert.True(target.Path == prefix || target.Path.StartsWith(prefix + "/", StringComparison.Ordinal), $"left {prefix}: {target.Path}");
        }, iter: Iterations, print: s => Show(s.Target));
    }

    [Fact]
    public void Escaping_unreserved_characters_does_not_change_the_canonical_form()
    {
        Gen.Select(Target, Gen.Int, Gen.Bool).Check((raw, seed, lower) =>
        {
            var random = new Random(seed);
            var escaped = new System.Text.StringBuilder();
            // The query is kept byte for byte (docs/normalization.md): only the path is escaped.
            var pathEnd = raw.IndexOf('?', StringComparison.Ordinal) is var q && q >= 0 ? q : raw.Length;
            for (var i = 0; i < raw.Length; i++)
            {
                // Only characters that stand for themselves: not the hex digits of an escape.
                var insideEscape = (i >= 1 && raw[i - 1] == '%') || (i >= 2 && raw[i - 2] == '%');
                var c = raw[i];
                if (i < pathEnd && !insideEscape && IsUnreserved(c) && random.Next(2) == 0)
                {
                    escaped.Append('%').Append(((int)c).ToString(lower ? "x2" : "X2", System.Globalization.CultureInfo.InvariantCulture));
                }
                else
                {
                    escaped.Append(c);
                }
            }

            var expected = RequestTargetNormalizer.Normalize(raw, out var plainTarget);
            var actual = RequestTargetNormalizer.Normalize(escaped.ToString(), out var escapedTarget);
            if (expected == NormalizationError.None)
            {
                Assert.Equal(NormalizationError.None, actual);
                Assert.Equal(plainTarget, escapedTarget);
            }
        }, iter: Iterations, print: s => Show(s.Item1));
    }

    /// <summary>What docs/normalization.md promises of the canonical form.</summary>
    private static void AssertCanonical(NormalizedTarget target)
    {
        var path = target.Path;
        Assert.StartsWith("/", path, StringComparison.Ordinal);
        Assert.DoesNotContain("//", path, StringComparison.Ordinal);
        foreach (var segment in path.Split('/'))
        {
            Assert.False(segment is "." or "..", $"dot segment in {path}");
        }

        for (var i = 0; i < path.Length; i++)
        {
            var c = path[i];
            Assert.False(c < 0x21 || c >= 0x7F || c is '\\' or ';' or '#' or '?' or '"' or '{' or '}', $"'{c}' (U+{(int)c:X4}) in {path}");
            if (c != '%')
            {
                continue;
            }

            Assert.True(i + 2 < path.Length && char.IsAsciiHexDigitUpper(path[i + 1]) && char.IsAsciiHexDigitUpper(path[i + 2]), $"bad escape in {path}");
            var b = Convert.ToByte(path.Substring(i + 1, 2), 16);
            Assert.False(b is (byte)'/' or (byte)'\\' or 0 || b < 0x20 || b == 0x7F, $"escaped separator or control in {path}");
            Assert.False(b < 0x80 && IsUnreserved((char)b), $"escaped unreserved character in {path}");
            // The canonical form is sent upstream: an escaped '%' followed by two hex digits is
            // what the gateway refuses as double encoding, so it must never produce one.
            Assert.False(b == (byte)'%' && i + 4 < path.Length && char.IsAsciiHexDigit(path[i + 3]) && char.IsAsciiHexDigit(path[i + 4]), $"double encoding in {path}");
        }

        if (target.Query is { } query)
        {
            Assert.DoesNotContain(query, c => c < 0x21 || c >= 0x7F || c == '#');
            Assert.DoesNotContain("%00", query, StringComparison.Ordinal);
        }
    }

    private static bool IsUnreserved(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~';

    /// <summary>Targets printed with their control characters visible.</summary>
    private static string Show(string raw) => RequestTargetNormalizer.EscapeForRecord(raw, 400) + $"  (raw length {raw.Length})";
}
