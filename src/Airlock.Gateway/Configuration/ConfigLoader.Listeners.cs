using System.Net;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    private static ListenersConfig? ReadListeners(YamlConfigReader reader, YamlNode? node, List<ConfigError> warnings)
    {
        if (node is null || reader.Mapping(node, "listeners") is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, "listeners", "proxy", "admin");
        var proxy = ReadEndPoint(reader, map, "proxy", warnings);
        var admin = ReadEndPoint(reader, map, "admin", warnings);
        if (proxy is null || admin is null)
        {
            return null;
        }

        if (proxy.Port != 0 && proxy.Port == admin.Port
            && (proxy.Address.Equals(admin.Address) || IsAny(proxy.Address) || IsAny(admin.Address)))
        {
            reader.Error(map, "listeners", "proxy and admin must listen on different ports: the admin API must never be reachable where agents connect");
            return null;
        }

        return new ListenersConfig(proxy, admin);
    }

    private static IPEndPoint? ReadEndPoint(YamlConfigReader reader, YamlMappingNode map, string key, List<ConfigError> warnings)
    {
        var path = "listeners." + key;
        var text = reader.String(map, key, "listeners", required: true);
        if (text is null)
        {
            return null;
        }

        var node = YamlConfigReader.Child(map, key)!;
        IPEndPoint? endPoint = null;
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(text.AsSpan("localhost:".Length), out var localPort) && localPort is >= 0 and <= 65535)
        {
            endPoint = new IPEndPoint(IPAddress.Loopback, localPort);
        }
        else if (IPEndPoint.TryParse(text, out var parsed) && text.Contains(':', StringComparison.Ordinal)
                 && (text[^1] != ']'))
        {
            endPoint = parsed;
        }

        if (endPoint is null)
        {
            reader.Error(node, path, $"'{text}' is not an address and port; write e.g. 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:8080");
            return null;
        }

        if (!IPAddress.IsLoopback(endPoint.Address))
        {
            warnings.Add(Warning(reader, node, path,
                "listens beyond this machine over plain HTTP; put a TLS-terminating proxy in front of it or keep it on loopback"));
        }

        return endPoint;
    }

    private static bool IsAny(IPAddress address) =>
        address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
}
