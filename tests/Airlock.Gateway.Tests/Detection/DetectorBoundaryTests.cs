using Airlock.Gateway.Detection;

namespace Airlock.Gateway.Tests.Detection;

/// <summary>
/// The edges of each detector's definition: the shortest and longest value it must still find,
/// the first one past each edge it must leave alone, and values at the very start or end of a
/// text, where index arithmetic goes wrong.
/// </summary>
public class DetectorBoundaryTests
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

    [Theory]
    // Norway's IBANs are the shortest, 15 characters: whole and grouped.
    [InlineData("NO9386011117947")]
    [InlineData("NO93 8601 1117 947")]
    // 34 characters, the longest, whole and grouped (seven groups of four and a tail of two).
    [InlineData("MT78MALTABCDEFGHIJKLMNOPQRSTUVWXYZ")]
    [InlineData("MT78 MALT ABCD EFGH IJKL MNOP QRST UVWX YZ")]
    // A basic account number of letters (Qatar's is 21 letters or digits): only the check
    // digits are digits.
    [InlineData("QA11ABCDEFGHIJKLMNOPQRSTUVWXY")]
    [InlineData("QA87ABCDEFGHIJKLMNOPQRSTUVW12")]
    [InlineData("GB55WEST1234569876543A")]
    public void Ibans_of_every_length_and_make_up_are_found(string iban)
    {
        Assert.Equal([iban], Found("iban", iban));
        Assert.Equal([iban], Found("iban", $"pay to {iban}."));
    }

    [Theory]
    // Pass mod 97 but are 14 and 35 characters long: no country has such an IBAN.
    [InlineData("XX73 ABCD EFGH 12")]
    [InlineData("MT47 MALT ABCD EFGH IJKL MNOP QRST UVWX YZA")]
    [InlineData("gb82 WEST 1234 5698 7654 32")]
    [InlineData("XGB82WEST12345698765432")]
    [InlineData("GB82WEST12345698765432X")]
    public void Iban_look_alikes_past_the_definition_are_left_alone(string text) => Assert.Empty(Found("iban", text));

    [Fact]
    public void The_mod_97_check_reads_letters_as_two_digits_and_rotates_the_first_four()
    {
        Assert.True(IbanDetector.Mod97("GB82 WEST 1234 5698 7654 32"));
        Assert.True(IbanDetector.Mod97("NO9386011117947"));
        Assert.False(IbanDetector.Mod97("GB28 WEST 1234 5698 7654 32"));
        Assert.False(IbanDetector.Mod97("NO9386011117974"));
        Assert.False(IbanDetector.Mod97("XX73ABCDEFGH12"));
        Assert.False(IbanDetector.Mod97("MT47MALTABCDEFGHIJKLMNOPQRSTUVWXYZA"));
    }

    [Theory]
    [InlineData("4111111111111111")]
    [InlineData("4111 1111 1111 1111")]
    [InlineData("4111-1111-1111-1111")]
    public void A_card_number_at_the_very_start_or_end_of_a_text_is_found(string card)
    {
        Assert.Equal([card], Found("payment-card", card + " "));
        Assert.Equal([card], Found("payment-card", card + "-"));
        Assert.Equal([card], Found("payment-card", card + " x"));
        Assert.Equal([card], Found("payment-card", " " + card));
        Assert.Equal([card], Found("payment-card", "-" + card));
        Assert.Equal([card], Found("payment-card", "x-" + card));
    }

    [Theory]
    [InlineData("4111111111111111110")]
    [InlineData("4111 1111 1111 1111 110")]
    [InlineData("4222222222222")]
    [InlineData("4222 2222 22222")]
    public void The_longest_and_shortest_card_numbers_are_found(string card) => Assert.Equal([card], Found("payment-card", $"n {card} n"));

    [Theory]
    // Twenty digits, grouped or not, are not a card, nor is any part of them.
    [InlineData("4111 1111 1111 1111 1110")]
    [InlineData("41111111111111111110")]
    [InlineData("4111-1111-1111-1111-4111-1111-1111-1111")]
    // Nor is a card number that ends a longer run, wherever the twentieth digit falls: right
    // before it, one digit into it, or at the end of a group before it.
    [InlineData("12345678901234567894111111111111111")]
    [InlineData("123456789012345678904111111111111111")]
    [InlineData("1234 5678 9012 3456 7890 4111 1111 1111 1111")]
    [InlineData("1234-5678-9012-3456-7890-4111-1111-1111-1111")]
    // Unbroken runs joined to other digits that fail the check, or are too short or too long.
    [InlineData("4111111111111112 123")]
    [InlineData("123 411111111111 5500000000000005")]
    [InlineData("41111111111111111110-12")]
    public void Longer_digit_runs_hide_no_card(string text) => Assert.Empty(Found("payment-card", text));

    [Theory]
    // Two separators, or a separator and a letter, end a run: the card after it is a card.
    [InlineData("41111111111111111110  4111111111111111", "4111111111111111")]
    [InlineData("41111111111111111110 - 4111111111111111", "4111111111111111")]
    [InlineData("41111111111111111110 -4111111111111111", "4111111111111111")]
    [InlineData("41111111111111111110 x 4111111111111111", "4111111111111111")]
    [InlineData("4111111111111111  5500000000000004", "4111111111111111,5500000000000004")]
    // An unbroken card is a card even when one space or hyphen joins it to other digits: its
    // security code after it, a list of cards one space apart, a longer number before it.
    [InlineData("4111111111111111 123", "4111111111111111")]
    [InlineData("card 4111111111111111-123 exp", "4111111111111111")]
    [InlineData("4111111111111111 5500000000000004", "4111111111111111,5500000000000004")]
    [InlineData("4111111111111111-5500000000000004 4222222222222", "4111111111111111,5500000000000004,4222222222222")]
    [InlineData("41111111111111111110 4111111111111111", "4111111111111111")]
    [InlineData("12 4111111111111111110 34", "4111111111111111110")]
    [InlineData("4111 1111 1111 1111 5500000000000004", "5500000000000004")]
    public void A_card_after_a_longer_run_is_found(string text, string cards) =>
        Assert.Equal(cards.Split(','), Found("payment-card", text));

    [Theory]
    [InlineData("4111111111111111", true)]
    [InlineData("4111111111111112", false)]
    [InlineData("5500000000000004", true)]
    [InlineData("4242424242424242", true)]
    [InlineData("0000000000000000", true)]
    [InlineData("9999999999999995", true)]
    [InlineData("9999999999999999", false)]
    [InlineData("79927398713", true)]
    [InlineData("79927398710", false)]
    public void The_luhn_check_doubles_every_second_digit_from_the_right(string number, bool valid)
    {
        var digits = number.Select(c => (byte)(c - '0')).ToArray();
        Assert.Equal(valid, PaymentCardDetector.Luhn(digits));
    }

    [Theory]
    [InlineData("+12345678")]
    [InlineData("+123456789012345")]
    [InlineData("+1 234 567 8901 2345")]
    [InlineData("0201 794 6095")]
    [InlineData("020 7946 0958")]
    [InlineData("020-7946-0958")]
    [InlineData("02 7946 0958")]
    public void Phone_numbers_at_the_length_limits_are_found(string phone) => Assert.Equal([phone], Found("phone", $"tel {phone}."));

    [Theory]
    [InlineData("+1234567")]
    [InlineData("+1234567890123456")]
    [InlineData("02 794 0958")]
    [InlineData("02017 7946 0958")]
    public void Phone_look_alikes_past_the_length_limits_are_left_alone(string text) => Assert.Empty(Found("phone", $"tel {text}."));

    [Theory]
    [InlineData("899-12-3456")]
    [InlineData("665-12-3456")]
    [InlineData("667-12-3456")]
    [InlineData("001-01-0001")]
    [InlineData("123-01-6789")]
    [InlineData("123-10-6789")]
    [InlineData("123-45-0001")]
    [InlineData("123-45-1000")]
    public void Ssns_next_to_the_never_issued_ranges_are_found(string ssn) => Assert.Equal([ssn], Found("us-ssn", $"ssn {ssn}."));

    [Theory]
    [InlineData("999-12-3456")]
    [InlineData("966-12-3456")]
    [InlineData("123 45-6789")]
    [InlineData("a123-45-6789")]
    [InlineData("123-45-6789-1")]
    public void Ssn_look_alikes_are_left_alone(string text) => Assert.Empty(Found("us-ssn", text));

    [Theory]
    [InlineData("github-token", "github_pat_11ABCDEFK0123456789_ABCDEFIJKLMNOPQRSTUVWXYZ")]
    [InlineData("github-token", "ghs_16C7e42F292c6912E7710c838347Ae178B4a")]
    [InlineData("ipv6", "::1")]
    [InlineData("ipv6", "1::")]
    [InlineData("ipv4", "0.0.0.0")]
    [InlineData("ipv4", "199.249.100.9")]
    [InlineData("email", "x@ab.cd")]
    public void Short_and_plain_forms_are_found(string detector, string value)
    {
        Assert.Equal([value], Found(detector, value));
        Assert.Equal([value], Found(detector, $"({value})"));
    }

    [Theory]
    [InlineData("payment-card", "4111111111111111 and 5500-0000-0000-0004")]
    [InlineData("payment-card", "4111111111111111 123 and 4222222222222")]
    [InlineData("iban", "GB82WEST12345698765432 and DE89370400440532013000")]
    [InlineData("email", "alice@example.com and bob@example.org")]
    [InlineData("phone", "202-555-0143 and +44 20 7946 0958")]
    [InlineData("us-ssn", "123-45-6789 and 078-05-1120")]
    [InlineData("ipv4", "10.0.0.1 and 10.0.0.2")]
    [InlineData("ipv6", "2001:db8::1 and fe80::1")]
    [InlineData("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2ln and eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI1Njc4In0.c2ln")]
    [InlineData("aws-access-key", "AKIAIOSFODNN7EXAMPLE and ASIAY34FZKBOKMUTVV7A")]
    [InlineData("secret-key", "sk-proj-abcdefghijklmnopqrstuvwx0123 and sk-ant-api03-abcdefghijklmnopqrstuvwxyz")]
    public void A_finder_that_has_seen_enough_stops_the_search(string detector, string text)
    {
        Assert.True(Detectors.TryGet(detector, out var d));
        Assert.Equal(2, Found(detector, text).Count);

        var calls = 0;
        d.Find(text, (_, _) =>
        {
            calls++;
            return false;
        });

        Assert.Equal(1, calls);
        Assert.True(d.Any(text));
        Assert.False(d.Any("nothing to see"));
    }

    [Fact]
    public void The_groups_name_the_detectors_the_documentation_lists()
    {
        Assert.Equal(["secrets", "pii", "all"], Detectors.Groups.Keys.OrderBy(k => k == "all" ? 2 : k == "pii" ? 1 : 0));
        Assert.Equal(["private-key", "jwt", "aws-access-key", "github-token", "secret-key"], [.. Detectors.Groups["secrets"]]);
        Assert.Equal(["email", "phone", "payment-card", "iban", "us-ssn", "ipv4", "ipv6"], [.. Detectors.Groups["pii"]]);
        Assert.Equal([.. Detectors.All.Select(d => d.Name)], [.. Detectors.Groups["all"]]);
        Assert.Equal(Detectors.All.Select(d => d.Name).Order(StringComparer.Ordinal), Detectors.Names);
        Assert.False(Detectors.TryGet("PAYMENT-CARD", out _));
    }

    [Fact]
    public void Each_detector_says_which_prescreen_signal_it_needs()
    {
        var needs = Detectors.All.ToDictionary(d => d.Name, d => d.Needs);
        Assert.Equal(DetectorSignals.PrivateKey, needs["private-key"]);
        Assert.Equal(DetectorSignals.Jwt, needs["jwt"]);
        Assert.Equal(DetectorSignals.AwsAccessKey, needs["aws-access-key"]);
        Assert.Equal(DetectorSignals.GitHubToken, needs["github-token"]);
        Assert.Equal(DetectorSignals.SecretKey, needs["secret-key"]);
        Assert.Equal(DetectorSignals.Email, needs["email"]);
        Assert.Equal(DetectorSignals.PaymentCard, needs["payment-card"]);
        Assert.Equal(DetectorSignals.Iban, needs["iban"]);
        Assert.Equal(DetectorSignals.UsSsn, needs["us-ssn"]);
        Assert.Equal(DetectorSignals.Ipv4, needs["ipv4"]);
        Assert.Equal(DetectorSignals.Ipv6, needs["ipv6"]);
        Assert.Equal(DetectorSignals.Phone, needs["phone"]);
    }

    [Fact]
    public void Labels_say_what_a_redacted_value_was()
    {
        Assert.Equal(
            ["PRIVATE-KEY", "JWT", "AWS-KEY", "GITHUB-TOKEN", "SECRET-KEY", "EMAIL", "CARD", "IBAN", "SSN", "IPV6", "IPV4", "PHONE"],
            Detectors.All.Select(d => d.Label));
    }
}
