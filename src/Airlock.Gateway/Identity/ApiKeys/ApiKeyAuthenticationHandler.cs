using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Airlock.Gateway.Identity.ApiKeys;

/// <summary>
/// ASP.NET authentication for agent API keys sent as <c>Authorization: Bearer alk_…</c>.
/// The key's id finds the stored record (through <see cref="ApiKeyCache"/>, which bounds how
/// long a revocation made elsewhere takes to apply); the secret is compared with its stored
/// hash in constant time; revoked keys fail.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyCache keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "apikey";
    public const string KeyIdClaim = "airlock:key_id";
    public const string KeyNameClaim = "airlock:key_name";
    public const string GroupClaim = "airlock:group";
    public const string OwnerClaim = "airlock:owner";

    /// <summary>Kept to equalise the work done for unknown ids with the work for known ones.</summary>
    private static readonly byte[] DecoyHash = new byte[32];

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = BearerToken.From(Request);
        if (token is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (!ApiKeyFormat.TryParse(token, out var id, out var secret))
        {
            return AuthenticateResult.Fail(new CredentialRejectedException("the API key is malformed") { Reason = "malformed-key" });
        }

        var secretText = secret.ToString();
        var key = await keys.FindAsync(id, Context.RequestAborted);
        var matches = ApiKeyFormat.Matches(secretText, key is null ? DecoyHash : key.SecretHash.Span);
        if (key is null || !matches)
        {
            return AuthenticateResult.Fail(new CredentialRejectedException("the API key is not known") { Reason = "unknown-key" });
        }

        if (key.IsRevoked)
        {
            return AuthenticateResult.Fail(new CredentialRejectedException("the API key has been revoked") { Reason = "revoked-key", RevokedSubject = "key:" + key.Name });
        }

        var claims = new List<Claim>(3 + key.Groups.Length)
        {
            new("sub", "key:" + key.Name),
            new(KeyIdClaim, key.Id),
            new(KeyNameClaim, key.Name),
        };
        foreach (var group in key.Groups)
        {
            claims.Add(new Claim(GroupClaim, group));
        }

        if (key.Owner is not null)
        {
            claims.Add(new Claim(OwnerClaim, key.Owner));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, "sub", GroupClaim));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }
}
