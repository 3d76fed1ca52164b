using System.Globalization;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Console.Pages;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Console;

internal static partial class ConsoleEndpoints
{
    private static async Task<IResult> ReviewAsync(HttpContext context, Guid id, IReviewStore store, AirlockConfig config, PolicyProvider policies,
        TimeProvider time, string? notice) =>
        await store.GetReviewAsync(id, context.RequestAborted) is { } review && ReviewService.MaySee(Caller(context), review)
            ? ReviewPage(context, review, config, policies, time, NoticeFor(notice, review))
            : (IResult)NotFound(context);

    private static async Task<IResult> ReviewFragmentAsync(HttpContext context, Guid id, IReviewStore store)
    {
        if (await store.GetReviewAsync(id, context.RequestAborted) is not { } review || !ReviewService.MaySee(Caller(context), review))
        {
            return Results.NotFound();
        }

        return ConsolePages.Page<ReviewState>(new
        {
            Review = review,
            Now = ConsolePages.Frame(context).Now,
            Decidable = WhyNotDecide(context, review) is null,
        });
    }

    private static Microsoft.AspNetCore.Http.HttpResults.RazorComponentResult<MessagePage> NotFound(HttpContext context) =>
        ConsolePages.Message(context, StatusCodes.Status404NotFound, "No such review",
            ["There is no such review, or it is not one you may see."], "/", "Back to the inbox");

    private static string? WhyNotDecide(HttpContext context, Review review) => WhyNotDecide(Person(context).Identity, review);

