using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Masking;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    private static readonly ImmutableArray<string> Actions = ["redact", "partial", "hash", "drop"];

    private static MaskingConfig? ReadMasking(YamlConfigReader reader, SecretResolver secrets, YamlNode node, string path)
    {
        if (reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "detectors", "fields", "hashKey", "passthrough", "maxValueBytes", "bufferBytes", "refuseQueriesOnMaskedFields");
        var errorsBefore = reader.Errors.Count;

        var (detectorRules, fieldRules) = ReadMaskRules(reader, map, path);

        if (detectorRules.Count == 0 && fieldRules.Count == 0)
        {
            reader.Error(map, path, "names nothing to mask: give detectors, fields, or both");
        }

        byte[]? hashKey = null;
        var needsKey = detectorRules.Values.Any(r => r.Action == MaskAction.Hash) || fieldRules.Any(r => r.Action == MaskAction.Hash);
        if (YamlConfigReader.Child(map, "hashKey") is { } keyNode)
        {
            var secret = secrets.Resolve(keyNode, path + ".hashKey");
            if (secret is { IsResolved: true })
            {
                hashKey = Encoding.UTF8.GetBytes(secret.Reveal());
                if (hashKey.Length < 16)
                {
                    reader.Error(keyNode, path + ".hashKey", $"the value of {secret.Source} is too short for a hash key: use at least 16 bytes (32 random bytes, base64, is good)");
                }
            }
            else if (secret is not null)
            {
                // Loaded without secrets (airlock policy): this plan never masks anything, but
                // it is built, and a plan with a hash action refuses to be built without a key.
                hashKey = new byte[32];
            }
        }
        else if (needsKey)
        {
            reader.Error(map, path + ".hashKey", "the hash action needs a key: hashKey: { env: NAME } or { file: path }");
        }

        var passthrough = reader.StringList(map, "passthrough", path, []);
        foreach (var type in passthrough)
        {
            if (!Regex.IsMatch(type, @"^[a-z0-9!#$&^_.+-]+/(\*|[a-z0-9!#$&^_.+-]+)$"))
            {
                reader.Error(YamlConfigReader.Child(map, "passthrough"), path + ".passthrough", $"'{type}' is not a lower-case media type such as image/png or image/*");
            }
        }

        var maxValue = SizeIn(reader, map, "maxValueBytes", path, MaskingConfig.DefaultMaxValueBytes, 1024, 64L << 20);
        var buffer = SizeIn(reader, map, "bufferBytes", path, MaskingConfig.DefaultBufferBytes, 0, 16L << 20);
        var refuseQueries = reader.Bool(map, "refuseQueriesOnMaskedFields", path, false);
        if (reader.Errors.Count > errorsBefore)
        {
            return null;
        }

        var plan = new MaskingPlan(fieldRules, detectorRules.Values, hashKey);
        return new MaskingConfig(plan, passthrough, maxValue, buffer) { RefuseQueriesOnMaskedFields = refuseQueries };
    }

    /// <summary>
    /// Reads the <c>detectors</c> and <c>fields</c> lists of a masking section: a connection's, or
    /// a policy rule's <c>mask</c>. A detector named again (alone, or in a group) takes the later
    /// entry's action.
    /// </summary>
    internal static (Dictionary<string, DetectorRule> Detectors, List<FieldRule> Fields) ReadMaskRules(YamlConfigReader reader, YamlMappingNode map, string path)
    {
        var detectorRules = new Dictionary<string, DetectorRule>(StringComparer.Ordinal);
        foreach (var (entry, at) in Entries(reader, map, "detectors", path))
        {
            reader.OnlyKeys(entry, at, "detector", "regex", "label", "action");
            var action = ReadAction(reader, entry, at);
            var name = reader.String(entry, "detector", at, required: false);
            var regex = reader.String(entry, "regex", at, required: false);
            if ((name is null) == (regex is null))
            {
                reader.Error(entry, at, "give exactly one of detector (a name or group) or regex");
                continue;
            }

            if (regex is not null)
            {
                var label = reader.String(entry, "label", at, required: true);
                if (label is null || !Regex.IsMatch(label, "^[A-Z0-9][A-Z0-9-]{0,31}$"))
                {
                    reader.Error(YamlConfigReader.Child(entry, "label") ?? entry, at + ".label", "a custom detector needs a label of upper-case letters, digits and '-', e.g. EMPLOYEE-ID");
                    continue;
                }

                // A custom detector is known by its label: one named like a built-in one would
                // stand in for it (a rule's could replace the connection's email detector).
                if (Detectors.TryGet(label.ToLowerInvariant(), out _) || Detectors.Groups.ContainsKey(label.ToLowerInvariant()))
                {
                    reader.Error(YamlConfigReader.Child(entry, "label"), at + ".label", $"'{label}' is a built-in detector's name; give the custom detector a label of its own");
                    continue;
                }

                try
                {
                    detectorRules[label] = new DetectorRule(RegexDetector.Custom(label.ToLowerInvariant(), regex), action ?? MaskAction.Redact);
                }
                catch (ArgumentException ex)
                {
                    reader.Error(YamlConfigReader.Child(entry, "regex"), at + ".regex", $"is not a valid regular expression: {ex.Message}");
                }
                catch (NotSupportedException ex)
                {
                    // Custom detectors run on .NET's linear-time engine, so a hostile body cannot
                    // make masking backtrack; it refuses backreferences and lookarounds.
                    reader.Error(YamlConfigReader.Child(entry, "regex"), at + ".regex", $"cannot run in linear time, which every detector must: {ex.Message}");
                }

                continue;
            }

            if (YamlConfigReader.Child(entry, "label") is { } labelNode)
            {
                reader.Error(labelNode, at + ".label", "only a custom regex takes a label; built-in detectors have theirs");
            }

            IEnumerable<string> names = Detectors.Groups.TryGetValue(name!, out var group) ? group : [name!];
            foreach (var detectorName in names)
            {
                if (Detectors.TryGet(detectorName, out var detector))
                {
                    detectorRules[detector.Name] = new DetectorRule(detector, action ?? MaskAction.Redact);
                }
                else
                {
                    reader.Error(YamlConfigReader.Child(entry, "detector"), at + ".detector",
                        $"'{name}' is not a detector; known: {string.Join(", ", Detectors.Names)}; groups: {string.Join(", ", Detectors.Groups.Keys.Order(StringComparer.Ordinal))}");
                }
            }
        }

        var fieldRules = new List<FieldRule>();
        foreach (var (entry, at) in Entries(reader, map, "fields", path))
        {
            reader.OnlyKeys(entry, at, "path", "label", "action");
            var action = ReadAction(reader, entry, at);
            var text = reader.String(entry, "path", at, required: true);
            if (text is null)
            {
                continue;
            }

            if (!JsonPathPattern.TryParse(text, out var pattern, out var error))
            {
                reader.Error(YamlConfigReader.Child(entry, "path"), at + ".path", $"'{text}': {error}");
                continue;
            }

            var label = reader.String(entry, "label", at, required: false) ?? pattern!.LastName?.ToUpperInvariant() ?? "FIELD";
            fieldRules.Add(new FieldRule(pattern!, action ?? MaskAction.Redact, label));
        }

        return (detectorRules, fieldRules);
    }

    private static MaskAction? ReadAction(YamlConfigReader reader, YamlMappingNode entry, string at)
    {
        var text = reader.String(entry, "action", at, required: false);
        if (text is null)
        {
            return null;
        }

        var index = Actions.IndexOf(text);
        if (index < 0)
        {
            reader.Error(YamlConfigReader.Child(entry, "action"), at + ".action", $"'{text}' is not an action; use one of {string.Join(", ", Actions)}");
            return null;
        }

        return (MaskAction)index;
    }

    private static IEnumerable<(YamlMappingNode Entry, string Path)> Entries(YamlConfigReader reader, YamlMappingNode map, string key, string path)
    {
        if (YamlConfigReader.Child(map, key) is not { } node)
        {
            yield break;
        }

        if (node is not YamlSequenceNode list)
        {
            reader.Error(node, $"{path}.{key}", "must be a list");
            yield break;
        }

        for (var i = 0; i < list.Children.Count; i++)
        {
            if (reader.Mapping(list.Children[i], $"{path}.{key}[{i}]") is { } entry)
            {
                yield return (entry, $"{path}.{key}[{i}]");
            }
        }
    }

    private static long SizeIn(YamlConfigReader reader, YamlMappingNode map, string key, string path, long defaultValue, long min, long max)
    {
        var text = reader.String(map, key, path, required: false);
        if (text is null)
        {
            return defaultValue;
        }

        if (!ByteSize.TryParse(text, out var bytes) || bytes < min || bytes > max)
        {
            reader.Error(YamlConfigReader.Child(map, key), $"{path}.{key}", $"'{text}' must be a size from {ByteSize.Format(min)} to {ByteSize.Format(max)}, e.g. 1MiB");
            return defaultValue;
        }

        return bytes;
    }
}
