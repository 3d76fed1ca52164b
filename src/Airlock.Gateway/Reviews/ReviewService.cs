using Airlock.Gateway.Admin;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Reviews.Webhooks;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Reviews;

/// <summary>The outcome of a person's decision, or the problem that refused it.</summary>
internal sealed record DecideResult(Review? Review, DecisionOutcome? Outcome, ProblemType? Problem, string? Detail);

/// <summary>
/// The rules of reviews: opening one, who may see it, who may decide it, and what a decision
/// does. The store makes each change atomic; this class decides whether it is allowed.
/// <list type="bullet">
/// <item>Only members of the rule's approver groups decide, and never the requester: not with
/// the same subject, and not the owner of the API key that asked.</item>
/// <item>A rule that needs N approvals needs N distinct people; one denial denies.</item>
/// <item>A window ("allow this for D") may be granted when every approval asks for one, for
/// the shortest asked, and never longer than the rule's <c>maxGrant</c>.</item>
/// </list>
/// </summary>
internal sealed partial class ReviewService(
    IReviewStore store,
    IReviewNotifications notifications,
    WebhookNotifier webhooks,
    AuditTrail audit,
    TimeProvider timeProvider,
    ILogger<ReviewService> logger)
{
    public async Task<Review> OpenAsync(Guid sessionId, CallerIdentity requester, PolicyRule rule, PolicyDecision decision, HeldRequest request,
        string? agentReason, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var settings = rule.Review!;
        var review = new Review
        {
            Id = Guid.CreateVersion7(now),
            CreatedAt = now,
            Status = ReviewStatus.Pending,
            SessionId = sessionId,
            Requester = requester,
            Request = request,
            Rule = rule.Name,
            PolicyVersion = decision.PolicyVersion,
            Ambiguous = decision.Ambiguous,
            AgentReason = agentReason,
            Approvers = settings.Approvers,
            ApprovalsNeeded = settings.Approvals,
            MaxGrant = settings.MaxGrant,
            ExpiresAt = now + settings.Expires,
        };
        await store.CreateReviewAsync(review, cancellationToken);
        Log.Opened(logger, review.Id, rule.Name, requester.Subject);
        return review;
    }

    /// <summary>Tells the approvers' webhooks and consoles of a new review, once its opening is on record.</summary>
    public async Task AnnounceOpenedAsync(Review review)
    {
        webhooks.Publish(new ReviewEvent("opened", review, review.CreatedAt));
        // Consoles (on every replica) show a new held request as it arrives.
        await NotifyChangedAsync(review.Id);
    }

    /// <summary>Whether the person may decide the review; if not, why.</summary>
    public static string? WhyMayNotDecide(CallerIdentity person, Review review)
    {
        if (person.Subject == review.Requester.Subject || person.Subject == review.Requester.Owner)
        {
            return "you asked for this request yourself; someone else must decide it";
        }

        return person.Groups.Any(review.Approvers.Contains)
            ? null
            : $"only members of {string.Join(", ", review.Approvers)} may decide this review";
    }

    /// <summary>Admins and auditors see every review; approvers the ones they may decide;
    /// requesters their own.</summary>
    public static bool MaySee(AdminCaller caller, Review review) =>
        caller.Has(AdminRoles.Admin | AdminRoles.Auditor)
        || caller.Identity.IsSameCaller(review.Requester)
        || caller.Identity.Groups.Any(review.Approvers.Contains);

    /// <param name="requestSha256">The hash of the request the person was shown
    /// (<see cref="Review.RequestSha256"/>), when the client carries it (the console always does):
    /// a decision naming another request than the one stored is refused.</param>
    public async Task<DecideResult> DecideAsync(Guid id, CallerIdentity person, string verdict, string? comment, TimeSpan? window,
        CancellationToken cancellationToken, string? requestSha256 = null)
    {
        var review = await store.GetReviewAsync(id, cancellationToken);
        if (review is null)
        {
            return new DecideResult(null, DecisionOutcome.NotFound, ProblemType.ReviewNotFound, "no such review");
        }

        if (WhyMayNotDecide(person, review) is { } why)
        {
            return new DecideResult(review, null, ProblemType.Forbidden, why);
        }

        if (requestSha256 is not null && !HeldRequestDigest.Matches(review.Request, requestSha256))
        {
            return new DecideResult(review, null, ProblemType.ReviewRequestMismatch,
                $"the decision names request {requestSha256}, but the request held for review {review.Id} is {review.RequestSha256}; nothing was decided: look at the request again");
        }

        if (window is { } w)
        {
            if (verdict != ReviewDecision.Approve)
            {
                return new DecideResult(review, null, ProblemType.InvalidRequest, "a window is granted with an approval, not a denial");
            }

            if (w <= TimeSpan.Zero || w > review.MaxGrant)
            {
                return new DecideResult(review, null, ProblemType.InvalidRequest, review.MaxGrant == TimeSpan.Zero
                    ? $"rule '{review.Rule}' grants no time windows"
                    : $"the window must be between 1 minute and the rule's maximum, {Configuration.Duration.Format(review.MaxGrant)}");
            }
        }

        // A person's decision is on record before it can take effect: if the trail cannot take
        // it, the decision is not made. (Should the store then refuse it, that is recorded too.)
        var given = DecisionEvent(review, person, verdict, comment, window);
        try
        {
            await audit.RecordAsync(given, cancellationToken);
        }
        catch (AuditUnavailableException)
        {
            return new DecideResult(review, null, ProblemType.AuditUnavailable,
                "the decision could not be recorded in the audit trail, so it was not taken; try again later");
        }

        var now = timeProvider.GetUtcNow();
        var decision = new ReviewDecision(person.Subject, person.Groups, verdict, comment, window, now);
        var (outcome, updated) = await store.RecordDecisionAsync(id, decision, approved => GrantFor(approved, now), CancellationToken.None);
        if (outcome is DecisionOutcome.NotFound or DecisionOutcome.AlreadyDecided or DecisionOutcome.NotPending)
        {
            await RecordAsync(audit.ReviewEvent(updated ?? review, AuditKinds.ReviewDecisionVoid, "void", person,
                new Dictionary<string, string> { ["reason"] = outcome.ToString()!, ["verdict"] = verdict }));
        }

        switch (outcome)
        {
            case DecisionOutcome.NotFound:
                return new DecideResult(null, outcome, ProblemType.ReviewNotFound, "no such review");
            case DecisionOutcome.AlreadyDecided:
                return new DecideResult(updated, outcome, ProblemType.ReviewConflict, "you have already decided this review");
            case DecisionOutcome.NotPending:
                if (updated!.Status == ReviewStatus.Expired)
                {
                    // The expiry was just recorded: put it on record, tell the held request and the webhooks.
                    audit.Record(audit.ReviewEvent(updated, AuditKinds.ReviewExpired, "expired", null));
                    await AnnounceAsync(new ReviewEvent("expired", updated, now));
                }

                return new DecideResult(updated, outcome, ProblemType.ReviewConflict, $"the review is {updated.Status}, not pending");
        }

        Log.Decided(logger, id, verdict, person.Subject, outcome);
        await RecordOutcomeAsync(updated!, outcome);
        if (outcome is DecisionOutcome.Approved or DecisionOutcome.Denied)
        {
            await AnnounceAsync(new ReviewEvent(outcome == DecisionOutcome.Approved ? "approved" : "denied", updated!, now, person.Subject, comment));
        }
        else
        {
            await NotifyChangedAsync(id);
        }

        return new DecideResult(updated, outcome, null, null);
    }

    /// <summary>Tells the webhooks and wakes whoever waits on the review. The change is already
    /// committed, so neither may be skipped: the webhooks hear of it even when waking fails.</summary>
    public async Task AnnounceAsync(ReviewEvent reviewEvent)
    {
        webhooks.Publish(reviewEvent);
        await NotifyChangedAsync(reviewEvent.Review.Id);
    }

    /// <summary>
    /// Wakes the requests waiting on a committed change, here and on other replicas. Not on the
    /// token of the request that made the change: an approver hanging up right after approving
    /// must not keep the held request from hearing of it. A failure is logged, not thrown: the
    /// change stands, this replica's waiters were woken in process, and the others re-read the
    /// store when their listening connection comes back or their hold ends.
    /// </summary>
    private async Task NotifyChangedAsync(Guid reviewId)
    {
        try
        {
            await notifications.PublishAsync(reviewId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            Log.NotifyFailed(logger, ex, reviewId);
        }
    }

    /// <summary>The event of one person's decision, recorded before the decision is stored.</summary>
    private AuditEvent DecisionEvent(Review review, CallerIdentity person, string verdict, string? comment, TimeSpan? window)
    {
        // The request decided, by its hash: the trail says which payload the person approved.
        var detail = new Dictionary<string, string> { ["verdict"] = verdict, ["requestSha256"] = review.RequestSha256 };
        if (comment is not null)
        {
            detail["comment"] = comment;
        }

        if (window is { } w)
        {
            detail["windowMinutes"] = ((int)w.TotalMinutes).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return verdict == ReviewDecision.Deny
            ? audit.ReviewEvent(review, AuditKinds.ReviewDenied, "denied", person, detail)
            : audit.ReviewEvent(review, AuditKinds.ReviewApproval, "approval-given", person, detail);
    }

    /// <summary>What the stored decision led to: the review approved, a grant opened. The
    /// decision behind it is on record already; these follow from it and the store, so one the
    /// trail cannot take now is queued and written when it can, never dropped.</summary>
    private async Task RecordOutcomeAsync(Review review, DecisionOutcome? outcome)
    {
        if (outcome != DecisionOutcome.Approved)
        {
            return;
        }

        await RecordAsync(audit.ReviewEvent(review, AuditKinds.ReviewApproved, "approved", null,
            new Dictionary<string, string> { ["approvers"] = string.Join(',', review.Decisions.Where(d => d.Verdict == ReviewDecision.Approve).Select(d => d.Subject)) }));
        if (review.GrantId is { } grantId)
        {
            await RecordAsync(audit.ReviewEvent(review, AuditKinds.GrantCreated, "granted", null,
                new Dictionary<string, string> { ["grantId"] = grantId.ToString() }));
        }
    }

    private async Task RecordAsync(AuditEvent e)
    {
        try
        {
            await audit.RecordAsync(e, CancellationToken.None);
        }
        catch (AuditUnavailableException)
        {
            audit.Record(e);
        }
    }

    private static Grant? GrantFor(Review approved, DateTimeOffset now)
    {
        var approvals = approved.Decisions.Where(d => d.Verdict == ReviewDecision.Approve).ToList();
        if (approvals.Count == 0 || approvals.Any(d => d.Window is null))
        {
            return null;
        }

        var window = approvals.Min(d => d.Window!.Value);
        return new Grant(Guid.CreateVersion7(now), approved.Id, approved.Requester.Subject, approved.Requester.KeyId, approved.Rule, approved.Request.Connection,
            [.. approvals.Select(d => d.Subject)], now, now + window, null, null);
    }

    private static partial class Log
    {
        [LoggerMessage(5001, LogLevel.Information, "Review {ReviewId} opened by rule {Rule} for {Requester}")]
        public static partial void Opened(ILogger logger, Guid reviewId, string rule, string requester);

        [LoggerMessage(5002, LogLevel.Information, "Review {ReviewId}: {Verdict} by {Subject} ({Outcome})")]
        public static partial void Decided(ILogger logger, Guid reviewId, string verdict, string subject, DecisionOutcome? outcome);

        [LoggerMessage(5003, LogLevel.Warning, "Review {ReviewId}: telling other gateways of its change failed; their held requests re-read it when they reconnect or their hold ends")]
        public static partial void NotifyFailed(ILogger logger, Exception exception, Guid reviewId);
    }
}
