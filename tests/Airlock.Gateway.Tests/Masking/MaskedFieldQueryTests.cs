using Airlock.Gateway.Masking;

namespace Airlock.Gateway.Tests.Masking;

/// <summary>Which parameter and field names refer to a masked field: its name, without case,
/// between word boundaries.</summary>
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
    [InlineData("card_number_like", "card_number")]
    [InlineData("cardNumberGte", "cardNumber")]
    [InlineData("lessn ssn", "ssn")]
    public void A_name_refers_to_the_field_it_contains_as_a_word(string name, string field)
    {
        Assert.True(MaskedFieldQuery.RefersTo(name, field));
    }

    [Theory]
    [InlineData("ssnx", "ssn")]
    [InlineData("lessn", "ssn")]
    [InlineData("discard", "card")]
    [InlineData("cardinal", "card")]
    [InlineData("SSNLike", "ssn")]
    [InlineData("ss_n", "ssn")]
    [InlineData("", "ssn")]
    public void A_name_that_only_contains_the_letters_does_not(string name, string field)
    {
        Assert.False(MaskedFieldQuery.RefersTo(name, field));
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
