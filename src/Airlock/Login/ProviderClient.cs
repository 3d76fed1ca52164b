using Duende.IdentityModel.Client;

namespace Airlock.Cli.Login;

/// <summary>
/// The people's OIDC provider as the CLI talks to it, through Duende.IdentityModel: discovery,
/// the device authorization grant (RFC 8628), refresh (RFC 6749 §6) and revocation (RFC 7009).
/// The CLI is a public client: it has no secret, so its id goes in the form body. Failures are
/// results with a sentence to print; no message ever carries a token.
/// </summary>
internal sealed class ProviderClient(HttpClient http, string issuer, string clientId)
{
    public string Issuer { get; } = issuer;

    public string ClientId { get; } = clientId;

    /// <summary>Reads the provider's discovery document; its issuer must be exactly <see cref="Issuer"/>.</summary>
    public async Task<(DiscoveryDocumentResponse? Document, string? Error)> DiscoverAsync(CancellationToken cancellationToken)
    {
        // https is required except on loopback (the library's policy), and the endpoints must
        // be on the issuer's own host. The key set is not needed: the gateway checks tokens.
        var document = await http.GetDiscoveryDocumentAsync(new DiscoveryDocumentRequest
        {
            Address = Issuer,
            Policy = { RequireKeySet = false },
        }, cancellationToken);
        return document.IsError
            ? (null, $"cannot read the identity provider's discovery document at {Issuer}: {Describe(document)}")
            : (document, null);
    }

    public Task<DeviceAuthorizationResponse> StartDeviceAuthorizationAsync(string endpoint, IEnumerable<string> scopes, string? resource, CancellationToken cancellationToken)
    {
        var request = new DeviceAuthorizationRequest
        {
            Address = endpoint,
            ClientId = ClientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            Scope = string.Join(' ', scopes),
        };
        if (resource is not null)
        {
            // RFC 8707: which audience the access token is for, where the provider chooses it so.
            request.Parameters.Add("resource", resource);
        }

        return http.RequestDeviceAuthorizationAsync(request, cancellationToken);
    }

    public Task<TokenResponse> RequestDeviceTokenAsync(string endpoint, string deviceCode, CancellationToken cancellationToken) =>
        http.RequestDeviceTokenAsync(new DeviceTokenRequest
        {
            Address = endpoint,
            ClientId = ClientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            DeviceCode = deviceCode,
        }, cancellationToken);

    public Task<TokenResponse> RefreshAsync(string endpoint, string refreshToken, string? resource, CancellationToken cancellationToken)
    {
        var request = new RefreshTokenRequest
        {
            Address = endpoint,
            ClientId = ClientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            RefreshToken = refreshToken,
        };
        if (resource is not null)
        {
            request.Resource.Add(resource);
        }

        return http.RequestRefreshTokenAsync(request, cancellationToken);
    }

    public Task<TokenRevocationResponse> RevokeAsync(string endpoint, string token, string tokenTypeHint, CancellationToken cancellationToken) =>
        http.RevokeTokenAsync(new TokenRevocationRequest
        {
            Address = endpoint,
            ClientId = ClientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            Token = token,
            TokenTypeHint = tokenTypeHint,
        }, cancellationToken);

    /// <summary>A failed response in one line: the OAuth error and its description (whatever the
    /// status: a provider answers invalid_client with 401), or what went wrong on the way.</summary>
    public static string Describe(ProtocolResponse response)
    {
        if (response.ErrorType is ResponseErrorType.Protocol or ResponseErrorType.Http && response.TryGet("error") is { Length: > 0 } error)
        {
            return response.TryGet("error_description") is { Length: > 0 } description
                ? $"{Commands.Printable.Text(error)}: {Commands.Printable.Text(description)}"
                : Commands.Printable.Text(error);
        }

        return response.ErrorType switch
        {
            ResponseErrorType.Http => $"HTTP {(int)response.HttpStatusCode} {Commands.Printable.Text(response.HttpErrorReason)}",
            ResponseErrorType.Exception => Commands.Printable.Text(response.Exception?.Message ?? response.Error),
            _ => Commands.Printable.Text(response.Error),
        };
    }

    public static HttpClient CreateHttpClient() => new() { Timeout = TimeSpan.FromSeconds(30) };
}
