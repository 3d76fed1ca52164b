using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Masking;
using static Airlock.Gateway.Tests.Masking.MaskingTestPlans;

namespace Airlock.Gateway.Tests.Masking;

/// <summary>
/// One value through a plan's detector rules: what an agent sees in place of each sensitive
/// value (redacted, partial, keyed hash, dropped), which rule wins where finds overlap, what is
/// counted, and where a long text is cut so that no value is split.
/// </summary>
public class ValueMaskerTests
{
    private static DetectorRule Custom(string name, string pattern, MaskAction action = MaskAction.Redact) =>
        new(RegexDetector.Custom(name, pattern), action);

    private static DetectorRule Labelled(string label, string pattern, MaskAction action) =>
        new(new RegexDetector(label.ToLowerInvariant(), label, new Regex(pattern, RegexOptions.NonBacktracking)), action);

    private static (ValueMasker.Outcome Outcome, string Masked, MaskCounts Counts) Mask(string text, params DetectorRule[] rules)
    {
        var counts = new MaskCounts();
        var outcome = new ValueMasker(Plan(null, rules), counts).Mask(text, out var masked);
        return (outcome, masked, counts);
    }

    private static string HashOf(string value, string label) =>
        $"[{label}:{Convert.ToHexStringLower(HMACSHA256.HashData(HashKey, Encoding.UTF8.GetBytes(value)).AsSpan(0, 8))}]";

    [Fact]
    public void Text_with_nothing_sensitive_is_unchanged_and_nothing_is_counted()
    {
        var (outcome, masked, counts) = Mask("invoice 42 is paid", Detect("email"), Detect("payment-card"));

        Assert.Equal(ValueMasker.Outcome.Unchanged, outcome);
        Assert.Equal("", masked);
        Assert.Equal(0, counts.Total);
    }

    [Fact]
    public void A_plan_without_detectors_changes_nothing()
    {
        var masker = new ValueMasker(Plan(null), new MaskCounts());

        Assert.Equal(ValueMasker.Outcome.Unchanged, masker.Mask("ada@example.com", out var masked));
        Assert.Equal("", masked);
        Assert.False(masker.MightFind("ada@example.com"u8, 0, 15));
        Assert.False(masker.HasCustomDetectors);

        // Nothing to look for, so the text is not even screened: it passes with no signals seen.
        Assert.False(masker.MightFind("ada@example.com"u8, 0, 15, out var signals));
        Assert.Equal(DetectorSignals.None, signals);
    }

    [Fact]
    public void Each_value_found_is_redacted_in_place_and_counted_by_label()
    {
        var (outcome, masked, counts) = Mask("mail ada@example.com or bob@example.org, card 4111 1111 1111 1111.",
            Detect("email"), Detect("payment-card"));

        Assert.Equal(ValueMasker.Outcome.Masked, outcome);
        Assert.Equal("mail [REDACTED:EMAIL] or [REDACTED:EMAIL], card [REDACTED:CARD].", masked);
        Assert.Equal(3, counts.Total);
        Assert.Equal(new Dictionary<string, long> { ["EMAIL"] = 2, ["CARD"] = 1 }, counts.ByLabel.ToDictionary());
    }

    [Fact]
    public void A_value_that_is_the_whole_text_is_replaced_whole()
    {
        Assert.Equal("[REDACTED:EMAIL]", Mask("ada@example.com", Detect("email")).Masked);
    }

    [Theory]
    [InlineData("4242 4242 4242 4242", "****4242")]
    [InlineData("5500-0000-0000-0004", "****0004")]
    [InlineData("DE89 3704 0044 0532 0130 00", "****3000")]
    public void Partial_keeps_the_last_four_letters_or_digits_without_separators(string value, string expected)
    {
        var (outcome, masked, _) = Mask($"pay {value} now", Detect("payment-card", MaskAction.Partial), Detect("iban", MaskAction.Partial));

        Assert.Equal(ValueMasker.Outcome.Masked, outcome);
        Assert.Equal($"pay {expected} now", masked);
    }

    [Theory]
    [InlineData("ab-cd-ef-gh", "****efgh")]
    [InlineData("ab-cd-ef-g", "****")]
    [InlineData("abcdefg", "****")]
    [InlineData("a", "****")]
    public void Partial_keeps_four_only_of_a_value_with_at_least_eight_letters_or_digits(string value, string expected)
    {
        var builder = new StringBuilder();

        ValueMasker.Apply(builder, value, MaskAction.Partial, "CODE", null);

        Assert.Equal(expected, builder.ToString());
    }

