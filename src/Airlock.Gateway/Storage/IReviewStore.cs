using Airlock.Gateway.Reviews;

namespace Airlock.Gateway.Storage;

/// <summary>How recording a decision came out.</summary>
internal enum DecisionOutcome
{
    /// <summary>Recorded; the review still waits for more approvals.</summary>
    Recorded,

    /// <summary>Recorded, and it was the approval that made the review approved.</summary>
    Approved,

    /// <summary>Recorded, and it denied the review.</summary>
    Denied,

    /// <summary>Not recorded: the review is no longer pending (decided, expired, cancelled).</summary>
    NotPending,

    /// <summary>Not recorded: this person already decided this review.</summary>
    AlreadyDecided,

    /// <summary>Not recorded: no such review.</summary>
    NotFound,
}

/// <summary>
/// Reviews, their decisions, grants and execution claims. Every state change is a conditional
/// update on one row, so concurrent approvers, double clicks and several replicas agree on one
/// outcome: a review is approved once and claimed for execution once.
/// </summary>
internal interface IReviewStore
{
    Task CreateReviewAsync(Review review, CancellationToken cancellationToken);

    Task<Review?> GetReviewAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>Reviews, newest first, optionally in one status.</summary>
    Task<IReadOnlyList<Review>> ListReviewsAsync(string? status, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Records a decision atomically: only on a pending, unexpired review, once per person. The
    /// denial that denies and the approval that completes the count change the status in the same
    /// transaction; when the review becomes approved, <paramref name="grantWhenApproved"/> is asked
    /// (with every decision, this one included) whether a grant comes with it, and it is stored in
    /// the same transaction.
    /// </summary>
    Task<(DecisionOutcome Outcome, Review? Review)> RecordDecisionAsync(Guid id, ReviewDecision decision, Func<Review, Grant?> grantWhenApproved, CancellationToken cancellationToken);

    /// <summary>Cancels a pending review (its opening could not be recorded); false if not pending.</summary>
    Task<bool> CancelReviewAsync(Guid id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Marks the review as held on a connection by this instance until a time.</summary>
    Task HoldAsync(Guid id, string instance, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Marks the held connection gone, so an approval executes in the background.</summary>
    Task ReleaseHoldAsync(Guid id, string instance, CancellationToken cancellationToken);

    /// <summary>Claims an approved review for execution; true for exactly one caller, ever.</summary>
    Task<bool> TryClaimExecutionAsync(Guid id, string instance, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Marks an execution this instance claimed, and cannot tell the outcome of, as
    /// execution-unknown, with why (<see cref="Reviews.ExecutionUnknownReason"/>); false when it
    /// is no longer executing.</summary>
    Task<bool> MarkExecutionUnknownAsync(Guid id, string instance, string reason, CancellationToken cancellationToken);

    /// <summary>Records an execution's result; false when the review is no longer executing (the
    /// sweep already gave it up as execution-unknown).</summary>
    Task<bool> CompleteExecutionAsync(Guid id, ReviewResult result, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Expires pending reviews whose time is up; returns the ones it expired.</summary>
    Task<IReadOnlyList<Guid>> ExpireDueAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Approved reviews no live holder will execute: not held, hold lapsed, or held by
    /// an instance that stopped beating.</summary>
    Task<IReadOnlyList<Guid>> ListOrphanedApprovalsAsync(DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken);

    /// <summary>Marks as execution-unknown the executions whose executor stopped beating
    /// (last seen before <paramref name="staleBefore"/>), and those executing since before
    /// <paramref name="stuckBefore"/> whoever runs them (their result could not be recorded),
    /// recording which of the two as the reason.</summary>
    Task<IReadOnlyList<Guid>> MarkAbandonedExecutionsAsync(DateTimeOffset staleBefore, DateTimeOffset stuckBefore, CancellationToken cancellationToken);

    /// <summary>Records that this gateway instance is alive.</summary>
    Task BeatAsync(string instance, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>An active grant to the caller for the rule. <paramref name="keyId"/> must match too
    /// (null for OIDC callers): a grant to a revoked key never passes its namesake.</summary>
    Task<Grant?> FindActiveGrantAsync(string subject, string? keyId, string rule, DateTimeOffset now, CancellationToken cancellationToken);

    Task<IReadOnlyList<Grant>> ListGrantsAsync(bool activeOnly, DateTimeOffset now, CancellationToken cancellationToken);

    Task<Grant?> GetGrantAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>Revokes an active grant; null when there is no such active grant.</summary>
    Task<Grant?> RevokeGrantAsync(Guid id, string by, DateTimeOffset now, CancellationToken cancellationToken);
}
