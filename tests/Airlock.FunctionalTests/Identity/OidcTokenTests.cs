using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Airlock.FunctionalTests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Airlock.FunctionalTests.Identity;

/// <summary>Access tokens from a real OIDC provider, validated through its discovery document and JWKS.</summary>
public sealed class OidcTokenTests : IAsyncLifetime
{
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Connection("billing", _upstream.BaseUri)
            .TrustIssuer(_idp.Issuer));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task A_valid_token_is_forwarded_and_the_upstream_never_sees_it()
    {
        var token = await _idp.TokenAsync("billing-agent");

        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/customers?limit=5", token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = _upstream.Only();
        Assert.Equal("/v1/customers?limit=5", received.RawTarget);
        Assert.Equal("Bearer " + GatewayConfig.UpstreamToken, received.Header("Authorization"));
        Assert.DoesNotContain(received.Headers, h => h.Value.Contains(token, StringComparison.Ordinal)
            || h.Value.Contains(token.Split('.')[2], StringComparison.Ordinal));
        var session = await _gateway.SessionAsync(response);
        Assert.Equal("corp:billing-agent", session.Subject);
        Assert.Equal("oidc", session.AuthMethod);
        Assert.Null(session.KeyName);
        Assert.Equal("corp", session.Issuer);
        Assert.Equal(["agents", "billing"], session.Groups.ToArray());
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var now = TimeProvider.System.GetUtcNow();
        var token = await _idp.SignAsync(Claims(iat: now.AddHours(-2), exp: now.AddHours(-1)));

        await AssertRefusedAsync(token, "the token has expired");
    }

    [Fact]
    public async Task A_token_from_an_untrusted_issuer_is_refused()
    {
        var other = await TestServices.OtherIdp;
        var token = await other.TokenAsync("billing-agent");

        await AssertRefusedAsync(token, "the token's issuer is not trusted");
    }

    [Fact]
    public async Task A_token_naming_the_trusted_issuer_but_signed_by_another_key_is_refused()
    {
        var other = await TestServices.OtherIdp;
        // The other provider signs a token that claims to come from the trusted one.
        var token = await other.SignAsync(Claims());

        await AssertRefusedAsync(token, "the token's signature is not valid");
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused()
    {
        var token = await _idp.SignAsync(Claims(audience: "urn:some-other-api"));

        await AssertRefusedAsync(token, "the token was issued for another audience");
    }

    [Fact]
    public async Task A_token_with_a_tampered_payload_is_refused()
    {
        var token = await _idp.TokenAsync("report-agent");
        var parts = token.Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]).Replace("\"agents\"", "\"billing\"", StringComparison.Ordinal);
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";

        await AssertRefusedAsync(tampered, "the token's signature is not valid");
    }

    [Fact]
    public async Task An_unsigned_alg_none_token_is_refused()
    {
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"at+jwt"}""");
        var payload = Base64UrlEncoder.Encode(JsonSerializer.Serialize(Claims()));

        await AssertRefusedAsync($"{header}.{payload}.", "the token's signing algorithm is not accepted");
    }

    [Fact]
    public async Task An_hs256_token_signed_with_the_public_key_is_refused()
    {
        // The classic key-confusion attack: HMAC "signed" with the issuer's public RSA key.
        var jwk = await _idp.SigningKeyAsync();
        using var rsa = RSA.Create(new RSAParameters
        {
            Modulus = Base64UrlEncoder.DecodeBytes((string)jwk["n"]!),
            Exponent = Base64UrlEncoder.DecodeBytes((string)jwk["e"]!),
        });
        var publicKeyPem = Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem());
        var header = Base64UrlEncoder.Encode($$"""{"alg":"HS256","typ":"at+jwt","kid":"{{(string)jwk["kid"]!}}"}""");
        var payload = Base64UrlEncoder.Encode(JsonSerializer.Serialize(Claims()));
        var signature = Base64UrlEncoder.Encode(HMACSHA256.HashData(publicKeyPem, Encoding.ASCII.GetBytes($"{header}.{payload}")));

        await AssertRefusedAsync($"{header}.{payload}.{signature}", "the token's signing algorithm is not accepted");
    }

    [Fact]
    public async Task An_id_token_is_not_an_access_token()
    {
        var token = await _idp.SignAsync(Claims(), header: new { typ = "JWT" });

        await AssertRefusedAsync(token, "the token's type is not accepted; an OAuth access token is required");
    }

    [Fact]
    public async Task A_token_without_expiry_is_refused()
    {
        var claims = Claims();
        claims.Remove("exp");
        var token = await _idp.SignAsync(claims);

        await AssertRefusedAsync(token, "the token has no expiry");
    }

    [Theory]
    [InlineData("not-a-jwt-at-all")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.bm90LWpzb24.c2ln")]
    [InlineData("a.b.c")]
    public async Task Something_that_is_not_a_token_is_refused(string token)
    {
        await AssertRefusedAsync(token, "the bearer token is neither an Airlock API key nor a JWT");
    }

    [Fact]
    public async Task An_encrypted_token_is_refused_with_a_clear_reason()
    {
        await AssertRefusedAsync("eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d",
            "encrypted tokens (JWE) are not accepted; send a signed access token");
    }

    [Fact]
    public async Task A_token_cannot_pass_for_an_api_key()
    {
        var claims = Claims();
        claims["sub"] = "key:billing-agent";
        claims["airlock:key_name"] = "billing-agent";
        claims["airlock:key_id"] = "0123456789abcdef";
        var token = await _idp.SignAsync(claims);

        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var session = await _gateway.SessionAsync(response);
        Assert.Equal("corp:key:billing-agent", session.Subject);
        Assert.Equal("oidc", session.AuthMethod);
        Assert.Null(session.KeyName);
        Assert.Null(session.KeyId);
    }

    private async Task AssertRefusedAsync(string token, string detail)
    {
        using var response = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/customers", token));

        await ApiKeyTests.AssertUnauthenticatedAsync(response, detail);
        Assert.Empty(_upstream.Received);
    }

    private Dictionary<string, object> Claims(DateTimeOffset? iat = null, DateTimeOffset? exp = null, string audience = OidcProvider.Audience)
    {
        var issuedAt = iat ?? TimeProvider.System.GetUtcNow();
        return new Dictionary<string, object>
        {
            ["iss"] = _idp.Issuer,
            ["sub"] = "billing-agent",
            ["aud"] = audience,
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
            ["exp"] = (exp ?? issuedAt.AddMinutes(5)).ToUnixTimeSeconds(),
            ["groups"] = new[] { "agents" },
        };
    }
}

/// <summary>Several issuers at once, each with its own settings.</summary>
public sealed class MultipleIssuerTests
{
    [Fact]
    public async Task Tokens_from_every_trusted_issuer_are_accepted_and_attributed()
    {
        var corp = await TestServices.Idp;
        var partner = await TestServices.OtherIdp;
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Connection("billing", upstream.BaseUri)
            .TrustIssuer(corp.Issuer, "corp")
            .TrustIssuer(partner.Issuer, "partner"));

        using var fromCorp = await gateway.Proxy.SendAsync(TestGateway.Get("/billing/a", await corp.TokenAsync("billing-agent")));
        using var fromPartner = await gateway.Proxy.SendAsync(TestGateway.Get("/billing/b", await partner.TokenAsync("report-agent")));

        Assert.Equal(HttpStatusCode.OK, fromCorp.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fromPartner.StatusCode);
        Assert.Equal("corp", (await gateway.SessionAsync(fromCorp)).Issuer);
        var partnerSession = await gateway.SessionAsync(fromPartner);
        Assert.Equal("partner", partnerSession.Issuer);
        Assert.Equal("partner:report-agent", partnerSession.Subject);
    }

    [Fact]
    public async Task A_token_signed_with_an_algorithm_outside_the_allow_list_is_refused()
    {
        var idp = await TestServices.Idp;
        await using var upstream = await TestUpstream.StartAsync();
        var config = new GatewayConfig().Connection("billing", upstream.BaseUri).TrustIssuer(idp.Issuer);
        config.Issuers[0] += "\n      algorithms: [ES256]";
        await using var gateway = await TestGateway.StartAsync(config);

        using var response = await gateway.Proxy.SendAsync(TestGateway.Get("/billing/a", await idp.TokenAsync("billing-agent")));

        await ApiKeyTests.AssertUnauthenticatedAsync(response, "the token's signing algorithm is not accepted");
        Assert.Empty(upstream.Received);
    }
}