    [Theory]
    [InlineData("ada@example.com", "a***@example.com")]
    [InlineData("x.y@mail.example.org", "x***@mail.example.org")]
    public void Partial_keeps_an_email_s_first_letter_and_domain(string value, string expected)
    {
        Assert.Equal($"to {expected}", Mask($"to {value}", Detect("email", MaskAction.Partial)).Masked);
    }

    [Fact]
    public void Partial_of_an_email_label_without_a_local_part_keeps_only_the_last_four()
    {
        // A custom rule labelled EMAIL can find text that is not an address.
        Assert.Equal("[****mple]", Mask("[@example.sample]", Labelled("EMAIL", "@[a-z.]+", MaskAction.Partial)).Masked);
        Assert.Equal("[****mple]", Mask("[example.sample]", Labelled("EMAIL", "[a-z.]+", MaskAction.Partial)).Masked);
    }

    [Fact]
    public void Partial_of_another_label_keeps_no_domain_even_with_an_at_sign()
    {
        var builder = new StringBuilder();

        ValueMasker.Apply(builder, "ada@example.com", MaskAction.Partial, "NAME", null);

        Assert.Equal("****ecom", builder.ToString());
    }

    [Fact]
    public void Hash_replaces_a_value_with_its_keyed_hash_so_equal_values_still_join()
    {
        var (outcome, masked, counts) = Mask("from ada@example.com to ada@example.com and bob@example.com", Detect("email", MaskAction.Hash));

        Assert.Equal(ValueMasker.Outcome.Masked, outcome);
        var ada = HashOf("ada@example.com", "EMAIL");
        Assert.Equal($"from {ada} to {ada} and {HashOf("bob@example.com", "EMAIL")}", masked);
        Assert.Matches("^\\[EMAIL:[0-9a-f]{16}\\]$", ada);
        Assert.Equal(3, counts.Total);
    }

    [Fact]
    public void Hash_depends_on_the_key()
    {
        var one = new StringBuilder();
        var other = new StringBuilder();

        ValueMasker.Apply(one, "ada@example.com", MaskAction.Hash, "EMAIL", HashKey);
        ValueMasker.Apply(other, "ada@example.com", MaskAction.Hash, "EMAIL", Encoding.UTF8.GetBytes("another-hash-key-0123456789abc"));

        Assert.NotEqual(one.ToString(), other.ToString());
    }

    [Fact]
    public void Drop_asks_for_the_field_to_go_and_leaves_the_text_without_the_value()
    {
        var (outcome, masked, counts) = Mask("key AKIAIOSFODNN7EXAMPLE, mail ada@example.com", Detect("aws-access-key", MaskAction.Drop), Detect("email"));

        Assert.Equal(ValueMasker.Outcome.Drop, outcome);
        Assert.Equal("key , mail [REDACTED:EMAIL]", masked);
        Assert.Equal(new Dictionary<string, long> { ["AWS-KEY"] = 1, ["EMAIL"] = 1 }, counts.ByLabel.ToDictionary());
    }

    [Fact]
    public void Where_finds_overlap_the_one_that_starts_first_wins_whole()
    {
        var (_, masked, counts) = Mask("x 123-456 7890", Custom("late", "456 7890"), Custom("early", "123-456"));

        Assert.Equal("x [REDACTED:EARLY] 7890", masked);
        Assert.Equal(new Dictionary<string, long> { ["EARLY"] = 1 }, counts.ByLabel.ToDictionary());
    }

    [Fact]
    public void Where_two_rules_find_the_same_value_the_rule_listed_first_wins_every_time()
    {
        // Enough finds (two per value) that sorting them is not a simple insertion sort: the
        // tie on the same start and length must still go to the earlier rule, not to chance.
        var text = string.Join(' ', Enumerable.Range(10, 40).Select(i => $"id{i}"));

        var (_, masked, counts) = Mask(text, Custom("first", @"id\d\d"), Custom("second", @"id\d\d"));

        Assert.Equal(string.Join(' ', Enumerable.Repeat("[REDACTED:FIRST]", 40)), masked);
        Assert.Equal(new Dictionary<string, long> { ["FIRST"] = 40 }, counts.ByLabel.ToDictionary());
    }

