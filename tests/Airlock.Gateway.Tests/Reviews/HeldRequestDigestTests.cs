using Airlock.Gateway.Reviews;

namespace Airlock.Gateway.Tests.Reviews;

public class HeldRequestDigestTests
{
    private static readonly HeldRequest Refund = new("billing", "POST", "/billing/v1/refunds", "a=1",
        [new("Content-Type", "application/json"), new("X-Trace", "1")], "{\"amount\":500}"u8.ToArray(), "127.0.0.1");

    [Fact]
    public void The_same_request_has_the_same_hash_and_the_client_address_is_not_part_of_it()
    {
        Assert.Equal(HeldRequestDigest.Of(Refund), HeldRequestDigest.Of(Refund with { ClientAddress = "10.0.0.1" }));
        Assert.Matches("^sha256:[0-9a-f]{64}$", HeldRequestDigest.Of(Refund));
    }

    [Fact]
    public void Any_change_to_what_is_sent_changes_the_hash_even_a_byte_moved_between_fields()
    {
        var hashes = new[]
        {
            Refund,
            Refund with { Body = "{\"amount\":5000}"u8.ToArray() },
            Refund with { Method = "PUT" },
            Refund with { Connection = "crm" },
            Refund with { Path = "/billing/v1/refunds?a=1", Query = null },
            Refund with { Query = null },
            Refund with { Query = "" },
            Refund with { Headers = [new("Content-Type", "application/json"), new("X-Trace", "2")] },
            Refund with { Headers = [new("X-Trace", "1"), new("Content-Type", "application/json")] },
            Refund with { Headers = [new("Content-Type", "application/jsonX-Trace"), new("", "1")] },
        }.Select(HeldRequestDigest.Of).ToList();

        Assert.Equal(hashes.Count, hashes.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData(true, "")]
    [InlineData(true, "upper")]
    [InlineData(true, "bare")]
    [InlineData(false, "other")]
    public void A_shown_hash_matches_whatever_its_case_or_prefix(bool matches, string how)
    {
        var hash = HeldRequestDigest.Of(Refund);
        var shown = how switch
        {
            "upper" => hash.ToUpperInvariant(),
            "bare" => hash["sha256:".Length..],
            "other" => HeldRequestDigest.Of(Refund with { Method = "PUT" }),
            _ => hash,
        };

        Assert.Equal(matches, HeldRequestDigest.Matches(Refund, shown));
    }
}
