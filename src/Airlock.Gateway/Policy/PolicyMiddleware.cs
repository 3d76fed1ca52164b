using System.Text.Json;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Masking;
using Airlock.Gateway.Routing;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Policy;

/// <summary>
/// Gives every routed request exactly one decision from the policy in force. A rule that needs
/// the body gets it read (bounded, decoded, in UTF-8 or refused: <see cref="BodyCharset"/>); the
/// upstream then receives the very bytes that were inspected. Deny is answered 403 naming the
/// rule (and saying so when the rule holds only because the request reads two ways); on a
/// connection that refuses questions about masked values, such a request is answered 403
/// <c>masked-field-query</c>; review and allow go on (review to be held by the next stage), with
/// the response guardrails that apply.
/// </summary>
internal sealed partial class PolicyMiddleware(RequestDelegate next, PolicyProvider policies, AuditTrail audit, AirlockConfig config, ILogger<PolicyMiddleware> logger)
{
    private readonly long _maxBodyBytes = config.Policy.MaxBodyBytes;

    public async Task InvokeAsync(HttpContext context)
    {
        var session = context.Features.GetRequiredFeature<SessionFeature>();
        var policy = policies.Current;
        var request = context.Request;
        var caller = context.Features.GetRequiredFeature<Identity.CallerFeature>().Caller;
        var route = context.Features.GetRequiredFeature<RouteFeature>();
        var facts = new RequestFacts(caller, route.Connection.Name, request.Method, session.Path, session.Query, request.Headers);
        var decision = policy.Decide(facts);
        // A connection that refuses questions about masked values reads every body for the
        // field names in it; otherwise a body is read only for a rule that could decide.
        var refuseMaskedQueries = route.Connection.Config.Masking is { RefuseQueriesOnMaskedFields: true };
        if (decision.NeedsBody || (refuseMaskedQueries && MayHaveBody(context)))
        {
            var body = await BodyReader.ReadAsync(request.Body, request.ContentLength, request.Headers.ContentEncoding, _maxBodyBytes, "request body", context.RequestAborted);
            if (!body.Succeeded)
            {
                // Unread is never allowed: the rule that needed the body could not be applied.
                await RefuseAsync(context, session, decision, body.Problem!, body.Detail!, json => json.WriteString("rule", decision.RuleName));
                return;
            }

            var inspected = await InspectedBody.ReadAsync(body.Decoded, request.ContentType, context.RequestAborted);
            context.Response.RegisterForDispose(inspected);
            if (BodyCharset.Check(request.Headers.ContentType, inspected) is { } refusal)
            {
                // Read as UTF-8 here and in another charset upstream, it would be two requests.
                await RefuseAsync(context, session, decision, refusal.Problem, refusal.Detail,
                    json => WriteCharset(json, decision.RuleName, refusal));
                return;
            }

            facts.Body = inspected;
            // The upstream gets exactly the bytes that were inspected (still encoded as sent).
            request.Body = new MemoryStream(body.Original!, writable: false);
            if (decision.NeedsBody)
            {
                decision = policy.Decide(facts);
            }
        }

        decision = decision.WithReasons(facts);
        // Guardrails only ever apply to a response, which a denied request never gets.
        context.Features.Set(new DecisionFeature(decision, decision.Action == PolicyAction.Deny ? [] : policy.GuardrailsFor(facts)));
        if (decision.Action == PolicyAction.Deny)
        {
            Log.Denied(logger, session.Id, decision.RuleName, policy.Version);
            if (!await RecordAsync(context, session, AuditKinds.RequestDenied, "denied", Ambiguity(decision)))
            {
                return;
            }

            session.Error = ProblemType.Denied.Name;
            // A rule that holds only because the request reads two ways says so, rather than
            // its message, which would tell the agent its request is what the rule is about.
            await ProblemWriter.WriteAsync(context, ProblemType.Denied,
                decision.Ambiguous is { } ambiguous ? AmbiguousDetail(decision.RuleName, ambiguous)
                : decision.Rule?.Message ?? (decision.Rule is null
                    ? "no policy rule allows this request; requests are denied by default"
                    : $"the request is denied by rule '{decision.Rule.Name}'"),
                session.Id, json => WriteRule(json, decision));
            return;
        }

        if (refuseMaskedQueries && MaskedFieldQuery.Find(session.Masking!.Plan, facts, route.UpstreamPath) is { } hit)
        {
            // Masking hides the value in the answer; whether an answer comes back would still tell.
            await RefuseAsync(context, session, decision, ProblemType.MaskedFieldQuery, MaskedFieldQuery.Describe(hit), json =>
                {
                    json.WriteString(hit.Where, hit.Name);
                    json.WriteString("masked", hit.Masked);
                }, hit.Masked);
            return;
        }

        // An allowed request is on record before it is sent: a crash can never leave a request
        // the agent saw answered without its event. (Review decisions are recorded when held.)
        if (decision.Action == PolicyAction.Allow && !await RecordAsync(context, session, AuditKinds.RequestAllowed, "allowed", null))
        {
            return;
        }

        await next(context);
    }

