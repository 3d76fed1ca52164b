using Airlock.Gateway.Identity.ApiKeys;

namespace Airlock.Gateway.Storage;

internal interface IApiKeyStore
{
    /// <summary>Stores a new key. Returns false when an active key already has that name.</summary>
    Task<bool> CreateApiKeyAsync(ApiKey key, CancellationToken cancellationToken);

    Task<ApiKey?> FindApiKeyAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(bool includeRevoked, CancellationToken cancellationToken);

    /// <summary>Revokes the active key with this id or name. Returns the revoked key, or null
    /// when there is no such active key.</summary>
    Task<ApiKey?> RevokeApiKeyAsync(string idOrName, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// A number that changes whenever any process writes a key (creates, revokes, edits by
    /// hand): a trigger on <c>api_keys</c> bumps it in the writing transaction, so a reader that
    /// sees the new number also sees the change. One row: cheap enough to read every second.
    /// </summary>
    Task<long> GetApiKeyChangeMarkerAsync(CancellationToken cancellationToken);

    /// <summary>Raised after this store object has written a key (whether or not the write
    /// took), so a cache in the same process forgets at once rather than at its next check.</summary>
    event EventHandler? ApiKeysChanged;

    /// <summary>
    /// Calls <paramref name="changed"/> whenever another process announces a key change, and
    /// once each time listening starts (what was announced while nobody listened is lost),
    /// until cancelled; throws when listening fails. Completes at once where the engine has no
    /// announcements (SQLite): <see cref="GetApiKeyChangeMarkerAsync"/> is then the only way.
    /// </summary>
    Task ListenForApiKeyChangesAsync(Action changed, CancellationToken cancellationToken);
}
