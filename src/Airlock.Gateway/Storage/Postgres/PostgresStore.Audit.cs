using System.Runtime.CompilerServices;
using Airlock.Gateway.Audit;
using Npgsql;
using NpgsqlTypes;

namespace Airlock.Gateway.Storage.Postgres;

internal sealed partial class PostgresStore
{
    /// <summary>The advisory lock that serialises appends across replicas ("AuditChn").</summary>
    private const long AuditLock = 0x41_75_64_69_74_43_68_6E;

    public async Task<IReadOnlyList<AuditEvent>> AppendAuditEventsAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return [];
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Every replica takes this lock before reading the head, so the chain never forks; the
        // primary key on seq would refuse a fork anyway.
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AuditLock });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        var (count, head) = await ReadHeadAsync(connection, transaction, cancellationToken);
        var sealedEvents = AuditChain.Seal(events, count, head);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            foreach (var (e, canonical) in sealedEvents)
            {
                var command = new NpgsqlBatchCommand("INSERT INTO audit_events (seq, at, kind, actor, connection, event, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Seq });
                command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = e.At });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Kind });
                command.Parameters.Add(new NpgsqlParameter { Value = (object?)Searchable(e.Actor?.Subject) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter { Value = (object?)Searchable(e.Target?.Connection) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = canonical });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.PrevHash });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Hash });
                batch.BatchCommands.Add(command);
            }

            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return [.. sealedEvents.Select(s => s.Event)];
    }

    private static async Task<(long Count, string Head)> ReadHeadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetString(1)) : (0, AuditChain.Genesis);
    }

    public async Task<(long Count, string HeadHash)> GetAuditHeadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadHeadAsync(connection, null, cancellationToken);
    }

    public async IAsyncEnumerable<StoredAuditEvent> ReadAuditChainAsync(long fromSeq, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT seq, event, hash, prev_hash, kind, at, actor, connection FROM audit_events WHERE seq >= $1 ORDER BY seq");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fromSeq });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new StoredAuditEvent(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5))
            {
                Columns = new SearchColumns(reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7)),
            };
        }
    }

    public async Task<IReadOnlyList<AuditEvent>> QueryAuditEventsAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT event, hash FROM audit_events
            WHERE seq > $1 AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)
              AND ($4::text IS NULL OR actor = $4) AND ($5::text IS NULL OR connection = $5)
            ORDER BY seq LIMIT $6
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = query.AfterSeq });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)query.Since ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)query.Until ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)query.Actor ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)query.Connection ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = query.Limit });
        var events = new List<AuditEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(AuditChain.Parse(reader.GetFieldValue<byte[]>(0), reader.GetString(1)));
        }

        return events;
    }

    public async Task AddAuditCheckpointAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO audit_checkpoints (count, head_hash, at, key_id, algorithm, signature) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (count) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = checkpoint.Count });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = checkpoint.HeadHash });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = checkpoint.At });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = checkpoint.KeyId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = checkpoint.Algorithm });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = checkpoint.Signature });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AuditCheckpoint>> ListAuditCheckpointsAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT count, head_hash, at, key_id, algorithm, signature FROM audit_checkpoints ORDER BY count");
        var checkpoints = new List<AuditCheckpoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            checkpoints.Add(new AuditCheckpoint(reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.GetString(3), reader.GetString(4), reader.GetString(5)));
        }

        return checkpoints;
    }

    /// <summary>
    /// PostgreSQL text cannot hold NUL. These columns are only for searching (the hashed event
    /// keeps the exact value, escaped), and an event the store refuses would hold up every event
    /// queued behind it, so a NUL there (an IdP's odd subject) becomes U+FFFD.
    /// </summary>
    private static string? Searchable(string? value) => SearchColumns.Normalize(value);
}
