using System.Text;
using Airlock.Gateway.Detection;

namespace Airlock.Gateway.Tests.Detection;

/// <summary>
/// The prescreen may only skip a detector that would have found nothing: every find of every
/// built-in detector must come with its signal, in UTF-16 and in UTF-8.
/// </summary>
public class PrescreenTests
{
    // Values the detectors find, look-alikes they must not, and the parts both are made of.
    internal static readonly string[] Fragments =
    [
        "alice@example.com", "a.b+tag@sub.example.co.uk", "x@y.z", "@", "user@.example.com",
        "+1 202 555 0143", "+442079460958", "+49 (30) 1234-5678", "(202) 555-0143", "202-555-0143",
        "202.555.0143", "202 555 0143", "020 7946 0958", "06 12 34 56 78", "0123-4567",
        "123-45-6789", "078-05-1120", "123 45 6789", "666-12-3456", "123-45 6789",
        "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", "DE89370400440532013000", "FR14 2004 1010 0505 0001 3M02 606",
        "192.168.1.20", "10.0.0.1", "255.255.255.255", "1.2.3.4.5", "v1.2.3",
        "2001:db8::1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "fe80::1%eth0", "::ffff:192.0.2.1", "::", "a::b", "00:1A:2B:3C:4D:5E",
        "4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "3400 000000 00009", "4222222222222",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLWJ5dGVz_-", "eyJ", ".eyJ",
        "AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A", "AKIA", "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "gh", "sk-proj-abcdefghijklmnopqrstuvwx0123", "sk-",
        "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----", "-----BEGIN ",
        "2026-11-24T10:15:30Z", "2026-11-24T10:15:30.123Z", "12:30:45", "12345.67", "100123456789",
        "١٢٣-٤٥-٦٧٨٩", "٠٢٠ ٧٩٤٦ ٠٩٥٨", "١٩٢.١٦٨.١.٢٠", "١.٢", "٤٥-", "GB٨٢", "Chloé", "straße", "𝟏𝟐𝟑",
        " ", " ", "-", ".", ":", "+", "(", ")", "_", "/", "\n", "\"", "'", "0", "1", "9", "12", "123", "1234", "A", "B", "Z", "e", "y", "J", "k", "s",
    ];

    [Fact]
    public void Every_find_in_generated_text_comes_with_its_detectors_signal()
    {
        var texts = Detectors.All.ToDictionary(d => d.Name, _ => 0);
        foreach (var (n, text) in GeneratedTexts(seed: 1124))
        {
            if (!Checked(n, CaughtInText))
            {
                continue;
            }

            foreach (var name in AssertSound(text))
            {
                texts[name]++;
            }
        }

        // The texts exercise every detector, so the check above had finds to check.
        var least = 100 / SampleEvery;
        Assert.All(texts, pair => Assert.True(pair.Value >= least, $"{pair.Key} found something in only {pair.Value} texts"));
    }

