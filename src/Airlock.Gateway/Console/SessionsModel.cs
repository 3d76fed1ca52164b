using Airlock.Gateway.Sessions;

namespace Airlock.Gateway.Console;

/// <summary>The sessions page: the newest sessions matching the filters (kept in the address).</summary>
// Public: a console component (.razor, always public) takes it as a [Parameter].
public sealed record SessionsModel(ConsoleFrame Frame, IReadOnlyList<SessionRecord> Sessions, string? Connection, string? Subject, string? Status,
    IReadOnlyList<string> Connections, string? Problem);

/// <summary>One session: its record and its transcript (what <c>airlock sessions show --pretty</c> prints).</summary>
// Public: a console component (.razor, always public) takes it as a [Parameter].
public sealed record SessionModel(ConsoleFrame Frame, SessionRecord Session, string Transcript, bool Recorded);