    /// <summary>Why the person may not decide the review now: ReviewService's rule (an approver,
    /// never the requester), and on the page also a review no longer pending or one they decided.</summary>
    internal static string? WhyNotDecide(Identity.CallerIdentity person, Review review)
    {
        if (review.Status != ReviewStatus.Pending)
        {
            return $"the review is {review.Status}";
        }

        if (review.Decisions.FirstOrDefault(d => d.Subject == person.Subject) is { } mine)
        {
            return $"you {(mine.Verdict == ReviewDecision.Approve ? "approved" : "denied")} it at {ConsoleTime.Exact(mine.At)}; it waits for someone else";
        }

        return ReviewService.WhyMayNotDecide(person, review);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.RazorComponentResult<ReviewPage> ReviewPage(HttpContext context, Review review, AirlockConfig config, PolicyProvider policies, TimeProvider time,
        Notice? notice, int status = StatusCodes.Status200OK)
    {
        var console = config.Console!;
        var person = Person(context);
        var model = new ReviewPageModel(ConsolePages.Frame(context), review, WhyNotDecide(context, review),
            !person.SignedInWithin(console.ApprovalMaxAge, time.GetUtcNow()), console.ApprovalMaxAge,
            HeldBecause.Explain(review, policies.Current), ReviewPageModel.WindowsUpTo(review.MaxGrant), notice);
        return ConsolePages.Page<ReviewPage>(new { Model = model }, status);
    }

    /// <summary>The notices a redirect after a decision names (never text from the address).</summary>
    private static Notice? NoticeFor(string? code, Review review) => code switch
    {
        "approved" => new Notice("ok", review.ApprovalsNeeded > 1
            ? $"Your approval is recorded: {review.Approvals} of {review.ApprovalsNeeded}."
            : "Approved. The request is sent as shown; its outcome appears below."),
        "denied" => new Notice("ok", "Denied. Nothing was sent; the agent is told your reason."),
        "signed-in" => new Notice("ok", "You signed in again. Decide when ready."),
        _ => null,
    };

    /// <summary>
    /// A decision from the page. In order: the form came from this console (antiforgery); the
    /// sign-in is recent enough (else sign in again and come back); the form is whole; then
    /// <see cref="ReviewService.DecideAsync"/> decides whether the person may, checks the request
    /// hash the page showed, records it (audit first) and tells everyone — exactly what the admin
    /// API does. A second click, a second tab or a second approver gets the service's honest answer.
    /// </summary>
    private static async Task<IResult> DecideAsync(HttpContext context, Guid id, IReviewStore store, ReviewService reviews, IAntiforgery antiforgery,
        AirlockConfig config, PolicyProvider policies, TimeProvider time)
    {
        var console = config.Console!;
        var person = Person(context);
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return ConsolePages.Message(context, StatusCodes.Status400BadRequest, "Not decided",
                ["The form did not come from this console page, or it is too old. Nothing was decided: open the review again and decide there."],
                $"/reviews/{id}", "Open the review");
        }

        var now = time.GetUtcNow();
        if (!person.SignedInWithin(console.ApprovalMaxAge, now))
        {
            if (person.AuthTime is null && now - person.SignedInAt < TimeSpan.FromMinutes(2))
            {
                // Just signed in, and still no auth_time: the provider does not send it, so no
                // sign-in could ever be recent enough. Say so rather than loop.
                return ConsolePages.Message(context, StatusCodes.Status403Forbidden, "Not decided",
                    ["Your identity provider did not say when you signed in (the ID token's auth_time claim), so the console cannot tell that your sign-in is recent enough to approve.",
                     "Ask your Airlock administrator to have the provider include auth_time."], $"/reviews/{id}", "Back to the review");
            }

            return Results.Challenge(new OpenIdConnectChallengeProperties
            {
                RedirectUri = $"/reviews/{id}?notice=signed-in",
                MaxAge = console.ApprovalMaxAge,
                Prompt = "login",
            }, [ConsoleSchemes.Oidc]);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var verdict = (string?)form["verdict"];
        var comment = ((string?)form["comment"])?.Trim();
        var hash = (string?)form["requestSha256"];
        string? invalid = verdict is not (ReviewDecision.Approve or ReviewDecision.Deny) ? "the form named no decision"
            : string.IsNullOrEmpty(hash) ? "the form did not name the request decided"
            : comment is { Length: > 2000 } ? "the comment is limited to 2000 characters"
            : verdict == ReviewDecision.Deny && string.IsNullOrEmpty(comment) ? "a denial needs a reason: the agent is told it"
            : null;
        TimeSpan? window = null;
        if (invalid is null && form["windowMinutes"] is { Count: > 0 } windowText && !string.IsNullOrEmpty(windowText))
        {
            if (int.TryParse(windowText, NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) && minutes is >= 1 and <= 24 * 60)
            {
                window = TimeSpan.FromMinutes(minutes);
            }
            else
            {
                invalid = "the window must be a number of minutes from 1 to 1440";
            }
        }

        if (invalid is not null)
        {
            return await AgainAsync(context, id, store, config, policies, time, new Notice("error", $"Not decided: {invalid}."), StatusCodes.Status400BadRequest);
        }

        var result = await reviews.DecideAsync(id, person.Identity, verdict!, string.IsNullOrEmpty(comment) ? null : comment, window, context.RequestAborted, hash);
        if (result.Problem is not { } problem)
        {
            return Results.Redirect($"/reviews/{id}?notice={(verdict == ReviewDecision.Deny ? "denied" : "approved")}", permanent: false, preserveMethod: false);
        }

        return await AgainAsync(context, id, store, config, policies, time, new Notice("error", Honest(result, person, verdict!)), problem.Status);
    }

    /// <summary>The review page again, with what happened to the decision.</summary>
    private static async Task<IResult> AgainAsync(HttpContext context, Guid id, IReviewStore store, AirlockConfig config, PolicyProvider policies,
        TimeProvider time, Notice notice, int status) =>
        await store.GetReviewAsync(id, CancellationToken.None) is { } review && ReviewService.MaySee(Caller(context), review)
            ? ReviewPage(context, review, config, policies, time, notice, status)
            : (IResult)NotFound(context);

    /// <summary>Why a decision was not taken, in words that say what stands.</summary>
    private static string Honest(DecideResult result, ConsolePerson person, string verdict)
    {
        var review = result.Review;
        var mine = review?.Decisions.FirstOrDefault(d => d.Subject == person.Identity.Subject);
        return result.Outcome switch
        {
            DecisionOutcome.AlreadyDecided when mine is not null =>
                $"You already {(mine.Verdict == ReviewDecision.Approve ? "approved" : "denied")} this review at {ConsoleTime.Exact(mine.At)}; that decision stands and nothing was done again.",
            DecisionOutcome.NotPending when review is not null =>
                $"Not recorded: this review is already {review.Status}{By(review)}. Your {(verdict == ReviewDecision.Approve ? "approval" : "denial")} changed nothing, and nothing was sent again.",
            DecisionOutcome.NotFound => "There is no such review any more.",
            _ when result.Problem == ProblemType.ReviewRequestMismatch =>
                "Not decided: the request held is not the one this page showed (its SHA-256 differs). Read the request again below before deciding.",
            _ => $"Not decided: {result.Detail}.",
        };
    }

    private static string By(Review review)
    {
        var deciders = review.Decisions.Where(d => review.Status == ReviewStatus.Denied ? d.Verdict == ReviewDecision.Deny : d.Verdict == ReviewDecision.Approve)
            .Select(d => d.Subject).ToList();
        return deciders.Count == 0 ? "" : " by " + string.Join(", ", deciders);
    }
}
