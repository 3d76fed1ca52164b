using Airlock.Gateway.Sessions;

namespace Airlock.Gateway.Storage;

internal interface ISessionStore
{
    /// <summary>Appends sessions in one transaction: all of them are stored, or none.</summary>
    Task AppendSessionsAsync(IReadOnlyList<SessionRecord> sessions, CancellationToken cancellationToken);

    Task<IReadOnlyList<SessionRecord>> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken);

    Task<SessionRecord?> GetSessionAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>The recorded headers and bodies of a session, while its retention lasts.</summary>
    Task<Recording.ExchangeRecord?> GetExchangeAsync(Guid sessionId, CancellationToken cancellationToken);

    /// <summary>Deletes the recorded headers and bodies of a connection's sessions that started
    /// before <paramref name="before"/>; the sessions stay. Returns how many were deleted.</summary>
    Task<int> DeleteExchangesAsync(string connection, DateTimeOffset before, CancellationToken cancellationToken);
}
