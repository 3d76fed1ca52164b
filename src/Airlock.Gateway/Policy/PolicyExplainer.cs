using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Masking;
using Airlock.Gateway.Policy.Conditions;

namespace Airlock.Gateway.Policy;

/// <summary>
/// Explains a decision: which rule made it and, for every other rule, why it did not match or
/// why it lost. Runs the same evaluation as the gateway (the slow path is only the reasons),
/// and refuses what the gateway would refuse before acting on the decision: a body it must read
/// and cannot read one way, and, on a connection that refuses them, questions about masked values.
/// </summary>
internal static class PolicyExplainer
{
    /// <param name="masking">The masking of the request's connection (null when it masks nothing).</param>
    public static PolicyExplanation Explain(CompiledPolicy policy, RequestFacts facts, MaskingConfig? masking)
    {
        // An explanation always has a body to look at: the one given, or none. The gateway reads
        // it only when a rule that could decide needs it, or to hold the request for review.
        var body = facts.Body ?? InspectedBody.Empty;
        facts.Body = null;
        var unread = policy.Decide(facts);
        facts.Body = body;
        var decision = policy.Decide(facts).WithReasons(facts);
        var refusal = Refusal(unread, decision, facts, body, masking);
        var rules = new List<RuleExplanation>(policy.Rules.Length);
        foreach (var rule in policy.Rules)
        {
            var failing = rule.Conditions.FirstOrDefault(c => !c.Evaluate(facts, rule.Strict).Holds(rule.Action));
            var decided = ReferenceEquals(rule, decision.Rule);
            string? note;
            if (failing is not null)
            {
                note = failing.Explain(facts, rule.Strict);
            }
            else if (decided)
            {
                note = null;
            }
            else
            {
                note = decision.Rule is not { } winner ? null
                    : winner.Action > rule.Action ? $"matched, but {Verb(winner.Action)} beats {Verb(rule.Action)}: rule '{winner.Name}' decides"
                    : $"matched, but rule '{winner.Name}' comes first";
            }

            rules.Add(new RuleExplanation(rule.Name, rule.Line, Verb(rule.Action), failing is null, decided, note));
        }

        var summary = refusal is not null
            ? $"refused with {refusal.Problem.Status} {refusal.Problem.Name} before rule '{refusal.Rule}' could apply: {refusal.Detail}"
            : decision.Rule is { } r
            ? $"{Verb(decision.Action)} by rule '{r.Name}' (line {r.Line})"
                + (decision.Ambiguous is { } ambiguous ? $", only because the request could not be read one way: {ambiguous}" : "")
            : decision.Action == PolicyAction.Allow
                ? $"allow: no rule matched and connection '{facts.Connection}' allows unmatched requests"
                : "deny: no rule matched, and unmatched requests are denied";
        return new PolicyExplanation(decision, summary, rules, refusal);
    }

    /// <summary>
    /// What the gateway answers instead of the decision, in PolicyMiddleware's order: it reads
    /// the body for a rule that could decide, to hold the request for review, and for every
    /// request with a body on a connection that refuses masked-field queries, and refuses a body
    /// that does not read one way as UTF-8; then, unless the request is denied, it refuses one
    /// that asks about a masked value (with the deciding rule's <c>mask</c> added).
    /// </summary>
    private static PolicyRefusal? Refusal(PolicyDecision unread, PolicyDecision decision, RequestFacts facts, InspectedBody body, MaskingConfig? masking)
    {
        var refuseMaskedQueries = masking is { RefuseQueriesOnMaskedFields: true };
        if ((unread.NeedsBody || unread.Action == PolicyAction.Review || (refuseMaskedQueries && !body.Bytes.IsEmpty))
            && BodyCharset.Check(facts.Headers.ContentType, body) is { } unreadable)
        {
            return new PolicyRefusal(unreadable.Problem, unreadable.Detail, unread.RuleName);
        }

        if (refuseMaskedQueries && decision.Action != PolicyAction.Deny
            && MaskedFieldQuery.Find((decision.Rule?.MaskingOn(facts.Connection, masking) ?? masking)!.Plan, facts, UpstreamPath(facts.Path)) is { } hit)
        {
            return new PolicyRefusal(ProblemType.MaskedFieldQuery, MaskedFieldQuery.Describe(hit), decision.RuleName);
        }

        return null;
    }

    /// <summary>The path sent upstream, as RoutingMiddleware cuts it: from the slash after
    /// <c>/{connection}</c> (so that segment positions count the connection as 1).</summary>
    private static string UpstreamPath(string path)
    {
        var slash = path.IndexOf('/', 1);
        return slash < 0 ? "" : path[slash..];
    }

    private static string Verb(PolicyAction action) => action.ToString().ToLowerInvariant();
}
