using Airlock.Gateway.Audit;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    /// <summary>
    /// Reads the <c>store</c> and <c>audit</c> sections only, for <c>airlock audit</c>: it needs
    /// the store and the signing key, not the upstream credentials.
    /// </summary>
    public static (StoreConfig? Store, AuditConfig? Audit, IReadOnlyList<ConfigError> Errors) LoadAuditFile(string path, Func<string, string?>? environment = null)
    {
        var (reader, secrets, map, directory) = ReadSections(path, environment);
        if (secrets is null || map is null)
        {
            return (null, null, reader.Errors);
        }

        var store = ReadStore(reader, secrets, Required(reader, map, "store"), directory);
        var audit = ReadAudit(reader, secrets, YamlConfigReader.Child(map, "audit"), map, []);
        return reader.HasErrors ? (null, null, reader.Errors) : (store, audit, reader.Errors);
    }

    private static AuditConfig ReadAudit(YamlConfigReader reader, SecretResolver secrets, YamlNode? node, YamlNode root, List<ConfigError> warnings)
    {
        if (node is null || reader.Mapping(node, "audit") is not { } map)
        {
            warnings.Add(Warning(reader, node ?? root, "audit.signingKey",
                "no signing key: checkpoints are not signed, so a rewrite of the whole trail from some event on cannot be detected (see docs/audit.md)"));
            return AuditConfig.Default;
        }

        reader.OnlyKeys(map, "audit", "signingKey", "checkpointEvery", "previousPublicKeys");
        string? previous = null;
        if (reader.String(map, "previousPublicKeys", "audit", required: false) is { } previousPath)
        {
            var full = Path.GetFullPath(previousPath, Path.GetDirectoryName(reader.File) ?? ".");
            try
            {
                previous = File.ReadAllText(full);
                if (!previous.Contains("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal))
                {
                    reader.Error(YamlConfigReader.Child(map, "previousPublicKeys"), "audit.previousPublicKeys", $"{full} holds no PEM public key");
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                reader.Error(YamlConfigReader.Child(map, "previousPublicKeys"), "audit.previousPublicKeys", $"cannot read {full}: {ex.GetType().Name}");
            }
        }

        var every = reader.Duration(map, "checkpointEvery", "audit", AuditConfig.Default.CheckpointEvery, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        Secret? key = null;
        if (YamlConfigReader.Child(map, "signingKey") is { } keyNode)
        {
            key = secrets.Resolve(keyNode, "audit.signingKey", multiline: true);
            if (key is { IsResolved: true })
            {
                using var signer = AuditSigner.FromPrivatePem(key.Reveal(), out var error);
                if (signer is null)
                {
                    reader.Error(keyNode, "audit.signingKey", $"the value of {key.Source} is unusable: {error}; create one with 'airlock audit keygen'");
                }
            }
        }
        else
        {
            warnings.Add(Warning(reader, map, "audit.signingKey",
                "no signing key: checkpoints are not signed, so a rewrite of the whole trail from some event on cannot be detected (see docs/audit.md)"));
        }

        return new AuditConfig(key, every, previous);
    }
}
