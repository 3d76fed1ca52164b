using Airlock.Gateway.Audit;

namespace Airlock.Gateway.Storage;

/// <summary>Filters for reading the audit trail, oldest first.</summary>
internal sealed record AuditQuery(DateTimeOffset? Since = null, DateTimeOffset? Until = null, string? Actor = null, string? Connection = null,
    long AfterSeq = 0, int Limit = 1000);

/// <summary>
/// The audit trail: append-only, hash-chained. Appending seals the events (positions, hashes)
/// inside one transaction that holds the chain's lock, so concurrent writers, the CLI and
/// several replicas extend one chain and it never forks.
/// </summary>
internal interface IAuditStore
{
    /// <summary>Appends and seals events durably, in order; returns them sealed.</summary>
    Task<IReadOnlyList<AuditEvent>> AppendAuditEventsAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken);

    /// <summary>How many events the chain has, and the last one's hash (the genesis when empty).</summary>
    Task<(long Count, string HeadHash)> GetAuditHeadAsync(CancellationToken cancellationToken);

    /// <summary>The stored chain from a position on, in order, as stored (for verification).</summary>
    IAsyncEnumerable<StoredAuditEvent> ReadAuditChainAsync(long fromSeq, CancellationToken cancellationToken);

    Task<IReadOnlyList<AuditEvent>> QueryAuditEventsAsync(AuditQuery query, CancellationToken cancellationToken);

    Task AddAuditCheckpointAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken);

    Task<IReadOnlyList<AuditCheckpoint>> ListAuditCheckpointsAsync(CancellationToken cancellationToken);
}