    [Fact]
    public void A_value_after_an_overlap_that_lost_is_still_masked()
    {
        var (_, masked, counts) = Mask("x 123-456 7890 ada@example.com", Custom("late", "456 7890"), Custom("early", "123-456"), Detect("email"));

        Assert.Equal("x [REDACTED:EARLY] 7890 [REDACTED:EMAIL]", masked);
        Assert.Equal(2, counts.Total);
    }

    [Fact]
    public void Values_side_by_side_are_each_masked()
    {
        var (_, masked, counts) = Mask("abcd", Custom("one", "ab"), Custom("two", "cd"));

        Assert.Equal("[REDACTED:ONE][REDACTED:TWO]", masked);
        Assert.Equal(2, counts.Total);
    }

    [Fact]
    public void Where_finds_start_together_the_longer_wins()
    {
        var (_, masked, counts) = Mask("id abcdef!", Custom("short", "abc"), Custom("long", "abcdef"));

        Assert.Equal("id [REDACTED:LONG]!", masked);
        Assert.Equal(1, counts.Total);
    }

    [Fact]
    public void Where_finds_are_the_same_the_rule_listed_first_wins()
    {
        Assert.Equal("id [REDACTED:SECOND]!", Mask("id abcdef!", Custom("second", "abcdef"), Custom("first", "abcdef")).Masked);
        Assert.Equal("id [REDACTED:FIRST]!", Mask("id abcdef!", Custom("first", "abcdef"), Custom("second", "abcdef")).Masked);
    }

    [Fact]
    public void A_card_number_is_never_half_masked_as_a_phone_number()
    {
        var (_, masked, counts) = Mask("card 4111 1111 1111 1111 ok", Detect("phone"), Detect("payment-card"));

        Assert.Equal("card [REDACTED:CARD] ok", masked);
        Assert.Equal(new Dictionary<string, long> { ["CARD"] = 1 }, counts.ByLabel.ToDictionary());
    }

    [Fact]
    public void Only_the_detectors_whose_signal_the_text_holds_run_but_a_custom_one_always_runs()
    {
        var counts = new MaskCounts();
        var masker = new ValueMasker(Plan(null, Detect("email"), Custom("ticket", "T-[0-9]+")), counts);

        Assert.True(masker.HasCustomDetectors);
        // Told the text holds no signal, the built-in email rule does not run; the custom one does.
        Assert.Equal(ValueMasker.Outcome.Masked, masker.Mask("ada@example.com T-42", DetectorSignals.Always, out var masked));
        Assert.Equal("ada@example.com [REDACTED:TICKET]", masked);
        Assert.Equal(ValueMasker.Outcome.Unchanged, masker.Mask("ada@example.com", DetectorSignals.None, out _));
        Assert.Equal(ValueMasker.Outcome.Masked, masker.Mask("ada@example.com", DetectorSignals.Email, out masked));
        Assert.Equal("[REDACTED:EMAIL]", masked);
    }

    [Fact]
    public void A_plan_of_built_in_detectors_has_no_custom_ones_and_a_value_without_their_signal_is_passed_undecoded()
    {
        var masker = new ValueMasker(Plan(null, Detect("email"), Detect("payment-card")), new MaskCounts());
        var json = "{\"a\":\"plain words\",\"b\":\"ada@example.com\"}"u8;

        Assert.False(masker.HasCustomDetectors);
        Assert.False(masker.MightFind(json, 6, 11, out var none));
        Assert.Equal(DetectorSignals.None, none & (DetectorSignals.Email | DetectorSignals.PaymentCard));
        Assert.True(masker.MightFind(json, 24, 15, out var signals));
        Assert.True(signals.HasFlag(DetectorSignals.Email));
        Assert.True(masker.MightFind(json, 24, 15));
    }

    [Fact]
    public void The_masker_is_reused_value_after_value_without_carrying_finds_over()
    {
        var counts = new MaskCounts();
        var masker = new ValueMasker(Plan(null, Detect("email")), counts);

        Assert.Equal(ValueMasker.Outcome.Masked, masker.Mask("ada@example.com is first", out var first));
        Assert.Equal(ValueMasker.Outcome.Unchanged, masker.Mask("then nothing", out _));
        Assert.Equal(ValueMasker.Outcome.Masked, masker.Mask("last bob@example.com", out var last));

        Assert.Equal(("[REDACTED:EMAIL] is first", "last [REDACTED:EMAIL]"), (first, last));
        Assert.Equal(2, counts.Total);
    }

