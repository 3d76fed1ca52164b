using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    private const long DefaultMaxBodyBytes = 1L << 20;
    private const long DefaultMaxResponseBodyBytes = 4L << 20;

    private static PolicyConfig? ReadPolicy(YamlConfigReader reader, YamlNode? node, string baseDirectory)
    {
        if (node is null || reader.Mapping(node, "policy") is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, "policy", "file", "maxBodyBytes", "maxResponseBodyBytes");
        var file = reader.String(map, "file", "policy", required: true);
        var maxBody = Size(reader, map, "maxBodyBytes", DefaultMaxBodyBytes);
        var maxResponse = Size(reader, map, "maxResponseBodyBytes", DefaultMaxResponseBodyBytes);
        return file is null ? null : new PolicyConfig(Path.GetFullPath(file, baseDirectory), maxBody, maxResponse);
    }

    private static long Size(YamlConfigReader reader, YamlMappingNode map, string key, long defaultValue) =>
        SizeIn(reader, map, key, "policy", defaultValue, 1024, 1L << 30);

    private static AdminConfig ReadAdmin(YamlConfigReader reader, YamlNode? node, IdentityConfig? identity)
    {
        if (node is null || reader.Mapping(node, "admin") is not { } map)
        {
            return AdminConfig.Nobody;
        }

        reader.OnlyKeys(map, "admin", "adminGroups", "auditorGroups", "login");
        var admins = reader.StringList(map, "adminGroups", "admin", []);
        var auditors = reader.StringList(map, "auditorGroups", "admin", []);
        if ((!admins.IsEmpty || !auditors.IsEmpty) && identity is { Issuers.IsEmpty: true })
        {
            reader.Error(map, "admin", "the admin API authenticates people with OIDC access tokens: configure an issuer under identity.oidc");
        }

        return new AdminConfig(admins, auditors) { Login = ReadAdminLogin(reader, YamlConfigReader.Child(map, "login"), identity) };
    }
}
