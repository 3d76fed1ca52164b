namespace Airlock.Gateway.Normalization;

/// <summary>
/// The one canonical form of a request target. Routing, policy and the upstream all see this
/// form and nothing else, so there is no second reading of the path that a rule could miss.
/// </summary>
/// <param name="Path">The canonical path: starts with '/', no empty, '.' or '..' segments,
/// unreserved characters decoded, every other escape in upper-case hex.</param>
/// <param name="Query">The query string without its '?', exactly as sent (after validation),
/// or null when the target had no '?'.</param>
internal readonly record struct NormalizedTarget(string Path, string? Query);
