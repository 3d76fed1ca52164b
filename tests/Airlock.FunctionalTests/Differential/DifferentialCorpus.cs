using System.IO.Compression;
using System.Text;

namespace Airlock.FunctionalTests.Differential;

/// <summary>
/// One generated request: sent byte for byte (method, target, header lines, body) to the gateway,
/// once per upstream stack. <see cref="Decoded"/> is the body with its content encoding removed:
/// what policy reads.
/// </summary>
public sealed record DifferentialCase(
    int Number,
    string Method,
    string Prefix,
    string Rest,
    IReadOnlyList<(string Name, string Value)> Headers,
    byte[]? Body,
    byte[]? Decoded,
    string? ContentType)
{
    /// <summary>The request target for a connection: <c>/node/refunds?limit=5</c>.</summary>
    public string Target(string connection) => Prefix + connection + Rest;

    public string RawQuery => Rest.IndexOf('?', StringComparison.Ordinal) is var q and >= 0 ? Rest[(q + 1)..] : "";

    public IEnumerable<string> HeaderLines => Headers.Select(h => h.Name + ": " + h.Value);

    /// <summary>The request as text, every byte outside printable ASCII escaped.</summary>
    public string Describe(string connection)
    {
        var text = new StringBuilder()
            .Append("case ").Append(Number).Append(": ").Append(Method).Append(' ').Append(Escape(Encoding.Latin1.GetBytes(Target(connection)))).Append('\n');
        foreach (var (name, value) in Headers)
        {
            text.Append("  ").Append(Escape(Encoding.Latin1.GetBytes(name))).Append(": ").Append(Escape(Encoding.Latin1.GetBytes(value))).Append('\n');
        }

        if (Body is not null)
        {
            text.Append("  body (").Append(Body.Length).Append(" bytes): ").Append(Escape(Body)).Append('\n');
            if (!ReferenceEquals(Body, Decoded) && Decoded is not null)
            {
                text.Append("  decoded body: ").Append(Escape(Decoded)).Append('\n');
            }
        }

        return text.ToString();
    }

    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and < 0x7F and not (byte)'\\')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append(b switch { (byte)'\\' => "\\\\", (byte)'\n' => "\\n", (byte)'\r' => "\\r", (byte)'\t' => "\\t", _ => $"\\x{b:X2}" });
            }
        }

        return text.ToString();
    }
}

/// <summary>
/// Generates the parser-differential corpus from a seed: the same seed gives the same requests.
/// Each part of a request is drawn from forms that servers are known to read differently:
/// methods and their overrides; paths with escapes (an encoded <c>/</c>, <c>%2e</c>, double
/// encoding, overlong and invalid UTF-8), dot segments, letter case, <c>;</c> parameters, empty
/// segments and backslashes; query parameters repeated, re-spelled and split on <c>;</c>; header
/// names with <c>-</c> and <c>_</c>, repeated, with repeated values; JSON bodies with repeated
/// keys, escaped keys, numbers in every JSON form (and strings that look like numbers), nesting;
/// form bodies with repeats, <c>+</c>, escapes and <c>_charset_</c>; text; bodies that are JSON and
/// a form at once; declared charsets (and bodies encoded in them) and content encodings; and
/// Content-Type spellings.
/// </summary>
public static class DifferentialCorpus
{
    public static IReadOnlyList<DifferentialCase> Generate(int seed, int count)
    {
        var random = new Random(seed);
        var cases = new List<DifferentialCase>(count);
        for (var i = 0; i < count; i++)
        {
            cases.Add(One(random, i));
        }

        return cases;
    }

    private static readonly (string Method, int Weight)[] Methods =
    [
        ("GET", 22), ("POST", 40), ("PUT", 8), ("PATCH", 8), ("DELETE", 10), ("OPTIONS", 3), ("delete", 2), ("Delete", 2), ("PoSt", 1),
    ];

    private static readonly string[] Plain = ["refunds", "refunds", "refunds", "v1", "orders", "items", "42", "x"];

