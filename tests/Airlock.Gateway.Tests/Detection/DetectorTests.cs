using System.Security.Cryptography;
using Airlock.Gateway.Detection;

namespace Airlock.Gateway.Tests.Detection;

/// <summary>Each detector with values it must find and look-alikes it must leave alone.</summary>
public class DetectorTests
{
    private static List<string> Found(string detector, string text)
    {
        Assert.True(Detectors.TryGet(detector, out var d), detector);
        var found = new List<string>();
        d.Find(text, (start, length) =>
        {
            found.Add(text.Substring(start, length));
            return true;
        });
        return found;
    }

    private static void AssertFound(string detector, string value)
    {
        Assert.Equal([value], Found(detector, value));
        Assert.Equal([value], Found(detector, $"contact: {value}, please"));
        Assert.Equal([value], Found(detector, $"\"{value}\""));
    }

    [Theory]
    [InlineData("alice@example.com")]
    [InlineData("a.b+tag@sub.example.co.uk")]
    [InlineData("first_last-1@mail-server.example.org")]
    public void Emails_are_found(string email) => AssertFound("email", email);

    [Theory]
    [InlineData("alice@localhost")]
    [InlineData("@example.com")]
    [InlineData("user@.example.com")]
    [InlineData("x@y.z")]
    [InlineData("no at sign here.example.com")]
    public void Email_look_alikes_are_left_alone(string text) => Assert.Empty(Found("email", text));

    [Theory]
    [InlineData("+1 202 555 0143")]
    [InlineData("+442079460958")]
    [InlineData("+44 20 7946 0958")]
    [InlineData("+49 (30) 1234-5678")]
    [InlineData("(202) 555-0143")]
    [InlineData("202-555-0143")]
    [InlineData("202.555.0143")]
    [InlineData("202 555 0143")]
    [InlineData("020 7946 0958")]
    [InlineData("+33 6 12 34 56 78")]
    public void Phone_numbers_are_found(string phone) => AssertFound("phone", phone);

    [Fact]
    public void A_national_number_of_five_pairs_is_not_claimed_but_the_number_beside_it_is()
    {
        // French-style pairs are five groups: national forms with more groups than three are not
        // claimed, not even in part; the number next to it shows the detector was looking.
        Assert.Equal(["202-555-0143"], Found("phone", "06 12 34 56 78 or 202-555-0143"));
    }

    [Theory]
    [InlineData("2026-11-24")]
    [InlineData("id 1234567890")]
    [InlineData("192.168.100.200")]
    [InlineData("card 4111 1111 1111 1111")]
    [InlineData("ssn 123-45-6789")]
    [InlineData("+12")]
    [InlineData("version 10.2.3.4")]
    [InlineData("at 12:30:45")]
    public void Phone_look_alikes_are_left_alone(string text) => Assert.Empty(Found("phone", text));

    [Theory]
    [InlineData("123-45-6789")]
    [InlineData("078-05-1120")]
    [InlineData("123 45 6789")]
    public void Issuable_ssns_are_found(string ssn) => AssertFound("us-ssn", ssn);

    [Theory]
    [InlineData("000-12-3456")]
    [InlineData("666-12-3456")]
    [InlineData("900-12-3456")]
    [InlineData("123-00-4567")]
    [InlineData("123-45-0000")]
    [InlineData("123-45-67890")]
    [InlineData("123-45 6789")]
    [InlineData("123456789")]
    [InlineData("2026-11-24")]
    public void Ssns_never_issued_and_look_alikes_are_left_alone(string text) => Assert.Empty(Found("us-ssn", text));

    [Theory]
    [InlineData("GB82 WEST 1234 5698 7654 32")]
    [InlineData("GB82WEST12345698765432")]
    [InlineData("DE89 3704 0044 0532 0130 00")]
    [InlineData("DE89370400440532013000")]
    [InlineData("FR14 2004 1010 0505 0001 3M02 606")]
    public void Ibans_with_a_valid_checksum_are_found(string iban) => AssertFound("iban", iban);

