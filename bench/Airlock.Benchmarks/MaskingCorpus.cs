using System.Globalization;
using System.Text;

namespace Airlock.Benchmarks;

/// <summary>
/// The bodies the masking benchmarks run on, built from a fixed seed so every run (and the
/// host process that computes MB/s) sees the same bytes: a JSON array of customer records and
/// a text log, about 1 MB each, where a given share of string values (log lines) hold PII.
/// </summary>
public static class MaskingCorpus
{
    public const int TargetBytes = 1_000_000;
    public const double PiiShare = 0.05;

    private static readonly string[] FirstNames = ["Alice", "Bob", "Chloé", "Dmitri", "Emeka", "Fatima", "György", "Hana", "Ivan", "Jun", "Kwame", "Lena"];
    private static readonly string[] LastNames = ["Smith", "García", "Nguyen", "Okafor", "Müller", "Kowalski", "Tanaka", "Dubois", "Rossi", "Johansson"];
    private static readonly string[] Streets = ["High Street", "Rue de Rivoli", "Hauptstraße", "Main St", "Calle Mayor", "Via Roma", "Baker Street"];
    private static readonly string[] Cities = ["London", "Paris", "Berlin", "Springfield", "Madrid", "Rome", "Oslo", "Lagos", "Osaka"];
    private static readonly string[] Countries = ["GB", "FR", "DE", "US", "ES", "IT", "NO", "NG", "JP"];
    private static readonly string[] Statuses = ["active", "suspended", "pending_review", "closed"];
    private static readonly string[] Currencies = ["EUR", "GBP", "USD", "JPY"];
    private static readonly string[] Tags = ["vip", "b2b", "newsletter", "trial", "churn-risk", "net-30", "priority"];
    private static readonly string[] Notes =
    [
        "Prefers invoices by post; asked about the Q3 price change.",
        "Upgraded to the annual plan on renewal, discount 12.5% applied.",
        "Disputed invoice INV-2026-00417, resolved after review.",
        "Onboarding call done, v2.4.1 client installed, no issues.",
        "Requested a copy of the contract, sent 2026-10-03 at 14:30.",
        "Moved office; new delivery window 09:00-17:00 weekdays.",
    ];
    private static readonly string[] LogMessages =
    [
        "GET /api/v1/customers/{0} 200 {1}ms",
        "POST /api/v1/orders 201 {1}ms order={0}",
        "cache miss key=customer:{0} ttl=300s",
        "retrying upstream billing-svc attempt=2 after 250ms",
        "job reconcile-ledger finished rows={0} elapsed={1}ms",
        "user session refreshed sid=7f3c{0} scopes=read,write",
    ];

    private static readonly Lazy<byte[]> JsonWithPii = new(() => Encoding.UTF8.GetBytes(BuildJson(PiiShare)));
    private static readonly Lazy<byte[]> JsonWithoutPii = new(() => Encoding.UTF8.GetBytes(BuildJson(0)));
    private static readonly Lazy<byte[]> TextWithPii = new(() => Encoding.UTF8.GetBytes(BuildText(PiiShare)));

    public static byte[] Json => JsonWithPii.Value;

    public static byte[] CleanJson => JsonWithoutPii.Value;

    public static byte[] Text => TextWithPii.Value;

