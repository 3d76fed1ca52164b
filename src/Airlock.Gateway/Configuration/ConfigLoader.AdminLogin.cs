using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    /// <summary><c>admin.login</c>: the issuer and public client <c>airlock login</c> uses.</summary>
    private static AdminLoginConfig? ReadAdminLogin(YamlConfigReader reader, YamlNode? node, IdentityConfig? identity)
    {
        const string path = "admin.login";
        if (node is null || reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "issuer", "clientId", "scopes", "resource");
        var errorsBefore = reader.Errors.Count;
        var issuerName = reader.String(map, "issuer", path, required: true);
        var clientId = reader.String(map, "clientId", path, required: true);
        var scopes = reader.StringList(map, "scopes", path, AdminLoginConfig.DefaultScopes);
        var resource = reader.String(map, "resource", path, required: false);
        OidcIssuerConfig? issuer = null;
        if (issuerName is not null && identity is not null)
        {
            issuer = identity.Issuers.FirstOrDefault(i => i.Name == issuerName);
            if (issuer is null)
            {
                reader.Error(YamlConfigReader.Child(map, "issuer"), path + ".issuer",
                    identity.Issuers.IsEmpty
                        ? $"'{issuerName}' is not an issuer: people sign in with an issuer configured under identity.oidc"
                        : $"'{issuerName}' is not an issuer under identity.oidc (known: {string.Join(", ", identity.Issuers.Select(i => i.Name))})");
            }
        }

        if (clientId is { Length: 0 })
        {
            reader.Error(YamlConfigReader.Child(map, "clientId"), path + ".clientId", "must not be empty");
        }

        foreach (var scope in scopes)
        {
            // RFC 6749 §3.3: a scope token is printable ASCII without space, '"' or '\'.
            if (scope.Any(c => c is <= ' ' or > '~' or '"' or '\\'))
            {
                reader.Error(YamlConfigReader.Child(map, "scopes"), path + ".scopes", $"'{scope}' is not a scope (printable ASCII, no spaces, quotes or backslashes)");
            }
        }

        // RFC 8707 §2: a resource indicator is an absolute URI without a fragment.
        if (resource is not null && (!Uri.TryCreate(resource, UriKind.Absolute, out var uri) || resource.Contains('#', StringComparison.Ordinal) || uri.IsFile))
        {
            reader.Error(YamlConfigReader.Child(map, "resource"), path + ".resource", $"'{resource}' must be an absolute URI without a fragment, e.g. urn:airlock or https://airlock.example.com");
        }

        if (reader.Errors.Count > errorsBefore || issuer is null || clientId is null)
        {
            return null;
        }

        return new AdminLoginConfig(issuer.Name, issuer.Issuer, clientId, scopes, resource);
    }
}
