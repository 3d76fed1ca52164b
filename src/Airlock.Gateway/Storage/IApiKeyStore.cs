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
}
