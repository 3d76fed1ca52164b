using System.Collections.Immutable;

namespace Airlock.Gateway.Identity.ApiKeys;

/// <summary>
/// An agent API key as stored: its public id, name and groups, and a hash of its secret.
/// The secret itself is shown once when the key is created and is never stored.
/// </summary>
internal sealed record ApiKey(
    string Id,
    string Name,
    ImmutableArray<string> Groups,
    ReadOnlyMemory<byte> SecretHash,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt)
{
    /// <summary>The person answerable for the key, as a subject (<c>corp:alice</c>), if any.</summary>
    public string? Owner { get; init; }

    public bool IsRevoked => RevokedAt is not null;
}
