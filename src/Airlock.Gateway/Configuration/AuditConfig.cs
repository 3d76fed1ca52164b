namespace Airlock.Gateway.Configuration;

/// <summary>How the audit trail is anchored.</summary>
/// <param name="SigningKey">The PEM private key (ECDSA P-256) checkpoints are signed with, by
/// reference; null: no checkpoints, and the gateway warns that a rewrite of the whole trail from
/// some event on could not be detected.</param>
/// <param name="CheckpointEvery">How often a signed checkpoint of the chain's head is written
/// (only when events were added since the last one).</param>
/// <param name="PreviousPublicKeys">Public keys (PEM blocks) of signing keys used before a
/// rotation: checkpoints they signed still verify.</param>
internal sealed record AuditConfig(Secret? SigningKey, TimeSpan CheckpointEvery, string? PreviousPublicKeys = null)
{
    public static AuditConfig Default { get; } = new(null, TimeSpan.FromMinutes(10));
}
