using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Policy.Conditions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Policy;

internal static partial class PolicyParser
{
    /// <summary>
    /// Reads a mapping of field names to tests: <c>limit: { lte: 100 }</c>, or the shorthand
    /// <c>X-Env: prod</c> for <c>equals</c>.
    /// </summary>
    private static void ReadFieldTests(Context context, YamlNode? node, string path, Action<string, ValueTest> add)
    {
        var reader = context.Reader;
        if (node is null || reader.Mapping(node, path) is not { } map)
        {
            return;
        }

        if (map.Children.Count == 0)
        {
            reader.Error(map, path, "name at least one field; leave the key out to match any");
        }

        foreach (var (keyNode, valueNode) in map.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value;
            if (string.IsNullOrEmpty(name))
            {
                reader.Error(keyNode, path, "a field name is required");
                continue;
            }

            if (ReadValueTest(context, valueNode, $"{path}.{name}") is { } test)
            {
                add(name, test);
            }
        }
    }

    private static ValueTest? ReadValueTest(Context context, YamlNode node, string path)
    {
        var reader = context.Reader;
        if (node is YamlScalarNode or YamlSequenceNode)
        {
            // Shorthand: a value is "equals", a list is "in".
            return Literals(reader, node, path) is { } shorthand ? new ValueTest { OneOf = shorthand } : null;
        }

        if (reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "exists", "equals", "in", "matches", "gt", "gte", "lt", "lte");
        if (map.Children.Count == 0)
        {
            reader.Error(map, path, "give at least one test: exists, equals, in, matches, gt, gte, lt or lte");
            return null;
        }

        var errorsBefore = reader.Errors.Count;
        foreach (var (keyNode, valueNode) in map.Children)
        {
            // `gt:` with its value forgotten must not leave a test that any value passes;
            // `equals: null` is the null literal, as `in: [null]` and the shorthand are.
            if (YamlConfigReader.IsNull(valueNode) && keyNode is YamlScalarNode { Value: not "equals" } key)
            {
                reader.Error(keyNode, $"{path}.{key.Value}", "has no value");
            }
        }

        bool? exists = YamlConfigReader.Child(map, "exists") is null ? null : reader.Bool(map, "exists", path, true);
        var oneOf = ImmutableArray<Literal>.Empty;
        if (map.Children.TryGetValue(new YamlScalarNode("equals"), out var equals))
        {
            oneOf = equals is YamlScalarNode && Literals(reader, equals, path + ".equals") is { } one ? one : oneOf;
            if (equals is not YamlScalarNode)
            {
                reader.Error(equals, path + ".equals", "must be one value; use 'in' for a list");
            }
        }

        if (YamlConfigReader.Child(map, "in") is { } inNode)
        {
            if (!oneOf.IsEmpty)
            {
                reader.Error(inNode, path + ".in", "give equals or in, not both");
            }
            else if (inNode is not YamlSequenceNode)
            {
                reader.Error(inNode, path + ".in", "must be a list of values");
            }
            else if (Literals(reader, inNode, path + ".in") is { } list)
            {
                oneOf = list;
            }
        }

        var matches = reader.String(map, "matches", path, required: false) is { } pattern
            ? context.Regex(YamlConfigReader.Child(map, "matches")!, path + ".matches", pattern)
            : null;
        var test = new ValueTest
        {
            Exists = exists,
            OneOf = oneOf,
            Matches = matches,
            Gt = Number(reader, map, "gt", path),
            Gte = Number(reader, map, "gte", path),
            Lt = Number(reader, map, "lt", path),
            Lte = Number(reader, map, "lte", path),
        };
        if (exists == false && map.Children.Count > 1)
        {
            reader.Error(map, path, "'exists: false' cannot be combined with tests on the value");
        }

        return reader.Errors.Count > errorsBefore ? null : test;
    }

    private static decimal? Number(YamlConfigReader reader, YamlMappingNode map, string key, string path)
    {
        if (reader.String(map, key, path, required: false) is not { } text)
        {
            return null;
        }

        if (!ValueTest.TryNumber(text, out var value))
        {
            reader.Error(YamlConfigReader.Child(map, key), $"{path}.{key}", $"'{text}' is not a number");
            return null;
        }

        return value;
    }

    /// <summary>YAML scalars as literals: plain <c>100</c>, <c>true</c>, <c>null</c> keep their
    /// JSON type; quoted values are strings.</summary>
    private static ImmutableArray<Literal>? Literals(YamlConfigReader reader, YamlNode node, string path)
    {
        var nodes = node is YamlSequenceNode sequence ? sequence.Children : (IList<YamlNode>)[node];
        var literals = ImmutableArray.CreateBuilder<Literal>(nodes.Count);
        foreach (var item in nodes)
        {
            if (item is not YamlScalarNode scalar)
            {
                reader.Error(item, path, "must be a string, a number, true, false or null");
                return null;
            }

            // A scalar read from a file always has a value (an empty one is ""); only a node built
            // in code can lack one.
            var text = scalar.Value ?? throw new System.Diagnostics.UnreachableException();
            if (scalar.Style != ScalarStyle.Plain)
            {
                literals.Add(new Literal(JsonValueKind.String, text, null));
            }
            else if (text is "true" or "false")
            {
                literals.Add(new Literal(text == "true" ? JsonValueKind.True : JsonValueKind.False, text, null));
            }
            else if (text is "null" or "~" or "")
            {
                literals.Add(new Literal(JsonValueKind.Null, "null", null));
            }
            else if (ValueTest.TryNumber(text, out var number))
            {
                literals.Add(new Literal(JsonValueKind.Number, number.ToString(CultureInfo.InvariantCulture), number));
            }
            else
            {
                literals.Add(new Literal(JsonValueKind.String, text, null));
            }
        }

        return literals.ToImmutable();
    }
}
