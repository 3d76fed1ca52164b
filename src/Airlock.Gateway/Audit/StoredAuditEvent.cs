namespace Airlock.Gateway.Audit;

/// <summary>An audit event as the store holds it: the canonical bytes that were hashed, the
/// hash, and the columns copied out of it for searching (checked against it on verification).</summary>
public sealed record StoredAuditEvent(long Seq, byte[] Canonical, string Hash, string PrevHash, string Kind, DateTimeOffset At);
