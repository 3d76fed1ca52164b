using Airlock.Gateway.Forwarding;

namespace Airlock.Gateway.Tests.Forwarding;

public class UntrustedHeadersTests
{
    [Theory]
    [InlineData("Authorization")]
    [InlineData("authorization")]
    [InlineData("Proxy-Authorization")]
    [InlineData("Cookie")]
    [InlineData("Forwarded")]
    [InlineData("X-Forwarded-User")]
    [InlineData("X-Forwarded-For")]
    [InlineData("x-auth-request-email")]
    [InlineData("Remote-User")]
    [InlineData("X-Remote-Group")]
    [InlineData("X-Amzn-Oidc-Identity")]
    [InlineData("X-MS-CLIENT-PRINCIPAL-NAME")]
    [InlineData("X-Goog-Authenticated-User-Email")]
    [InlineData("Cf-Access-Jwt-Assertion")]
    [InlineData("X-Pomerium-Jwt-Assertion")]
    [InlineData("Airlock-Session")]
    [InlineData("X-Airlock-Subject")]
    [InlineData("Impersonate-User")]
    [InlineData("X-Real-IP")]
    [InlineData("True-Client-IP")]
    [InlineData("X-HTTP-Method-Override")]
    [InlineData("X-Original-URL")]
    [InlineData("X-Rewrite-URL")]
    public void Identity_credential_address_and_rewrite_headers_are_untrusted(string name)
    {
        Assert.True(UntrustedHeaders.IsUntrusted(name));
    }

    [Theory]
    [InlineData("X_Remote_User")]
    [InlineData("x_http_method_override")]
    [InlineData("X_Forwarded_For")]
    [InlineData("X-Original_URL")]
    [InlineData("Proxy_Authorization")]
    public void Underscore_spellings_are_untrusted_alike(string name)
    {
        // CGI-style upstreams read '_' as '-': X_Remote_User is their X-Remote-User.
        Assert.True(UntrustedHeaders.IsUntrusted(name));
    }

    [Theory]
    [InlineData("Accept")]
    [InlineData("Content-Type")]
    [InlineData("X-Request-Id")]
    [InlineData("User-Agent")]
    [InlineData("Idempotency-Key")]
    public void Ordinary_headers_pass(string name)
    {
        Assert.False(UntrustedHeaders.IsUntrusted(name));
    }
}
