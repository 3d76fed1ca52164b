using System.Runtime.CompilerServices;
using Airlock.Gateway.Audit;
using Microsoft.Data.Sqlite;

namespace Airlock.Gateway.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    public async Task<IReadOnlyList<AuditEvent>> AppendAuditEventsAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return [];
        }

        await using var write = await OpenForWriteAsync(cancellationToken);
        var connection = write.Connection;
        // The audit trail is proof: each commit reaches the disk (synchronous=FULL), not only the
        // WAL. Group commit (one transaction per batch) keeps that affordable.
        using (var full = connection.CreateCommand())
        {
            full.CommandText = "PRAGMA synchronous = FULL";
            await full.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            // BEGIN IMMEDIATE holds the write lock from reading the head to committing: the CLI
            // and the gateway extend the same chain one after the other, never from the same head.
            using var transaction = connection.BeginTransaction(deferred: false);
            var (count, head) = await ReadHeadAsync(connection, cancellationToken);
            var sealedEvents = AuditChain.Seal(events, count, head);
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO audit_events (seq, at, kind, actor, connection, event, prev_hash, hash) VALUES ($seq, $at, $kind, $actor, $connection, $event, $prev, $hash)";
            var seq = insert.Parameters.Add("$seq", SqliteType.Integer);
            var at = insert.Parameters.Add("$at", SqliteType.Integer);
            var kind = insert.Parameters.Add("$kind", SqliteType.Text);
            var actor = insert.Parameters.Add("$actor", SqliteType.Text);
            var conn = insert.Parameters.Add("$connection", SqliteType.Text);
            var body = insert.Parameters.Add("$event", SqliteType.Blob);
            var prev = insert.Parameters.Add("$prev", SqliteType.Text);
            var hash = insert.Parameters.Add("$hash", SqliteType.Text);
            insert.Prepare();
            foreach (var (e, canonical) in sealedEvents)
            {
                seq.Value = e.Seq;
                at.Value = SqliteTime.ToMicroseconds(e.At);
                kind.Value = e.Kind;
                actor.Value = (object?)e.Actor?.Subject ?? DBNull.Value;
                conn.Value = (object?)e.Target?.Connection ?? DBNull.Value;
                body.Value = canonical;
                prev.Value = e.PrevHash;
                hash.Value = e.Hash;
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            transaction.Commit();
            return [.. sealedEvents.Select(s => s.Event)];
        }
        finally
        {
            using var normal = connection.CreateCommand();
            normal.CommandText = "PRAGMA synchronous = NORMAL";
            await normal.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static async Task<(long Count, string Head)> ReadHeadAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1";
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetString(1)) : (0, AuditChain.Genesis);
    }

    public async Task<(long Count, string HeadHash)> GetAuditHeadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadHeadAsync(connection, cancellationToken);
    }

    public async IAsyncEnumerable<StoredAuditEvent> ReadAuditChainAsync(long fromSeq, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, event, hash, prev_hash, kind, at, actor, connection FROM audit_events WHERE seq >= $from ORDER BY seq";
        command.Parameters.AddWithValue("$from", fromSeq);
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // A value someone stored with another type is read as its bytes, for the verifier to judge.
            var canonical = reader.GetValue(1) is byte[] bytes ? bytes : System.Text.Encoding.UTF8.GetBytes(Convert.ToString(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture) ?? "");
            yield return new StoredAuditEvent(reader.GetInt64(0), canonical, reader.GetString(2), reader.GetString(3),
                reader.GetString(4), SqliteTime.FromMicroseconds(reader.GetInt64(5)))
            {
                Columns = new SearchColumns(SearchColumns.Normalize(reader.IsDBNull(6) ? null : reader.GetString(6)), SearchColumns.Normalize(reader.IsDBNull(7) ? null : reader.GetString(7))),
            };
        }
    }

    public async Task<IReadOnlyList<AuditEvent>> QueryAuditEventsAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        var sql = new System.Text.StringBuilder("SELECT event, hash FROM audit_events WHERE seq > $after");
        command.Parameters.AddWithValue("$after", query.AfterSeq);
        if (query.Since is { } since)
        {
            sql.Append(" AND at >= $since");
            command.Parameters.AddWithValue("$since", SqliteTime.ToMicroseconds(since));
        }

        if (query.Until is { } until)
        {
            sql.Append(" AND at < $until");
            command.Parameters.AddWithValue("$until", SqliteTime.ToMicroseconds(until));
        }

        if (query.Actor is not null)
        {
            sql.Append(" AND actor = $actor");
            command.Parameters.AddWithValue("$actor", query.Actor);
        }

        if (query.Connection is not null)
        {
            sql.Append(" AND connection = $connection");
            command.Parameters.AddWithValue("$connection", query.Connection);
        }

        sql.Append(" ORDER BY seq LIMIT $limit");
        command.Parameters.AddWithValue("$limit", query.Limit);
        command.CommandText = sql.ToString();
        var events = new List<AuditEvent>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(AuditChain.Parse((byte[])reader.GetValue(0), reader.GetString(1)));
        }

        return events;
    }

    public async Task AddAuditCheckpointAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken) =>
        await ExecuteAsync("""
            INSERT INTO audit_checkpoints (count, head_hash, at, key_id, algorithm, signature) VALUES ($count, $head, $at, $key, $alg, $sig)
            ON CONFLICT (count) DO NOTHING
            """, cancellationToken, ("$count", checkpoint.Count), ("$head", checkpoint.HeadHash), ("$at", SqliteTime.ToMicroseconds(checkpoint.At)),
            ("$key", checkpoint.KeyId), ("$alg", checkpoint.Algorithm), ("$sig", checkpoint.Signature));

    public async Task<IReadOnlyList<AuditCheckpoint>> ListAuditCheckpointsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count, head_hash, at, key_id, algorithm, signature FROM audit_checkpoints ORDER BY count";
        var checkpoints = new List<AuditCheckpoint>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            checkpoints.Add(new AuditCheckpoint(reader.GetInt64(0), reader.GetString(1), SqliteTime.FromMicroseconds(reader.GetInt64(2)),
                reader.GetString(3), reader.GetString(4), reader.GetString(5)));
        }

        return checkpoints;
    }
}
