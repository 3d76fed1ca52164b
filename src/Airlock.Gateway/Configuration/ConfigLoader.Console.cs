using System.Net;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    private static ConsoleConfig? ReadConsole(YamlConfigReader reader, SecretResolver secrets, YamlNode? node, IdentityConfig? identity, List<ConfigError> warnings)
    {
        if (node is null || reader.Mapping(node, "console") is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, "console", "issuer", "clientId", "clientSecret", "publicUrl", "session", "approvalMaxAge", "scopes");
        var errorsBefore = reader.Errors.Count;
        OidcIssuerConfig? issuer = null;
        if (reader.String(map, "issuer", "console", required: true) is { } issuerName)
        {
            issuer = identity?.Issuers.FirstOrDefault(i => i.Name == issuerName);
            if (issuer is null && identity is not null)
            {
                reader.Error(YamlConfigReader.Child(map, "issuer"), "console.issuer", identity.Issuers.IsEmpty
                    ? $"'{issuerName}' is not an issuer: people sign in with an issuer named under identity.oidc, and none is configured"
                    : $"'{issuerName}' is not an issuer; name one of identity.oidc: {string.Join(", ", identity.Issuers.Select(i => i.Name))}");
            }
        }

        var clientId = reader.String(map, "clientId", "console", required: true);
        var clientSecret = secrets.Resolve(YamlConfigReader.Child(map, "clientSecret"), "console.clientSecret", parent: map);
        var publicUrl = ReadPublicUrl(reader, map, warnings);
        var session = reader.Duration(map, "session", "console", ConsoleConfig.DefaultSession, TimeSpan.FromMinutes(5), TimeSpan.FromDays(7));
        var maxAge = reader.Duration(map, "approvalMaxAge", "console", ConsoleConfig.DefaultApprovalMaxAge, TimeSpan.FromMinutes(1), TimeSpan.FromDays(30));
        var scopes = reader.StringList(map, "scopes", "console", ConsoleConfig.DefaultScopes);
        if (!scopes.Contains("openid"))
        {
            reader.Error(YamlConfigReader.Child(map, "scopes"), "console.scopes", "must include openid: sign-in is OpenID Connect");
        }

        foreach (var scope in scopes)
        {
            // RFC 6749 §3.3: a scope token is printable ASCII without space, '"' or '\'.
            if (scope.Length == 0 || scope.Any(c => c is <= ' ' or > '~' or '"' or '\\'))
            {
                reader.Error(YamlConfigReader.Child(map, "scopes"), "console.scopes", $"'{scope}' is not a scope (printable ASCII, no spaces, quotes or backslashes)");
            }
        }

        if (reader.Errors.Count > errorsBefore || issuer is null || clientId is null || clientSecret is null || publicUrl is null)
        {
            return null;
        }

        return new ConsoleConfig
        {
            Issuer = issuer,
            ClientId = clientId,
            ClientSecret = clientSecret,
            PublicUrl = publicUrl,
            Session = session,
            ApprovalMaxAge = maxAge,
            Scopes = [.. scopes.Distinct(StringComparer.Ordinal)],
        };
    }

    /// <summary>The console's address as people reach it. It names the admin listener's root:
    /// the console's pages, its sign-in callback and the links in notifications are built on it.</summary>
    private static Uri? ReadPublicUrl(YamlConfigReader reader, YamlMappingNode map, List<ConfigError> warnings)
    {
        if (reader.String(map, "publicUrl", "console", required: true) is not { } text)
        {
            return null;
        }

        var node = YamlConfigReader.Child(map, "publicUrl")!;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)
            || url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0 || url.AbsolutePath != "/")
        {
            reader.Error(node, "console.publicUrl",
                $"'{text}' must be the absolute http(s) URL people open the admin listener at, without a path, query or fragment, e.g. https://airlock.example.com");
            return null;
        }

        if (url.Scheme == Uri.UriSchemeHttp && !(url.IsLoopback || (IPAddress.TryParse(url.DnsSafeHost, out var address) && IPAddress.IsLoopback(address))))
        {
            warnings.Add(Warning(reader, node, "console.publicUrl",
                "is plain http on a host beyond this machine: the sign-in cookie and every payload cross the network unencrypted; serve the console over https"));
        }

        return url;
    }
}
