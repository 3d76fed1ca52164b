using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Airlock.Gateway.Admin;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Console.Pages;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Airlock.Gateway.Console;

/// <summary>
/// The console's endpoints on the admin listener. Pages are Razor components rendered on the
/// server; the only script keeps them live (<c>/events</c> says something changed, the page
/// fetches its fragment again). State changes are form posts checked by antiforgery; no GET
/// changes anything.
/// <code>
/// GET  /                          inbox (filters: tab, connection, rule, requester)
/// GET  /fragments/inbox           its list, for live updates
/// GET  /reviews/{id}              the review page
/// GET  /fragments/reviews/{id}    its live part (status, decisions, outcome)
/// POST /reviews/{id}/decide       approve (optionally for a window) or deny
/// GET  /grants                    the grants in force
/// POST /grants/{id}/revoke        revoke one
/// GET  /audit                     checkpoints (auditors, admins)
/// POST /audit/verify              verify the trail now
/// POST /audit/export              the evidence bundle as a zip download
/// GET  /sessions                  the newest sessions (auditors, admins; filters)
/// GET  /sessions/{id}             one, as a transcript
/// GET  /events[?review={id}]      server-sent events: "changed"
/// GET  /signin?returnUrl=/…       sign in, back to a console page
/// POST /signout                   sign out (and at the provider, when it offers it)
/// GET  /signed-out                says so
/// GET  /assets/{name}             the embedded stylesheet and script
/// </code>
/// </summary>
internal static partial class ConsoleEndpoints
{
    /// <summary>How long one live-events response lasts; the browser reconnects (checking the
    /// session again) at once.</summary>
    private static readonly TimeSpan StreamLifetime = TimeSpan.FromMinutes(10);

    /// <summary>A keep-alive for proxies that close quiet connections.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(25);

