namespace Airlock.Gateway.Policy;

/// <summary>How one rule fared against a request.</summary>
/// <param name="Matched">Whether all its conditions held.</param>
/// <param name="Note">Why it did not match (its first failing condition), or, for a matching
/// rule that did not decide, which rule did and why.</param>
internal sealed record RuleExplanation(string Rule, int Line, string Action, bool Matched, bool Decided, string? Note);

/// <summary>A decision with the reasons for it, for <c>airlock policy test</c> and the explain API.</summary>
/// <param name="Refusal">What the gateway answers instead of acting on the decision: when it
/// must read the body and cannot read it one way (<see cref="Errors.ProblemType.UnsupportedCharset"/>),
/// or the request asks about a masked value (<see cref="Errors.ProblemType.MaskedFieldQuery"/>).</param>
internal sealed record PolicyExplanation(PolicyDecision Decision, string Summary, IReadOnlyList<RuleExplanation> Rules, PolicyRefusal? Refusal = null);

/// <summary>A problem the gateway answers before acting on the decision, and why.</summary>
/// <param name="Rule">The rule whose decision the refusal comes before.</param>
internal sealed record PolicyRefusal(Errors.ProblemType Problem, string Detail, string Rule);
