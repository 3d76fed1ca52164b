using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Storage.Rows;
using Npgsql;
using NpgsqlTypes;

namespace Airlock.Gateway.Storage.Postgres;

internal sealed partial class PostgresStore
{
    private static readonly string ApiKeyColumns = KeyAndGrantRows.ApiKeyColumns(jsonAsText: true);

    /// <summary>The channel on which a key change is announced to the other replicas.</summary>
    public const string ApiKeyChannel = "airlock_api_keys";

    public event EventHandler? ApiKeysChanged;

    public async Task<bool> CreateApiKeyAsync(ApiKey key, CancellationToken cancellationToken)
    {
        try
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
        finally
        {
            // No announcement to the other replicas: no cache holds a key that did not exist
            // (misses are not kept), so a new key already works everywhere.
            ApiKeysChanged?.Invoke(this, EventArgs.Empty);
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
        ApiKey? revoked;
        try
        {
            await using var command = _dataSource.CreateCommand($"""
                UPDATE api_keys SET revoked_at = $1
                WHERE revoked_at IS NULL AND (id = $2 OR name = $2)
                RETURNING {ApiKeyColumns}
                """);
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = idOrName });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            revoked = await reader.ReadAsync(cancellationToken) ? ReadApiKey(reader) : null;
        }
        finally
        {
            ApiKeysChanged?.Invoke(this, EventArgs.Empty);
        }

        if (revoked is not null)
        {
            await AnnounceApiKeyChangeAsync();
        }

        return revoked;
    }

    public async Task<long> GetApiKeyChangeMarkerAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT counter FROM api_key_changes");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Tells the other replicas, after the change has committed, so their caches forget it now
    /// rather than at their next check of the marker. Best effort, on its own and never
    /// cancelled by the caller: the change stands whatever happens here, and a replica that
    /// misses the announcement still sees the marker move within its bound.
    /// </summary>
    private async Task AnnounceApiKeyChangeAsync()
    {
        try
        {
            await using var command = _dataSource.CreateCommand("SELECT pg_notify($1, '')");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ApiKeyChannel });
            await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // Not the caller's failure: the revocation committed, and the marker carries it.
        }
    }

    public async Task ListenForApiKeyChangesAsync(Action changed, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        connection.Notification += (_, _) => changed();
        await using (var listen = new NpgsqlCommand($"LISTEN {ApiKeyChannel}", connection))
        {
            await listen.ExecuteNonQueryAsync(cancellationToken);
        }

        // Announcements made before this connection listened were lost to it.
        changed();
        while (true)
        {
            await connection.WaitAsync(cancellationToken);
        }
    }

    private static ApiKey ReadApiKey(NpgsqlDataReader reader) => KeyAndGrantRows.ReadApiKey(reader, ReadTime);
}
