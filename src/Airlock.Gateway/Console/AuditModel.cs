using Airlock.Gateway.Audit;

namespace Airlock.Gateway.Console;

/// <summary>The audit page: the signed checkpoints, the signing key, and a verification when one
/// was asked for (null until then; <see cref="Busy"/> when another was running).</summary>
// Public: a console component (.razor, always public) takes it as a [Parameter].
public sealed record AuditModel(ConsoleFrame Frame, IReadOnlyList<AuditCheckpoint> Checkpoints, string? SigningKeyId, bool SignaturesChecked,
    AuditVerification? Verification, bool Busy);
