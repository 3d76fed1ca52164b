using Duende.IdentityModel.Client;

namespace Airlock.Cli.Login;

/// <summary>How a device sign-in ended.</summary>
internal enum SignInOutcome
{
    SignedIn,

    /// <summary>The person declined at the provider (<c>access_denied</c>).</summary>
    Denied,

    /// <summary>Nobody finished in time (<c>expired_token</c>, or the code's lifetime passed).</summary>
    Expired,

    Failed,
}

internal sealed record SignInResult(SignInOutcome Outcome, TokenResponse? Tokens, DateTimeOffset IssuedAt, string? Error);

/// <summary>
/// The OAuth 2.0 device authorization grant (RFC 8628) for a person at a terminal: ask the
/// provider for a code, tell the person where to enter it, and poll the token endpoint until
/// they have signed in, declined, or let the code expire.
/// </summary>
internal sealed class DeviceSignIn(ProviderClient provider, TimeProvider time, TextWriter output)
{
    /// <summary>RFC 8628 §3.2: a client polls every 5 s when the provider names no interval.</summary>
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    /// <summary>RFC 8628 §3.5: <c>slow_down</c> adds 5 s to the interval, for good.</summary>
    private static readonly TimeSpan SlowDownStep = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan LongestInterval = TimeSpan.FromMinutes(1);

    public async Task<SignInResult> RunAsync(IReadOnlyList<string> scopes, string? resource, CancellationToken cancellationToken)
    {
        var (discovery, error) = await provider.DiscoverAsync(cancellationToken);
        if (discovery is null)
        {
            return Failed(error!);
        }

        if (discovery.DeviceAuthorizationEndpoint is not { Length: > 0 } deviceEndpoint)
        {
            return Failed($"the identity provider at {provider.Issuer} does not offer the device authorization grant (its discovery document has no device_authorization_endpoint)");
        }

        if (discovery.TokenEndpoint is not { Length: > 0 } tokenEndpoint)
        {
            return Failed($"the identity provider at {provider.Issuer} names no token endpoint in its discovery document");
        }

        using var start = await provider.StartDeviceAuthorizationAsync(deviceEndpoint, scopes, resource, cancellationToken);
        if (start.IsError)
        {
            return Failed($"the identity provider refused to start a sign-in for client '{Commands.Printable.Text(provider.ClientId)}': {ProviderClient.Describe(start)}");
        }

        if (start.DeviceCode is not { Length: > 0 } deviceCode || start.UserCode is not { Length: > 0 } userCode
            || !IsWebPage(start.VerificationUri))
        {
            return Failed("the identity provider's answer to the device authorization request lacks a device code, a user code or an http(s) verification URI");
        }

        var lifetime = TimeSpan.FromSeconds(start.ExpiresIn is > 0 ? start.ExpiresIn.Value : 600);
        var deadline = time.GetUtcNow() + lifetime;
        // What the provider sent is printed as text: an escape sequence in it must not reach the terminal.
        output.WriteLine($"To sign in, open {Commands.Printable.Text(start.VerificationUri)} in a browser and enter the code {Commands.Printable.Text(userCode)}");
        if (IsWebPage(start.VerificationUriComplete))
        {
            output.WriteLine($"(or open {Commands.Printable.Text(start.VerificationUriComplete)}, which fills the code in; check that the page shows the same code).");
        }

        output.WriteLine($"Waiting for you to sign in; the code expires in {Minutes(lifetime)}.");
        output.Flush();

        var interval = start.Interval > 0 ? TimeSpan.FromSeconds(start.Interval) : DefaultInterval;
        string? lastTransient = null;
        while (true)
        {
            await Task.Delay(interval, time, cancellationToken);
            var issuedAt = time.GetUtcNow();
            using var token = await provider.RequestDeviceTokenAsync(tokenEndpoint, deviceCode, cancellationToken);
            if (!token.IsError)
            {
                return string.IsNullOrEmpty(token.AccessToken)
                    ? Failed("the identity provider's token response has no access token")
                    : new SignInResult(SignInOutcome.SignedIn, token, issuedAt, null);
            }

            switch (token.ErrorType, token.Error)
            {
                case (ResponseErrorType.Protocol, "authorization_pending"):
                    break;
                case (ResponseErrorType.Protocol, "slow_down"):
                    interval = Min(interval + SlowDownStep, LongestInterval);
                    break;
                case (ResponseErrorType.Protocol, "access_denied"):
                    return new SignInResult(SignInOutcome.Denied, null, issuedAt, "the sign-in was declined at the identity provider: nothing was saved");
                case (ResponseErrorType.Protocol, "expired_token"):
                    return Expired(lifetime);
                case (ResponseErrorType.Protocol, _):
                    return Failed($"the identity provider ended the sign-in: {ProviderClient.Describe(token)}");
                case (ResponseErrorType.Http, _) when (int)token.HttpStatusCode < 500:
                    return Failed($"the identity provider's token endpoint answered: {ProviderClient.Describe(token)}");
                default:
                    // The provider unreachable or failing for a moment: back off and keep
                    // polling while the code is valid (RFC 8628 §3.5).
                    lastTransient = ProviderClient.Describe(token);
                    interval = Min(interval * 2, LongestInterval);
                    break;
            }

            if (time.GetUtcNow() >= deadline)
            {
                return lastTransient is null
                    ? Expired(lifetime)
                    : Failed($"the identity provider could not be reached before the code expired: {lastTransient}");
            }
        }
    }

    private static SignInResult Failed(string error) => new(SignInOutcome.Failed, null, default, error);

    private static SignInResult Expired(TimeSpan lifetime) =>
        new(SignInOutcome.Expired, null, default, $"the code expired before the sign-in was finished (it is valid for {Minutes(lifetime)}): run `airlock login` again");

    private static bool IsWebPage(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static string Minutes(TimeSpan span) =>
        span.TotalSeconds < 120 ? $"{(int)span.TotalSeconds} seconds" : $"{(int)span.TotalMinutes} minutes";
}
