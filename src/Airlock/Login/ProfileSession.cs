namespace Airlock.Cli.Login;

/// <summary>
/// The access token of the saved profile, renewed with the refresh token when it has expired
/// (or is about to, or the gateway refused it), and the renewed tokens saved back.
/// </summary>
internal sealed class ProfileSession(ProfileFile file, Profile profile, TimeProvider time, TextWriter error)
{
    /// <summary>Renew this long before the provider's expiry: the request must still be valid
    /// when it reaches the gateway, whose clock may run ahead of ours.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(30);

    private Profile _profile = profile;

    public Uri AdminUrl => _profile.AdminUrl;

    /// <summary>The access token to send, or null (the reason printed) when the sign-in is over.</summary>
    /// <param name="refused">The token the gateway just refused: renew even if it looks valid.</param>
    public async Task<string?> AccessTokenAsync(string? refused, CancellationToken cancellationToken)
    {
        if (refused is null && !IsExpiring(_profile))
        {
            return _profile.AccessToken;
        }

        FileStream held;
        try
        {
            held = file.Lock();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: cannot lock {file.Path} to renew your sign-in: {ex.Message}");
            return null;
        }

        using var _ = held;
        // Another command may have renewed it while we waited for the lock: a refresh token
        // that rotates is good for one use only, so take the newest one saved.
        try
        {
            if (file.Read(TextWriter.Null) is { } current && current.IsFor(_profile.AdminUrl) && current.Issuer == _profile.Issuer
                && current.AccessToken != (refused ?? _profile.AccessToken))
            {
                _profile = current;
                if (!IsExpiring(current))
                {
                    return current.AccessToken;
                }
            }
        }
        catch (ProfileException)
        {
            // Renew from what we hold; the write below replaces the damaged file.
        }

        if (_profile.RefreshToken is not { } refreshToken)
        {
            error.WriteLine($"error: your sign-in to {_profile.AdminUrl} has {(refused is null ? "expired" : "been refused by the gateway")} and cannot be renewed (the provider gave no refresh token): run `airlock login` again");
            return null;
        }

        using var http = ProviderClient.CreateHttpClient();
        var provider = new ProviderClient(http, _profile.Issuer, _profile.ClientId);
        var (discovery, problem) = await provider.DiscoverAsync(cancellationToken);
        if (discovery?.TokenEndpoint is not { Length: > 0 } tokenEndpoint)
        {
            error.WriteLine($"error: your sign-in to {_profile.AdminUrl} has expired and could not be renewed: {problem ?? "the provider names no token endpoint"}");
            return null;
        }

        var issuedAt = time.GetUtcNow();
        using var renewed = await provider.RefreshAsync(tokenEndpoint, refreshToken, _profile.Resource, cancellationToken);
        if (renewed.IsError || string.IsNullOrEmpty(renewed.AccessToken))
        {
            error.WriteLine($"error: your sign-in to {_profile.AdminUrl} has expired and the identity provider would not renew it ({(renewed.IsError ? ProviderClient.Describe(renewed) : "no access token")}): run `airlock login` again");
            return null;
        }

        _profile = _profile with
        {
            AccessToken = renewed.AccessToken,
            // A provider that rotates refresh tokens sends a new one; one that does not keeps the old valid.
            RefreshToken = string.IsNullOrEmpty(renewed.RefreshToken) ? refreshToken : renewed.RefreshToken,
            ExpiresAt = ExpiresAt(issuedAt, renewed.ExpiresIn),
        };
        try
        {
            file.Write(_profile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The renewed token works for this command; the next one will need `airlock login`
            // if the provider rotated the refresh token.
            error.WriteLine($"warning: cannot save the renewed sign-in to {file.Path}: {ex.Message}");
        }

        return _profile.AccessToken;
    }

    public static DateTimeOffset? ExpiresAt(DateTimeOffset issuedAt, int expiresIn) =>
        expiresIn > 0 ? issuedAt + TimeSpan.FromSeconds(expiresIn) : null;

    private bool IsExpiring(Profile p) => p.ExpiresAt is { } expiresAt && time.GetUtcNow() >= expiresAt - Margin;
}
