using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Storage.Rows;
using Npgsql;
using NpgsqlTypes;

namespace Airlock.Gateway.Storage.Postgres;

internal sealed partial class PostgresStore
{
    private static readonly string ApiKeyColumns = KeyAndGrantRows.ApiKeyColumns(jsonAsText: true);

    public async Task<bool> CreateApiKeyAsync(ApiKey key, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "INSERT INTO api_keys (id, name, groups, secret_hash, created_at, owner) VALUES ($1, $2, $3, $4, $5, $6)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key.Id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key.Name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = GroupList.Serialize(key.Groups), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = key.SecretHash.ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = key.CreatedAt });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)key.Owner ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return false;
        }
    }

    public async Task<ApiKey?> FindApiKeyAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {ApiKeyColumns} FROM api_keys WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadApiKey(reader) : null;
    }

    public async Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(bool includeRevoked, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"SELECT {ApiKeyColumns} FROM api_keys {(includeRevoked ? "" : "WHERE revoked_at IS NULL")} ORDER BY created_at, id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<ApiKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(ReadApiKey(reader));
        }

        return keys;
    }

    public async Task<ApiKey?> RevokeApiKeyAsync(string idOrName, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"""
            UPDATE api_keys SET revoked_at = $1
            WHERE revoked_at IS NULL AND (id = $2 OR name = $2)
            RETURNING {ApiKeyColumns}
            """);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = idOrName });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadApiKey(reader) : null;
    }

    private static ApiKey ReadApiKey(NpgsqlDataReader reader) => KeyAndGrantRows.ReadApiKey(reader, ReadTime);
}
