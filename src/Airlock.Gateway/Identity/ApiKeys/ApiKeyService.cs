using System.Collections.Immutable;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Storage;

namespace Airlock.Gateway.Identity.ApiKeys;

/// <summary>The outcome of creating a key: the key text is returned exactly once.</summary>
internal sealed record CreatedApiKey(ApiKey Key, string Text);

/// <summary>Creates, lists and revokes agent API keys in the store.</summary>
internal sealed class ApiKeyService(IApiKeyStore store, TimeProvider timeProvider)
{
    /// <summary>Creates a key, or returns an error message for bad input or a name in use.</summary>
    /// <param name="owner">The person answerable for the key, as a subject (<c>corp:alice</c>): they
    /// can never approve the key's held requests.</param>
    public async Task<(CreatedApiKey? Created, string? Error)> CreateAsync(string name, IEnumerable<string> groups, CancellationToken cancellationToken, string? owner = null)
    {
        if (owner is not null && (owner.IndexOf(':', StringComparison.Ordinal) is <= 0 || owner.EndsWith(':') || owner.StartsWith("key:", StringComparison.Ordinal)))
        {
            return (null, $"'{owner}' is not a person's subject; write <issuer>:<sub>, e.g. corp:alice");
        }

        if (!ConfigLoader.IsName(name))
        {
            return (null, $"'{name}' is not a valid key name: use lowercase letters, digits and '-', at most 63 characters");
        }

        var groupList = groups.Select(g => g.Trim()).Where(g => g.Length > 0).Distinct(StringComparer.Ordinal).ToImmutableArray();
        foreach (var group in groupList)
        {
            if (group.Any(char.IsControl) || group.Contains(',', StringComparison.Ordinal))
            {
                return (null, $"'{group}' is not a valid group name");
            }
        }

        var (id, text, hash) = ApiKeyFormat.Generate();
        var key = new ApiKey(id, name, groupList, hash, timeProvider.GetUtcNow(), null) { Owner = owner };
        if (!await store.CreateApiKeyAsync(key, cancellationToken))
        {
            return (null, $"an active key named '{name}' already exists; revoke it first or choose another name");
        }

        return (new CreatedApiKey(key, text), null);
    }

    public Task<IReadOnlyList<ApiKey>> ListAsync(bool includeRevoked, CancellationToken cancellationToken) =>
        store.ListApiKeysAsync(includeRevoked, cancellationToken);

    public Task<ApiKey?> RevokeAsync(string idOrName, CancellationToken cancellationToken) =>
        store.RevokeApiKeyAsync(idOrName, timeProvider.GetUtcNow(), cancellationToken);
}
