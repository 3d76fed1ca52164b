using Airlock.Gateway.Audit;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

public static partial class ConfigLoader
{
    private static AuditConfig ReadAudit(YamlConfigReader reader, SecretResolver secrets, YamlNode? node, YamlNode root, List<ConfigError> warnings)
    {
        if (node is null || reader.Mapping(node, "audit") is not { } map)
        {
            warnings.Add(Warning(reader, node ?? root, "audit.signingKey",
                "no signing key: checkpoints are not signed, so a rewrite of the whole trail from some event on cannot be detected (see docs/audit.md)"));
            return AuditConfig.Default;
        }

        reader.OnlyKeys(map, "audit", "signingKey", "checkpointEvery");
        var every = reader.Duration(map, "checkpointEvery", "audit", AuditConfig.Default.CheckpointEvery, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        Secret? key = null;
        if (YamlConfigReader.Child(map, "signingKey") is { } keyNode)
        {
            key = secrets.Resolve(keyNode, "audit.signingKey");
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

        return new AuditConfig(key, every);
    }
}