    private static readonly string[] Segments =
    [
        "refunds", "Refunds", "REFUNDS", "refund%73", "v1", "v1", "x", "items",
        "admin", "Admin", "ADMIN", "%61dmin", "%41DMIN", "adm%69n", "adm%C4%B1n", "ADM%C4%B0N", "%EF%BC%A1dmin", "admin.", "admin%20",
        "admin%2e", "admin~", "admin%3Bx", "admin;x", "x;y", "%3B", "%3Badmin",
        ".", "..", "%2e", "%2E", "%2e%2e", ".%2e", "%2E.", "...",
        "a%2Fb", "a%2fb", "a%5Cb", "a\\b", "%252e", "%2561dmin", "%25", "50%25", "%25%32%65",
        "%C0%AF", "%E0%80%AE", "%C3", "%ED%A0%80", "%F4%90%80%80", "%C3%A9", "caf%c3%a9", "%zz", "%4", "%u0061",
        "a%20b", "a+b", "a%2Bb", "~u", "%7Eu", "%E2%84%AAeys", "keys", "%F0%9F%98%80", "", "%0A", "%09", "%7F", "a\"b", "a{b}",
    ];

    private static readonly string[] PlainQuery = ["limit=5", "limit=50", "limit=100", "page=2", "q=a+b", "x=1", "sort=-date"];

    private static readonly string[] QueryParts =
    [
        "limit=5", "limit=100", "limit=101", "limit=500", "limit=1e3", "limit=%2B500", "limit=+500", "limit=%20500", "limit=500%20",
        "limit=0x1f4", "limit=5e2", "limit=1,000", "limit=-0", "limit=Infinity", "limit=NaN", "limit=", "limit", "LIMIT=500", "Limit=500",
        "li%6Dit=500", "lim%69t=500", "limit=50&limit=500", "limit=500&limit=50", "limit=50&limit=50", "a=1;limit=500", "limit=50;limit=500",
        "limit[]=500", "limit%5B%5D=500", "limit=50%26limit%3D500", "limit=%35%30%30", "limit=500.", "limit=.5e3",
        "x=1", "q=a+b", "q=%C3%A9", "next=/admin", "next=..%2Fadmin",
        "_method=DELETE", "_method=delete", "_METHOD=DELETE", "%5Fmethod=DELETE", "_method=POST", "_method=PUT", "_%6Dethod=DELETE",
        "x=%00", "x=%zz", "x=%C0%AF", "x=a#b", "x=%C3",
    ];

    private static readonly (string Name, string Value)[] PlainHeaders = [("X-Env", "dev"), ("X-Env", "staging"), ("Accept", "application/json"), ("X-Request-Id", "7")];

    private static readonly (string Name, string Value)[] HeaderPool =
    [
        ("X-Env", "dev"), ("X-Env", "staging"), ("X-Env", "dev"), ("Accept", "*/*"), ("X-Env", "prod"), ("X-Env", "PROD"), ("X-Env", "Prod"), ("X-Env", "dev"), ("X-Env", "prod, dev"), ("X-Env", "dev,prod"), ("X-Env", "\"prod\""),
        ("X-Env", " prod "), ("x-env", "prod"), ("X-ENV", "dev"), ("X_Env", "prod"), ("x_env", "prod"), ("X-Env", "prod\t"), ("X-Env", ""),
        ("X-HTTP-Method-Override", "DELETE"), ("X-HTTP-Method", "DELETE"), ("X-Method-Override", "DELETE"), ("X-Original-Method", "DELETE"),
        ("x-http-method-override", "delete"), ("X_HTTP_Method_Override", "DELETE"), ("X-Http-Method-Override", "POST"),
        ("Accept", "application/json"), ("X-Request-Id", "42"),
    ];

    private static readonly string[] AmountKeys = ["amount", "amount", "amount", "amount", "Amount", "AMOUNT", "\\u0061mount", "amoun\\u0074", "\\u0041MOUNT", "am\\u006Funt"];

