using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

/// <summary>What loading a configuration file produced: a configuration, or every error.</summary>
internal sealed record ConfigLoadResult(AirlockConfig? Config, IReadOnlyList<ConfigError> Errors, IReadOnlyList<ConfigError> Warnings)
{
    public bool Succeeded => Config is not null && Errors.Count == 0;
}

/// <summary>
/// Reads the one configuration file, validates it as a whole and resolves its secret
/// references. The result is either a complete <see cref="AirlockConfig"/> or the list of
/// every error with its line, never a half-read configuration.
/// </summary>
internal static partial class ConfigLoader
{
    /// <param name="resolveSecrets">False to check the file's shape without reading any secret,
    /// for tools that need the configuration but not the credentials (<c>airlock policy</c>).</param>
    public static ConfigLoadResult LoadFile(string path, Func<string, string?>? environment = null, bool resolveSecrets = true)
    {
        var fullPath = Path.GetFullPath(path);
        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new ConfigLoadResult(null, [new ConfigError(fullPath, 0, 0, "", $"cannot read the configuration file: {ex.Message}")], []);
        }

        return Load(text, fullPath, environment, resolveSecrets);
    }

    /// <summary>
    /// Reads only the <c>store</c> section, for the management verbs (<c>keys</c>,
    /// <c>sessions</c>) that need the store but not the upstream credentials: those secrets
    /// need not be present in an operator's shell.
    /// </summary>
    public static (StoreConfig? Store, IReadOnlyList<ConfigError> Errors) LoadStoreFile(string path, Func<string, string?>? environment = null)
    {
        var (reader, secrets, map, directory) = ReadSections(path, environment);
        if (secrets is null || map is null)
        {
            return (null, reader.Errors);
        }

        var store = ReadStore(reader, secrets, Required(reader, map, "store"), directory);
        return (reader.HasErrors ? null : store, reader.Errors);
    }

    /// <summary>The file's top-level mapping, for the verbs that read only some sections; the
    /// reader holds the errors when the file cannot be read or parsed.</summary>
    private static (YamlConfigReader Reader, SecretResolver? Secrets, YamlMappingNode? Map, string Directory) ReadSections(string path, Func<string, string?>? environment)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        var reader = new YamlConfigReader(fullPath);
        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            reader.Error((YamlNode?)null, "", $"cannot read the configuration file: {ex.Message}");
            return (reader, null, null, directory);
        }

        var secrets = new SecretResolver(reader, directory, environment ?? Environment.GetEnvironmentVariable);
        var map = reader.Load(text) is { } root ? reader.Mapping(root, "") : null;
        return (reader, secrets, map, directory);
    }

    public static ConfigLoadResult Load(string yaml, string sourcePath, Func<string, string?>? environment = null, bool resolveSecrets = true)
    {
        var reader = new YamlConfigReader(sourcePath);
        var warnings = new List<ConfigError>();
        var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(sourcePath)) ?? Directory.GetCurrentDirectory();
        var secrets = new SecretResolver(reader, baseDirectory, environment ?? Environment.GetEnvironmentVariable, resolveSecrets);

        var root = reader.Load(yaml);
        if (root is null)
        {
            return new ConfigLoadResult(null, reader.Errors, warnings);
        }

        var map = reader.Mapping(root, "");
        if (map is null)
        {
            return new ConfigLoadResult(null, reader.Errors, warnings);
        }

        reader.OnlyKeys(map, "", "listeners", "store", "identity", "connections", "policy", "admin", "reviews", "audit", "rateLimits", "recording", "telemetry", "console");
        var listeners = ReadListeners(reader, Required(reader, map, "listeners"), warnings);
        var store = ReadStore(reader, secrets, Required(reader, map, "store"), baseDirectory);
        var identity = ReadIdentity(reader, Required(reader, map, "identity"), warnings);
        var connections = ReadConnections(reader, secrets, Required(reader, map, "connections"), warnings);
        var policy = ReadPolicy(reader, Required(reader, map, "policy"), baseDirectory);
        var admin = ReadAdmin(reader, YamlConfigReader.Child(map, "admin"), identity);
        var reviews = ReadReviews(reader, secrets, YamlConfigReader.Child(map, "reviews"), warnings);
        var console = ReadConsole(reader, secrets, YamlConfigReader.Child(map, "console"), identity, warnings);
        var audit = ReadAudit(reader, secrets, YamlConfigReader.Child(map, "audit"), map, warnings);
        var recordingQueue = RecordingQueueConfig.Default;
        if (YamlConfigReader.Child(map, "recording") is { } queueNode && reader.Mapping(queueNode, "recording") is { } queueMap)
        {
            reader.OnlyKeys(queueMap, "recording", "queue", "whenFull");
            var capacity = recordingQueue.Capacity;
            if (reader.String(queueMap, "queue", "recording", required: false) is { } queueText
                && !(int.TryParse(queueText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out capacity) && capacity is >= 1 and <= 1_000_000))
            {
                reader.Error(YamlConfigReader.Child(queueMap, "queue"), "recording.queue", $"'{queueText}' must be a number of records from 1 to 1000000");
                capacity = recordingQueue.Capacity;
            }

            var whenFull = reader.String(queueMap, "whenFull", "recording", required: false) ?? "wait";
            if (whenFull is not ("wait" or "refuse"))
            {
                reader.Error(YamlConfigReader.Child(queueMap, "whenFull"), "recording.whenFull", $"'{whenFull}' must be wait or refuse");
            }

            recordingQueue = new RecordingQueueConfig(capacity, whenFull == "refuse");
        }

        RateLimit? perIdentity = null;
        if (YamlConfigReader.Child(map, "rateLimits") is { } limitsNode && reader.Mapping(limitsNode, "rateLimits") is { } limits)
        {
            reader.OnlyKeys(limits, "rateLimits", "perIdentity");
            perIdentity = ReadRateLimit(reader, YamlConfigReader.Child(limits, "perIdentity"), "rateLimits.perIdentity");
        }

        var traces = ReadTelemetry(reader, YamlConfigReader.Child(map, "telemetry"));
        if (store is SqliteStoreConfig sqlite && policy is not null
            && string.Equals(Path.GetDirectoryName(sqlite.Path), Path.GetDirectoryName(policy.File), StringComparison.Ordinal))
        {
            // The policy watcher watches the policy's directory, and the kernel tells it of every
            // write to every file there: a store beside the policy wakes it on each commit.
            warnings.Add(Warning(reader, YamlConfigReader.Child(map, "store")!, "store.sqlite",
                "the SQLite store is in the policy file's directory; every store write wakes the policy watcher (about 10% more CPU per request under load); put it in a directory of its own, e.g. ./data/airlock.db"));
        }

        if (reader.HasErrors || listeners is null || store is null || identity is null || policy is null)
        {
            return new ConfigLoadResult(null, reader.Errors, warnings);
        }

        var config = new AirlockConfig
        {
            SourcePath = sourcePath,
            ContentHash = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(yaml))),
            Listeners = listeners,
            Store = store,
            Identity = identity,
            Connections = connections,
            Policy = policy,
            Admin = admin,
            Reviews = reviews,
            Audit = audit,
            PerIdentityRateLimit = perIdentity,
            RecordingQueue = recordingQueue,
            Traces = traces,
            Console = console,
        };
        return new ConfigLoadResult(config, [], warnings);
    }

    private static YamlNode? Required(YamlConfigReader reader, YamlMappingNode map, string key)
    {
        var node = YamlConfigReader.Child(map, key);
        if (node is null)
        {
            reader.Error(map, key, "is required");
        }

        return node;
    }

    private static ConfigError Warning(YamlConfigReader reader, YamlNode node, string path, string message) =>
        new(reader.File, (int)node.Start.Line, (int)node.Start.Column, path, message);

    private static ImmutableArray<T> Empty<T>() => ImmutableArray<T>.Empty;
}
