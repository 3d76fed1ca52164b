using Airlock.Gateway.Storage;

namespace Airlock.Gateway.Audit;

/// <summary>Verifies the whole chain as a store holds it, with the store's checkpoints.</summary>
internal static class AuditStoreVerification
{
    public static async Task<AuditVerification> VerifyAsync(IAuditStore store, string? publicPem, CancellationToken cancellationToken) =>
        await VerifyAsync(store, await store.ListAuditCheckpointsAsync(cancellationToken), publicPem, cancellationToken);

    /// <param name="checkpoints">The checkpoints to check the chain against: the store's own, and
    /// any kept elsewhere (those are the ones a database-level rewrite cannot touch).</param>
    public static async Task<AuditVerification> VerifyAsync(IAuditStore store, IEnumerable<AuditCheckpoint> checkpoints, string? publicPem,
        CancellationToken cancellationToken)
    {
        var verifier = new AuditVerifier(checkpoints, publicPem);
        // Reading runs ahead of checking: batches go through a small queue. Each event's own
        // checks (hash, canonical form) are independent and run on every core; the links are
        // then checked in order.
        var batches = System.Threading.Channels.Channel.CreateBounded<List<StoredAuditEvent>>(4);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = Task.Run(async () =>
        {
            try
            {
                var batch = new List<StoredAuditEvent>(BatchSize);
                await foreach (var stored in store.ReadAuditChainAsync(1, stop.Token))
                {
                    batch.Add(stored);
                    if (batch.Count == BatchSize)
                    {
                        await batches.Writer.WriteAsync(batch, stop.Token);
                        batch = new List<StoredAuditEvent>(BatchSize);
                    }
                }

                await batches.Writer.WriteAsync(batch, stop.Token);
                batches.Writer.Complete();
            }
            catch (Exception ex)
            {
                batches.Writer.Complete(ex);
            }
        }, CancellationToken.None);

        var checks = new AuditVerifier.EventCheck[BatchSize];
        try
        {
            await foreach (var batch in batches.Reader.ReadAllAsync(cancellationToken))
            {
                if (!Feed(verifier, batch, checks))
                {
                    break;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await reading;
            }
            catch (OperationCanceledException)
            {
            }
        }

        return verifier.Complete();
    }

    private const int BatchSize = 4096;

    private static bool Feed(AuditVerifier verifier, List<StoredAuditEvent> batch, AuditVerifier.EventCheck[] checks)
    {
        Parallel.For(0, batch.Count, i => checks[i] = AuditVerifier.Inspect(batch[i]));
        for (var i = 0; i < batch.Count; i++)
        {
            if (!verifier.Add(batch[i], checks[i]))
            {
                return false;
            }
        }

        return true;
    }
}
