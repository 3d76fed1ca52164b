using Airlock.Gateway.Identity;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;

namespace Airlock.Gateway.Tests.Reviews;

/// <summary>
/// The review's state machine, as both stores apply it: who may still decide, when a review is
/// approved or denied, and what is written. The stores' own tests (functional, on real SQLite and
/// PostgreSQL) check that they write what a step says, under concurrency.
/// </summary>
public class ReviewTransitionTests
{
    private static readonly DateTimeOffset Opened = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private static Review Refund(int approvalsNeeded = 1, string status = ReviewStatus.Pending) => new()
    {
        Id = Guid.NewGuid(),
        CreatedAt = Opened,
        Status = status,
        SessionId = Guid.NewGuid(),
        Requester = new CallerIdentity("agent", "api-key", "airlock", "agent", "k1", []),
        Request = new HeldRequest("billing", "POST", "/billing/v1/refunds", null, [], "{\"amount\":500}"u8.ToArray(), null),
        Rule = "refunds",
        PolicyVersion = "sha256:1",
        Approvers = ["finance"],
        ApprovalsNeeded = approvalsNeeded,
        MaxGrant = TimeSpan.Zero,
        ExpiresAt = Opened.AddHours(1),
    };

    private static ReviewDecision By(string person, string verdict, int minutes = 5) =>
        new(person, ["finance"], verdict, null, null, Opened.AddMinutes(minutes));

    [Fact]
    public void One_approval_of_a_review_that_needs_one_approves_it_at_the_decisions_time()
    {
        var step = ReviewTransition.Decide(Refund(), By("alice", ReviewDecision.Approve));

        Assert.Equal(DecisionOutcome.Approved, step.Outcome);
        Assert.Equal(ReviewStatus.Approved, step.NewStatus);
        Assert.True(step.RecordsDecision);
        Assert.Equal(ReviewStatus.Approved, step.Review.Status);
        Assert.Equal(Opened.AddMinutes(5), step.Review.DecidedAt);
        Assert.Equal("alice", Assert.Single(step.Review.Decisions).Subject);
    }

    [Fact]
    public void A_review_that_needs_two_approvals_waits_after_the_first_and_is_approved_by_the_second()
    {
        var first = ReviewTransition.Decide(Refund(approvalsNeeded: 2), By("alice", ReviewDecision.Approve));
        Assert.Equal(DecisionOutcome.Recorded, first.Outcome);
        Assert.Null(first.NewStatus);
        Assert.True(first.RecordsDecision);
        Assert.True(first.Writes);
        Assert.Equal(ReviewStatus.Pending, first.Review.Status);
        Assert.Null(first.Review.DecidedAt);

        var second = ReviewTransition.Decide(first.Review, By("bob", ReviewDecision.Approve, minutes: 6));
        Assert.Equal(DecisionOutcome.Approved, second.Outcome);
        Assert.Equal(ReviewStatus.Approved, second.NewStatus);
        Assert.Equal(["alice", "bob"], second.Review.Decisions.Select(d => d.Subject));
        Assert.Equal(Opened.AddMinutes(6), second.Review.DecidedAt);
    }

    [Fact]
    public void One_denial_ends_the_review_even_after_an_approval()
    {
        var first = ReviewTransition.Decide(Refund(approvalsNeeded: 2), By("alice", ReviewDecision.Approve));
        var step = ReviewTransition.Decide(first.Review, By("bob", ReviewDecision.Deny, minutes: 6));

        Assert.Equal(DecisionOutcome.Denied, step.Outcome);
        Assert.Equal(ReviewStatus.Denied, step.NewStatus);
        Assert.True(step.RecordsDecision);
        Assert.Equal(ReviewStatus.Denied, step.Review.Status);
        Assert.Equal(Opened.AddMinutes(6), step.Review.DecidedAt);
    }

    [Fact]
    public void A_person_decides_once_a_second_approval_by_the_same_person_counts_for_nothing()
    {
        var first = ReviewTransition.Decide(Refund(approvalsNeeded: 2), By("alice", ReviewDecision.Approve));
        var again = ReviewTransition.Decide(first.Review, By("alice", ReviewDecision.Approve, minutes: 6));

        Assert.Equal(DecisionOutcome.AlreadyDecided, again.Outcome);
        Assert.False(again.Writes);
        Assert.Same(first.Review, again.Review);
    }

    [Theory]
    [InlineData(ReviewStatus.Approved)]
    [InlineData(ReviewStatus.Denied)]
    [InlineData(ReviewStatus.Expired)]
    [InlineData(ReviewStatus.Cancelled)]
    [InlineData(ReviewStatus.Executing)]
    [InlineData(ReviewStatus.Executed)]
    [InlineData(ReviewStatus.ExecutionUnknown)]
    public void A_review_no_longer_pending_takes_no_decision(string status)
    {
        var review = Refund(status: status);

        foreach (var verdict in new[] { ReviewDecision.Approve, ReviewDecision.Deny })
        {
            var step = ReviewTransition.Decide(review, By("alice", verdict));
            Assert.Equal(DecisionOutcome.NotPending, step.Outcome);
            Assert.False(step.Writes);
            Assert.Same(review, step.Review);
        }
    }

    [Theory]
    [InlineData(60, true)]
    [InlineData(61, true)]
    [InlineData(59, false)]
    public void A_decision_at_or_after_the_expiry_finds_the_review_expired_and_writes_it_so(int minutes, bool expired)
    {
        var step = ReviewTransition.Decide(Refund(), By("alice", ReviewDecision.Approve, minutes));

        if (expired)
        {
            Assert.Equal(DecisionOutcome.NotPending, step.Outcome);
            Assert.Equal(ReviewStatus.Expired, step.NewStatus);
            Assert.False(step.RecordsDecision);
            Assert.Equal(ReviewStatus.Expired, step.Review.Status);
            Assert.Empty(step.Review.Decisions);
        }
        else
        {
            Assert.Equal(DecisionOutcome.Approved, step.Outcome);
        }
    }
}
