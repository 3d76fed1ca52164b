using Airlock.Gateway.Sessions;

namespace Airlock.Gateway.Storage;

public interface ISessionStore
{
    /// <summary>Appends sessions in one transaction: all of them are stored, or none.</summary>
    Task AppendSessionsAsync(IReadOnlyList<SessionRecord> sessions, CancellationToken cancellationToken);

    Task<IReadOnlyList<SessionRecord>> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken);

    Task<SessionRecord?> GetSessionAsync(Guid id, CancellationToken cancellationToken);
}
