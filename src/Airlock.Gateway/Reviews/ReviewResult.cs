using System.Collections.Immutable;

namespace Airlock.Gateway.Reviews;

/// <summary>What the upstream answered when an approved review was executed: status, headers,
/// and the body up to a cap (<see cref="Truncated"/> when it was longer).</summary>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record ReviewResult(int Status, ImmutableArray<KeyValuePair<string, string>> Headers, byte[] Body, bool Truncated, Guid SessionId);
