using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Storage.Rows;
using Microsoft.Data.Sqlite;

namespace Airlock.Gateway.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    private static readonly string ApiKeyColumns = KeyAndGrantRows.ApiKeyColumns(jsonAsText: false);

    public event EventHandler? ApiKeysChanged;

    public async Task<bool> CreateApiKeyAsync(ApiKey key, CancellationToken cancellationToken)
    {
        try
        {
            await using var write = await OpenForWriteAsync(cancellationToken);
            var connection = write.Connection;
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO api_keys (id, name, groups, secret_hash, created_at, owner) VALUES ($id, $name, $groups, $hash, $created, $owner)";
            command.Parameters.AddWithValue("$id", key.Id);
            command.Parameters.AddWithValue("$name", key.Name);
            command.Parameters.AddWithValue("$groups", GroupList.Serialize(key.Groups));
            command.Parameters.AddWithValue("$hash", key.SecretHash.ToArray());
            command.Parameters.AddWithValue("$created", SqliteTime.ToMicroseconds(key.CreatedAt));
            command.Parameters.AddWithValue("$owner", (object?)key.Owner ?? DBNull.Value);
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
                return true;
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode == 19 /* SQLITE_CONSTRAINT */)
            {
                return false;
            }
        }
        finally
        {
            // After the statement has ended (the usings above are disposed first), so whatever
            // reloads the key on this signal reads the committed row.
            ApiKeysChanged?.Invoke(this, EventArgs.Empty);
        }
    }

    public async Task<ApiKey?> FindApiKeyAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {ApiKeyColumns} FROM api_keys WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadApiKey(reader) : null;
    }

    public async Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(bool includeRevoked, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {ApiKeyColumns} FROM api_keys {(includeRevoked ? "" : "WHERE revoked_at IS NULL")} ORDER BY created_at, id";
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<ApiKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(ReadApiKey(reader));
        }

        return keys;
    }

    public async Task<ApiKey?> RevokeApiKeyAsync(string idOrName, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            await using var write = await OpenForWriteAsync(cancellationToken);
            var connection = write.Connection;
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                UPDATE api_keys SET revoked_at = $at
                WHERE revoked_at IS NULL AND (id = $key OR name = $key)
                RETURNING {ApiKeyColumns}
                """;
            command.Parameters.AddWithValue("$at", SqliteTime.ToMicroseconds(at));
            command.Parameters.AddWithValue("$key", idOrName);
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadApiKey(reader) : null;
        }
        finally
        {
            // After the reader is disposed: the UPDATE … RETURNING commits when its statement ends.
            ApiKeysChanged?.Invoke(this, EventArgs.Empty);
        }
    }

    public async Task<long> GetApiKeyChangeMarkerAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT counter FROM api_key_changes";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>SQLite has no way to announce a change to other processes: nothing to listen to.</summary>
    public Task ListenForApiKeyChangesAsync(Action changed, CancellationToken cancellationToken) => Task.CompletedTask;

    private static ApiKey ReadApiKey(SqliteDataReader reader) => KeyAndGrantRows.ReadApiKey(reader, SqliteTime.Read);
}
