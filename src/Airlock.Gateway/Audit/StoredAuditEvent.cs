namespace Airlock.Gateway.Audit;

/// <summary>An audit event as the store holds it: the canonical bytes that were hashed, the
/// hash, and the columns copied out of it for searching (checked against it on verification).</summary>
internal sealed record StoredAuditEvent(long Seq, byte[] Canonical, string Hash, string PrevHash, string Kind, DateTimeOffset At)
{
    /// <summary>The actor and connection columns the store searches by, when read from a store.</summary>
    public SearchColumns? Columns { get; init; }
}

/// <summary>Columns copied out of an event for searching. A NUL in them is stored as U+FFFD
/// (PostgreSQL text cannot hold it); <see cref="Normalize"/> compares them that way.</summary>
internal sealed record SearchColumns(string? Actor, string? Connection)
{
    public static string? Normalize(string? value) => value?.Replace('\0', '\uFFFD');
}
