using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Airlock.Cli.Login;
using Airlock.Gateway.Admin;
using Airlock.Gateway.Configuration;

namespace Airlock.Cli.Commands;

/// <summary>
/// <c>airlock login</c> and <c>airlock logout</c>: a person at a terminal signs in with the
/// company's OIDC provider (the device authorization grant, RFC 8628), and the admin-API verbs
/// use the saved sign-in instead of a pasted token.
/// </summary>
/// <remarks>
/// <code>
/// airlock login --admin-url URL
///   GET URL/.well-known/airlock-login        issuer, client id, scopes (admin.login)
///   issuer discovery                          device_authorization_endpoint, token_endpoint
///   POST device_authorization_endpoint        device code, user code, verification URI → printed
///   POST token_endpoint (every interval)      until signed in, declined or expired
///   GET URL/api/me with the access token      the gateway accepts it: who signed in
///   write the profile (0600)
/// </code>
/// </remarks>
internal static class LoginCommand
{
    /// <summary>Exit code when the person declined the sign-in at the provider.</summary>
    public const int Denied = 3;

    /// <summary>Exit code when the code expired before the sign-in was finished.</summary>
    public const int Expired = 4;

    public static Command Create()
    {
        var (url, _) = AdminClient.Options();
        url.Description = $"The admin listener to sign in to, e.g. http://127.0.0.1:8081 (default: ${AdminClient.UrlVariable}).";
        var issuer = new Option<string?>("--issuer") { Description = "The OIDC provider people sign in with (default: the one the gateway names in admin.login)." };
        var clientId = new Option<string?>("--client-id") { Description = "The public client registered there for the device grant (default: the gateway's admin.login.clientId)." };
        var command = new Command("login", $"Sign in at a terminal with your organisation's OIDC provider (device authorization grant); `airlock reviews` and the other admin-API verbs then use the saved sign-in. It is kept in ${ProfileFile.PathVariable}, else $XDG_CONFIG_HOME/airlock/profile.json, else ~/.config/airlock/profile.json, readable by you only.")
        {
            url, issuer, clientId,
        };
        command.SetAction((parse, cancellationToken) => LoginAsync(parse, parse.GetValue(url), parse.GetValue(issuer), parse.GetValue(clientId), cancellationToken));
        return command;
    }

    public static Command CreateLogout()
    {
        var command = new Command("logout", "Forget the sign-in `airlock login` saved: revoke its refresh token at the provider, when the provider offers revocation, and delete the profile.");
        command.SetAction(LogoutAsync);
        return command;
    }