    public static IEndpointRouteBuilder MapAirlockConsole(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods("/assets/{file}", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, ConsoleAssets assets) => assets.ServeAsync(context));
        endpoints.MapGet("/signin", SignIn);
        endpoints.MapPost("/signout", SignOutAsync);
        endpoints.MapGet("/signed-out", (HttpContext context) => ConsolePages.Message(context, StatusCodes.Status200OK, "Signed out",
            ["You are signed out of the Airlock console."], "/", "Sign in"));
        endpoints.MapGet("/", InboxAsync);
        endpoints.MapGet("/fragments/inbox", InboxFragmentAsync);
        endpoints.MapGet("/events", Events);
        endpoints.MapGet("/reviews/{id:guid}", ReviewAsync);
        endpoints.MapGet("/fragments/reviews/{id:guid}", ReviewFragmentAsync);
        endpoints.MapPost("/reviews/{id:guid}/decide", DecideAsync);
        endpoints.MapGet("/grants", GrantsAsync);
        endpoints.MapPost("/grants/{id:guid}/revoke", RevokeGrantAsync);
        endpoints.MapGet("/audit", AuditAsync);
        endpoints.MapGet("/sessions", SessionsAsync);
        endpoints.MapGet("/sessions/{id:guid}", SessionAsync);
        endpoints.MapPost("/audit/verify", VerifyAuditAsync);
        endpoints.MapPost("/audit/export", ExportAuditAsync);
        return endpoints;
    }

    private static ConsolePerson Person(HttpContext context) => context.Features.Get<ConsolePerson>()!;

    private static AdminCaller Caller(HttpContext context) => context.Features.Get<AdminCaller>()!;

    /// <summary>Signs in and returns to a page of the console, never anywhere else.</summary>
    private static IResult SignIn(string? returnUrl) =>
        Results.Challenge(new AuthenticationProperties { RedirectUri = ConsolePaths.LocalReturn(returnUrl) }, [ConsoleSchemes.Oidc]);

    private static async Task SignOutAsync(HttpContext context, IAntiforgery antiforgery, IOptionsMonitor<OpenIdConnectOptions> oidc)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            await ConsolePages.Message(context, StatusCodes.Status400BadRequest, "Not signed out",
                ["The sign-out form did not come from this console page (or it is too old). Reload the page and sign out again."], "/", "Back").ExecuteAsync(context);
            return;
        }

        await context.SignOutAsync(ConsoleSchemes.Cookie);
        // RP-initiated logout, when the provider offers it: the provider's session ends too.
        string? endSession = null;
        try
        {
            var configuration = await oidc.Get(ConsoleSchemes.Oidc).ConfigurationManager!.GetConfigurationAsync(context.RequestAborted);
            endSession = configuration.EndSessionEndpoint;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or HttpRequestException)
        {
            // The provider cannot be reached: the console's own session has ended all the same.
        }

        if (string.IsNullOrEmpty(endSession))
        {
            context.Response.Redirect("/signed-out");
            return;
        }

        await context.SignOutAsync(ConsoleSchemes.Oidc, new AuthenticationProperties { RedirectUri = "/signed-out" });
    }

    private static async Task<IResult> InboxAsync(HttpContext context, InboxSnapshot snapshot, AirlockConfig config, PolicyProvider policies,
        string? tab, string? connection, string? rule, string? requester) =>
        ConsolePages.Page<Inbox>(new { (await InboxModelAsync(context, snapshot, config, policies, tab, connection, rule, requester)).Model });

    /// <summary>The list alone, as every open inbox fetches it after a change: rendered once per
    /// read and content, and shared (see <see cref="InboxSnapshot"/>).</summary>
    private static async Task<IResult> InboxFragmentAsync(HttpContext context, InboxSnapshot snapshot, AirlockConfig config, PolicyProvider policies,
        string? tab, string? connection, string? rule, string? requester)
    {
        var (model, listing) = await InboxModelAsync(context, snapshot, config, policies, tab, connection, rule, requester);
        var services = context.RequestServices;
        var html = await listing.FragmentAsync(model, shown => ConsolePages.RenderAsync<InboxList>(services, new Dictionary<string, object?>
        {
            [nameof(InboxList.Model)] = shown,
        }));
        return Results.Content(html, "text/html; charset=utf-8");
    }

    /// <summary>
    /// The pending reviews the person may decide (ReviewService's rule, as on the admin API),
    /// newest first; admins and auditors also see the ones others must decide, approvers the ones
    /// they decided that wait for more approvals. The decided tab:
    /// the reviews they may see that are no longer pending. The reviews come from the snapshot
    /// every open inbox shares (one store read per change); only the filtering is per person.
    /// </summary>
    private static async Task<(InboxModel Model, InboxSnapshot.Listing Listing)> InboxModelAsync(HttpContext context, InboxSnapshot snapshot, AirlockConfig config, PolicyProvider policies,
        string? tab, string? connection, string? rule, string? requester)
    {
        const int Shown = 200;
        var filter = new InboxFilter(tab == InboxFilter.Decided ? InboxFilter.Decided : InboxFilter.Pending, connection, rule,
            requester is { Length: > 200 } ? requester[..200] : requester);
        var caller = Caller(context);
        var cancel = context.RequestAborted;
        IReadOnlyList<Review> decidable = [], others = [], decided = [];
        InboxSnapshot.Listing listing;
        if (filter.Tab == InboxFilter.Pending)
        {
            listing = await snapshot.PendingAsync(cancel);
            var pending = listing.Reviews.Where(filter.Matches).ToList();
            decidable = [.. pending.Where(r => WhyNotDecide(caller.Identity, r) is null).Take(Shown)];
            // Admins and auditors see every pending review; approvers also the ones they decided
            // that wait for someone else.
            var seesAll = caller.Has(AdminRoles.Admin | AdminRoles.Auditor);
            others = [.. pending.Where(r => WhyNotDecide(caller.Identity, r) is not null
                && (seesAll || r.Decisions.Any(d => d.Subject == caller.Identity.Subject))).Take(Shown)];
        }
        else
        {
            listing = await snapshot.RecentAsync(cancel);
            decided = [.. listing.Reviews
                .Where(r => r.Status != ReviewStatus.Pending && ReviewService.MaySee(caller, r) && filter.Matches(r)).Take(Shown)];
        }

        var rules = policies.Current.Rules.Where(r => r.Review is not null).Select(r => r.Name).Distinct(StringComparer.Ordinal).ToList();
        return (new InboxModel(ConsolePages.Frame(context), filter, decidable, others, decided, [.. config.Connections.Select(c => c.Name)], rules), listing);
    }

    /// <summary>
    /// Server-sent events for one page: <c>changed</c> when a review it shows may have changed,
    /// a <c>ping</c> now and then. <c>?review={id}</c> limits it to one review the person may see.
    /// </summary>
    private static async Task<IResult> Events(HttpContext context, ConsoleEvents events, IReviewStore store, TimeProvider time,
        IHostApplicationLifetime lifetime, Guid? review)
    {
        if (review is { } id && (await store.GetReviewAsync(id, context.RequestAborted) is not { } shown || !ReviewService.MaySee(Caller(context), shown)))
        {
            return Results.NotFound();
        }

        var subscription = events.Subscribe(review);
        var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        context.Response.RegisterForDispose(subscription);
        context.Response.RegisterForDispose(stop);
        return TypedResults.ServerSentEvents(Stream(subscription, time, stop.Token));
    }

    private static async IAsyncEnumerable<SseItem<string>> Stream(ConsoleEvents.Subscription subscription, TimeProvider time,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var end = time.GetUtcNow() + StreamLifetime;
        // The page fetches its fragment once connected: nothing changed in between is missed.
        yield return new SseItem<string>("ready", "hello");
        while (!cancellationToken.IsCancellationRequested && time.GetUtcNow() < end)
        {
            var changed = await subscription.NextAsync(Heartbeat, time, cancellationToken);
            if (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            yield return changed ? new SseItem<string>("changed", "changed") : new SseItem<string>("", "ping");
        }
    }
}
