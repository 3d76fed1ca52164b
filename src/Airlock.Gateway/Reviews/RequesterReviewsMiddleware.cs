using Airlock.Gateway.Audit;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// Where an agent follows up on a request it was answered 202 for, on the proxy listener with
/// its own credential (the connection name <c>api</c> is reserved for this):
/// <code>
/// GET /api/reviews/{id}          the review's status
/// GET /api/reviews/{id}/result   the upstream's answer, replayed as it was (202 while undecided)
/// </code>
/// Only the requester sees a review here; for anyone else it does not exist. Each refusal is on
/// the audit trail (<c>request.refused</c>) before it is answered.
/// </summary>
internal sealed class RequesterReviewsMiddleware(RequestDelegate next, IReviewStore store, AuditTrail audit)
{
    private const string Prefix = "/api/reviews/";

    public async Task InvokeAsync(HttpContext context)
    {
        var session = context.Features.GetRequiredFeature<SessionFeature>();
        if (!session.Path.StartsWith("/api/", StringComparison.Ordinal) && session.Path != "/api")
        {
            await next(context);
            return;
        }

        var rest = session.Path.StartsWith(Prefix, StringComparison.Ordinal) ? session.Path[Prefix.Length..] : "";
        var wantsResult = rest.EndsWith("/result", StringComparison.Ordinal);
        var idText = wantsResult ? rest[..^"/result".Length] : rest;
        if (!Guid.TryParse(idText, out var id) || idText.Contains('/', StringComparison.Ordinal))
        {
            session.Error = ProblemType.NotFound.Name;
            await audit.RecordRefusalAsync(session, ProblemType.NotFound);
            await ProblemWriter.WriteAsync(context, ProblemType.NotFound, "the proxy listener serves GET /api/reviews/{id} and /api/reviews/{id}/result", session.Id);
            return;
        }

        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            session.Error = ProblemType.InvalidMethod.Name;
            await audit.RecordRefusalAsync(session, ProblemType.InvalidMethod);
            await ProblemWriter.WriteAsync(context, ProblemType.InvalidMethod, "reviews are read with GET; people decide them on the admin API", session.Id);
            return;
        }

        var review = await store.GetReviewAsync(id, context.RequestAborted);
        // The same key, not only the same name: a key created again under a revoked key's name
        // is someone new.
        if (review is null || !review.Requester.IsSameCaller(context.Features.GetRequiredFeature<Identity.CallerFeature>().Caller))
        {
            session.Error = ProblemType.ReviewNotFound.Name;
            await audit.RecordRefusalAsync(session, ProblemType.ReviewNotFound);
            await ProblemWriter.WriteAsync(context, ProblemType.ReviewNotFound, "no such review among your requests", session.Id);
            return;
        }

        context.Features.Set(new ReviewFeature { ReviewId = review.Id });
        if (!wantsResult || review.Result is null)
        {
            await StatusAsync(context, session, review, wantsResult);
            return;
        }

        // Replay the stored answer: the status, headers and body the upstream sent (the body up
        // to the stored cap, flagged when cut).
        var result = review.Result;
        context.Response.StatusCode = result.Status;
        foreach (var (name, value) in result.Headers)
        {
            if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers.Append(name, value);
            }
        }

        if (result.Truncated)
        {
            context.Response.Headers["Airlock-Result-Truncated"] = "true";
        }

        context.Response.ContentLength = result.Body.Length;
        await context.Response.Body.WriteAsync(result.Body, context.RequestAborted);
    }

    private static async Task StatusAsync(HttpContext context, SessionFeature session, Review review, bool wantsResult)
    {
        var location = Prefix + review.Id;
        var comment = review.Decisions.LastOrDefault(d => d.Verdict == ReviewDecision.Deny)?.Comment;
        if (wantsResult)
        {
            switch (review.Status)
            {
                case ReviewStatus.Denied:
                    session.Error = ProblemType.ReviewDenied.Name;
                    await ProblemWriter.WriteAsync(context, ProblemType.ReviewDenied, comment ?? "an approver denied this request", session.Id,
                        json => json.WriteString("reviewId", review.Id));
                    return;
                case ReviewStatus.Expired or ReviewStatus.Cancelled:
                    session.Error = ProblemType.ReviewExpired.Name;
                    await ProblemWriter.WriteAsync(context, ProblemType.ReviewExpired, $"the review is {review.Status}; nothing was sent", session.Id,
                        json => json.WriteString("reviewId", review.Id));
                    return;
                case ReviewStatus.ExecutionUnknown:
                    session.Error = ProblemType.ExecutionUnknown.Name;
                    await ProblemWriter.WriteAsync(context, ProblemType.ExecutionUnknown, ExecutionUnknownReason.Describe(review.UnknownReason), session.Id,
                        json => json.WriteString("reviewId", review.Id));
                    return;
            }

            // Not decided or not executed yet.
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            context.Response.Headers.RetryAfter = "5";
        }

        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(
            new RequesterReviewView(review.Id, review.Status, review.Rule, review.CreatedAt, review.ExpiresAt, review.Approvals, review.ApprovalsNeeded,
                location, location + "/result", comment),
            ReviewJsonContext.Default.RequesterReviewView, cancellationToken: context.RequestAborted);
    }
}
