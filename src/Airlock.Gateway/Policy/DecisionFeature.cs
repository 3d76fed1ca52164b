using System.Collections.Immutable;

namespace Airlock.Gateway.Policy;

/// <summary>
/// What the policy decided for a request and the response guardrails that then apply, set by
/// <see cref="PolicyMiddleware"/>. The review stage may settle a review decision differently
/// (<see cref="Reviews.ReviewFeature"/>); <see cref="Sessions.SessionFeature.Decision"/> is the
/// one place that combines the two.
/// </summary>
internal sealed class DecisionFeature(PolicyDecision decision, ImmutableArray<ResponseGuardrail> guardrails)
{
    public PolicyDecision Decision { get; } = decision;

    /// <summary>The response guardrails that apply to this request (empty when none, and for a
    /// request that is refused).</summary>
    public ImmutableArray<ResponseGuardrail> Guardrails { get; } = guardrails;
}
