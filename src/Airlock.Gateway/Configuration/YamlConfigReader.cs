using System.Collections.Immutable;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

/// <summary>
/// Reads typed values out of a YAML node tree while collecting every error with its file,
/// line, column and path. Nothing here throws for bad input: a wrong value is recorded and
/// reading goes on, so one run reports every problem in the file.
/// </summary>
internal sealed class YamlConfigReader(string file)
{
    private readonly List<ConfigError> _errors = [];

    public string File { get; } = file;

    public IReadOnlyList<ConfigError> Errors => _errors;

    public bool HasErrors => _errors.Count > 0;

    public void Error(YamlNode? node, string path, string message) =>
        _errors.Add(node is null
            ? new ConfigError(File, 0, 0, path, message)
            : new ConfigError(File, (int)node.Start.Line, (int)node.Start.Column, path, message));

    public void Error(Mark mark, string path, string message) =>
        _errors.Add(new ConfigError(File, (int)mark.Line, (int)mark.Column, path, message));

    /// <summary>Loads the first document of a YAML text, or records the syntax error.</summary>
    public YamlNode? Load(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0)
            {
                Error(null, "", "the file is empty");
                return null;
            }

            if (stream.Documents.Count > 1)
            {
                Error(stream.Documents[1].RootNode, "", "only one YAML document is allowed per file");
            }

            return stream.Documents[0].RootNode;
        }
        catch (YamlException ex)
        {
            // YamlDotNet's message repeats the position; keep only its description.
            var message = ex.InnerException?.Message ?? ex.Message;
            var cut = message.IndexOf("): ", StringComparison.Ordinal);
            Error(ex.Start, "", "invalid YAML: " + (cut >= 0 ? message[(cut + 3)..] : message));
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's scanner and parser throw these, without a position, on some
            // malformed flow collections (found by ConfigParserProperties); still syntax errors.
            Error(null, "", "invalid YAML: " + ex.Message);
            return null;
        }
    }

    public static bool IsNull(YamlNode? node) =>
        node is null
        || (node is YamlScalarNode s && s.Style == ScalarStyle.Plain
            && (s.Value is null || s.Value.Length == 0 || s.Value is "~" or "null" or "Null" or "NULL"));

    public YamlMappingNode? Mapping(YamlNode? node, string path)
    {
        if (node is YamlMappingNode map)
        {
            return map;
        }

        Error(node, path, "must be a mapping of keys to values");
        return null;
    }

    public static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var child) && !IsNull(child) ? child : null;

    /// <summary>Refuses keys the schema does not know: a typo in a security setting must not
    /// silently leave the default in force.</summary>
    public void OnlyKeys(YamlMappingNode map, string path, params ReadOnlySpan<string> known)
    {
        foreach (var (keyNode, _) in map.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value;
            var isKnown = false;
            foreach (var k in known)
            {
                if (string.Equals(k, key, StringComparison.Ordinal))
                {
                    isKnown = true;
                    break;
                }
            }

            if (!isKnown)
            {
                Error(keyNode, Join(path, key ?? "?"), $"unknown key; expected one of: {string.Join(", ", known.ToArray())}");
            }
        }
    }

    public string? Scalar(YamlNode? node, string path)
    {
        if (node is YamlScalarNode scalar)
        {
            // A NUL ("\0" in a quoted scalar) is never meant, and a path holding one throws
            // where it is used (found by ConfigParserProperties).
            if (scalar.Value?.Contains('\0', StringComparison.Ordinal) == true)
            {
                Error(node, path, "a NUL character is not allowed");
                return null;
            }

            return scalar.Value ?? "";
        }

        Error(node, path, "must be a single value");
        return null;
    }

    public string? String(YamlMappingNode map, string key, string path, bool required)
    {
        var node = Child(map, key);
        if (node is null)
        {
            if (required)
            {
                Error(map, Join(path, key), "is required");
            }

            return null;
        }

        return Scalar(node, Join(path, key));
    }

    public bool Bool(YamlMappingNode map, string key, string path, bool defaultValue)
    {
        var node = Child(map, key);
        if (node is null)
        {
            return defaultValue;
        }

        switch (Scalar(node, Join(path, key)))
        {
            case "true":
                return true;
            case "false":
                return false;
            case null:
                return defaultValue;
            default:
                Error(node, Join(path, key), "must be true or false");
                return defaultValue;
        }
    }

    public TimeSpan Duration(YamlMappingNode map, string key, string path, TimeSpan defaultValue, TimeSpan min, TimeSpan max)
    {
        var node = Child(map, key);
        if (node is null)
        {
            return defaultValue;
        }

        var text = Scalar(node, Join(path, key));
        if (text is null)
        {
            return defaultValue;
        }

        if (!Configuration.Duration.TryParse(text, out var value))
        {
            Error(node, Join(path, key), $"'{text}' is not a duration; write a number and a unit (ms, s, m, h, d), e.g. 30s");
            return defaultValue;
        }

        if (value < min || value > max)
        {
            Error(node, Join(path, key), $"must be between {Configuration.Duration.Format(min)} and {Configuration.Duration.Format(max)}");
            return defaultValue;
        }

        return value;
    }

    /// <summary>A list of strings, written either as a YAML sequence or as one value.</summary>
    public ImmutableArray<string> StringList(YamlMappingNode map, string key, string path, ImmutableArray<string> defaultValue)
    {
        var node = Child(map, key);
        if (node is null)
        {
            return defaultValue;
        }

        if (node is YamlScalarNode)
        {
            var one = Scalar(node, Join(path, key));
            return string.IsNullOrEmpty(one) ? defaultValue : [one];
        }

        if (node is not YamlSequenceNode sequence)
        {
            Error(node, Join(path, key), "must be a value or a list of values");
            return defaultValue;
        }

        var builder = ImmutableArray.CreateBuilder<string>(sequence.Children.Count);
        for (int i = 0; i < sequence.Children.Count; i++)
        {
            var item = Scalar(sequence.Children[i], $"{Join(path, key)}[{i}]");
            if (string.IsNullOrEmpty(item))
            {
                if (item is not null)
                {
                    Error(sequence.Children[i], $"{Join(path, key)}[{i}]", "must not be empty");
                }

                continue;
            }

            builder.Add(item);
        }

        return builder.ToImmutable();
    }

    public static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
