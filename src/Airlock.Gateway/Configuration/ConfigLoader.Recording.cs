using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    private static RecordingConfig ReadRecording(YamlConfigReader reader, YamlNode? node, string path)
    {
        if (node is null || reader.Mapping(node, path) is not { } map)
        {
            return RecordingConfig.Default;
        }

        reader.OnlyKeys(map, path, "bodies", "maxBodyBytes", "retentionDays");
        var bodies = reader.Bool(map, "bodies", path, RecordingConfig.Default.Bodies);
        var maxBody = SizeIn(reader, map, "maxBodyBytes", path, RecordingConfig.Default.MaxBodyBytes, 0, 16L << 20);
        var days = RecordingConfig.Default.RetentionDays;
        if (reader.String(map, "retentionDays", path, required: false) is { } text)
        {
            if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out days) || days is < 1 or > 3650)
            {
                reader.Error(YamlConfigReader.Child(map, "retentionDays"), path + ".retentionDays", $"'{text}' must be a whole number of days from 1 to 3650");
                days = RecordingConfig.Default.RetentionDays;
            }
        }

        return new RecordingConfig(bodies, maxBody, days);
    }
}
