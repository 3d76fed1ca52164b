using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Policy;

/// <summary>
/// Gives every routed request exactly one decision from the policy in force. A rule that needs
/// the body gets it read (bounded, decoded); the upstream then receives the very bytes that were
/// inspected. Deny is answered 403 naming the rule; review and allow go on (review to be held by
/// the next stage), with the response guardrails that apply.
/// </summary>
public sealed partial class PolicyMiddleware(RequestDelegate next, PolicyProvider policies, AuditTrail audit, AirlockConfig config, ILogger<PolicyMiddleware> logger)
{
    private readonly long _maxBodyBytes = config.Policy.MaxBodyBytes;

    public async Task InvokeAsync(HttpContext context)
    {
        var session = context.Features.GetRequiredFeature<SessionFeature>();
        var policy = policies.Current;
        var request = context.Request;
        var facts = new RequestFacts(session.Identity!, session.Connection!.Name, request.Method, session.Path, session.Query, request.Headers);
        var decision = policy.Decide(facts);
        if (decision.NeedsBody)
        {
            var body = await BodyReader.ReadAsync(request.Body, request.ContentLength, request.Headers.ContentEncoding, _maxBodyBytes, "request body", context.RequestAborted);
            if (!body.Succeeded)
            {
                // Unread is never allowed: the rule that needed the body could not be applied.
                session.Decision = decision with { Action = PolicyAction.Deny, NeedsBody = false };
                // Named before the wait on the trail: a caller that is gone by then still leaves
                // a session that says why (the trail, if it fails, names itself instead).
                session.Error = body.Problem!.Name;
                if (!await RecordAsync(context, session, AuditKinds.RequestDenied, "denied", new Dictionary<string, string> { ["reason"] = body.Problem!.Name }))
                {
                    return;
                }

                await ProblemWriter.WriteAsync(context, body.Problem, body.Detail!, session.Id,
                    json => json.WriteString("rule", decision.RuleName));
                return;
            }

            if (BodyCharset.Check(request.Headers.ContentType, body.Decoded) is { } charset)
            {
                // Read as UTF-8 here and in another charset upstream, it would be two requests.
                session.Decision = decision with { Action = PolicyAction.Deny, NeedsBody = false };
                session.Error = ProblemType.UnsupportedCharset.Name;
                if (!await RecordAsync(context, session, AuditKinds.RequestDenied, "denied", new Dictionary<string, string> { ["reason"] = ProblemType.UnsupportedCharset.Name }))
                {
                    return;
                }

                await ProblemWriter.WriteAsync(context, ProblemType.UnsupportedCharset, charset.Detail, session.Id, json => WriteCharset(json, decision.RuleName, charset));
                return;
            }

            facts.Body = InspectedBody.Read(body.Decoded, request.ContentType);
            // The upstream gets exactly the bytes that were inspected (still encoded as sent).
            request.Body = new MemoryStream(body.Original!, writable: false);
            context.Response.RegisterForDispose(facts.Body);
            decision = policy.Decide(facts);
        }

        decision = decision.WithReasons(facts);
        session.Decision = decision;
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
                decision.Ambiguous is { } ambiguous ? AmbiguousDetail(decision.RuleName, "denies", ambiguous)
                : decision.Rule?.Message ?? (decision.Rule is null
                    ? "no policy rule allows this request; requests are denied by default"
                    : $"the request is denied by rule '{decision.Rule.Name}'"),
                session.Id, json => WriteRule(json, decision));
            return;
        }

        session.Guardrails = policy.GuardrailsFor(facts);
        // An allowed request is on record before it is sent: a crash can never leave a request
        // the agent saw answered without its event. (Review decisions are recorded when held.)
        if (decision.Action == PolicyAction.Allow && !await RecordAsync(context, session, AuditKinds.RequestAllowed, "allowed", null))
        {
            return;
        }

        await next(context);
    }

    /// <summary>Writes the decision to the audit trail; when it cannot, answers 503 and false:
    /// a decision that cannot be recorded is not acted on.</summary>
    internal static async Task<bool> RecordAsync(HttpContext context, SessionFeature session, AuditTrail audit, string kind, string outcome, IReadOnlyDictionary<string, string>? detail)
    {
        try
        {
            // Not the caller's token: a decision made is recorded even if the caller has gone
            // (an already-cancelled token would refuse the event before it is queued).
            await audit.RecordRequestAsync(session, kind, outcome, detail, CancellationToken.None);
            return true;
        }
        catch (AuditUnavailableException)
        {
            session.Error = ProblemType.AuditUnavailable.Name;
            await ProblemWriter.WriteAsync(context, ProblemType.AuditUnavailable,
                "the gateway cannot record this request in its audit trail, so it does not act on it; try again later", session.Id);
            return false;
        }
    }

    private Task<bool> RecordAsync(HttpContext context, SessionFeature session, string kind, string outcome, IReadOnlyDictionary<string, string>? detail) =>
        RecordAsync(context, session, audit, kind, outcome, detail);

    internal static void WriteCharset(System.Text.Json.Utf8JsonWriter json, string rule, CharsetRefusal? refusal)
    {
        json.WriteString("rule", rule);
        if (refusal?.Charset is { } charset)
        {
            json.WriteString("charset", charset);
        }
    }

    private static void WriteRule(System.Text.Json.Utf8JsonWriter json, PolicyDecision decision)
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
    internal static Dictionary<string, string>? Ambiguity(PolicyDecision decision) =>
        decision.Ambiguous is { } ambiguous ? new() { ["ambiguous"] = ambiguous } : null;

    /// <summary>What the caller is told when a rule applies only because its request reads two ways.</summary>
    internal static string AmbiguousDetail(string rule, string verb, string ambiguous) =>
        $"the request could not be read one way only: {ambiguous}. Ambiguity counts against a request, so rule '{rule}' {verb} it "
        + "without knowing whether it is what the rule is about; send it so that it reads one way";

    private static partial class Log
    {
        [LoggerMessage(4101, LogLevel.Information, "Session {SessionId}: denied by {Rule} ({Version})")]
        public static partial void Denied(ILogger logger, Guid sessionId, string rule, string version);

    }
}
