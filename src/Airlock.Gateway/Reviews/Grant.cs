using System.Collections.Immutable;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// A time window an approver granted with an approval: until <see cref="ExpiresAt"/>, requests
/// by <see cref="Subject"/> that the rule <see cref="Rule"/> would hold pass without a new review.
/// Each such request is still recorded, with the grant's id.
/// </summary>
/// <param name="KeyId">For a grant to an API key, the key's id: the grant holds for that key
/// only, not for a later key that reuses the name.</param>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record Grant(
    Guid Id,
    Guid ReviewId,
    string Subject,
    string? KeyId,
    string Rule,
    string Connection,
    ImmutableArray<string> GrantedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? RevokedAt,
    string? RevokedBy)
{
    public bool IsActive(DateTimeOffset now) => RevokedAt is null && now < ExpiresAt;
}
