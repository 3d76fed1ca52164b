using System.Text.Json;
using System.Text.Json.Serialization;
using Airlock.Gateway.Admin;

namespace Airlock.Cli.Login;

/// <summary>
/// A person's sign-in as <c>airlock login</c> saved it: which gateway, which provider and client,
/// and the tokens. The admin-API verbs use it when no token is given.
/// </summary>
internal sealed record Profile
{
    /// <summary>The admin listener these tokens are for; they are sent nowhere else.</summary>
    public required Uri AdminUrl { get; init; }

    public required string Issuer { get; init; }

    public required string ClientId { get; init; }

    public string? Resource { get; init; }

    public required string AccessToken { get; init; }

    public string? RefreshToken { get; init; }

    /// <summary>When the access token expires, as the provider said (<c>expires_in</c>); null when it did not.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Whether <paramref name="adminUrl"/> names the admin listener this profile is for.</summary>
    public bool IsFor(Uri adminUrl) =>
        string.Equals(Canonical(AdminUrl), Canonical(adminUrl), StringComparison.OrdinalIgnoreCase);

    /// <summary>Scheme, host, port and path, without a trailing slash: <c>http://h:1</c> and <c>http://h:1/</c> are one listener.</summary>
    public static string Canonical(Uri url) =>
        url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped).TrimEnd('/');
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Profile))]
[JsonSerializable(typeof(LoginInfo))]
[JsonSerializable(typeof(CallerInfo))]
internal sealed partial class LoginJson : JsonSerializerContext;
