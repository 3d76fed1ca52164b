using Npgsql;

namespace Airlock.Gateway.Storage.Postgres;

/// <summary>
/// The store for several replicas: PostgreSQL through one pooled <see cref="NpgsqlDataSource"/>.
/// Every time it stores or compares (expiry, holds, heartbeats, executing since, grants) comes
/// from the gateway's injected <see cref="TimeProvider"/> as a parameter, never from the
/// server's <c>now()</c>: stored times and the times they are compared with then come from one
/// clock, the same one the SQLite store and the C# checks use (and tests can move).
/// </summary>
internal sealed partial class PostgresStore : IAirlockStore
{
    /// <summary>Reads a <c>timestamptz</c> column (a <see cref="Rows.TimeColumn"/>).</summary>
    private static DateTimeOffset ReadTime(System.Data.Common.DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

    /// <summary>The advisory lock that serialises migrations across replicas ("Airlock").</summary>
    private const long MigrationLock = 0x41_69_72_6C_6F_63_6B;

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _timeProvider;

    /// <param name="readOnly">Every transaction is read-only (the server's
    /// <c>default_transaction_read_only</c>): whatever runs, nothing is written.</param>
    public PostgresStore(string connectionString, TimeProvider timeProvider, bool readOnly = false)
    {
        _timeProvider = timeProvider;
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.ApplicationName ??= "airlock";
        if (readOnly)
        {
            builder.ConnectionStringBuilder.Options = $"{builder.ConnectionStringBuilder.Options} -c default_transaction_read_only=on".TrimStart();
        }

        _dataSource = builder.Build();
    }

    public string Engine => "postgres";

    internal NpgsqlDataSource DataSource => _dataSource;

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT count(*) FROM airlock_schema");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    public async Task<(int Current, int Latest)> GetSchemaVersionAsync(CancellationToken cancellationToken)
    {
        var latest = PostgresMigrations.All[^1].Version;
        // to_regclass: the table as the connection's search_path finds it, or null.
        await using (var exists = _dataSource.CreateCommand("SELECT to_regclass('airlock_schema') IS NOT NULL"))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                return (0, latest);
            }
        }

        await using var select = _dataSource.CreateCommand("SELECT coalesce(max(version), 0) FROM airlock_schema");
        return ((int)(await select.ExecuteScalarAsync(cancellationToken))!, latest);
    }

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = MigrationLock });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var create = new NpgsqlCommand(
            "CREATE TABLE IF NOT EXISTS airlock_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)",
            connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        int current;
        await using (var select = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM airlock_schema", connection, transaction))
        {
            current = (int)(await select.ExecuteScalarAsync(cancellationToken))!;
        }

        var latest = PostgresMigrations.All[^1].Version;
        if (current > latest)
        {
            throw new InvalidOperationException($"the store's schema is version {current}, newer than this build of Airlock knows ({latest}); upgrade Airlock");
        }

        foreach (var migration in PostgresMigrations.All)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            await using (var step = new NpgsqlCommand(migration.Sql, connection, transaction))
            {
                await step.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var record = new NpgsqlCommand("INSERT INTO airlock_schema (version, name, applied_at) VALUES ($1, $2, $3)", connection, transaction);
            record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Name });
            record.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = _timeProvider.GetUtcNow() });
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
