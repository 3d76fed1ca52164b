using System.Collections.Immutable;
using System.Globalization;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Detection;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Policy;

internal static partial class PolicyParser
{
    private static ImmutableArray<ResponseGuardrail> ReadGuardrails(Context context, YamlNode? node)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not YamlSequenceNode list)
        {
            context.Reader.Error(node, "guardrails", "must be a list of guardrails");
            return [];
        }

        var guardrails = ImmutableArray.CreateBuilder<ResponseGuardrail>(list.Children.Count);
        for (var i = 0; i < list.Children.Count; i++)
        {
            if (ReadGuardrail(context, list.Children[i], $"guardrails[{i}]") is { } guardrail)
            {
                guardrails.Add(guardrail);
            }
        }

        return guardrails.ToImmutable();
    }

    private static ResponseGuardrail? ReadGuardrail(Context context, YamlNode node, string path)
    {
        var reader = context.Reader;
        if (reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "name", "description", "when", "response", "message");
        var errorsBefore = reader.Errors.Count;
        var name = ReadName(context, map, path);
        var (conditions, _) = ReadWhen(context, YamlConfigReader.Child(map, "when"), path + ".when");
        if (conditions.Any(c => c.NeedsBody))
        {
            reader.Error(YamlConfigReader.Child(map, "when"), path + ".when", "a guardrail's when is about the request; test the response body under response");
        }

        // Read before anything can end the parse of this guardrail, so that a wrong message is
        // reported together with the guardrail's other mistakes, not only once they are fixed.
        var message = reader.String(map, "message", path, required: false);

        var responseNode = YamlConfigReader.Child(map, "response");
        if (responseNode is null)
        {
            reader.Error(map, path + ".response", "is required: the conditions on the response that block it");
            return null;
        }

        if (reader.Mapping(responseNode, path + ".response") is not { } response)
        {
            return null;
        }

        reader.OnlyKeys(response, path + ".response", "status", "contentTypes", "bodyMatches", "detectors");
        var statuses = ImmutableArray.CreateBuilder<int>();
        foreach (var text in reader.StringList(response, "status", path + ".response", []))
        {
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var status) && status is >= 100 and <= 599)
            {
                statuses.Add(status);
            }
            else
            {
                reader.Error(YamlConfigReader.Child(response, "status"), path + ".response.status", $"'{text}' is not an HTTP status");
            }
        }

        var contentTypes = reader.StringList(response, "contentTypes", path + ".response", []);
        var detectors = ImmutableArray.CreateBuilder<IDetector>();
        foreach (var detectorName in reader.StringList(response, "detectors", path + ".response", []))
        {
            if (Detectors.TryGet(detectorName, out var detector))
            {
                detectors.Add(detector);
            }
            else if (Detectors.Groups.TryGetValue(detectorName, out var group))
            {
                detectors.AddRange(group.Select(name => Detectors.TryGet(name, out var member) ? member : throw new InvalidOperationException(name)));
            }
            else
            {
                reader.Error(YamlConfigReader.Child(response, "detectors"), path + ".response.detectors",
                    $"'{detectorName}' is not a detector; known: {string.Join(", ", Detectors.Names)}; groups: {string.Join(", ", Detectors.Groups.Keys.Order(StringComparer.Ordinal))}");
            }
        }

        var bodyMatches = reader.String(response, "bodyMatches", path + ".response", required: false) is { } pattern
            ? context.Regex(YamlConfigReader.Child(response, "bodyMatches")!, path + ".response.bodyMatches", pattern)
            : null;
        if (statuses.Count == 0 && contentTypes.IsEmpty && detectors.Count == 0 && bodyMatches is null)
        {
            reader.Error(response, path + ".response", "give at least one of status, contentTypes, bodyMatches or detectors");
        }

        if (reader.Errors.Count > errorsBefore || name is null)
        {
            return null;
        }

        return new ResponseGuardrail
        {
            Name = name,
            Line = (int)node.Start.Line,
            Conditions = conditions,
            Statuses = statuses.ToImmutable(),
            ContentTypes = contentTypes,
            BodyMatches = bodyMatches,
            Detectors = detectors.ToImmutable(),
            Message = message,
        };
    }
}