    [Theory]
    [InlineData("GB82 WEST 1234 5698 7654 33")]
    [InlineData("DE89370400440532013001")]
    [InlineData("GB82WEST")]
    [InlineData("XX00 0000 0000 0000 00")]
    public void Ibans_failing_mod_97_are_left_alone(string text) => Assert.Empty(Found("iban", text));

    [Theory]
    [InlineData("192.168.1.20")]
    [InlineData("10.0.0.1")]
    [InlineData("255.255.255.255")]
    public void Ipv4_addresses_are_found(string ip) => AssertFound("ipv4", ip);

    [Theory]
    [InlineData("256.1.1.1")]
    [InlineData("version 1.2.3.4.5")]
    [InlineData("v1.2.3")]
    [InlineData("1.2.3")]
    public void Ipv4_look_alikes_are_left_alone(string text) => Assert.Empty(Found("ipv4", text));

    [Theory]
    [InlineData("2001:db8::1")]
    [InlineData("2001:0db8:85a3:0000:0000:8a2e:0370:7334")]
    [InlineData("fe80::1%eth0")]
    [InlineData("::ffff:192.0.2.1")]
    public void Ipv6_addresses_are_found(string ip) => AssertFound("ipv6", ip);

    [Theory]
    [InlineData("at 12:30:45")]
    [InlineData("mac 00:1A:2B:3C:4D:5E")]
    [InlineData("a::b::c")]
    [InlineData("scope ::")]
    public void Ipv6_look_alikes_are_left_alone(string text) => Assert.Empty(Found("ipv6", text));

    [Fact]
    public void Jwts_are_found_and_other_dotted_base64_is_not()
    {
        AssertFound("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLWJ5dGVz_-");
        Assert.Empty(Found("jwt", "aGVsbG8.d29ybGQ.Zm9v"));
    }

