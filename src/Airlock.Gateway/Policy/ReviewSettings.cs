using System.Collections.Immutable;

namespace Airlock.Gateway.Policy;

/// <summary>How a request held by a review rule is decided.</summary>
/// <param name="Approvers">Groups whose members may approve or deny.</param>
/// <param name="Approvals">How many distinct approvers must approve.</param>
/// <param name="Hold">How long the caller's connection is held waiting for a decision.</param>
/// <param name="Expires">How long the review stays open before it expires.</param>
/// <param name="MaxGrant">The longest time window an approver may grant; zero for none.</param>
internal sealed record ReviewSettings(ImmutableArray<string> Approvers, int Approvals, TimeSpan Hold, TimeSpan Expires, TimeSpan MaxGrant);
