using System.Collections.Immutable;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// The exact request a review is about, as it will be sent if approved: method, normalised path
/// (connection segment included), query as sent, the headers that are forwarded (credentials,
/// identity claims and hop-by-hop headers already removed) and the body bytes as received.
/// </summary>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record HeldRequest(
    string Connection,
    string Method,
    string Path,
    string? Query,
    ImmutableArray<KeyValuePair<string, string>> Headers,
    byte[] Body,
    string? ClientAddress)
{
    public string Target => Query is null ? Path : $"{Path}?{Query}";
}
