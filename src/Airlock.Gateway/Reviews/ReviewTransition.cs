using Airlock.Gateway.Storage;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// What one person's decision does to a review: the rules of the review's state machine, kept
/// out of the stores so that SQLite and PostgreSQL apply the same rules. A store only locks the
/// review's row, reads it, writes what the step says and commits.
/// </summary>
internal static class ReviewTransition
{
    public static DecisionStep Decide(Review review, ReviewDecision decision)
    {
        // Expiry is decided by the decision's own time, not by whether the sweep has run yet: a
        // review past its deadline takes no more decisions, and the store writes it expired now.
        if (review.Status == ReviewStatus.Pending && review.ExpiresAt <= decision.At)
        {
            return new(DecisionOutcome.NotPending, review with { Status = ReviewStatus.Expired }, RecordsDecision: false, ReviewStatus.Expired);
        }

        if (review.Status != ReviewStatus.Pending)
        {
            return new(DecisionOutcome.NotPending, review, RecordsDecision: false, NewStatus: null);
        }

        // One decision per person: a second click, or a second approver's account used twice,
        // never counts as another approval.
        if (review.Decisions.Any(d => d.Subject == decision.Subject))
        {
            return new(DecisionOutcome.AlreadyDecided, review, RecordsDecision: false, NewStatus: null);
        }

        var decided = review with { Decisions = review.Decisions.Add(decision) };
        if (decision.Verdict == ReviewDecision.Deny)
        {
            // One denial ends the review, however many approvals it already had.
            return new(DecisionOutcome.Denied, decided with { Status = ReviewStatus.Denied, DecidedAt = decision.At }, RecordsDecision: true, ReviewStatus.Denied);
        }

        if (decided.Approvals >= decided.ApprovalsNeeded)
        {
            return new(DecisionOutcome.Approved, decided with { Status = ReviewStatus.Approved, DecidedAt = decision.At }, RecordsDecision: true, ReviewStatus.Approved);
        }

        return new(DecisionOutcome.Recorded, decided, RecordsDecision: true, NewStatus: null);
    }
}

/// <summary>What a decision came to, and what the store writes for it.</summary>
/// <param name="Outcome">What the person who decided is told.</param>
/// <param name="Review">The review as it stands after the decision.</param>
/// <param name="RecordsDecision">The decision joins the review's decisions.</param>
/// <param name="NewStatus">The review's new status, decided at the decision's time; null when it keeps its status.</param>
internal sealed record DecisionStep(DecisionOutcome Outcome, Review Review, bool RecordsDecision, string? NewStatus)
{
    /// <summary>Something to commit; otherwise the transaction is only rolled back.</summary>
    public bool Writes => RecordsDecision || NewStatus is not null;
}
