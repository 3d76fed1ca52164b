using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// What the review stage made of a request the policy sent to review, set by
/// <see cref="ReviewMiddleware"/>, <see cref="RequesterReviewsMiddleware"/> and
/// <see cref="ReviewExecutor"/>: the review it opened or followed, the grant that let it pass,
/// and the action it settled on. Replaced (never changed) as the review moves on.
/// </summary>
internal sealed record ReviewFeature
{
    /// <summary>The review this request opened, waited on, or asked about.</summary>
    public Guid? ReviewId { get; init; }

    /// <summary>The grant that let this request through without a new review.</summary>
    public Guid? GrantId { get; init; }

    /// <summary>The action that replaces the policy's review decision: allow once granted or
    /// approved, deny when the request cannot be held. Null while it is still the policy's.</summary>
    public PolicyAction? Action { get; init; }
}
