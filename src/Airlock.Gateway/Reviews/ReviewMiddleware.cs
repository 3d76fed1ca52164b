using System.Text.Json;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// Holds a request a review rule matched until a person decides, on the caller's own connection:
/// <code>
/// review decision ─ active grant for (caller, rule)? ── yes → forward, recorded with the grant
///                        │ no
///                        ▼
///                  store the exact request as a pending review (webhooks: opened)
///                        ▼
///                  wait — woken by the store's notifications, never polling — up to the hold
///                  (the rule's, or less with Prefer: wait=N)
///                        ├─ approved → execute once on this connection → upstream's answer + Airlock-Review
///                        ├─ denied   → 403 review-denied with the approver's comment
///                        ├─ expired  → 403 review-expired
///                        └─ time up  → 202 Accepted, Location: /api/reviews/{id}
///                                      (approval later executes it in the background)
/// </code>
/// </summary>
internal sealed partial class ReviewMiddleware(
    RequestDelegate next,
    ReviewService reviews,
    ReviewExecutor executor,
    ReviewSignals signals,
    IReviewStore store,
    GatewayInstance instance,
    AirlockConfig config,
    AuditTrail audit,
    TimeProvider timeProvider,
    Telemetry.AirlockMetrics metrics,
    ILogger<ReviewMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var session = context.Features.GetRequiredFeature<SessionFeature>();
        if (context.Features.GetRequiredFeature<DecisionFeature>().Decision is not { Action: PolicyAction.Review, Rule: { } rule } decision)
        {
            await next(context);
            return;
        }

        var identity = context.Features.GetRequiredFeature<Identity.CallerFeature>().Caller;
        if (await store.FindActiveGrantAsync(identity.Subject, identity.KeyId, rule.Name, timeProvider.GetUtcNow(), context.RequestAborted) is { } grant)
        {
            Log.Granted(logger, session.Id, grant.Id, rule.Name);
            context.Features.Set(new ReviewFeature { GrantId = grant.Id, Action = PolicyAction.Allow });
            if (await audit.RecordDecisionAsync(context, session, AuditKinds.RequestGranted, "allowed",
                new Dictionary<string, string> { ["grantId"] = grant.Id.ToString() }))
            {
                await next(context);
            }

            return;
        }

        // The exact payload is stored, so the body must be read whole (bounded like inspection);
        // an approver reads it, so it must read one way, as policy requires of what it reads.
        var request = context.Request;
        var body = await BodyReader.ReadAsync(request.Body, request.ContentLength, request.Headers.ContentEncoding, config.Policy.MaxBodyBytes, "request body", context.RequestAborted);
        BodyRefusal? charset = null;
        if (body.Succeeded)
        {
            using var inspected = await InspectedBody.ReadAsync(body.Decoded, request.ContentType, context.RequestAborted);
            charset = BodyCharset.Check(request.Headers.ContentType, inspected);
        }

        if (!body.Succeeded || charset is not null)
        {
            // What cannot be stored whole, or read one way, cannot be held: denied, on record as
            // such, like a body policy could not read.
            var problem = body.Problem ?? charset!.Problem;
            context.Features.Set(new ReviewFeature { Action = PolicyAction.Deny });
            session.Error = problem.Name;
            if (await audit.RecordDecisionAsync(context, session, AuditKinds.RequestDenied, "denied", new Dictionary<string, string> { ["reason"] = problem.Name }))
            {
                await ProblemWriter.WriteAsync(context, problem, (body.Detail ?? charset!.Detail) + "; a request held for review is stored whole for an approver to read", session.Id,
                    json => PolicyMiddleware.WriteCharset(json, rule.Name, charset));
            }

            return;
        }

        // The agent's stated reason goes to approvers as its claim; one they could misread is refused.
        var reason = AgentReason.Read(request.Headers, out var badReason);
        if (badReason is not null)
        {
            context.Features.Set(new ReviewFeature { Action = PolicyAction.Deny });
            session.Error = ProblemType.InvalidRequest.Name;
            if (await audit.RecordDecisionAsync(context, session, AuditKinds.RequestDenied, "denied", new Dictionary<string, string> { ["reason"] = "invalid-agent-reason" }))
            {
                await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, badReason + "; the request was not held", session.Id);
            }

            return;
        }

        var review = await reviews.OpenAsync(session.Id, identity, rule, decision,
            HeldRequestCapture.From(context, session, body.Original!), reason, context.RequestAborted);
        context.Features.Set(new ReviewFeature { ReviewId = review.Id });
        var opened = new Dictionary<string, string>
        {
            ["approvers"] = string.Join(',', review.Approvers),
            ["approvalsNeeded"] = review.ApprovalsNeeded.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["requestSha256"] = review.RequestSha256,
        };
        if (review.Ambiguous is { } ambiguous)
        {
            opened["ambiguous"] = ambiguous;
        }

        if (review.AgentReason is { } agentReason)
        {
            opened["agentReason"] = agentReason;
        }

        if (!await audit.RecordDecisionAsync(context, session, AuditKinds.ReviewOpened, "held", opened))
        {
            // Not on record, so not open: nobody may approve what the trail does not show.
            await store.CancelReviewAsync(review.Id, timeProvider.GetUtcNow(), CancellationToken.None);
            return;
        }

        await reviews.AnnounceOpenedAsync(review);

        var hold = PreferWait.Hold(context.Request, rule.Review!.Hold, out var applied);
        if (applied is not null)
        {
            context.Response.Headers["Preference-Applied"] = applied;
        }

        var (outcome, claimed) = await HoldAsync(context, review.Id, hold);
        await AnswerAsync(context, session, outcome, claimed);
    }

    /// <summary>Waits for a decision. An approval found while the caller is still here is claimed
    /// for execution before the hold is released: once released, the review looks orphaned to
    /// the background executors, and one of them could take it from a caller that is waiting.</summary>
    private async Task<(Review Review, bool Claimed)> HoldAsync(HttpContext context, Guid id, TimeSpan hold)
    {
        var deadline = timeProvider.GetUtcNow() + hold;
        await store.HoldAsync(id, instance.Id, deadline, CancellationToken.None);
        using var span = Telemetry.AirlockTracing.Source.StartActivity("airlock.review.hold");
        span?.SetTag("airlock.review", id.ToString());
        metrics.HoldStarted();
        try
        {
            while (true)
            {
                // Register for the next change before reading, so a decision in between wakes us.
                var changed = signals.Next(id);
                var review = (await store.GetReviewAsync(id, CancellationToken.None))!;
                var remaining = deadline - timeProvider.GetUtcNow();
                if (review.Status != ReviewStatus.Pending || remaining <= TimeSpan.Zero || context.RequestAborted.IsCancellationRequested)
                {
                    signals.Forget(id, changed);
                    var claimed = review.Status == ReviewStatus.Approved && !context.RequestAborted.IsCancellationRequested
                        && await executor.TryClaimAsync(id);
                    return (review, claimed);
                }

                try
                {
                    await changed.WaitAsync(remaining, timeProvider, context.RequestAborted);
                }
                catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
                {
                    signals.Forget(id, changed);
                }
            }
        }
        finally
        {
            // From here an approval no longer waits for this connection.
            metrics.HoldEnded();
            await store.ReleaseHoldAsync(id, instance.Id, CancellationToken.None);
        }
    }

    private async Task AnswerAsync(HttpContext context, SessionFeature session, Review review, bool claimed)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            // The caller is gone. If it was approved meanwhile, nobody holds it now: execute it here.
            Log.CallerGone(logger, session.Id, review.Id);
            if (review.Status == ReviewStatus.Approved)
            {
                await executor.ExecuteInBackgroundAsync(review.Id, CancellationToken.None);
            }

            return;
        }

        // Past its expiry, a review no one decided is expired, even before the sweep records it.
        var status = review.Status == ReviewStatus.Pending && review.ExpiresAt <= timeProvider.GetUtcNow() ? ReviewStatus.Expired : review.Status;
        switch (status)
        {
            case ReviewStatus.Approved when claimed:
                await executor.ExecuteHeldAsync(context, session, review);
                return;
            case ReviewStatus.Denied:
                var denial = review.Decisions.LastOrDefault(d => d.Verdict == Reviews.ReviewDecision.Deny);
                session.Error = ProblemType.ReviewDenied.Name;
                await ProblemWriter.WriteAsync(context, ProblemType.ReviewDenied,
                    denial?.Comment is { Length: > 0 } comment ? comment : "an approver denied this request", session.Id, json =>
                    {
                        WriteReview(json, review);
                        json.WriteString("deniedBy", denial?.Subject);
                        json.WriteString("comment", denial?.Comment);
                    });
                return;
            case ReviewStatus.Expired or ReviewStatus.Cancelled:
                session.Error = ProblemType.ReviewExpired.Name;
                await ProblemWriter.WriteAsync(context, ProblemType.ReviewExpired, $"the review is {status}; nothing was sent", session.Id,
                    json => WriteReview(json, review));
                return;
        }

        // Still pending, or claimed by another executor: the caller learns where to look.
        await AcceptedAsync(context, review);
    }

    private static async Task AcceptedAsync(HttpContext context, Review review)
    {
        var location = $"/api/reviews/{review.Id}";
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.Headers.Location = location;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("reviewId", review.Id);
            json.WriteString("status", review.Status);
            json.WriteString("rule", review.Rule);
            json.WriteString("location", location);
            json.WriteString("result", location + "/result");
            json.WriteString("expiresAt", review.ExpiresAt);
            if (review.Ambiguous is { } ambiguous)
            {
                // Held because the request reads two ways, not because it is what the rule is about.
                json.WriteString("ambiguous", ambiguous);
            }

            json.WriteEndObject();
        }

        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    private static void WriteReview(Utf8JsonWriter json, Review review)
    {
        json.WriteString("reviewId", review.Id);
        json.WriteString("rule", review.Rule);
    }

    private static partial class Log
    {
        [LoggerMessage(5401, LogLevel.Information, "Session {SessionId}: passed under grant {GrantId} of rule {Rule}")]
        public static partial void Granted(ILogger logger, Guid sessionId, Guid grantId, string rule);

        [LoggerMessage(5402, LogLevel.Information, "Session {SessionId}: the caller left while review {ReviewId} was held")]
        public static partial void CallerGone(ILogger logger, Guid sessionId, Guid reviewId);
    }
}