    /// <summary>
    /// Refuses the request before its decision applies: the session says deny and why (named
    /// before the wait on the trail, so a caller gone by then still leaves a session that says
    /// why), the trail records a denial with the reason, and the caller gets the problem.
    /// </summary>
    private async Task RefuseAsync(HttpContext context, SessionFeature session, PolicyDecision decision, ProblemType problem, string detail,
        Action<Utf8JsonWriter> members, string? masked = null)
    {
        context.Features.Set(new DecisionFeature(decision with { Action = PolicyAction.Deny, NeedsBody = false }, []));
        session.Error = problem.Name;
        var auditDetail = new Dictionary<string, string> { ["reason"] = problem.Name };
        if (masked is not null)
        {
            auditDetail["masked"] = masked;
        }

        if (await RecordAsync(context, session, AuditKinds.RequestDenied, "denied", auditDetail))
        {
            await ProblemWriter.WriteAsync(context, problem, detail, session.Id, members);
        }
    }

    private static bool MayHaveBody(HttpContext context) =>
        context.Request.ContentLength > 0
        || (context.Request.ContentLength is null && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true);

    private Task<bool> RecordAsync(HttpContext context, SessionFeature session, string kind, string outcome, IReadOnlyDictionary<string, string>? detail) =>
        audit.RecordDecisionAsync(context, session, kind, outcome, detail);

    internal static void WriteCharset(Utf8JsonWriter json, string rule, BodyRefusal? refusal)
    {
        json.WriteString("rule", rule);
        if (refusal?.Charset is { } charset)
        {
            json.WriteString("charset", charset);
        }
    }

    private static void WriteRule(Utf8JsonWriter json, PolicyDecision decision)
    {
        if (decision.Rule is not null)
        {
            json.WriteString("rule", decision.Rule.Name);
        }

        json.WriteString("policyVersion", decision.PolicyVersion);
        if (decision.Ambiguous is { } ambiguous)
        {
            json.WriteString("ambiguous", ambiguous);
        }
    }

    /// <summary>The audit detail of a decision that rested on an ambiguity; null otherwise.</summary>
    private static Dictionary<string, string>? Ambiguity(PolicyDecision decision) =>
        decision.Ambiguous is { } ambiguous ? new() { ["ambiguous"] = ambiguous } : null;

    /// <summary>What the caller is told when a deny rule applies only because its request reads two ways.</summary>
    private static string AmbiguousDetail(string rule, string ambiguous) =>
        $"the request could not be read one way only: {ambiguous}. Ambiguity counts against a request, so rule '{rule}' denies it "
        + "without knowing whether it is what the rule is about; send it so that it reads one way";

    private static partial class Log
    {
        [LoggerMessage(4101, LogLevel.Information, "Session {SessionId}: denied by {Rule} ({Version})")]
        public static partial void Denied(ILogger logger, Guid sessionId, string rule, string version);

    }
}
