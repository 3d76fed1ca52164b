using System.Collections.Immutable;
using Airlock.Gateway.Identity;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// A request held for a person's approval: who asked, the exact request, the rule and policy
/// that held it, who may decide and how many must approve, every decision given, and, once
/// executed, the result.
/// </summary>
// Public: a console component (.razor, always public) takes it as a [Parameter].
public sealed record Review
{
    public required Guid Id { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required string Status { get; init; }

    /// <summary>The session of the request that opened the review.</summary>
    public required Guid SessionId { get; init; }

    public required CallerIdentity Requester { get; init; }

    public required HeldRequest Request { get; init; }

    public required string Rule { get; init; }

    public required string PolicyVersion { get; init; }

    /// <summary>Why the request could not be read one way only, when the rule held it because of
    /// that (ambiguity counts against a request) rather than because it is what the rule is
    /// about; null otherwise. Shown to the approver.</summary>
    public string? Ambiguous { get; init; }

    /// <summary>Why the agent says it needs the call (its <c>Airlock-Reason</c> header), or null.
    /// The agent's own claim, never verified: shown to approvers as such.</summary>
    public string? AgentReason { get; init; }

    public required ImmutableArray<string> Approvers { get; init; }

    public required int ApprovalsNeeded { get; init; }

    public required TimeSpan MaxGrant { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public ImmutableArray<ReviewDecision> Decisions { get; init; } = [];

    public DateTimeOffset? DecidedAt { get; init; }

    public DateTimeOffset? ExecutedAt { get; init; }

    public ReviewResult? Result { get; init; }

    public Guid? GrantId { get; init; }

    /// <summary>Why the execution is unknown (<see cref="ExecutionUnknownReason"/>), once it is.</summary>
    public string? UnknownReason { get; init; }

    public int Approvals => Decisions.Count(d => d.Verdict == ReviewDecision.Approve);

    /// <summary>The SHA-256 of the stored request (<see cref="HeldRequestDigest"/>): what an
    /// approver is shown and what their decision names, so it applies to that payload only.</summary>
    public string RequestSha256 => HeldRequestDigest.Of(Request);
}
