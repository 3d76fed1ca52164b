using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    /// <summary>Reads <c>{ requests: N, per: 1m }</c>; null when absent or wrong (errors reported).</summary>
    private static RateLimit? ReadRateLimit(YamlConfigReader reader, YamlNode? node, string path)
    {
        if (node is null || reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "requests", "per");
        var text = reader.String(map, "requests", path, required: true);
        var per = reader.Duration(map, "per", path, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var requests) || requests is < 1 or > 1_000_000)
        {
            reader.Error(YamlConfigReader.Child(map, "requests"), path + ".requests", $"'{text}' must be a whole number of requests from 1 to 1000000");
            return null;
        }

        return new RateLimit(requests, per);
    }
}
