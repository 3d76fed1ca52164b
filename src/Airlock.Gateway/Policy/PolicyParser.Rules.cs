using System.Collections.Immutable;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Masking;
using Airlock.Gateway.Normalization;
using Airlock.Gateway.Policy.Conditions;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Policy;

internal static partial class PolicyParser
{
    private static readonly TimeSpan DefaultHold = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DefaultExpiry = TimeSpan.FromHours(24);

    private static ImmutableArray<PolicyRule> ReadRules(Context context, YamlNode? node)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not YamlSequenceNode list)
        {
            context.Reader.Error(node, "rules", "must be a list of rules");
            return [];
        }

        var rules = ImmutableArray.CreateBuilder<PolicyRule>(list.Children.Count);
        for (var i = 0; i < list.Children.Count; i++)
        {
            if (ReadRule(context, list.Children[i], i) is { } rule)
            {
                rules.Add(rule);
            }
        }

        return rules.ToImmutable();
    }

    private static PolicyRule? ReadRule(Context context, YamlNode node, int index)
    {
        var reader = context.Reader;
        var path = $"rules[{index}]";
        if (reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "name", "description", "when", "action", "message", "review", "mask");
        var errorsBefore = reader.Errors.Count;
        var name = ReadName(context, map, path);
        var actionText = reader.String(map, "action", path, required: true);
        PolicyAction? action = actionText switch
        {
            "allow" => PolicyAction.Allow,
            "deny" => PolicyAction.Deny,
            "review" => PolicyAction.Review,
            null => null,
            _ => null,
        };
        if (actionText is not null && action is null)
        {
            reader.Error(YamlConfigReader.Child(map, "action"), path + ".action", $"'{actionText}' is not an action; expected allow, deny or review");
        }

        var (conditions, connections) = ReadWhen(context, YamlConfigReader.Child(map, "when"), path + ".when");
        var message = reader.String(map, "message", path, required: false);
        if (message is not null && action != PolicyAction.Deny)
        {
            reader.Error(YamlConfigReader.Child(map, "message"), path + ".message", "only deny rules carry a message for the caller");
        }

        ReviewSettings? review = null;
        var reviewNode = YamlConfigReader.Child(map, "review");
        if (action == PolicyAction.Review)
        {
            review = ReadReview(context, reviewNode ?? map, path + ".review", reviewNode is null);
        }
        else if (reviewNode is not null)
        {
            reader.Error(reviewNode, path + ".review", "only review rules have review settings");
        }

        var mask = YamlConfigReader.Child(map, "mask") is { } maskNode ? ReadMask(context, maskNode, path + ".mask", action) : null;

        if (reader.Errors.Count > errorsBefore || name is null || action is null)
        {
            return null;
        }

        return new PolicyRule
        {
            Mask = mask,
            Name = name,
            Index = index,
            Line = (int)node.Start.Line,
            Action = action.Value,
            Message = message,
            Review = review,
            Conditions = conditions,
            Connections = connections,
        };
    }

    /// <summary>
    /// A rule's <c>mask</c>: more detectors and field rules for the responses to the requests the
    /// rule lets through, on top of the connection's masking. No keyed hash here: the key belongs
    /// to the connection, so hashing stays in the connection's masking.
    /// </summary>
    private static MaskingPlan? ReadMask(Context context, YamlNode node, string path, PolicyAction? action)
    {
        var reader = context.Reader;
        if (action == PolicyAction.Deny)
        {
            reader.Error(node, path, "only allow and review rules mask responses; a denied request gets none");
            return null;
        }

        if (reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "detectors", "fields");
        var errorsBefore = reader.Errors.Count;
        var (detectors, fields) = ConfigLoader.ReadMaskRules(reader, map, path);
        if (detectors.Count == 0 && fields.Count == 0 && reader.Errors.Count == errorsBefore)
        {
            reader.Error(map, path, "names nothing to mask: give detectors, fields, or both");
        }

        if (detectors.Values.Any(d => d.Action == MaskAction.Hash) || fields.Any(f => f.Action == MaskAction.Hash))
        {
            reader.Error(map, path, "a rule cannot hash: the hash key is the connection's, so put hash rules in the connection's masking");
        }

        return reader.Errors.Count > errorsBefore ? null : new MaskingPlan(fields, detectors.Values, hashKey: null);
    }

    private static string? ReadName(Context context, YamlMappingNode map, string path)
    {
        var reader = context.Reader;
        var name = reader.String(map, "name", path, required: true);
        if (name is not null)
        {
            context.Names.Add((name, map));
        }

        if (name is not null && (name.Length is 0 or > 100 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))))
        {
            reader.Error(YamlConfigReader.Child(map, "name"), path + ".name", "use letters, digits, '-', '_' and '.', at most 100 characters");
            return null;
        }

        return name;
    }

    private static ReviewSettings? ReadReview(Context context, YamlNode node, string path, bool missing)
    {
        var reader = context.Reader;
        if (missing)
        {
            reader.Error(node, path, "a review rule needs review settings with at least one approver group");
            return null;
        }

        if (reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "approvers", "approvals", "hold", "expires", "maxGrant");
        var approvers = reader.StringList(map, "approvers", path, []);
        if (approvers.IsEmpty)
        {
            reader.Error(YamlConfigReader.Child(map, "approvers") ?? map, path + ".approvers",
                "a review rule needs at least one approver group; without one nobody could ever approve");
        }

        var approvals = 1;
        if (reader.String(map, "approvals", path, required: false) is { } text
            && (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out approvals) || approvals is < 1 or > 10))
        {
            reader.Error(YamlConfigReader.Child(map, "approvals"), path + ".approvals", "must be a whole number from 1 to 10");
        }

        var hold = reader.Duration(map, "hold", path, DefaultHold, TimeSpan.Zero, TimeSpan.FromMinutes(15));
        var expires = reader.Duration(map, "expires", path, DefaultExpiry, TimeSpan.FromMinutes(1), TimeSpan.FromDays(30));
        var maxGrant = reader.Duration(map, "maxGrant", path, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromDays(1));
        if (hold > expires)
        {
            reader.Error(YamlConfigReader.Child(map, "hold"), path + ".hold", "cannot be longer than expires");
        }

        return new ReviewSettings(approvers, approvals, hold, expires, maxGrant);
    }

    /// <summary>
    /// Reads a <c>when</c> block into conditions, ordered cheap first and body last, and the
    /// connections it is limited to (for indexing).
    /// </summary>
    private static (ImmutableArray<RuleCondition> Conditions, ImmutableArray<string> Connections) ReadWhen(Context context, YamlNode? node, string path)
    {
        var reader = context.Reader;
        if (node is null || reader.Mapping(node, path) is not { } map)
        {
            return ([], []);
        }

        reader.OnlyKeys(map, path, "connections", "methods", "paths", "subjects", "keys", "issuers", "groups", "query", "headers", "body", "bodyMatches");
        foreach (var (keyNode, valueNode) in map.Children)
        {
            // `methods:` with its value forgotten must not quietly mean "any method".
            if (YamlConfigReader.IsNull(valueNode))
            {
                reader.Error(keyNode, $"{path}.{(keyNode as YamlScalarNode)?.Value}", "has no value; leave the key out to match any");
            }
        }

        var conditions = new List<RuleCondition>();
        var connections = reader.StringList(map, "connections", path, []);
        if (YamlConfigReader.Child(map, "connections") is { } connectionsNode)
        {
            foreach (var connection in connections)
            {
                context.CheckConnection(connectionsNode, path + ".connections", connection);
            }

            conditions.Add(new ConnectionCondition(connections));
        }

        var methods = ReadList(context, map, "methods", path);
        if (methods is not null)
        {
            foreach (var method in methods)
            {
                if (method.Any(c => !char.IsAsciiLetterUpper(c)))
                {
                    reader.Error(YamlConfigReader.Child(map, "methods"), path + ".methods", $"'{method}' must be an HTTP method in upper case, e.g. GET");
                }
            }

            conditions.Add(new MethodCondition(methods));
        }

        if (ReadPaths(context, map, path, connections) is { } paths)
        {
            conditions.Add(new PathCondition(paths));
        }

        AddSet(context, map, "subjects", path, conditions, v => new SubjectCondition(v));
        AddSet(context, map, "keys", path, conditions, v => new KeyCondition(v));
        AddSet(context, map, "issuers", path, conditions, v => new IssuerCondition(v));
        if (ReadGroups(context, YamlConfigReader.Child(map, "groups"), path + ".groups") is { } groups)
        {
            conditions.Add(groups);
        }

        ReadFieldTests(context, YamlConfigReader.Child(map, "query"), path + ".query", (name, test) => conditions.Add(new QueryCondition(name, test)));
        ReadFieldTests(context, YamlConfigReader.Child(map, "headers"), path + ".headers", (name, test) => conditions.Add(new HeaderCondition(name, test)));
        ReadFieldTests(context, YamlConfigReader.Child(map, "body"), path + ".body", (field, test) =>
        {
            if (JsonFieldPath.TryParse(field, out var fieldPath, out var error))
            {
                conditions.Add(new JsonBodyCondition(fieldPath, test));
            }
            else
            {
                reader.Error(YamlConfigReader.Child(map, "body"), $"{path}.body.{field}", error);
            }
        });
        if (reader.String(map, "bodyMatches", path, required: false) is { } pattern
            && context.Regex(YamlConfigReader.Child(map, "bodyMatches")!, path + ".bodyMatches", pattern) is { } regex)
        {
            conditions.Add(new RawBodyCondition(regex));
        }

        return ([.. conditions.OrderBy(c => c.NeedsBody)], connections);
    }

    private static List<string>? ReadList(Context context, YamlMappingNode map, string key, string path)
    {
        if (YamlConfigReader.Child(map, key) is null)
        {
            return null;
        }

        var values = context.Reader.StringList(map, key, path, []);
        if (values.IsEmpty)
        {
            context.Reader.Error(YamlConfigReader.Child(map, key), $"{path}.{key}", "must name at least one value; leave the key out to match any");
        }

        return [.. values];
    }

    private static void AddSet(Context context, YamlMappingNode map, string key, string path, List<RuleCondition> conditions, Func<List<string>, RuleCondition> create)
    {
        if (ReadList(context, map, key, path) is { } values)
        {
            conditions.Add(create(values));
        }
    }

    private static ImmutableArray<PathPattern>? ReadPaths(Context context, YamlMappingNode map, string path, ImmutableArray<string> connections)
    {
        var reader = context.Reader;
        if (ReadList(context, map, "paths", path) is not { } texts)
        {
            return null;
        }

        var node = YamlConfigReader.Child(map, "paths")!;
        var patterns = ImmutableArray.CreateBuilder<PathPattern>(texts.Count);
        foreach (var text in texts)
        {
            if (!text.StartsWith('/'))
            {
                reader.Error(node, path + ".paths", $"'{text}' must start with '/' and include the connection, e.g. /billing/v1/**");
                continue;
            }

            var segments = text.TrimEnd('/').Split('/').Skip(1).ToList();
            if (segments.Any(s => s.Contains("**", StringComparison.Ordinal) && s != "**"))
            {
                reader.Error(node, path + ".paths", $"'{text}': '**' must be a whole segment");
                continue;
            }

            // Patterns are compared with normalised paths, so they must be normalised themselves.
            if (RequestTargetNormalizer.Normalize(text, out var normal) != NormalizationError.None || normal.Path != text)
            {
                reader.Error(node, path + ".paths", $"'{text}' is not in canonical form{(normal.Path is { } p && p != text ? $"; write {p}" : "")} (docs/normalization.md)");
                continue;
            }

            if (!connections.IsEmpty && segments.Count > 0 && segments[0] is not ("*" or "**") && !connections.Contains(segments[0]))
            {
                reader.Error(node, path + ".paths", $"'{text}' is outside the rule's connections ({string.Join(", ", connections)}): the first segment is the connection");
                continue;
            }

            patterns.Add(new PathPattern(text));
        }

        return patterns.ToImmutable();
    }

    private static GroupsCondition? ReadGroups(Context context, YamlNode? node, string path)
    {
        var reader = context.Reader;
        if (node is null)
        {
            return null;
        }

        if (node is YamlSequenceNode or YamlScalarNode)
        {
            // A plain list means "any of".
            var wrapper = new YamlMappingNode { { "anyOf", node } };
            return ReadGroups(context, wrapper, path);
        }

        if (reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "anyOf", "allOf");
        var anyOf = reader.StringList(map, "anyOf", path, []);
        var allOf = reader.StringList(map, "allOf", path, []);
        if (anyOf.IsEmpty && allOf.IsEmpty)
        {
            reader.Error(node, path, "name groups in anyOf or allOf");
            return null;
        }

        return new GroupsCondition(anyOf, allOf);
    }
}
