using Airlock.Gateway.Policy;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.Tests.Sessions;

/// <summary>The decision a session records and the audit trail names, worked out from the
/// policy's feature and the review stage's.</summary>
public sealed class SessionFeatureTests
{
    private static readonly PolicyRule Refunds = new()
    {
        Name = "refunds",
        Index = 0,
        Line = 1,
        Action = PolicyAction.Review,
        Conditions = [],
    };

    private readonly FeatureCollection _features = new();

    private SessionFeature Session() =>
        new(_features, Guid.Parse("01a20d55-1c2e-7a3b-9f00-0000c0ffee42"), DateTimeOffset.UnixEpoch, 0, "POST", "/billing/refunds");

    [Fact]
    public void Before_policy_has_run_there_is_no_decision()
    {
        _features.Set(new ReviewFeature { ReviewId = Guid.Parse("01a20d55-1c2e-7a3b-9f00-0000c0ffee42") });
        Assert.Null(Session().Decision);
    }

    [Fact]
    public void Without_a_review_stage_outcome_the_decision_is_the_policys()
    {
        _features.Set(new DecisionFeature(new PolicyDecision(PolicyAction.Review, Refunds, "v1"), []));
        _features.Set(new ReviewFeature { ReviewId = Guid.Parse("01a20d55-1c2e-7a3b-9f00-0000c0ffee42") });
        Assert.Equal(new PolicyDecision(PolicyAction.Review, Refunds, "v1"), Session().Decision);
    }

    // Internal: it takes the gateway's internal PolicyAction, and xunit runs internal test methods too.
    [Theory]
    [InlineData(PolicyAction.Allow)]
    [InlineData(PolicyAction.Deny)]
    internal void The_action_the_review_settled_on_replaces_the_policys_and_keeps_its_rule(PolicyAction settled)
    {
        _features.Set(new DecisionFeature(new PolicyDecision(PolicyAction.Review, Refunds, "v1") { Ambiguous = "two charsets" }, []));
        _features.Set(new ReviewFeature { GrantId = Guid.Parse("01a20d55-1c2e-7a3b-9f00-0000c0ffee42"), Action = settled });
        var decision = Session().Decision!.Value;
        Assert.Equal((settled, "refunds", "v1", "two charsets"), (decision.Action, decision.RuleName, decision.PolicyVersion, decision.Ambiguous));
    }
}