    private static async Task<int> LoginAsync(ParseResult parse, string? urlText, string? issuerText, string? clientIdText, CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        urlText ??= Environment.GetEnvironmentVariable(AdminClient.UrlVariable);
        if (string.IsNullOrWhiteSpace(urlText) || !Uri.TryCreate(urlText, UriKind.Absolute, out var adminUrl)
            || (adminUrl.Scheme != Uri.UriSchemeHttp && adminUrl.Scheme != Uri.UriSchemeHttps))
        {
            error.WriteLine($"error: give the admin listener you sign in to with --admin-url or {AdminClient.UrlVariable}, e.g. http://127.0.0.1:8081");
            return AirlockCli.InvalidInput;
        }

        using var http = ProviderClient.CreateHttpClient();
        LoginInfo? offered;
        try
        {
            offered = await LoginInfoAsync(http, adminUrl, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or NotSupportedException
            || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            error.WriteLine($"error: cannot ask the admin listener at {adminUrl} how to sign in: {ex.Message}");
            return AirlockCli.Failure;
        }

        var issuer = issuerText ?? offered?.Issuer;
        var clientId = clientIdText ?? offered?.ClientId;
        if (issuer is null || clientId is null)
        {
            error.WriteLine($"error: the gateway at {adminUrl} does not say how to sign in (its configuration has no admin.login): give --issuer and --client-id, or ask its operator to configure admin.login");
            return AirlockCli.InvalidInput;
        }

        if (!Uri.TryCreate(issuer, UriKind.Absolute, out _))
        {
            error.WriteLine($"error: --issuer '{Printable.Text(issuer)}' is not a URL");
            return AirlockCli.InvalidInput;
        }

        // Scopes and the resource belong to the issuer the gateway named; another one gets the defaults.
        var sameIssuer = offered is not null && offered.Issuer == issuer;
        var scopes = sameIssuer ? offered!.Scopes : AdminLoginConfig.DefaultScopes;
        var resource = sameIssuer ? offered!.Resource : null;
        var provider = new ProviderClient(http, issuer, clientId);
        var signIn = await new DeviceSignIn(provider, TimeProvider.System, output).RunAsync(scopes, resource, cancellationToken);
        switch (signIn.Outcome)
        {
            case SignInOutcome.Denied:
                error.WriteLine($"error: {signIn.Error}");
                return Denied;
            case SignInOutcome.Expired:
                error.WriteLine($"error: {signIn.Error}");
                return Expired;
            case SignInOutcome.Failed:
                error.WriteLine($"error: {signIn.Error}");
                return AirlockCli.Failure;
        }

        using var tokens = signIn.Tokens!;
        var profile = new Profile
        {
            AdminUrl = adminUrl,
            Issuer = issuer,
            ClientId = clientId,
            Resource = resource,
            AccessToken = tokens.AccessToken!,
            RefreshToken = string.IsNullOrEmpty(tokens.RefreshToken) ? null : tokens.RefreshToken,
            ExpiresAt = ProfileSession.ExpiresAt(signIn.IssuedAt, tokens.ExpiresIn),
        };

        // Saved only once the gateway has accepted the token: a sign-in it would refuse is no sign-in.
        var (caller, refusal) = await WhoAmIAsync(http, adminUrl, profile.AccessToken, cancellationToken);
        if (caller is null)
        {
            error.WriteLine($"error: you signed in at the provider, but the gateway at {adminUrl} refused the access token it issued: {refusal}");
            error.WriteLine("The provider must issue JWT access tokens for the audience the gateway expects (identity.oidc[].audience; admin.login.resource names it for providers that choose by RFC 8707). Nothing was saved.");
            return AirlockCli.Failure;
        }

        var file = ProfileFile.FromEnvironment();
        try
        {
            using (file.Lock())
            {
                file.Write(profile);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: cannot save the sign-in to {file.Path}: {ex.Message}");
            return AirlockCli.Failure;
        }

        var roles = caller.Roles.Count == 0 ? "" : $"; roles: {string.Join(", ", caller.Roles)}";
        output.WriteLine($"Signed in to {adminUrl} as {Printable.Text(caller.Subject)} (groups: {(caller.Groups.Count == 0 ? "none" : Printable.Text(string.Join(", ", caller.Groups)))}{roles}).");
        output.WriteLine(profile.RefreshToken is null
            ? $"Saved to {file.Path} (readable by you only). The provider gave no refresh token: sign in again when the access token expires."
            : $"Saved to {file.Path} (readable by you only); it is renewed as it expires. `airlock logout` removes it.");
        return 0;
    }

    /// <summary>What the gateway publishes at <c>/.well-known/airlock-login</c>; null when it offers nothing (404).</summary>
    private static async Task<LoginInfo?> LoginInfoAsync(HttpClient http, Uri adminUrl, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(adminUrl, LoginEndpoints.Path), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{LoginEndpoints.Path} answered {(int)response.StatusCode}");
        }

        return await response.Content.ReadFromJsonAsync(LoginJson.Default.LoginInfo, cancellationToken);
    }

    private static async Task<(CallerInfo? Caller, string? Refusal)> WhoAmIAsync(HttpClient http, Uri adminUrl, string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(adminUrl, "/api/me"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return (await response.Content.ReadFromJsonAsync(LoginJson.Default.CallerInfo, cancellationToken), null);
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            string? detail = null;
            try
            {
                detail = (string?)System.Text.Json.Nodes.JsonNode.Parse(text)?["detail"];
            }
            catch (JsonException)
            {
                // Reported with the status alone.
            }

            return (null, $"{(int)response.StatusCode} {Printable.Text(detail)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or NotSupportedException
            || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return (null, $"the admin listener could not be reached: {ex.Message}");
        }
    }

    private static async Task<int> LogoutAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var file = ProfileFile.FromEnvironment();
        Profile? profile;
        try
        {
            profile = file.Read(TextWriter.Null);
        }
        catch (ProfileException)
        {
            profile = null;
        }

        if (profile?.RefreshToken is { } refreshToken)
        {
            // Revoked first, deleted whatever happens: the file is what lets this machine act as you.
            using var http = ProviderClient.CreateHttpClient();
            var provider = new ProviderClient(http, profile.Issuer, profile.ClientId);
            var (discovery, problem) = await provider.DiscoverAsync(cancellationToken);
            if (discovery?.RevocationEndpoint is { Length: > 0 } revocation)
            {
                using var revoked = await provider.RevokeAsync(revocation, refreshToken, "refresh_token", cancellationToken);
                output.WriteLine(revoked.IsError
                    ? $"warning: the identity provider did not revoke the refresh token ({ProviderClient.Describe(revoked)})"
                    : "The identity provider revoked the refresh token.");
            }
            else
            {
                output.WriteLine(discovery is null
                    ? $"warning: the refresh token could not be revoked: {problem}"
                    : "The identity provider offers no revocation endpoint: the refresh token stays valid there until it expires.");
            }
        }

        bool existed;
        try
        {
            existed = file.Delete();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: cannot delete {file.Path}: {ex.Message}");
            return AirlockCli.Failure;
        }

        output.WriteLine(existed
            ? $"Signed out: deleted {file.Path}. An access token already issued stays valid until it expires (the gateway checks tokens by signature)."
            : $"Not signed in: there is no {file.Path}.");
        return 0;
    }
}
