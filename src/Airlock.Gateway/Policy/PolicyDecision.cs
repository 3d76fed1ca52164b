using Airlock.Gateway.Policy.Conditions;

namespace Airlock.Gateway.Policy;

/// <summary>
/// The one decision for a request: its action, the rule that made it (none when no rule
/// matched and the connection's default applied), and the version of the policy that made it.
/// A struct: deciding allocates nothing.
/// </summary>
internal readonly record struct PolicyDecision(PolicyAction Action, PolicyRule? Rule, string PolicyVersion)
{
    /// <summary>Set when a rule that may decide needs the body and it has not been read yet.</summary>
    public bool NeedsBody { get; init; }

    /// <summary>
    /// The condition of the deciding (deny or review) rule that held only because the request
    /// can be read more than one way: the rule applies because ambiguity counts against the
    /// request, not because the request is known to be what the rule is about. Null otherwise.
    /// </summary>
    public RuleCondition? Ambiguity { get; init; }

    /// <summary>Why the request could not be read one way only, in words for the caller and the
    /// approver (<see cref="WithReasons"/> fills it in); null when nothing was ambiguous.</summary>
    public string? Ambiguous { get; init; }

    public string RuleName => Rule?.Name ?? "(default)";

    /// <summary>The decision with <see cref="Ambiguous"/> worked out from the request it was made
    /// for; the same decision, at no cost, when it did not rest on an ambiguity.</summary>
    public PolicyDecision WithReasons(RequestFacts facts) =>
        Ambiguity is { } condition && Ambiguous is null ? this with { Ambiguous = condition.WhyAmbiguous(facts) } : this;
}
