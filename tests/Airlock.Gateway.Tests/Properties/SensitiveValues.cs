using System.Globalization;
using System.Text;
using CsCheck;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>
/// Generators of values a built-in detector must find (docs/detectors.md), each in a form the
/// detector documents, and of text that no detector finds.
/// </summary>
internal static class SensitiveValues
{
    private static readonly Gen<char> Lower = Gen.Char['a', 'z'];

    private static readonly Gen<string> Digits13To18 = Gen.Char['0', '9'].Array[11, 17].Select(d => "4" + new string(d));

    /// <summary>A Luhn-valid card number, plain or grouped by fours with spaces or hyphens.</summary>
    public static readonly Gen<string> Card = Gen.Select(Digits13To18, Gen.Int[0, 2], (body, style) =>
    {
        var number = body + LuhnDigit(body);
        if (style == 0 || number.Length != 16)
        {
            return number;
        }

        var separator = style == 1 ? " " : "-";
        return string.Join(separator, number.Chunk(4).Select(c => new string(c)));
    });

    public static readonly Gen<string> Email = Gen.Select(
        Lower.Array[1, 8], Gen.Bool, Lower.Array[2, 8], Gen.OneOf("com", "org", "io", "co.uk"),
        (local, dotted, domain, tld) => new string(local) + (dotted ? ".x" : "") + "@" + new string(domain) + "." + tld);

    /// <summary>An SSN that could have been issued: area not 000, 666 or 900+, group not 00,
    /// serial not 0000.</summary>
    public static readonly Gen<string> Ssn = Gen.Select(Gen.Int[1, 899], Gen.Int[1, 99], Gen.Int[1, 9999], Gen.Bool,
        (area, group, serial, spaced) =>
        {
            area = area == 666 ? 667 : area;
            var separator = spaced ? " " : "-";
            return string.Create(CultureInfo.InvariantCulture, $"{area:000}{separator}{group:00}{separator}{serial:0000}");
        });

    /// <summary>A German IBAN with its mod-97 check digits (ISO 7064), whole or in groups of four.</summary>
    public static readonly Gen<string> Iban = Gen.Select(Gen.Char['0', '9'].Array[18], Gen.Bool, (bban, grouped) =>
    {
        var account = new string(bban);
        // Country code moved to the end, letters as numbers (D = 13, E = 14), check digits 00.
        var remainder = 0;
        foreach (var c in account + "131400")
        {
            remainder = ((remainder * 10) + (c - '0')) % 97;
        }

        var iban = "DE" + (98 - remainder).ToString("00", CultureInfo.InvariantCulture) + account;
        return grouped ? string.Join(" ", iban.Chunk(4).Select(c => new string(c))) : iban;
    });

    public static readonly Gen<string> Ipv4 = Gen.Int[0, 255].Array[4].Select(parts => string.Join('.', parts));

    /// <summary>A JWT shape: two base64url JSON objects and a signature.</summary>
    public static readonly Gen<string> Jwt = Gen.Select(Lower.Array[1, 12], Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"].Array[0, 40],
        (subject, signature) => Base64Url("{\"alg\":\"HS256\"}") + "." + Base64Url("{\"sub\":\"" + new string(subject) + "\"}") + "." + new string(signature));

    public static readonly Gen<string> AwsKey = Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"].Array[16].Select(k => "AKIA" + new string(k));

    public static readonly Gen<string> Any = Gen.OneOf(Card, Email, Ssn, Iban, Ipv4, Jwt, AwsKey);

    /// <summary>Words no detector finds, some with characters JSON must escape or that are
    /// more than one UTF-16 unit.</summary>
    public static readonly Gen<string> SafeWord = Gen.OneOf(
        "alpha", "note", "Ada", "plain text", "caf\u00e9", "na\u00efve", "\u65e5\u672c", "\U0001F511", "tab\there",
        "line\nbreak", "quote\"d", "back\\slash", "slash/ed", "\u0001", "\u007f", "\u2028", "", "x", "zz top");

    /// <summary>A property name, a value listed by a field rule, that no detector finds: a
    /// distinctive token to look for in the output.</summary>
    public static readonly Gen<string> FieldToken = Lower.Array[10].Select(t => "fieldtok" + new string(t));

    private static char LuhnDigit(string body)
    {
        var sum = 0;
        var doubleIt = true;
        for (var i = body.Length - 1; i >= 0; i--)
        {
            var d = body[i] - '0';
            if (doubleIt)
            {
                d = d * 2 > 9 ? (d * 2) - 9 : d * 2;
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return (char)('0' + ((10 - (sum % 10)) % 10));
    }

    private static string Base64Url(string json) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
