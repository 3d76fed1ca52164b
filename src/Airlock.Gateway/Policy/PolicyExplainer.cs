using Airlock.Gateway.Policy.Conditions;

namespace Airlock.Gateway.Policy;

/// <summary>
/// Explains a decision: which rule made it and, for every other rule, why it did not match or
/// why it lost. Runs the same evaluation as the gateway (the slow path is only the reasons).
/// </summary>
public static class PolicyExplainer
{
    public static PolicyExplanation Explain(CompiledPolicy policy, RequestFacts facts)
    {
        // An explanation always has a body to look at: the one given, or none. The gateway reads
        // it only when a rule that could decide needs it, or to hold the request for review.
        var body = facts.Body ?? InspectedBody.Empty;
        facts.Body = null;
        var unread = policy.Decide(facts);
        facts.Body = body;
        var decision = policy.Decide(facts).WithReasons(facts);
        var refusal = (unread.NeedsBody || unread.Action == PolicyAction.Review) && BodyCharset.Check(facts.Headers.ContentType, body) is { } unreadable
            ? new PolicyRefusal(unreadable.Problem, unreadable.Detail)
            : null;
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
            ? $"refused with {refusal.Problem.Status} {refusal.Problem.Name} before rule '{unread.RuleName}' could apply: {refusal.Detail}"
            : decision.Rule is { } r
            ? $"{Verb(decision.Action)} by rule '{r.Name}' (line {r.Line})"
                + (decision.Ambiguous is { } ambiguous ? $", only because the request could not be read one way: {ambiguous}" : "")
            : decision.Action == PolicyAction.Allow
                ? $"allow: no rule matched and connection '{facts.Connection}' allows unmatched requests"
                : "deny: no rule matched, and unmatched requests are denied";
        return new PolicyExplanation(decision, summary, rules, refusal);
    }

    private static string Verb(PolicyAction action) => action.ToString().ToLowerInvariant();
}
