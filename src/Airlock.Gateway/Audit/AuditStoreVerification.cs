using Airlock.Gateway.Storage;

namespace Airlock.Gateway.Audit;

/// <summary>Verifies the whole chain as a store holds it, with the store's checkpoints.</summary>
public static class AuditStoreVerification
{
    public static async Task<AuditVerification> VerifyAsync(IAuditStore store, string? publicPem, CancellationToken cancellationToken) =>
        await VerifyAsync(store, await store.ListAuditCheckpointsAsync(cancellationToken), publicPem, cancellationToken);

    /// <param name="checkpoints">The checkpoints to check the chain against: the store's own, and
    /// any kept elsewhere (those are the ones a database-level rewrite cannot touch).</param>
    public static async Task<AuditVerification> VerifyAsync(IAuditStore store, IEnumerable<AuditCheckpoint> checkpoints, string? publicPem,
        CancellationToken cancellationToken)
    {
        var verifier = new AuditVerifier(checkpoints, publicPem);
        await foreach (var stored in store.ReadAuditChainAsync(1, cancellationToken))
        {
            if (!verifier.Add(stored))
            {
                break;
            }
        }

        return verifier.Complete();
    }
}
