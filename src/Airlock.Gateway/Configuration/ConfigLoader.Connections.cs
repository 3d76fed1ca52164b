using System.Collections.Immutable;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    /// <summary>Headers the gateway owns on the way out; a credential may not be put in one.</summary>
    private static readonly ImmutableHashSet<string> ReservedHeaders = ImmutableHashSet.Create(
        StringComparer.OrdinalIgnoreCase,
        "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "TE",
        "Trailer", "Proxy-Connection", "Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
        "X-Forwarded-Prefix", "Expect");

    private static ImmutableArray<ConnectionConfig> ReadConnections(YamlConfigReader reader, SecretResolver secrets, YamlNode? node, List<ConfigError> warnings)
    {
        if (node is null || reader.Mapping(node, "connections") is not { } map)
        {
            return [];
        }

        var connections = ImmutableArray.CreateBuilder<ConnectionConfig>(map.Children.Count);
        foreach (var (keyNode, value) in map.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? "";
            var path = "connections." + name;
            if (name == "api")
            {
                // /api/reviews/... on the proxy listener is where agents fetch their reviews.
                reader.Error(keyNode, path, "'api' is reserved: agents fetch held requests' results at /api/reviews/<id>");
                continue;
            }

            if (!IsName(name))
            {
                reader.Error(keyNode, path, "a connection name must be lowercase letters, digits and '-', at most 63 characters: it is the first segment of the URL agents call");
                continue;
            }

            if (ReadConnection(reader, secrets, name, value, path, warnings) is { } connection)
            {
                connections.Add(connection);
            }
        }

        if (map.Children.Count == 0)
        {
            warnings.Add(Warning(reader, map, "connections", "no connection is configured: every request will be answered 404"));
        }

        return connections.ToImmutable();
    }

    private static ConnectionConfig? ReadConnection(YamlConfigReader reader, SecretResolver secrets, string name, YamlNode node, string path, List<ConfigError> warnings)
    {
        if (reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "upstream", "timeouts", "retries", "credential", "masking", "recording", "rateLimit", "headersWithUnderscores");
        var errorsBefore = reader.Errors.Count;
        var upstream = ReadUpstream(reader, map, path);

        var connect = TimeSpan.FromSeconds(5);
        var response = TimeSpan.FromSeconds(100);
        var idle = ConnectionConfig.DefaultIdleTimeout;
        if (YamlConfigReader.Child(map, "timeouts") is { } timeoutsNode && reader.Mapping(timeoutsNode, path + ".timeouts") is { } timeouts)
        {
            reader.OnlyKeys(timeouts, path + ".timeouts", "connect", "response", "idle");
            connect = reader.Duration(timeouts, "connect", path + ".timeouts", connect, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(5));
            response = reader.Duration(timeouts, "response", path + ".timeouts", response, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
            idle = reader.Duration(timeouts, "idle", path + ".timeouts", idle, TimeSpan.Zero, TimeSpan.FromMinutes(10));
        }

        var retries = ReadRetries(reader, map, path);
        var credentialNode = YamlConfigReader.Child(map, "credential");
        UpstreamCredential? credential = null;
        if (credentialNode is null)
        {
            reader.Error(map, path + ".credential", "is required; write { type: none } if the upstream takes no credential");
        }
        else
        {
            credential = ReadCredential(reader, secrets, credentialNode, path + ".credential");
        }

        if (credentialNode is not null && ShortSecretWarning(credential) is { } shortSecret)
        {
            warnings.Add(Warning(reader, credentialNode, path + ".credential.secret", shortSecret));
        }

        if (upstream is not null && credential is { Kind: not "none" } && upstream.Scheme == Uri.UriSchemeHttp && !upstream.IsLoopback)
        {
            warnings.Add(Warning(reader, YamlConfigReader.Child(map, "upstream")!, path + ".upstream",
                "the injected credential travels to this upstream over plain HTTP"));
        }

        var masking = YamlConfigReader.Child(map, "masking") is { } maskingNode ? ReadMasking(reader, secrets, maskingNode, path + ".masking") : null;
        var recording = ReadRecording(reader, YamlConfigReader.Child(map, "recording"), path + ".recording");
        var rateLimit = ReadRateLimit(reader, YamlConfigReader.Child(map, "rateLimit"), path + ".rateLimit");
        var oddHeaders = reader.String(map, "headersWithUnderscores", path, required: false) switch
        {
            null or "drop" => OddHeaderNames.Drop,
            "refuse" => OddHeaderNames.Refuse,
            var other => Invalid(reader, map, path, other),
        };
        if (reader.Errors.Count > errorsBefore || upstream is null || credential is null)
        {
            return null;
        }

        return new ConnectionConfig
        {
            Name = name,
            Upstream = upstream,
            ConnectTimeout = connect,
            ResponseTimeout = response,
            IdleTimeout = idle,
            Retries = retries,
            Credential = credential,
            Masking = masking,
            Recording = recording,
            RateLimit = rateLimit,
            HeadersWithUnderscores = oddHeaders,
        };

        static OddHeaderNames Invalid(YamlConfigReader reader, YamlMappingNode map, string path, string value)
        {
            reader.Error(YamlConfigReader.Child(map, "headersWithUnderscores"), path + ".headersWithUnderscores", $"'{value}' is not one of: drop, refuse");
            return OddHeaderNames.Drop;
        }
    }

    /// <summary><c>retries</c>: 0 (the default) to 5 further attempts.</summary>
    private static int ReadRetries(YamlConfigReader reader, YamlMappingNode map, string path)
    {
        if (YamlConfigReader.Child(map, "retries") is not { } node || reader.Scalar(node, path + ".retries") is not { } text)
        {
            return 0;
        }

        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var retries) || retries > 5)
        {
            reader.Error(node, path + ".retries", "must be a whole number from 0 to 5");
            return 0;
        }

        return retries;
    }

    private static Uri? ReadUpstream(YamlConfigReader reader, YamlMappingNode map, string path)
    {
        var text = reader.String(map, "upstream", path, required: true);
        if (text is null)
        {
            return null;
        }

        var node = YamlConfigReader.Child(map, "upstream");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            reader.Error(node, path + ".upstream", "must be an absolute http or https URL");
            return null;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            // Do not echo the URL: the user info is a credential.
            reader.Error(node, path + ".upstream", "must not carry a user name or password; configure them as the connection's credential");
            return null;
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            reader.Error(node, path + ".upstream", "must not have a query or fragment: the caller's query string is forwarded as is");
            return null;
        }

        // The base path is joined with the caller's path, which always starts with '/'.
        var basePath = uri.AbsolutePath.TrimEnd('/');
        return new Uri($"{uri.Scheme}://{uri.Authority}{basePath}", UriKind.Absolute);
    }

    /// <summary>Secrets shorter than this are warned about: scrubbing them from responses
    /// replaces unrelated text that happens to hold the same characters.</summary>
    private const int ShortestScrubbedSecret = 8;

    /// <summary>Why a resolved secret this short is worth a warning (never the secret itself);
    /// null when it is long enough.</summary>
    private static string? ShortSecretWarning(UpstreamCredential? credential)
    {
        if (credential?.HeaderValue is not { IsResolved: true } value)
        {
            return null;
        }

        var sent = value.Reveal();
        switch (credential.Kind)
        {
            case "basic":
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(sent["Basic ".Length..]));
                return pair.Length - pair.IndexOf(':', StringComparison.Ordinal) - 1 >= ShortestScrubbedSecret ? null
                    : $"the password is shorter than {ShortestScrubbedSecret} characters: responses are scrubbed of the user:password pair, not of the password alone, which would match ordinary text";
            default:
                var secret = credential.Kind == "bearer" ? sent.Length - "Bearer ".Length : sent.Length;
                return secret >= ShortestScrubbedSecret ? null
                    : $"the secret is shorter than {ShortestScrubbedSecret} characters: every response is scrubbed of it, so any text that happens to hold the same characters reaches agents as [REDACTED:UPSTREAM-CREDENTIAL]";
        }
    }

    private static UpstreamCredential? ReadCredential(YamlConfigReader reader, SecretResolver secrets, YamlNode node, string path)
    {
        if (reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        var type = reader.String(map, "type", path, required: true);
        switch (type)
        {
            case "none":
                reader.OnlyKeys(map, path, "type");
                return UpstreamCredential.None;

            case "bearer":
            {
                reader.OnlyKeys(map, path, "type", "secret");
                var secret = secrets.Resolve(YamlConfigReader.Child(map, "secret"), path + ".secret", parent: map);
                return secret is null ? null
                    : new UpstreamCredential("bearer", "Authorization", secret.IsResolved ? new Secret(secret.Source, "Bearer " + secret.Reveal()) : secret);
            }

            case "header":
            {
                reader.OnlyKeys(map, path, "type", "header", "secret");
                var header = reader.String(map, "header", path, required: true);
                if (header is not null && (!IsToken(header) || ReservedHeaders.Contains(header)))
                {
                    reader.Error(YamlConfigReader.Child(map, "header"), path + ".header", $"'{header}' cannot carry a credential: it must be a valid header name the gateway does not manage itself");
                    header = null;
                }

                var secret = secrets.Resolve(YamlConfigReader.Child(map, "secret"), path + ".secret", parent: map);
                return secret is null || header is null ? null : new UpstreamCredential("header", header, secret);
            }

            case "basic":
            {
                reader.OnlyKeys(map, path, "type", "username", "secret");
                var username = reader.String(map, "username", path, required: true);
                if (username is not null && username.Contains(':', StringComparison.Ordinal))
                {
                    reader.Error(YamlConfigReader.Child(map, "username"), path + ".username", "must not contain ':' (RFC 7617)");
                    username = null;
                }

                var secret = secrets.Resolve(YamlConfigReader.Child(map, "secret"), path + ".secret", parent: map);
                if (secret is null || username is null)
                {
                    return null;
                }

                if (!secret.IsResolved)
                {
                    return new UpstreamCredential("basic", "Authorization", secret);
                }

                var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{secret.Reveal()}"));
                return new UpstreamCredential("basic", "Authorization", new Secret(secret.Source, "Basic " + encoded));
            }

            case null:
                return null;

            default:
                reader.Error(YamlConfigReader.Child(map, "type"), path + ".type", $"'{type}' is not a credential type; expected one of: none, bearer, header, basic");
                return null;
        }
    }

    /// <summary>RFC 9110 §5.6.2 token characters.</summary>
    private static bool IsToken(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }
}