    private static readonly string[] AmountValues =
    [
        "1", "50", "50", "50", "7", "99", "100", "100", "100.0", "1e1", "\"50\"", "-5", "0", "50.5", "1e2", "1E+2", "1E2", "10e1", "101", "500", "-0", "0.5e3", "5e2", "1e400", "-1e400", "1e-400",
        "100.00000000000000000000000000001", "99.999999999999999999999999999999", "100000000000000000000000000000", "1e28", "1e29",
        "\"500\"", "\"50\"", "\" 500\"", "\"500 \"", "\"0x1f4\"", "\"5e2\"", "\"1e3\"", "\"+500\"", "\"500.\"", "\"Infinity\"", "\"1_000\"", "\"\"",
        "\"1,000\"", "\"\\u0035\\u0030\\u0030\"", "null", "true", "false", "[500]", "[50]", "{\"v\":500}",
        "0100", "+1", ".5", "1.", "01", "-", "NaN", "Infinity", "0x1f4",
    ];

    private static readonly string[] EnvironmentKeys = ["environment", "environment", "Environment", "ENVIRONMENT", "\\u0065nvironment"];

    private static readonly string[] EnvironmentValues =
    [
        "\"staging\"", "\"dev\"", "\"production\"", "\"Production\"", "\"PRODUCTION\"", "\"staging\"", "\"product\\u0069on\"", "\"production \"",
        "\"\\uFF50roduction\"", "[\"production\"]", "\"prod\"", "null", "\"PRODUCT\\u0130ON\"",
    ];

    private static readonly string[] RiskKeys = ["risk", "risk", "Risk", "RISK", "ri\\u017Fk", "RI\\u017FK", "ris\\u212A", "RIS\\u212A"];

    private static readonly string[] RiskValues = ["\"low\"", "\"medium\"", "\"high\"", "\"HIGH\"", "\"low\"", "\"hi\\u0067h\"", "\"\\u0127igh\""];

    private static readonly string[] FormParts =
    [
        "amount=50", "amount=5", "note=hi", "environment=staging",
        "amount=50", "amount=500", "amount=50&amount=500", "amount=500&amount=50", "amount=%35%30%30", "amount=+500", "AMOUNT=500",
        "am%6Fount=500", "amount=5e2", "amount=0x1f4", "amount=%20500", "_method=DELETE", "_method=delete", "environment=production",
        "environment=Production", "risk=high", "_charset_=utf-7", "_charset_=utf-8", "note=caf%E9", "note=caf%C3%A9", "note=a+b", "x=1",
        "amount=50;amount=500",
    ];

    private static readonly string[] Polyglots =
    [
        "\"&amount=500&\"", "[\"&amount=500&\"]", "\"&environment=production&\"", "[\"&_method=DELETE&\"]", "\"x&risk=high\"",
        "{\"amount\":50,\"x\":\"&amount=500&\"}",
    ];

    private static readonly string[] JsonTypes =
    [
        "application/json", "application/json", "application/json", "application/json", "application/json; charset=utf-8",
        "Application/JSON", "application/json;charset=\"UTF-8\"", "application/json; charset=utf8", "application/json; charset=us-ascii",
        "application/json; charset=latin1", "application/json; charset=utf-16", "application/json; charset=utf-16le", "application/json; charset=utf-7",
        "application/vnd.api+json", "application/merge-patch+json", "text/plain", "application/x-www-form-urlencoded", "",
        "application/json, text/plain", "application/json; foo=bar", "application/json ; charset=UTF-8", "text/json",
    ];

    private static readonly string[] FormTypes =
    [
        "application/x-www-form-urlencoded", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=utf-8", "application/x-www-form-urlencoded; charset=iso-8859-1",
        "APPLICATION/X-WWW-FORM-URLENCODED", "application/x-www-form-urlencoded ; charset=UTF-8", "application/json", "", "text/plain",
    ];

    private static readonly string[] TextTypes = ["text/plain", "text/plain; charset=utf-8", "text/plain; charset=utf-7", "application/json", ""];

    private static readonly string[] Encodings =
    [
        "gzip", "gzip", "x-gzip", "GZIP", "identity", "deflate", "br", "compress", "gzip, identity", "identity, gzip", "foo",
    ];

    [Flags]
    private enum Focus
    {
        Method = 1,
        Path = 2,
        Query = 4,
        Headers = 8,
        Body = 16,
    }

