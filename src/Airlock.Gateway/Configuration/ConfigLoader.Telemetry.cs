using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    /// <summary>Reads <c>telemetry: { traces: { otlp, protocol, sampleRatio } }</c>; null when absent.</summary>
    private static TracesConfig? ReadTelemetry(YamlConfigReader reader, YamlNode? node)
    {
        if (node is null || reader.Mapping(node, "telemetry") is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, "telemetry", "traces");
        if (YamlConfigReader.Child(map, "traces") is not { } tracesNode || reader.Mapping(tracesNode, "telemetry.traces") is not { } traces)
        {
            return null;
        }

        reader.OnlyKeys(traces, "telemetry.traces", "otlp", "protocol", "sampleRatio");
        var endpointText = reader.String(traces, "otlp", "telemetry.traces", required: true);
        Uri? endpoint = null;
        if (endpointText is not null && Uri.TryCreate(endpointText, UriKind.Absolute, out endpoint) && !string.IsNullOrEmpty(endpoint.UserInfo))
        {
            // Not echoed: the value holds a credential.
            reader.Error(YamlConfigReader.Child(traces, "otlp"), "telemetry.traces.otlp", "must not carry credentials in the address");
            endpoint = null;
        }
        else if (endpointText is not null && endpoint?.Scheme is not ("http" or "https"))
        {
            reader.Error(YamlConfigReader.Child(traces, "otlp"), "telemetry.traces.otlp", $"'{endpointText}' must be an http:// or https:// address");
            endpoint = null;
        }

        var protocol = reader.String(traces, "protocol", "telemetry.traces", required: false) ?? "http";
        if (protocol is not ("http" or "grpc"))
        {
            reader.Error(YamlConfigReader.Child(traces, "protocol"), "telemetry.traces.protocol", $"'{protocol}' must be http or grpc");
        }

        var ratio = 1.0;
        if (reader.String(traces, "sampleRatio", "telemetry.traces", required: false) is { } ratioText
            && !(double.TryParse(ratioText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out ratio) && ratio is >= 0 and <= 1))
        {
            reader.Error(YamlConfigReader.Child(traces, "sampleRatio"), "telemetry.traces.sampleRatio", $"'{ratioText}' must be a number from 0 to 1");
            ratio = 1.0;
        }

        return endpoint is null ? null : new TracesConfig(endpoint, protocol == "grpc", ratio);
    }
}
