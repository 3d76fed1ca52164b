using Airlock.Gateway.Recording;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Tests.Recording;

public class RecordedHeadersTests
{
    [Theory]
    [InlineData("Authorization")]
    [InlineData("proxy-authorization")]
    [InlineData("Cookie")]
    [InlineData("Set-Cookie")]
    [InlineData("X-Api-Key")]
    [InlineData("Api-Key")]
    [InlineData("X-ApiKey")]
    [InlineData("Ocp-Apim-Subscription-Key")]
    [InlineData("X-Functions-Key")]
    [InlineData("X-Auth-Token")]
    [InlineData("X-Access-Token")]
    [InlineData("X-Amz-Security-Token")]
    [InlineData("X-Upstream-Token")]
    [InlineData("X-CSRF-Token")]
    [InlineData("Client_Secret")]
    [InlineData("X-Password")]
    [InlineData("X-Session-Id")]
    [InlineData("X-Hub-Signature-256")]
    [InlineData("X-Credential")]
    [InlineData("X-Jwt-Assertion")]
    [InlineData("Authentication-Info")]
    public void A_header_that_carries_a_credential_is_withheld(string name) => Assert.True(RecordedHeaders.IsCredential(name));

    [Theory]
    [InlineData("Access-Control-Allow-Credentials")]
    [InlineData("Access-Control-Allow-Headers")]
    [InlineData("Idempotency-Key")]
    [InlineData("Sec-WebSocket-Key")]
    [InlineData("WWW-Authenticate")]
    [InlineData("X-OAuth-Scopes")]
    [InlineData("X-Keycloak-Realm")]
    [InlineData("Keep-Alive")]
    [InlineData("Content-Type")]
    [InlineData("X-Request-Id")]
    [InlineData("Airlock-Session")]
    public void A_header_whose_name_only_looks_like_a_secret_s_is_kept(string name) => Assert.False(RecordedHeaders.IsCredential(name));

    [Fact]
    public void The_connection_s_own_credential_header_is_withheld_whatever_its_name()
    {
        Assert.False(RecordedHeaders.IsCredential("X-Partner"));
        Assert.True(RecordedHeaders.IsCredential("x-partner", injectedHeader: "X-Partner"));
    }

    [Fact]
    public void Kept_values_in_a_secret_s_format_are_redacted()
    {
        var headers = new HeaderDictionary
        {
            ["Access-Control-Allow-Credentials"] = "true",
            ["X-Trace"] = "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            ["X-Api-Key"] = "opaque",
        };

        var recorded = RecordedHeaders.From(headers).ToArray();

        KeyValuePair<string, string>[] expected =
            [new("Access-Control-Allow-Credentials", "true"), new("X-Trace", "[REDACTED:GITHUB-TOKEN]"), new("X-Api-Key", RecordedHeaders.Withheld)];
        Assert.Equal(expected, recorded);
    }

    [Theory]
    [InlineData("limit=5&api_key=k&access_token=t", "limit=5&api_key=%5BWITHHELD%5D&access_token=%5BWITHHELD%5D")]
    [InlineData("sv=2024&sig=abc&keyword=refund", "sv=2024&sig=%5BWITHHELD%5D&keyword=refund")]
    public void Secret_named_query_parameters_are_withheld(string query, string recorded) => Assert.Equal(recorded, RecordedHeaders.Query(query));
}
