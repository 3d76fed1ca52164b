using Airlock.Gateway.Configuration;
using Airlock.Gateway.Identity.ApiKeys;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;

namespace Airlock.Gateway.Identity;

internal static class IdentityServiceCollectionExtensions
{
    /// <summary>
    /// Registers one ASP.NET authentication scheme per way of proving identity: the API key
    /// scheme, and a JwtBearer scheme per trusted OIDC issuer, which fetches the issuer's
    /// discovery document and JWKS and refreshes them when a token names an unknown key.
    /// </summary>
    public static IServiceCollection AddAirlockIdentity(this IServiceCollection services, IdentityConfig identity)
    {
        // With a single scheme (API keys, no issuer), ASP.NET would make it the default, and the
        // authentication middleware WebApplication adds in front of everything would look the
        // key up before SessionMiddleware runs: a store outage there escaped as a bare 500 with
        // no problem body and no session record. Identity is established only by
        // CallerAuthenticator, inside the pipeline, so no scheme may be a default.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        var authentication = services.AddAuthentication();
        authentication.AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        foreach (var issuer in identity.Issuers)
        {
            authentication.AddJwtBearer(OidcIssuers.SchemeFor(issuer), options =>
            {
                options.Authority = issuer.Issuer;
                options.RequireHttpsMetadata = !issuer.AllowHttp;
                options.MapInboundClaims = false;
                options.SaveToken = false;
                options.IncludeErrorDetails = false;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = issuer.Issuer,
                    ValidateIssuer = true,
                    ValidAudiences = issuer.Audiences,
                    ValidateAudience = true,
                    ValidateLifetime = true,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ValidateIssuerSigningKey = true,
                    ValidAlgorithms = issuer.Algorithms,
                    ValidTypes = issuer.TokenTypes,
                    ClockSkew = issuer.ClockSkew,
                    NameClaimType = "sub",
                    RoleClaimType = issuer.GroupsClaim,
                };
            });
        }

        // The API keys a request presents are looked up through one cache per process, kept in
        // step with the store by one watcher (docs/identity.md: how long a revocation takes).
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ApiKeyCache>();
        services.TryAddSingleton<ApiKeyChangeWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<ApiKeyChangeWatcher>());
        services.AddSingleton(new OidcIssuers(identity));
        services.AddSingleton<CallerAuthenticator>();
        return services;
    }
}
