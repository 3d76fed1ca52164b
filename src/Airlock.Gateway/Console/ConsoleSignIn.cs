using Airlock.Gateway.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Airlock.Gateway.Console;

/// <summary>
/// How people sign in to the console: ASP.NET's OpenID Connect handler (authorization code with
/// PKCE, against the issuer's discovery document) issuing ASP.NET's session cookie.
/// <code>
/// GET /reviews/{id} (no cookie) ─ challenge ─▶ provider /authorize (code, S256, state, nonce)
///            ◀─ /signin-oidc?code&amp;state ─ person signs in there
/// /signin-oidc: code → tokens at the provider; ID token validated; userinfo read
///             → compact principal (subject, groups, auth_time) → cookie → 302 /reviews/{id}
/// </code>
/// The response comes back as a top-level GET (<c>response_mode=query</c>), so every cookie the
/// console sets can be <c>SameSite=Lax</c>: a form post back from the provider would need
/// <c>SameSite=None</c> correlation cookies, which browsers accept only over https.
/// </summary>
internal static class ConsoleSignIn
{
    /// <summary>Where the provider sends people back, and after sign-out (ASP.NET's defaults).</summary>
    public const string CallbackPath = "/signin-oidc";
    public const string SignedOutCallbackPath = "/signout-callback-oidc";

    public static void AddConsoleAuthentication(this IServiceCollection services, ConsoleConfig console)
    {
        var cookieName = console.IsHttps ? "__Host-airlock-console" : "airlock-console";
        var secure = console.IsHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.None;
        var publicBase = console.PublicUrl.GetLeftPart(UriPartial.Authority);
        services.AddAuthentication()
            .AddCookie(ConsoleSchemes.Cookie, options =>
            {
                options.Cookie.Name = cookieName;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.SecurePolicy = secure;
                options.Cookie.Path = "/";
                options.ExpireTimeSpan = console.Session;
                options.SlidingExpiration = true;
                // The console never redirects to a login page of its own: it challenges the
                // OpenID Connect scheme itself, and answers 401/403 itself.
                options.Events.OnRedirectToLogin = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                };
                options.Events.OnRedirectToAccessDenied = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return Task.CompletedTask;
                };
                options.Events.OnValidatePrincipal = context => ValidateSessionAsync(context, console);
            })
            .AddOpenIdConnect(ConsoleSchemes.Oidc, options =>
            {
                var issuer = console.Issuer;
                options.SignInScheme = ConsoleSchemes.Cookie;
                options.Authority = issuer.Issuer;
                options.RequireHttpsMetadata = !issuer.AllowHttp;
                options.ClientId = console.ClientId;
                options.ClientSecret = console.ClientSecret.Reveal();
                options.ResponseType = OpenIdConnectResponseType.Code;
                options.ResponseMode = OpenIdConnectResponseMode.Query;
                options.UsePkce = true;
                // Every sign-in asks for max_age: the provider must then say when the person
                // authenticated (auth_time, OpenID Connect Core §3.1.2.1), which approvals check.
                options.MaxAge = console.ApprovalMaxAge;
                options.Scope.Clear();
                foreach (var scope in console.Scopes)
                {
                    options.Scope.Add(scope);
                }

                options.CallbackPath = CallbackPath;
                options.SignedOutCallbackPath = SignedOutCallbackPath;
                options.SignedOutRedirectUri = "/signed-out";
                options.SaveTokens = false;
                options.MapInboundClaims = false;
                // Groups are often only in userinfo (OpenID Connect puts scope claims there when
                // an access token is issued); read both, and take them from either.
                options.GetClaimsFromUserInfoEndpoint = true;
                options.ClaimActions.MapJsonKey(issuer.GroupsClaim, issuer.GroupsClaim);
                options.TokenValidationParameters.ValidAlgorithms = issuer.Algorithms;
                options.TokenValidationParameters.ClockSkew = issuer.ClockSkew;
                options.TokenValidationParameters.NameClaimType = "name";
                foreach (var cookie in new[] { options.CorrelationCookie, options.NonceCookie })
                {
                    cookie.SameSite = SameSiteMode.Lax;
                    cookie.SecurePolicy = secure;
                    cookie.HttpOnly = true;
                }

                options.Events.OnRedirectToIdentityProvider = context =>
                {
                    // Built from the public URL, never from the request's Host header.
                    context.ProtocolMessage.RedirectUri = publicBase + CallbackPath;
                    return Task.CompletedTask;
                };
                options.Events.OnRedirectToIdentityProviderForSignOut = context =>
                {
                    context.ProtocolMessage.PostLogoutRedirectUri = publicBase + SignedOutCallbackPath;
                    context.ProtocolMessage.ClientId = console.ClientId;
                    return Task.CompletedTask;
                };
                options.Events.OnTokenValidated = context =>
                {
                    // Only the ID token is kept, as the hint for RP-initiated logout.
                    if ((context.TokenEndpointResponse?.IdToken ?? context.ProtocolMessage.IdToken) is { Length: > 0 } idToken)
                    {
                        context.Properties!.StoreTokens([new AuthenticationToken { Name = OpenIdConnectParameterNames.IdToken, Value = idToken }]);
                    }

                    return Task.CompletedTask;
                };
                options.Events.OnTicketReceived = context => CompactAsync(context, console);
                options.Events.OnRemoteFailure = context =>
                {
                    context.HandleResponse();
                    return ConsolePages.SignInFailedAsync(context.HttpContext, context.Failure?.Message);
                };
                options.Events.OnAccessDenied = context =>
                {
                    context.HandleResponse();
                    return ConsolePages.SignInFailedAsync(context.HttpContext, "the provider did not sign you in (access denied)");
                };
            });
    }

    /// <summary>
    /// Replaces what the provider sent with the few claims the console needs, so the cookie holds
    /// no token and no claim nobody reads: the subject as on the admin API, the groups from the
    /// issuer's groups claim (ID token and userinfo), a name, and when the person authenticated.
    /// </summary>
    private static Task CompactAsync(TicketReceivedContext context, ConsoleConfig console)
    {
        var received = context.Principal!;
        var sub = received.FindFirst("sub")?.Value;
        if (string.IsNullOrEmpty(sub))
        {
            context.Fail("the provider's ID token has no sub claim");
            return Task.CompletedTask;
        }

        var subject = $"{console.Issuer.Name}:{sub}";
        var groups = received.FindAll(console.Issuer.GroupsClaim).Select(c => c.Value);
        var name = received.FindFirst("name")?.Value ?? received.FindFirst("preferred_username")?.Value ?? received.FindFirst("email")?.Value ?? subject;
        var now = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        context.Principal = ConsolePerson.Principal(subject, groups, name, ConsolePerson.Time(received.FindFirst("auth_time")?.Value), now);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A session renews while it is used (sliding), but never outlives its sign-in by more than
    /// the longer of <c>session</c> and <c>approvalMaxAge</c>: then the person signs in again, and
    /// their groups are read again.
    /// </summary>
    private static Task ValidateSessionAsync(CookieValidatePrincipalContext context, ConsoleConfig console)
    {
        var now = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var person = ConsolePerson.From(context.Principal!, console.Issuer.Name);
        var longest = console.Session > console.ApprovalMaxAge ? console.Session : console.ApprovalMaxAge;
        if (person is null || now - person.SignedInAt > longest)
        {
            context.RejectPrincipal();
        }

        return Task.CompletedTask;
    }
}
