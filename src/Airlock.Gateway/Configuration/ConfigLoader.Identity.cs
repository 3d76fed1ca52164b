using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    /// <summary>Asymmetric algorithms only: an HMAC algorithm would let anyone holding the
    /// issuer's public key mint tokens when a verifier confuses the two.</summary>
    private static readonly ImmutableHashSet<string> AllowedAlgorithms =
        ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    private static readonly ImmutableArray<string> DefaultAlgorithms = ["RS256", "PS256", "ES256"];

    private static IdentityConfig? ReadIdentity(YamlConfigReader reader, YamlNode? node, List<ConfigError> warnings)
    {
        if (node is null || reader.Mapping(node, "identity") is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, "identity", "apiKeys", "oidc");
        var apiKeys = reader.Bool(map, "apiKeys", "identity", defaultValue: true);
        var issuers = ImmutableArray.CreateBuilder<OidcIssuerConfig>();
        if (YamlConfigReader.Child(map, "oidc") is { } oidc)
        {
            if (oidc is not YamlSequenceNode list)
            {
                reader.Error(oidc, "identity.oidc", "must be a list of issuers");
            }
            else
            {
                for (int i = 0; i < list.Children.Count; i++)
                {
                    if (ReadIssuer(reader, list.Children[i], $"identity.oidc[{i}]", warnings) is { } issuer)
                    {
                        if (issuers.Any(x => x.Name == issuer.Name))
                        {
                            reader.Error(list.Children[i], $"identity.oidc[{i}].name", $"issuer name '{issuer.Name}' is used twice");
                        }
                        else if (issuers.Any(x => x.Issuer == issuer.Issuer))
                        {
                            reader.Error(list.Children[i], $"identity.oidc[{i}].issuer", $"issuer '{issuer.Issuer}' is configured twice");
                        }

                        issuers.Add(issuer);
                    }
                }
            }
        }

        if (!apiKeys && issuers.Count == 0)
        {
            reader.Error(map, "identity", "no way to authenticate: enable apiKeys or configure an oidc issuer");
        }

        return new IdentityConfig(apiKeys, issuers.ToImmutable());
    }

    private static OidcIssuerConfig? ReadIssuer(YamlConfigReader reader, YamlNode node, string path, List<ConfigError> warnings)
    {
        if (reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "name", "issuer", "audience", "groupsClaim", "algorithms", "tokenTypes", "clockSkew", "allowHttp");
        var errorsBefore = reader.Errors.Count;
        var name = reader.String(map, "name", path, required: true);
        if (name is not null && !IsName(name))
        {
            reader.Error(YamlConfigReader.Child(map, "name"), path + ".name", "must be lowercase letters, digits and '-', at most 63 characters");
        }
        else if (name is "key" or "airlock")
        {
            // Subjects are "<issuer>:<sub>" and API keys' are "key:<name>": the names must not meet.
            reader.Error(YamlConfigReader.Child(map, "name"), path + ".name", $"'{name}' is reserved for Airlock's own API keys");
        }

        var allowHttp = reader.Bool(map, "allowHttp", path, defaultValue: false);
        var issuer = reader.String(map, "issuer", path, required: true);
        if (issuer is not null)
        {
            if (!Uri.TryCreate(issuer, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
                || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
            {
                reader.Error(YamlConfigReader.Child(map, "issuer"), path + ".issuer", "must be an absolute https URL with no query or fragment");
            }
            else if (uri.Scheme == Uri.UriSchemeHttp && !allowHttp)
            {
                reader.Error(YamlConfigReader.Child(map, "issuer"), path + ".issuer",
                    "is plain http: keys fetched without TLS can be replaced in transit; use https, or set allowHttp: true for local development");
            }
            else if (uri.Scheme == Uri.UriSchemeHttp)
            {
                warnings.Add(Warning(reader, YamlConfigReader.Child(map, "issuer")!, path + ".issuer",
                    "allowHttp is set: discovery and keys are fetched without TLS; never use this in production"));
            }
        }

        var audiences = reader.StringList(map, "audience", path, []);
        if (audiences.IsEmpty)
        {
            reader.Error(YamlConfigReader.Child(map, "audience") ?? map, path + ".audience",
                "is required: a token issued for another service must not be accepted here");
        }

        // An empty list would not mean "none": the token library skips a check whose list is
        // empty, so each of these must name at least one value.
        var algorithms = reader.StringList(map, "algorithms", path, DefaultAlgorithms);
        if (algorithms.IsEmpty)
        {
            reader.Error(YamlConfigReader.Child(map, "algorithms"), path + ".algorithms", "must name at least one algorithm");
        }

        foreach (var alg in algorithms)
        {
            if (!AllowedAlgorithms.Contains(alg))
            {
                reader.Error(YamlConfigReader.Child(map, "algorithms"), path + ".algorithms",
                    $"'{alg}' is not allowed; use asymmetric algorithms only: {string.Join(", ", AllowedAlgorithms.Order(StringComparer.Ordinal))}");
            }
        }

        var tokenTypes = reader.StringList(map, "tokenTypes", path, ["at+jwt"]);
        if (tokenTypes.IsEmpty)
        {
            reader.Error(YamlConfigReader.Child(map, "tokenTypes"), path + ".tokenTypes", "must name at least one token type");
        }

        var groupsClaim = reader.String(map, "groupsClaim", path, required: false) ?? "groups";
        var skew = reader.Duration(map, "clockSkew", path, TimeSpan.FromSeconds(30), TimeSpan.Zero, TimeSpan.FromMinutes(5));

        if (reader.Errors.Count > errorsBefore || name is null || issuer is null)
        {
            return null;
        }

        return new OidcIssuerConfig
        {
            Name = name,
            Issuer = issuer,
            Audiences = audiences,
            GroupsClaim = groupsClaim,
            Algorithms = algorithms,
            TokenTypes = tokenTypes,
            ClockSkew = skew,
            AllowHttp = allowHttp,
        };
    }

    /// <summary>Names appear in URLs, logs and policy; keep them plain.</summary>
    internal static bool IsName(string name)
    {
        if (name.Length is 0 or > 63 || name[0] == '-' || name[^1] == '-')
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }
}
