namespace Airlock.Gateway.Policy;

/// <summary>What a rule does with a request it matches. The order is the precedence: when
/// rules of several actions match, deny beats review, and review beats allow.</summary>
internal enum PolicyAction
{
    Allow = 0,
    Review = 1,
    Deny = 2,
}
