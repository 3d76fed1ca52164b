namespace Airlock.Gateway.Audit;

/// <summary>The stored audit trail is not a continuation of what was signed and written, so it
/// is not signed again; the message says where it breaks.</summary>
internal sealed class AuditChainBrokenException(string problem) : Exception(problem);
