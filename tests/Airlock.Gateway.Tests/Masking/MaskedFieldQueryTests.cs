using Airlock.Gateway.Masking;

namespace Airlock.Gateway.Tests.Masking;

/// <summary>Which parameter and field names refer to a masked field: its name as a run of whole
/// words, compared folded (letters and digits only, without case), so that camelCase, snake_case
/// and kebab-case spellings are one; and which path segments name it (the whole segment).</summary>
public class MaskedFieldQueryTests
{
    [Theory]
    [InlineData("ssn", "ssn")]
    [InlineData("SSN", "ssn")]
    [InlineData("ssn_like", "ssn")]
    [InlineData("ssn[gte]", "ssn")]
    [InlineData("filter[ssn]", "ssn")]
    [InlineData("customer.ssn", "ssn")]
    [InlineData("customer__ssn__startswith", "ssn")]
    [InlineData("q[customer_ssn_cont]", "ssn")]
    [InlineData("customerSsn", "ssn")]
    [InlineData("ssnLike", "ssn")]
    [InlineData("$ssn", "ssn")]
    [InlineData("lessn ssn", "ssn")]
    // An upper-case run ends before the last capital a lower-case letter follows.
    [InlineData("SSNLike", "ssn")]
    [InlineData("customerSSNPrefix", "ssn")]
    [InlineData("customer_SSN", "ssn")]
    [InlineData("line2Ssn", "ssn")]
    // Spellings ORMs convert between are one.
    [InlineData("card_number_like", "card_number")]
    [InlineData("cardNumber_like", "card_number")]
    [InlineData("CardNumberGte", "card_number")]
    [InlineData("card-number", "card_number")]
    [InlineData("CARD_NUMBER", "card_number")]
    [InlineData("cardnumber", "card_number")]
    [InlineData("filter[cardnumber][like]", "card_number")]
    [InlineData("cardNumberGte", "cardNumber")]
    [InlineData("card_number__startswith", "cardNumber")]
    [InlineData("customer.tax_id", "tax id")]
    [InlineData("ss_n", "ssn")]
    public void A_name_refers_to_the_field_it_contains_as_whole_words(string name, string field)
    {
        Assert.True(MaskedFieldQuery.RefersTo(name, field));
    }

    [Theory]
    [InlineData("ssnx", "ssn")]
    [InlineData("lessn", "ssn")]
    [InlineData("ssn2", "ssn")]
    [InlineData("discard", "card")]
    [InlineData("cardinal", "card")]
    [InlineData("Discard", "card")]
    [InlineData("cardnumbers", "card_number")]
    [InlineData("scard_number", "card_number")]
    [InlineData("idempotency_key", "id")]
    [InlineData("paid", "id")]
    [InlineData("emailing", "email")]
    [InlineData("", "ssn")]
    [InlineData("ssn", "")]
    [InlineData("ssn", "_")]
    public void A_name_that_only_contains_the_letters_does_not(string name, string field)
    {
        Assert.False(MaskedFieldQuery.RefersTo(name, field));
    }

    [Fact]
    public void A_long_name_is_compared_the_same_way()
    {
        var name = new string('x', 300) + "_cardNumber_" + new string('y', 300);

        Assert.True(MaskedFieldQuery.RefersTo(name, "card_number"));
        Assert.False(MaskedFieldQuery.RefersTo(new string('x', 300) + "cardnumber", "card_number"));
    }

    [Theory]
    [InlineData("ssn", "ssn", true)]
    [InlineData("SSN", "ssn", true)]
    [InlineData("card-number", "card_number", true)]
    [InlineData("cardNumber", "card_number", true)]
    [InlineData("email-templates", "email", false)]
    [InlineData("by-ssn", "ssn", false)]
    [InlineData("ssns", "ssn", false)]
    public void A_path_segment_names_a_field_only_as_a_whole(string segment, string field, bool names)
    {
        Assert.Equal(names, MaskedFieldQuery.Names(segment, field));
    }

    [Theory]
    [InlineData("$..ssn", "ssn")]
    [InlineData("$.customers[*].card", "card")]
    [InlineData("$.secret.*", "secret")]
    [InlineData("$['tax id']", "tax id")]
    [InlineData("$..*", null)]
    public void A_field_path_names_its_last_field(string path, string? field)
    {
        Assert.True(JsonPathPattern.TryParse(path, out var pattern, out _));
        Assert.Equal(field, pattern!.FieldName);
    }
}
