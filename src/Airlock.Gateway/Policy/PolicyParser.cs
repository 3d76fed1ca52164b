using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Airlock.Gateway.Configuration;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Policy;

/// <summary>What loading a policy file produced: a compiled policy, or every error.</summary>
internal sealed record PolicyLoadResult(CompiledPolicy? Policy, IReadOnlyList<ConfigError> Errors, IReadOnlyList<ConfigError> Warnings)
{
    public bool Succeeded => Policy is not null && Errors.Count == 0;
}

/// <summary>
/// Parses, validates and compiles a policy file (YAML; the language is in docs/policy.md).
/// Every error is reported with its line; regular expressions are compiled here, once, with
/// <see cref="RegexOptions.NonBacktracking"/>, so no rule can make matching take exponential time.
/// </summary>
internal static partial class PolicyParser
{
    internal const RegexOptions RegexFlags = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    public static PolicyLoadResult LoadFile(string path, IReadOnlySet<string>? knownConnections = null)
    {
        var fullPath = Path.GetFullPath(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new PolicyLoadResult(null, [new ConfigError(fullPath, 0, 0, "", $"cannot read the policy file: {ex.Message}")], []);
        }

        return Load(bytes, fullPath, knownConnections);
    }

    public static PolicyLoadResult Load(byte[] bytes, string sourcePath, IReadOnlySet<string>? knownConnections = null)
    {
        var reader = new YamlConfigReader(sourcePath);
        var warnings = new List<ConfigError>();
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return new PolicyLoadResult(null, [new ConfigError(sourcePath, 0, 0, "", "the policy file is not valid UTF-8")], []);
        }

        var root = reader.Load(text);
        if (root is null || reader.Mapping(root, "") is not { } map)
        {
            return new PolicyLoadResult(null, reader.Errors, warnings);
        }

        reader.OnlyKeys(map, "", "rules", "guardrails", "allowUnmatched");
        var context = new Context(reader, warnings, knownConnections);
        var rules = ReadRules(context, YamlConfigReader.Child(map, "rules"));
        var guardrails = ReadGuardrails(context, YamlConfigReader.Child(map, "guardrails"));
        var allowUnmatched = reader.StringList(map, "allowUnmatched", "", []);
        foreach (var connection in allowUnmatched)
        {
            context.CheckConnection(YamlConfigReader.Child(map, "allowUnmatched")!, "allowUnmatched", connection);
            warnings.Add(Warning(reader, YamlConfigReader.Child(map, "allowUnmatched")!, "allowUnmatched",
                $"connection '{connection}' is on default ALLOW: any request no rule denies or holds goes through"));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, node) in context.Names)
        {
            if (!names.Add(name))
            {
                reader.Error(node, "", $"the name '{name}' is used by more than one rule or guardrail");
            }
        }

        if (reader.HasErrors)
        {
            return new PolicyLoadResult(null, reader.Errors, warnings);
        }

        var version = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        var policy = new CompiledPolicy(sourcePath, version, rules, guardrails, allowUnmatched);
        warnings.AddRange(PolicyLinter.Lint(policy));
        return new PolicyLoadResult(policy, [], warnings);
    }

    private static ConfigError Warning(YamlConfigReader reader, YamlNode node, string path, string message) =>
        new(reader.File, (int)node.Start.Line, (int)node.Start.Column, path, message);

    private sealed class Context(YamlConfigReader reader, List<ConfigError> warnings, IReadOnlySet<string>? knownConnections)
    {
        public YamlConfigReader Reader { get; } = reader;

        public List<ConfigError> Warnings { get; } = warnings;

        /// <summary>Every rule and guardrail name read, valid or not, for the duplicate check.</summary>
        public List<(string Name, YamlNode Node)> Names { get; } = [];

        public void CheckConnection(YamlNode node, string path, string connection)
        {
            if (knownConnections is not null && !knownConnections.Contains(connection))
            {
                Reader.Error(node, path, $"'{connection}' is not a configured connection");
            }
        }

        public Regex? Regex(YamlNode node, string path, string pattern)
        {
            try
            {
                return new Regex(pattern, RegexFlags);
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
            {
                // NonBacktracking refuses backreferences and lookarounds: say so plainly.
                Reader.Error(node, path, $"invalid regular expression: {ex.Message}");
                return null;
            }
        }
    }
}
