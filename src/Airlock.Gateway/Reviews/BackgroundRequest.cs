using System.Net;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Routing;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// The request an approved review becomes when the gateway sends it itself, because nobody is
/// holding it (the caller left, or was answered 202). YARP forwards from an
/// <see cref="HttpContext"/>, so this builds one that carries the stored request exactly as it
/// was approved, and the features the stages set when it was held, rebuilt from the review:
/// the caller, the route, the decision and the review. From there it takes the path a live
/// request takes: the session's counting streams, recording, and
/// <see cref="Forwarding.UpstreamForwarder"/> (credential, guardrails, masking).
/// </summary>
/// <remarks>
/// Rate limits are not charged again: the request was counted against them when it arrived,
/// and a request a person approved is not refused afterwards for the rate of others.
/// </remarks>
internal static class BackgroundRequest
{
    /// <summary>Builds the request and its session. Without a <see cref="RouteFeature"/> when
    /// the review's connection is no longer configured.</summary>
    public static (HttpContext Context, SessionFeature Session) Create(
        Review review, ConnectionCatalog connections, CompiledPolicy policy, TimeProvider timeProvider, CancellationToken abandoned)
    {
        var held = review.Request;
        var startedAt = timeProvider.GetUtcNow();
        var context = new DefaultHttpContext { RequestAborted = abandoned };
        var session = new SessionFeature(context.Features, Guid.CreateVersion7(startedAt), startedAt, timeProvider.GetTimestamp(), held.Method, held.Path)
        {
            Query = held.Query,
        };
        context.Features.Set(session);
        context.Features.Set(new CallerFeature(review.Requester));
        context.Features.Set(new ReviewFeature { ReviewId = review.Id, Action = PolicyAction.Allow });
        context.Request.Scheme = "http";
        context.Request.Protocol = "HTTP/1.1";
        context.Request.Host = new HostString("airlock");
        context.Connection.RemoteIpAddress = IPAddress.TryParse(held.ClientAddress, out var client) ? client : null;
        HeldRequestReplay.Apply(context.Request, held);
        context.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(held.Body.Length > 0));

        if (RouteFeature.TryResolve(connections, held.Path, out var route))
        {
            context.Features.Set(route);
            var facts = new RequestFacts(review.Requester, held.Connection, held.Method, held.Path, held.Query, context.Request.Headers);
            // The policy sent it to review under this rule (the rule as it is now: what it
            // masks); the approval makes it an allow.
            context.Features.Set(new DecisionFeature(
                new PolicyDecision(PolicyAction.Review, policy.Rules.FirstOrDefault(r => r.Name == review.Rule) ?? RuleGone(review.Rule), review.PolicyVersion),
                policy.GuardrailsFor(facts)));
        }

        return (context, session);
    }

    /// <summary>
    /// Stands in for the rule that held a request when a policy reload has removed or renamed it
    /// before the approved request runs: what that rule masked is no longer known, so every
    /// detector redacts its result (fail closed), on top of the connection's masking.
    /// </summary>
    private static PolicyRule RuleGone(string name) => new()
    {
        Name = name,
        Index = -1,
        Line = 0,
        Action = PolicyAction.Review,
        Conditions = [],
        Mask = Masking.MaskingPlan.EveryDetector,
    };

    private sealed class BodyDetection(bool canHaveBody) : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody { get; } = canHaveBody;
    }
}