    /// <summary>An array of customer records; each string value holds PII with the given odds.</summary>
    public static string BuildJson(double piiShare)
    {
        var random = new Random(20261124);
        var json = new StringBuilder(TargetBytes + 4096);
        json.Append('[');
        for (var n = 0; json.Length < TargetBytes; n++)
        {
            string S(string plain) => random.NextDouble() < piiShare ? Pii(random) : plain;
            var first = Pick(random, FirstNames);
            var last = Pick(random, LastNames);
            var created = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(random.Next(0, 90_000_000));
            if (n > 0)
            {
                json.Append(',');
            }

            json.Append('{');
            Property(json, "id", S($"cus_{random.Next():x8}"));
            Property(json, "name", S($"{first} {last}"));
            Property(json, "company", S($"{last} & Partners Ltd"));
            json.Append("\"address\":{");
            Property(json, "street", S($"{random.Next(1, 300)} {Pick(random, Streets)}"));
            Property(json, "city", S(Pick(random, Cities)));
            Property(json, "postcode", S($"{random.Next(10000, 99999)}"));
            Property(json, "country", S(Pick(random, Countries)), last: true);
            json.Append("},");
            Property(json, "status", S(Pick(random, Statuses)));
            Property(json, "currency", S(Pick(random, Currencies)));
            json.Append("\"balance\":").Append((random.Next(-50_000, 5_000_000) / 100.0).ToString("0.00", CultureInfo.InvariantCulture)).Append(',');
            json.Append("\"orders\":").Append(random.Next(0, 400)).Append(',');
            json.Append("\"lastOrderId\":").Append(100_000_000_000L + random.Next()).Append(',');
            Property(json, "createdAt", S(created.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)));
            Property(json, "updatedAt", S(created.AddDays(random.Next(0, 300)).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)));
            json.Append("\"tags\":[\"").Append(S(Pick(random, Tags))).Append("\",\"").Append(S(Pick(random, Tags))).Append("\"],");
            Property(json, "notes", S(Pick(random, Notes)), last: true);
            json.Append('}');
        }

        return json.Append(']').ToString();
    }

    /// <summary>Log lines; each holds a PII value with the given odds.</summary>
    public static string BuildText(double piiShare)
    {
        var random = new Random(20261125);
        var text = new StringBuilder(TargetBytes + 4096);
        var at = new DateTime(2026, 11, 24, 9, 0, 0, DateTimeKind.Utc);
        while (text.Length < TargetBytes)
        {
            at = at.AddMilliseconds(random.Next(1, 2000));
            text.Append(at.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture))
                .Append(random.Next(10) == 0 ? " WARN " : " INFO ")
                .Append("[req ").Append(random.Next().ToString("x8", CultureInfo.InvariantCulture)).Append("] ")
                .Append(string.Format(CultureInfo.InvariantCulture, Pick(random, LogMessages), random.Next(1000, 999_999), random.Next(1, 900)));
            if (random.NextDouble() < piiShare)
            {
                text.Append(" contact=").Append(Pii(random));
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static void Property(StringBuilder json, string name, string value, bool last = false)
    {
        json.Append('"').Append(name).Append("\":\"").Append(value).Append('"');
        if (!last)
        {
            json.Append(',');
        }
    }

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];

    /// <summary>A value (sometimes inside a sentence) that one of the PII detectors finds.</summary>
    private static string Pii(Random random) => random.Next(8) switch
    {
        0 => $"{Pick(random, FirstNames).ToLowerInvariant()}.{random.Next(100)}@example.com",
        1 => $"call +44 20 7946 {random.Next(1000, 9999)} after 5pm",
        2 => $"({random.Next(200, 999)}) 555-{random.Next(1000, 9999)}",
        3 => CardNumber(random),
        4 => random.Next(2) == 0 ? "GB82 WEST 1234 5698 7654 32" : "DE89370400440532013000",
        5 => $"ssn {random.Next(100, 665)}-{random.Next(10, 99)}-{random.Next(1000, 9999)}",
        6 => $"login from 10.{random.Next(256)}.{random.Next(256)}.{random.Next(1, 255)}",
        _ => $"2001:db8:{random.Next(0xffff):x}::{random.Next(1, 0xffff):x}",
    };

    /// <summary>A 16-digit number in groups of four that passes the Luhn check.</summary>
    private static string CardNumber(Random random)
    {
        Span<int> digits = stackalloc int[16];
        digits[0] = 4;
        for (var i = 1; i < 15; i++)
        {
            digits[i] = random.Next(10);
        }

        var sum = 0;
        for (var i = 14; i >= 0; i--)
        {
            var d = digits[i];
            if ((14 - i) % 2 == 0)
            {
                d = d * 2 > 9 ? d * 2 - 9 : d * 2;
            }

            sum += d;
        }

        digits[15] = (10 - sum % 10) % 10;
        var card = new StringBuilder(19);
        for (var i = 0; i < 16; i++)
        {
            if (i > 0 && i % 4 == 0)
            {
                card.Append(' ');
            }

            card.Append((char)('0' + digits[i]));
        }

        return card.ToString();
    }
}
