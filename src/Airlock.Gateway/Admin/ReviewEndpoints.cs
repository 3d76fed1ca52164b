using System.Text.Json;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Gateway.Admin;

/// <summary>
/// The reviews and grants of the admin API, for people with OIDC tokens:
/// <code>
/// GET  /api/reviews?status=pending&amp;limit=50   what the caller may decide (all, for admins and auditors)
/// GET  /api/reviews/{id}                       the exact request, every decision; 404 if not the caller's to see
/// POST /api/reviews/{id}/approve               { comment, windowMinutes?, requestSha256? }
/// POST /api/reviews/{id}/deny                  { comment, requestSha256? }
/// GET  /api/reviews/{id}/result                what the upstream answered, once executed
/// GET  /api/grants[?all=true]                  active grants (all, with all=true)
/// POST /api/grants/{id}/revoke
/// </code>
/// </summary>
internal static class ReviewEndpoints
{
    public static IEndpointRouteBuilder MapReviewApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/reviews", ListAsync);
        endpoints.MapGet("/api/reviews/{id:guid}", GetAsync);
        endpoints.MapPost("/api/reviews/{id:guid}/approve", (HttpContext c, Guid id, ReviewService s) => DecideAsync(c, id, s, ReviewDecision.Approve));
        endpoints.MapPost("/api/reviews/{id:guid}/deny", (HttpContext c, Guid id, ReviewService s) => DecideAsync(c, id, s, ReviewDecision.Deny));
        endpoints.MapGet("/api/reviews/{id:guid}/result", ResultAsync);
        endpoints.MapGet("/api/grants", ListGrantsAsync);
        endpoints.MapPost("/api/grants/{id:guid}/revoke", RevokeGrantAsync);
        return endpoints;
    }

    private static AdminCaller Caller(HttpContext context) => context.Features.GetRequiredFeature<AdminCaller>();

    private static async Task ListAsync(HttpContext context, IReviewStore store, string? status, int? limit)
    {
        if (status is not null && !ReviewStatus.All.Contains(status))
        {
            await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, $"status must be one of {string.Join(", ", ReviewStatus.All)}");
            return;
        }

        var caller = Caller(context);
        var take = Math.Clamp(limit ?? 50, 1, 500);
        var seesAll = caller.Has(AdminRoles.Admin | AdminRoles.Auditor);
        // Approvers see what they may decide; fetch more than asked, since some are filtered out.
        var reviews = await store.ListReviewsAsync(status, seesAll ? take : take * 4, context.RequestAborted);
        var visible = reviews
            .Where(r => seesAll || ReviewService.WhyMayNotDecide(caller.Identity, r) is null)
            .Take(take)
            .Select(r => ReviewView.Of(r, caller.Identity))
            .ToArray();
        await context.Response.WriteAsJsonAsync(visible, ReviewJsonContext.Default.ReviewViewArray, cancellationToken: context.RequestAborted);
    }

    private static async Task<Review?> VisibleAsync(HttpContext context, IReviewStore store, Guid id)
    {
        var review = await store.GetReviewAsync(id, context.RequestAborted);
        if (review is null || !ReviewService.MaySee(Caller(context), review))
        {
            // Someone who may not see a review does not learn that it exists.
            await ProblemWriter.WriteAsync(context, ProblemType.ReviewNotFound, "no such review, or not one you may see");
            return null;
        }

        return review;
    }

    private static async Task GetAsync(HttpContext context, Guid id, IReviewStore store)
    {
        if (await VisibleAsync(context, store, id) is { } review)
        {
            await context.Response.WriteAsJsonAsync(ReviewView.Of(review, Caller(context).Identity), ReviewJsonContext.Default.ReviewView,
                cancellationToken: context.RequestAborted);
        }
    }

    private static async Task DecideAsync(HttpContext context, Guid id, ReviewService service, string verdict)
    {
        DecisionRequest? body = new(null, null);
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                body = await JsonSerializer.DeserializeAsync(context.Request.Body, ReviewJsonContext.Default.DecisionRequest, context.RequestAborted);
            }
            catch (JsonException ex)
            {
                await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, $"the body is not a valid decision: {ex.Message}");
                return;
            }
        }

        if (body?.WindowMinutes is < 1 or > 24 * 60)
        {
            await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, "windowMinutes must be between 1 and 1440");
            return;
        }

        if (body?.Comment is { Length: > 2000 })
        {
            await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, "the comment is limited to 2000 characters");
            return;
        }

        var result = await service.DecideAsync(id, Caller(context).Identity, verdict, body?.Comment,
            body?.WindowMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null, context.RequestAborted, body?.RequestSha256);
        if (result.Problem is { } problem)
        {
            await ProblemWriter.WriteAsync(context, problem, result.Detail!, extensions: json =>
            {
                if (result.Review is { } r)
                {
                    json.WriteString("reviewId", r.Id);
                    json.WriteString("reviewStatus", r.Status);
                }
            });
            return;
        }

        await context.Response.WriteAsJsonAsync(ReviewView.Of(result.Review!, Caller(context).Identity), ReviewJsonContext.Default.ReviewView,
            cancellationToken: context.RequestAborted);
    }

    private static async Task ResultAsync(HttpContext context, Guid id, IReviewStore store)
    {
        if (await VisibleAsync(context, store, id) is not { } review)
        {
            return;
        }

        if (review.Result is not { } result)
        {
            await ProblemWriter.WriteAsync(context, ProblemType.ReviewConflict, $"the review is {review.Status}; it has no result",
                extensions: json => json.WriteString("reviewStatus", review.Status));
            return;
        }

        await context.Response.WriteAsJsonAsync(
            new ResultView(result.Status, [.. result.Headers.Select(h => new[] { h.Key, h.Value })], BodyView.Of(result.Body, result.Truncated), result.SessionId),
            ReviewJsonContext.Default.ResultView, cancellationToken: context.RequestAborted);
    }

    private static async Task ListGrantsAsync(HttpContext context, IReviewStore store, TimeProvider time, bool? all)
    {
        var caller = Caller(context);
        var now = time.GetUtcNow();
        var grants = await store.ListGrantsAsync(activeOnly: all != true, now, context.RequestAborted);
        var visible = grants
            .Where(g => GrantRevocation.MaySee(caller, g))
            .Select(g => GrantView.Of(g, now))
            .ToArray();
        await context.Response.WriteAsJsonAsync(visible, ReviewJsonContext.Default.GrantViewArray, cancellationToken: context.RequestAborted);
    }

    private static async Task RevokeGrantAsync(HttpContext context, Guid id, IReviewStore store, TimeProvider time, AuditTrail audit)
    {
        var (outcome, revoked) = await GrantRevocation.RevokeAsync(Caller(context), id, store, time, audit, context.RequestAborted);
        switch (outcome)
        {
            case GrantRevocation.Outcome.NotFound:
                await ProblemWriter.WriteAsync(context, ProblemType.NotFound, "no such grant, or not one you may revoke (admins, and the approvers who granted it)");
                return;
            case GrantRevocation.Outcome.AlreadyEnded:
                await ProblemWriter.WriteAsync(context, ProblemType.ReviewConflict, "the grant has already ended or been revoked");
                return;
            default:
                await context.Response.WriteAsJsonAsync(GrantView.Of(revoked!, time.GetUtcNow()), ReviewJsonContext.Default.GrantView, cancellationToken: context.RequestAborted);
                return;
        }
    }
}