    /// <summary>One request. Each has one or two parts in focus, drawn from the tricky forms, and
    /// the others plain: a request tricky everywhere is refused for one reason and tests nothing
    /// else, so most of the corpus must get through to the stacks.</summary>
    private static DifferentialCase One(Random random, int number)
    {
        var focus = (Focus)(1 << random.Next(5));
        if (random.Next(4) == 0)
        {
            focus |= (Focus)(1 << random.Next(5));
        }

        bool Tricky(Focus part, int inTenIfNot = 0) => focus.HasFlag(part) ? random.Next(10) < 8 : random.Next(10) < inTenIfNot;

        var method = Tricky(Focus.Method) ? Weighted(random, Methods) : Pick(random, ["GET", "GET", "POST", "POST", "POST", "PUT", "PATCH"]);
        var prefix = Tricky(Focus.Path) ? Pick(random, ["//", "/./", "/", "/"]) : "/";
        var rest = new StringBuilder();
        var depth = random.Next(4);
        var trickyPath = Tricky(Focus.Path);
        for (var i = 0; i < depth; i++)
        {
            rest.Append('/').Append(trickyPath && random.Next(2) == 0 ? Pick(random, Segments) : Pick(random, Plain));
        }

        if (random.Next(7) == 0)
        {
            rest.Append('/');
        }

        if (random.Next(5) < 3)
        {
            var trickyQuery = Tricky(Focus.Query);
            var parts = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => trickyQuery && random.Next(3) > 0 ? Pick(random, QueryParts) : Pick(random, PlainQuery));
            rest.Append('?').Append(string.Join(trickyQuery && random.Next(8) == 0 ? ";" : "&", parts));
        }

        var headers = new List<(string, string)>();
        if (Tricky(Focus.Headers))
        {
            var headerCount = 1 + random.Next(3);
            for (var i = 0; i < headerCount; i++)
            {
                headers.Add(Pick(random, HeaderPool));
            }
        }
        else if (random.Next(3) == 0)
        {
            headers.Add(Pick(random, PlainHeaders));
        }

        var hasBody = method.ToUpperInvariant() switch
        {
            "POST" or "PUT" or "PATCH" => random.Next(12) != 0,
            "DELETE" => random.Next(3) == 0,
            _ => random.Next(20) == 0,
        };
        if (!hasBody)
        {
            return new DifferentialCase(number, method, prefix, rest.ToString(), headers, null, null, null);
        }

        string text;
        string contentType;
        var trickyBody = Tricky(Focus.Body);
        switch (trickyBody ? random.Next(20) : 0)
        {
            case < 12 when !trickyBody:
                text = PlainJsonBody(random);
                contentType = Pick(random, ["application/json", "application/json", "application/json; charset=utf-8"]);
                break;
            case < 12:
                text = JsonBody(random);
                contentType = Pick(random, JsonTypes);
                break;
            case < 16:
                text = string.Join("&", Enumerable.Range(0, 1 + random.Next(3)).Select(_ => Pick(random, FormParts)));
                contentType = Pick(random, FormTypes);
                break;
            case < 18:
                text = Pick(random, Polyglots);
                contentType = random.Next(4) == 0 ? Pick(random, JsonTypes) : Pick(random, FormTypes);
                break;
            default:
                text = Pick(random, ["hello", "amount=500", "{\"amount\":500}", "DROP TABLE x", "caf\u00e9"]);
                contentType = Pick(random, TextTypes);
                break;
        }

        var decoded = trickyBody ? Encode(random, text, contentType) : Encoding.UTF8.GetBytes(text);
        byte[] body = decoded;
        if (trickyBody && random.Next(5) == 0)
        {
            var encoding = Pick(random, Encodings);
            headers.Add(("Content-Encoding", encoding));
            body = Compress(encoding, decoded);
        }

        if (contentType.Length > 0)
        {
            headers.Add(("Content-Type", contentType));
            if (trickyBody && random.Next(30) == 0)
            {
                headers.Add(("Content-Type", Pick(random, JsonTypes)));
            }
        }