    [Fact]
    public void Cutting_the_head_of_a_long_text_moves_the_cut_back_to_the_start_of_a_value_across_it()
    {
        var counts = new MaskCounts();
        var masker = new ValueMasker(Plan(null, Detect("email")), counts);
        const string text = "to ada@example.com and bob@example.com";
        var cut = 10;

        var outcome = masker.MaskHead(text, ref cut, out var masked);

        Assert.Equal(ValueMasker.Outcome.Unchanged, outcome);
        Assert.Equal(3, cut);
        Assert.Equal("to ", masked);
        Assert.Equal(0, counts.Total);
    }

    [Fact]
    public void Cutting_the_head_masks_the_values_before_the_cut_and_leaves_the_rest_for_later()
    {
        var counts = new MaskCounts();
        var masker = new ValueMasker(Plan(null, Detect("email")), counts);
        const string text = "to ada@example.com and bob@example.com";
        var cut = 25;

        var outcome = masker.MaskHead(text, ref cut, out var masked);

        Assert.Equal(ValueMasker.Outcome.Masked, outcome);
        Assert.Equal(23, cut);
        Assert.Equal("to [REDACTED:EMAIL] and ", masked);
        Assert.Equal(1, counts.Total);
    }

    [Fact]
    public void A_cut_at_the_end_of_a_value_keeps_the_value_whole_before_it()
    {
        var masker = new ValueMasker(Plan(null, Detect("email")), new MaskCounts());
        const string text = "to ada@example.com and more";
        var cut = 18;

        Assert.Equal(ValueMasker.Outcome.Masked, masker.MaskHead(text, ref cut, out var masked));
        Assert.Equal(18, cut);
        Assert.Equal("to [REDACTED:EMAIL]", masked);
    }

    [Fact]
    public void Overlapping_values_across_a_cut_move_it_back_again_and_again()
    {
        // "cdefgh" crosses the cut at 6, which moves to 3, where "abcd" crosses it: the cut goes to 1.
        var masker = new ValueMasker(Plan(null, Custom("one", "abcd"), Custom("two", "cdefgh")), new MaskCounts());
        const string text = "xabcdefghy";
        var cut = 6;

        Assert.Equal(ValueMasker.Outcome.Unchanged, masker.MaskHead(text, ref cut, out var masked));
        Assert.Equal(1, cut);
        Assert.Equal("x", masked);
    }

    [Fact]
    public void A_value_longer_than_the_head_is_masked_as_far_as_the_text_holds_it()
    {
        var counts = new MaskCounts();
        var masker = new ValueMasker(Plan(null, Detect("email")), counts);
        const string text = "ada@example.com and";
        var cut = 8;

        var outcome = masker.MaskHead(text, ref cut, out var masked);

        Assert.Equal(ValueMasker.Outcome.Masked, outcome);
        Assert.Equal(text.Length, cut);
        Assert.Equal("[REDACTED:EMAIL] and", masked);
        Assert.Equal(1, counts.Total);
    }

    [Fact]
    public void Cutting_the_head_of_a_text_with_nothing_to_mask_leaves_the_cut_where_it_was()
    {
        var masker = new ValueMasker(Plan(null, Detect("email")), new MaskCounts());
        var cut = 5;

        Assert.Equal(ValueMasker.Outcome.Unchanged, masker.MaskHead("plain text here", ref cut, out var masked));
        Assert.Equal(5, cut);
        Assert.Equal("", masked);
    }

    [Fact]
    public void Cutting_the_head_with_a_drop_rule_asks_for_the_drop_and_leaves_the_value_out()
    {
        var masker = new ValueMasker(Plan(null, Detect("email", MaskAction.Drop)), new MaskCounts());
        const string text = "to ada@example.com and bob@example.com";
        var cut = 25;

        Assert.Equal(ValueMasker.Outcome.Drop, masker.MaskHead(text, ref cut, out var masked));
        Assert.Equal("to  and ", masked);
    }
}
