using System.Collections.Immutable;

namespace Airlock.Gateway.Audit;

/// <summary>Who did it: the subject, their groups, and how they proved who they are.</summary>
internal sealed record AuditActor(string Subject, ImmutableArray<string> Groups, string AuthMethod);

/// <summary>What it was done to: a connection, and for requests the method and normalised path.</summary>
internal sealed record AuditTarget(string? Connection, string? Method, string? Path);

/// <summary>
/// One entry of the audit trail. Once appended it carries its position (<see cref="Seq"/>, from
/// 1), the hash of the entry before it, and its own hash over its canonical form (docs/audit.md).
/// </summary>
internal sealed record AuditEvent
{
    public long Seq { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary>What happened, e.g. <c>request.allowed</c> (<see cref="AuditKinds"/>).</summary>
    public required string Kind { get; init; }

    public AuditActor? Actor { get; init; }

    public AuditTarget? Target { get; init; }

    public string? Rule { get; init; }

    public string? PolicyVersion { get; init; }

    public Guid? ReviewId { get; init; }

    public Guid? SessionId { get; init; }

    /// <summary>The result in a word: <c>allowed</c>, <c>denied</c>, <c>held</c>, <c>approved</c>, …</summary>
    public required string Outcome { get; init; }

    /// <summary>Further facts as text, e.g. an approver's comment, a key's name.</summary>
    public ImmutableSortedDictionary<string, string> Detail { get; init; } = ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);

    public string PrevHash { get; init; } = "";

    public string Hash { get; init; } = "";
}
