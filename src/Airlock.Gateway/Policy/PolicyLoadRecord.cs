namespace Airlock.Gateway.Policy;

/// <summary>The stored fact that a policy was loaded, or that a reload was rejected.</summary>
/// <param name="Version">The version loaded, or of the rejected file's bytes.</param>
/// <param name="Outcome"><c>loaded</c> or <c>rejected</c>.</param>
/// <param name="Errors">For a rejection, every error, one per line.</param>
internal sealed record PolicyLoadRecord(DateTimeOffset At, string Source, string Version, string Outcome, string? Errors);