    [Theory]
    [InlineData("aws-access-key", "AKIAIOSFODNN7EXAMPLE")]
    [InlineData("aws-access-key", "ASIAY34FZKBOKMUTVV7A")]
    [InlineData("github-token", "ghp_16C7e42F292c6912E7710c838347Ae178B4a")]
    [InlineData("github-token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz")]
    [InlineData("secret-key", "sk-proj-abcdefghijklmnopqrstuvwx0123")]
    [InlineData("secret-key", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz")]
    public void Common_secret_formats_are_found(string detector, string secret) => AssertFound(detector, secret);

    [Theory]
    [InlineData("aws-access-key", "AKIAIOSFODNN7EXAMPL")]
    [InlineData("aws-access-key", "XAKIAIOSFODNN7EXAMPLE")]
    [InlineData("github-token", "ghp_short")]
    [InlineData("secret-key", "task-runner-for-the-nightly-jobs")]
    [InlineData("secret-key", "sk-short")]
    public void Secret_look_alikes_are_left_alone(string detector, string text) => Assert.Empty(Found(detector, text));

    [Fact]
    public void Pem_private_keys_are_found_whole_and_public_keys_are_not()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pkcs8 = key.ExportPkcs8PrivateKeyPem();
        var sec1 = key.ExportECPrivateKeyPem();

        Assert.Equal([pkcs8], Found("private-key", $"key:\n{pkcs8}\nend"));
        Assert.Equal([sec1], Found("private-key", sec1));
        Assert.Empty(Found("private-key", key.ExportSubjectPublicKeyInfoPem()));
        Assert.Empty(Found("private-key", "-----BEGIN PRIVATE KEY-----\nMIIB...truncated"));
    }

    [Fact]
    public void A_custom_regex_detector_runs_in_linear_time()
    {
        var detector = RegexDetector.Custom("employee-id", @"EMP-\d{6}");
        var found = new List<string>();
        const string text = "EMP-123456 and EMP-12345 and EMP-654321";
        detector.Find(text, (s, l) =>
        {
            found.Add(text.Substring(s, l));
            return true;
        });

        Assert.Equal(["EMP-123456", "EMP-654321"], found);
        Assert.Equal("EMPLOYEE-ID", detector.Label);

        // Only a backtracking engine can run a backreference: refusing one shows the pattern
        // runs on the linear-time engine, whatever an operator writes.
        Assert.Throws<NotSupportedException>(() => RegexDetector.Custom("twice", @"(\w+) \1"));

        // The textbook catastrophic pattern over input that never matches: a backtracking engine
        // tries 2^n ways to split the a's (this would not finish); the linear one just says no.
        var pathological = RegexDetector.Custom("nested", "(a+)+b");
        var calls = 0;
        pathological.Find(new string('a', 50_000), (_, _) => ++calls > 0);
        Assert.Equal(0, calls);
    }

    [Fact]
    public void Configuration_names_each_detector_and_group_by_its_documented_name_and_redactions_carry_its_label()
    {
        // What an operator writes under `detector:` (docs/detectors.md) and what a redacted value
        // says it was: renaming one breaks every configuration that names it.
        Assert.Equal(
            [("aws-access-key", "AWS-KEY"), ("email", "EMAIL"), ("github-token", "GITHUB-TOKEN"), ("iban", "IBAN"), ("ipv4", "IPV4"),
                ("ipv6", "IPV6"), ("jwt", "JWT"), ("payment-card", "CARD"), ("phone", "PHONE"), ("private-key", "PRIVATE-KEY"),
                ("secret-key", "SECRET-KEY"), ("us-ssn", "SSN")],
            Detectors.Names.Select(name => Detectors.TryGet(name, out var d) ? (name, d.Label) : (name, "")).ToList());
        Assert.All(Detectors.All, d => Assert.Equal(d.Name, Detectors.TryGet(d.Name, out var same) ? same.Name : null));

        Assert.Equal(["all", "pii", "secrets"], Detectors.Groups.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["email", "iban", "ipv4", "ipv6", "payment-card", "phone", "us-ssn"], Detectors.Groups["pii"].Order(StringComparer.Ordinal));
        Assert.Equal(["aws-access-key", "github-token", "jwt", "private-key", "secret-key"], Detectors.Groups["secrets"].Order(StringComparer.Ordinal));
        Assert.Equal(Detectors.Names, Detectors.Groups["all"].Order(StringComparer.Ordinal));

        // Made afresh, not read from Detectors.All (built once, when the process starts): so a
        // mutation tool that switches mutants inside one running test process still sees them.
        Assert.Equal(
            [("email", "EMAIL"), ("iban", "IBAN"), ("ipv4", "IPV4"), ("ipv6", "IPV6"), ("phone", "PHONE"), ("us-ssn", "SSN")],
            new RegexDetector[] { new EmailDetector(), new IbanDetector(), new Ipv4Detector(), new Ipv6Detector(), new PhoneDetector(), new UsSsnDetector() }
                .Select(d => (d.Name, d.Label)));
    }

    [Fact]
    public void Every_detector_has_a_unique_name_and_a_label_and_the_groups_name_only_detectors()
    {
        Assert.Equal(Detectors.All.Length, Detectors.All.Select(d => d.Name).Distinct().Count());
        Assert.All(Detectors.All, d => Assert.Matches("^[A-Z0-9-]+$", d.Label));
        Assert.All(Detectors.Groups.Values.SelectMany(g => g), name => Assert.True(Detectors.TryGet(name, out _), name));
    }

    [Fact]
    public void Asking_whether_a_text_holds_any_value_stops_the_detector_at_the_first()
    {
        // A guardrail only needs to know whether a body holds a card at all; a body of a
        // thousand cards must not be searched to its end to say so.
        var detector = new CountingDetector();

        Assert.True(detector.Any("four values here"));

        Assert.Equal(1, detector.Calls);
    }

    /// <summary>Reports a value at every position for as long as it is asked to go on.</summary>
    private sealed class CountingDetector : IDetector
    {
        public int Calls { get; private set; }

        public string Name => "counting";

        public string Label => "COUNTING";

        public void Find(ReadOnlySpan<char> text, Func<int, int, bool> found)
        {
            for (var i = 0; i < text.Length; i++)
            {
                Calls++;
                if (!found(i, 1))
                {
                    return;
                }
            }
        }
    }
}
