using System.Text;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage.Rows;
using Npgsql;
using NpgsqlTypes;

namespace Airlock.Gateway.Storage.Postgres;

internal sealed partial class PostgresStore
{
    private static readonly string SessionColumns = SessionRows.Columns(jsonAsText: true);

    public async Task AppendSessionsAsync(IReadOnlyList<SessionRecord> sessions, CancellationToken cancellationToken)
    {
        if (sessions.Count == 0)
        {
            return;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        // Sessions and their exchanges commit together, or not at all.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await CopySessionsAsync(connection, sessions, cancellationToken);
        if (sessions.Any(s => s.Exchange is not null))
        {
            await CopyExchangesAsync(connection, sessions, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task CopyExchangesAsync(NpgsqlConnection connection, IReadOnlyList<SessionRecord> sessions, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY exchanges (session_id, query, request_headers, request_body, request_truncated, response_headers, response_body, response_truncated) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        foreach (var s in sessions)
        {
            if (s.Exchange is not { } x)
            {
                continue;
            }

            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(s.Id, NpgsqlDbType.Uuid, cancellationToken);
            await WriteNullableAsync(writer, x.Query, cancellationToken);
            await writer.WriteAsync(Recording.RecordedHeaders.ToJson(x.RequestHeaders), NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(x.RequestBody, NpgsqlDbType.Bytea, cancellationToken);
            await writer.WriteAsync(x.RequestTruncated, NpgsqlDbType.Boolean, cancellationToken);
            await writer.WriteAsync(Recording.RecordedHeaders.ToJson(x.ResponseHeaders), NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(x.ResponseBody, NpgsqlDbType.Bytea, cancellationToken);
            await writer.WriteAsync(x.ResponseTruncated, NpgsqlDbType.Boolean, cancellationToken);
        }

        await writer.CompleteAsync(cancellationToken);
    }

    public async Task<Recording.ExchangeRecord?> GetExchangeAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT query, request_headers, request_body, request_truncated, response_headers, response_body, response_truncated FROM exchanges WHERE session_id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = sessionId });
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new Recording.ExchangeRecord
        {
            SessionId = sessionId,
            Query = r.IsDBNull(0) ? null : r.GetString(0),
            RequestHeaders = Recording.RecordedHeaders.FromJson(r.GetString(1)),
            RequestBody = r.GetFieldValue<byte[]>(2),
            RequestTruncated = r.GetBoolean(3),
            ResponseHeaders = Recording.RecordedHeaders.FromJson(r.GetString(4)),
            ResponseBody = r.GetFieldValue<byte[]>(5),
            ResponseTruncated = r.GetBoolean(6),
        };
    }

    public async Task<int> DeleteExchangesAsync(string connection, DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "DELETE FROM exchanges e USING sessions s WHERE e.session_id = s.id AND s.connection = $1 AND s.started_at < $2");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = connection });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = before });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task CopySessionsAsync(NpgsqlConnection connection, IReadOnlyList<SessionRecord> sessions, CancellationToken cancellationToken)
    {
        // Binary COPY writes a batch in one round trip.
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY sessions (id, started_at, duration_us, method, path, status, connection, subject, auth_method, issuer, key_name, key_id, groups, client_address, request_bytes, response_bytes, upstream_us, error, decision, rule, policy_version, review_id, grant_id, masked, masked_types, upstream_attempts) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        foreach (var s in sessions)
        {
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(s.Id, NpgsqlDbType.Uuid, cancellationToken);
            await writer.WriteAsync(s.StartedAt, NpgsqlDbType.TimestampTz, cancellationToken);
            await writer.WriteAsync(s.Duration.Ticks / 10, NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteAsync(s.Method, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(s.Path, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(s.Status, NpgsqlDbType.Integer, cancellationToken);
            await WriteNullableAsync(writer, s.Connection, cancellationToken);
            await WriteNullableAsync(writer, s.Subject, cancellationToken);
            await WriteNullableAsync(writer, s.AuthMethod, cancellationToken);
            await WriteNullableAsync(writer, s.Issuer, cancellationToken);
            await WriteNullableAsync(writer, s.KeyName, cancellationToken);
            await WriteNullableAsync(writer, s.KeyId, cancellationToken);
            await writer.WriteAsync(GroupList.Serialize(s.Groups), NpgsqlDbType.Jsonb, cancellationToken);
            await WriteNullableAsync(writer, s.ClientAddress, cancellationToken);
            await writer.WriteAsync(s.RequestBytes, NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteAsync(s.ResponseBytes, NpgsqlDbType.Bigint, cancellationToken);
            if (s.UpstreamDuration is { } upstream)
            {
                await writer.WriteAsync(upstream.Ticks / 10, NpgsqlDbType.Bigint, cancellationToken);
            }
            else
            {
                await writer.WriteNullAsync(cancellationToken);
            }

            await WriteNullableAsync(writer, s.Error, cancellationToken);
            await WriteNullableAsync(writer, s.Decision, cancellationToken);
            await WriteNullableAsync(writer, s.Rule, cancellationToken);
            await WriteNullableAsync(writer, s.PolicyVersion, cancellationToken);
            await WriteNullableAsync(writer, s.ReviewId, cancellationToken);
            await WriteNullableAsync(writer, s.GrantId, cancellationToken);
            await writer.WriteAsync(s.Masked, NpgsqlDbType.Bigint, cancellationToken);
            await WriteNullableAsync(writer, s.MaskedTypes, cancellationToken);
            await WriteNullableAsync(writer, s.UpstreamAttempts, cancellationToken);
        }

        await writer.CompleteAsync(cancellationToken);
    }

    private static async Task WriteNullableAsync(NpgsqlBinaryImporter writer, Guid? value, CancellationToken cancellationToken)
    {
        if (value is { } id)
        {
            await writer.WriteAsync(id, NpgsqlDbType.Uuid, cancellationToken);
        }
        else
        {
            await writer.WriteNullAsync(cancellationToken);
        }
    }

    private static async Task WriteNullableAsync(NpgsqlBinaryImporter writer, string? value, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            await writer.WriteNullAsync(cancellationToken);
        }
        else
        {
            await writer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);
        }
    }

    public async Task<IReadOnlyList<SessionRecord>> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand();
        var sql = new StringBuilder($"SELECT {SessionColumns} FROM sessions WHERE true");
        if (query.Connection is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query.Connection });
            sql.Append(" AND connection = $").Append(command.Parameters.Count);
        }

        if (query.Subject is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query.Subject });
            sql.Append(" AND subject = $").Append(command.Parameters.Count);
        }

        if (query.Since is { } since)
        {
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = since });
            sql.Append(" AND started_at >= $").Append(command.Parameters.Count);
        }

        if (query.Status is { } status)
        {
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = status });
            sql.Append(" AND status = $").Append(command.Parameters.Count);
        }

        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = query.Limit });
        sql.Append(" ORDER BY started_at DESC, id DESC LIMIT $").Append(command.Parameters.Count);
        command.CommandText = sql.ToString();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var sessions = new List<SessionRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            sessions.Add(ReadSession(reader));
        }

        return sessions;
    }

    public async Task<SessionRecord?> GetSessionAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {SessionColumns} FROM sessions WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadSession(reader) : null;
    }

    private static SessionRecord ReadSession(NpgsqlDataReader r) => SessionRows.Read(r, ReadTime);
}
