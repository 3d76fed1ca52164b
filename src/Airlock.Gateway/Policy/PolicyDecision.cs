namespace Airlock.Gateway.Policy;

/// <summary>
/// The one decision for a request: its action, the rule that made it (none when no rule
/// matched and the connection's default applied), and the version of the policy that made it.
/// A struct: deciding allocates nothing.
/// </summary>
public readonly record struct PolicyDecision(PolicyAction Action, PolicyRule? Rule, string PolicyVersion)
{
    /// <summary>Set when a rule that may decide needs the body and it has not been read yet.</summary>
    public bool NeedsBody { get; init; }

    public string RuleName => Rule?.Name ?? "(default)";
}
