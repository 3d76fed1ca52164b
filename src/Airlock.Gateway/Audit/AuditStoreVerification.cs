using Airlock.Gateway.Storage;

namespace Airlock.Gateway.Audit;

/// <summary>Verifies the whole chain as a store holds it, with the store's checkpoints.</summary>
public static class AuditStoreVerification
{
    public static async Task<AuditVerification> VerifyAsync(IAuditStore store, string? publicPem, CancellationToken cancellationToken)
    {
        var checkpoints = await store.ListAuditCheckpointsAsync(cancellationToken);
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