        return new DifferentialCase(number, method, prefix, rest.ToString(), headers, body, decoded, contentType.Length > 0 ? contentType : null);
    }

    /// <summary>A JSON object with plain fields and values policy allows.</summary>
    private static string PlainJsonBody(Random random) =>
        "{" + string.Join(",", new[] { Member("amount", Pick(random, ["5", "50", "99.5", "100"])), Member("environment", "\"staging\""), Member("risk", "\"low\""), Member("note", "\"x\"") }
            .Where(_ => random.Next(2) == 0)) + "}";

    /// <summary>A JSON body: an object of the fields the rules read (sometimes repeated, re-spelled,
    /// nested, or not quite JSON), or now and then an array of such objects.</summary>
    private static string JsonBody(Random random)
    {
        var members = new List<string>();
        var count = 1 + random.Next(3);
        for (var i = 0; i < count; i++)
        {
            members.Add(random.Next(10) switch
            {
                < 5 => Member(Pick(random, AmountKeys), Pick(random, AmountValues)),
                < 7 => Member(Pick(random, EnvironmentKeys), Pick(random, EnvironmentValues)),
                < 8 => Member(Pick(random, RiskKeys), Pick(random, RiskValues)),
                8 => Member("_method", random.Next(2) == 0 ? "\"DELETE\"" : "\"POST\""),
                _ => random.Next(3) switch
                {
                    0 => Member("refund", "{" + Member("amount", Pick(random, AmountValues)) + "}"),
                    1 => Member("note", "\"x\""),
                    _ => Member("items", "[{" + Member("amount", "500") + "}]"),
                },
            });
        }

        if (random.Next(6) == 0)
        {
            // A key given twice, in the same or another spelling.
            members.Add(Member(Pick(random, AmountKeys), Pick(random, AmountValues)));
        }

        var order = members.OrderBy(_ => random.Next()).ToList();
        var json = "{" + string.Join(random.Next(10) == 0 ? " , " : ",", order) + (random.Next(30) == 0 ? "," : "") + "}";
        json = random.Next(30) switch
        {
            0 => json.Insert(1, "/* c */"),
            1 => "[" + json + "]",
            2 => "\uFEFF" + json,
            3 => " \n" + json + "\n",
            _ => json,
        };
        return json;
    }

    private static string Member(string key, string value) => "\"" + key + "\":" + value;

    /// <summary>The body's bytes in the charset its Content-Type declares (now and then: else
    /// UTF-8 whatever it declares, as a careless client sends).</summary>
    private static byte[] Encode(Random random, string text, string contentType)
    {
        var lower = contentType.ToLowerInvariant();
        if (random.Next(2) == 0)
        {
            if (lower.Contains("utf-16", StringComparison.Ordinal))
            {
                var bom = lower.Contains("utf-16le", StringComparison.Ordinal) ? [] : Encoding.Unicode.GetPreamble();
                return [.. bom, .. Encoding.Unicode.GetBytes(text)];
            }

            if (lower.Contains("utf-7", StringComparison.Ordinal))
            {
                // "amount" as UTF-7 spells it in base64: only a UTF-7 reader sees the key.
                return Encoding.ASCII.GetBytes(text.Replace("\"amount\":50", "\"amount\":50,\"+AGEAbQBvAHUAbgB0-\":500", StringComparison.Ordinal)
                    .Replace("amount=50", "amount=50&+AGEAbQBvAHUAbgB0-=500", StringComparison.Ordinal));
            }

            if (lower.Contains("latin1", StringComparison.Ordinal) || lower.Contains("iso-8859-1", StringComparison.Ordinal))
            {
                return Encoding.Latin1.GetBytes(text);
            }
        }

        return Encoding.UTF8.GetBytes(text);
    }

    private static byte[] Compress(string encoding, byte[] content)
    {
        using var output = new MemoryStream();
        switch (encoding.ToLowerInvariant())
        {
            case "gzip" or "x-gzip" or "gzip, identity" or "identity, gzip":
                using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
                {
                    gzip.Write(content);
                }

                return output.ToArray();
            case "deflate":
                using (var zlib = new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true))
                {
                    zlib.Write(content);
                }

                return output.ToArray();
            case "br":
                using (var brotli = new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true))
                {
                    brotli.Write(content);
                }

                return output.ToArray();
            default:
                return content;
        }
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static string Weighted(Random random, (string Value, int Weight)[] items)
    {
        var roll = random.Next(items.Sum(i => i.Weight));
        foreach (var (value, weight) in items)
        {
            if ((roll -= weight) < 0)
            {
                return value;
            }
        }

        return items[^1].Value;
    }
}