    [Fact]
    public void A_string_inside_a_body_gets_at_least_the_signals_of_the_byte_by_byte_scan()
    {
        // Short texts inside a buffer are screened with masks over 64 bytes read around them; the
        // bytes around are the kind that would change the outcome if they were counted.
        var random = new Random(2411);
        const string Around = "0123456789 -.:@+(_AJeyskgh\"\\é١";
        var buffer = new byte[160];
        foreach (var (n, text) in GeneratedTexts(seed: 2411))
        {
            var utf8 = Encoding.UTF8.GetBytes(text);
            if (utf8.Length > buffer.Length)
            {
                continue;
            }

            // Drawn for every text, checked or not, so text n always sits in the same bytes.
            var padding = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, buffer.Length).Select(_ => Around[random.Next(Around.Length)])));
            var start = random.Next(buffer.Length - utf8.Length + 1);
            if (!Checked(n, CaughtInBody))
            {
                continue;
            }

            padding.AsSpan(0, buffer.Length).CopyTo(buffer);
            utf8.CopyTo(buffer, start);

            var inside = Prescreen.Scan(buffer, start, utf8.Length);
            var each = Prescreen.ScanEachByte(utf8);
            Assert.True((inside & each) == each, $"inside a body the screen lost {each & ~inside} in \"{text}\"");
            foreach (var detector in Detectors.All)
            {
                Assert.True((inside & detector.Needs) != 0 || !detector.Any(text), $"{detector.Name} finds something in \"{text}\" without its signal inside a body");
            }
        }
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', 0xC3, (byte)'1' })]
    [InlineData(new byte[] { 0x80, (byte)'1', (byte)'2' })]
    [InlineData(new byte[] { (byte)'x', 0xC0, 0xB5 })]
    public void Utf8_that_does_not_decode_gets_the_digit_signals_inside_a_body_too(byte[] text)
    {
        var buffer = new byte[100];
        text.CopyTo(buffer, 40);
        var signals = Prescreen.Scan(buffer, 40, text.Length);
        Assert.True(signals.HasFlag(DetectorSignals.UsSsn | DetectorSignals.Phone | DetectorSignals.Iban | DetectorSignals.Ipv4));
    }

    [Fact]
    public void A_long_text_whose_utf8_does_not_decode_gets_the_digit_signals_wherever_the_bad_bytes_are()
    {
        // Longer than one 64-byte vector, with nothing the vector calls interesting: an overlong
        // form (0xC0 0xB5, a hidden '5') in the first window and another in the second.
        var text = new byte[128];
        text.AsSpan().Fill((byte)'x');
        byte[] overlong = [0xC0, 0xB5];
        overlong.CopyTo(text, 10);
        overlong.CopyTo(text, 80);

        var signals = Prescreen.Scan(text);

        Assert.True(signals.HasFlag(DetectorSignals.UsSsn | DetectorSignals.Phone | DetectorSignals.Iban | DetectorSignals.Ipv4), signals.ToString());
    }

    [Theory]
    [InlineData("call +44 20 7946 0958 or (202) 555-0143, ssn 123-45-6789, card 4111 1111 1111 1111")]
    [InlineData("iban GB82 WEST 1234 5698 7654 32 from 192.168.1.20 or 2001:db8::1 by alice@example.com")]
    // \d in a pattern is any Unicode digit: these are finds too, so they must keep their signals.
    [InlineData("123-٤٥-6789 99")]
    [InlineData("from ١.٢.٣.٤")]
    public void Known_values_keep_their_signals(string text) => Assert.NotEmpty(AssertSound(text));

    [Theory]
    [InlineData("2026-11-24T10:15:30Z")]
    [InlineData("2026-11-24T10:15:30.123Z")]
    [InlineData("12345.67")]
    [InlineData("100123456789")]
    [InlineData("cus_8f3a2b1c")]
    [InlineData("Hauptstraße 42, High Street")]
    [InlineData("Disputed invoice INV-2026-00417, resolved after review.")]
    [InlineData("Onboarding call done, v2.4.1 client installed.")]
    [InlineData("New delivery window 09:00-17:00, at 12:30 sharp.")]
    public void Timestamps_amounts_ids_and_prose_need_no_detector(string text)
    {
        Assert.Equal(DetectorSignals.Always, Prescreen.Scan(text));
        Assert.Equal(DetectorSignals.Always, Prescreen.Scan(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Utf8_that_does_not_decode_gets_the_digit_signals()
    {
        var signals = Prescreen.Scan([(byte)'a', 0xC3, (byte)'1']);
        Assert.True(signals.HasFlag(DetectorSignals.UsSsn | DetectorSignals.Phone | DetectorSignals.Iban | DetectorSignals.Ipv4));
    }

    [Fact]
    public void A_custom_detector_is_never_screened_out()
    {
        var detector = RegexDetector.Custom("employee-id", @"EMP-\d{6}");
        Assert.Equal(DetectorSignals.Always, detector.Needs);
        Assert.True(Prescreen.Scan("").HasFlag(DetectorSignals.Always));
    }

    /// <summary>
    /// Under mutation testing (<see cref="Properties.PropertySize.UnderMutation"/>) these two
    /// tests made most of a run: every mutant of the detectors and the prescreen pays their time,
    /// in a build slowed by a mutant switch at every branch. There every text is still generated, but only
    /// every <c>SampleEvery</c>th is checked, with the texts listed in <see cref="CaughtInText"/>
    /// and <see cref="CaughtInBody"/>: the first text that caught each mutant the full run
    /// caught and the sample did not (docs/testing.md says how they were found). Unset, every
    /// text is checked.
    /// </summary>
    private static readonly int SampleEvery = Properties.PropertySize.UnderMutation(1, 25);

    private static bool Checked(int n, HashSet<int> caught) => n % SampleEvery == 0 || caught.Contains(n);

    private static readonly HashSet<int> CaughtInText = [];

    private static readonly HashSet<int> CaughtInBody = [];

    /// <summary>Texts built from <see cref="Fragments"/>, from a fixed seed, numbered: a failure
    /// names the text, and reruns see the same texts.</summary>
    private static IEnumerable<(int N, string Text)> GeneratedTexts(int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        for (var n = 0; n < 40_000; n++)
        {
            text.Clear();
            for (var parts = random.Next(1, 7); parts > 0; parts--)
            {
                var fragment = Fragments[random.Next(Fragments.Length)];
                // Sometimes cut a fragment, so near-misses at every position come up too.
                text.Append(random.Next(4) == 0 ? fragment[random.Next(fragment.Length)..] : fragment);
            }

            yield return (n, text.ToString());
        }
    }

    /// <summary>Checks the signals against every detector; returns the detectors that found something.</summary>
    private static List<string> AssertSound(string text)
    {
        var finders = new List<string>();
        var signals = Prescreen.Scan(text);
        var utf8Signals = Prescreen.Scan(Encoding.UTF8.GetBytes(text));
        // UTF-8 may say more (a digit outside the BMP), never less.
        Assert.True((utf8Signals & signals) == signals, $"UTF-8 lost {signals & ~utf8Signals} in \"{text}\"");
        foreach (var detector in Detectors.All)
        {
            if (detector.Any(text))
            {
                Assert.True((signals & detector.Needs) != 0, $"{detector.Name} finds something in \"{text}\" without its signal");
                finders.Add(detector.Name);
            }
        }

        return finders;
    }
}
