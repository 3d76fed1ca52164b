using System.Text;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage.Rows;
using Microsoft.Data.Sqlite;

namespace Airlock.Gateway.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    private static readonly string SessionColumns = SessionRows.Columns(jsonAsText: false);

    public async Task AppendSessionsAsync(IReadOnlyList<SessionRecord> sessions, CancellationToken cancellationToken)
    {
        if (sessions.Count == 0)
        {
            return;
        }

        await using var write = await OpenForWriteAsync(cancellationToken);
        var connection = write.Connection;
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO sessions ({SessionColumns})
            VALUES ($id, $started, $duration, $method, $path, $status, $connection, $subject, $auth, $issuer, $key, $keyId, $groups, $client, $reqBytes, $resBytes, $upstream, $error, $decision, $rule, $policyVersion, $reviewId, $grantId, $masked, $maskedTypes, $attempts)
            """;
        var p = command.Parameters;
        var id = p.Add("$id", SqliteType.Text);
        var started = p.Add("$started", SqliteType.Integer);
        var duration = p.Add("$duration", SqliteType.Integer);
        var method = p.Add("$method", SqliteType.Text);
        var path = p.Add("$path", SqliteType.Text);
        var status = p.Add("$status", SqliteType.Integer);
        var conn = p.Add("$connection", SqliteType.Text);
        var subject = p.Add("$subject", SqliteType.Text);
        var auth = p.Add("$auth", SqliteType.Text);
        var issuer = p.Add("$issuer", SqliteType.Text);
        var key = p.Add("$key", SqliteType.Text);
        var keyId = p.Add("$keyId", SqliteType.Text);
        var groups = p.Add("$groups", SqliteType.Text);
        var client = p.Add("$client", SqliteType.Text);
        var reqBytes = p.Add("$reqBytes", SqliteType.Integer);
        var resBytes = p.Add("$resBytes", SqliteType.Integer);
        var upstream = p.Add("$upstream", SqliteType.Integer);
        var error = p.Add("$error", SqliteType.Text);
        var decision = p.Add("$decision", SqliteType.Text);
        var rule = p.Add("$rule", SqliteType.Text);
        var policyVersion = p.Add("$policyVersion", SqliteType.Text);
        var reviewId = p.Add("$reviewId", SqliteType.Text);
        var grantId = p.Add("$grantId", SqliteType.Text);
        var masked = p.Add("$masked", SqliteType.Integer);
        var maskedTypes = p.Add("$maskedTypes", SqliteType.Text);
        var attempts = p.Add("$attempts", SqliteType.Text);
        command.Prepare();
        using var exchange = connection.CreateCommand();
        exchange.CommandText = """
            INSERT INTO exchanges (session_id, query, request_headers, request_body, request_truncated, response_headers, response_body, response_truncated)
            VALUES ($id, $query, $reqHeaders, $reqBody, $reqTruncated, $resHeaders, $resBody, $resTruncated)
            """;
        var x = exchange.Parameters;
        var xId = x.Add("$id", SqliteType.Text);
        var xQuery = x.Add("$query", SqliteType.Text);
        var xReqHeaders = x.Add("$reqHeaders", SqliteType.Text);
        var xReqBody = x.Add("$reqBody", SqliteType.Blob);
        var xReqTruncated = x.Add("$reqTruncated", SqliteType.Integer);
        var xResHeaders = x.Add("$resHeaders", SqliteType.Text);
        var xResBody = x.Add("$resBody", SqliteType.Blob);
        var xResTruncated = x.Add("$resTruncated", SqliteType.Integer);
        exchange.Prepare();

        // Synchronous calls: Microsoft.Data.Sqlite runs every command synchronously anyway, and
        // its async wrappers cost an allocation and a state machine per row on the writer's thread.
        foreach (var s in sessions)
        {
            id.Value = s.Id.ToString();
            started.Value = SqliteTime.ToMicroseconds(s.StartedAt);
            duration.Value = SqliteTime.ToMicroseconds(s.Duration);
            method.Value = s.Method;
            path.Value = s.Path;
            status.Value = s.Status;
            conn.Value = (object?)s.Connection ?? DBNull.Value;
            subject.Value = (object?)s.Subject ?? DBNull.Value;
            auth.Value = (object?)s.AuthMethod ?? DBNull.Value;
            issuer.Value = (object?)s.Issuer ?? DBNull.Value;
            key.Value = (object?)s.KeyName ?? DBNull.Value;
            keyId.Value = (object?)s.KeyId ?? DBNull.Value;
            groups.Value = GroupList.Serialize(s.Groups);
            client.Value = (object?)s.ClientAddress ?? DBNull.Value;
            reqBytes.Value = s.RequestBytes;
            resBytes.Value = s.ResponseBytes;
            upstream.Value = s.UpstreamDuration is { } u ? SqliteTime.ToMicroseconds(u) : DBNull.Value;
            error.Value = (object?)s.Error ?? DBNull.Value;
            decision.Value = (object?)s.Decision ?? DBNull.Value;
            rule.Value = (object?)s.Rule ?? DBNull.Value;
            policyVersion.Value = (object?)s.PolicyVersion ?? DBNull.Value;
            reviewId.Value = (object?)s.ReviewId?.ToString() ?? DBNull.Value;
            grantId.Value = (object?)s.GrantId?.ToString() ?? DBNull.Value;
            masked.Value = s.Masked;
            maskedTypes.Value = (object?)s.MaskedTypes ?? DBNull.Value;
            attempts.Value = (object?)s.UpstreamAttempts ?? DBNull.Value;
            cancellationToken.ThrowIfCancellationRequested();
            command.ExecuteNonQuery();
            if (s.Exchange is { } e)
            {
                xId.Value = id.Value;
                xQuery.Value = (object?)e.Query ?? DBNull.Value;
                xReqHeaders.Value = Recording.RecordedHeaders.ToJson(e.RequestHeaders);
                xReqBody.Value = e.RequestBody;
                xReqTruncated.Value = e.RequestTruncated;
                xResHeaders.Value = Recording.RecordedHeaders.ToJson(e.ResponseHeaders);
                xResBody.Value = e.ResponseBody;
                xResTruncated.Value = e.ResponseTruncated;
                exchange.ExecuteNonQuery();
            }
        }

        transaction.Commit();
    }

    public async Task<IReadOnlyList<SessionRecord>> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT {SessionColumns} FROM sessions WHERE 1 = 1");
        if (query.Connection is not null)
        {
            sql.Append(" AND connection = $connection");
            command.Parameters.AddWithValue("$connection", query.Connection);
        }

        if (query.Subject is not null)
        {
            sql.Append(" AND subject = $subject");
            command.Parameters.AddWithValue("$subject", query.Subject);
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND started_at >= $since");
            command.Parameters.AddWithValue("$since", SqliteTime.ToMicroseconds(since));
        }

        if (query.Status is { } status)
        {
            sql.Append(" AND status = $status");
            command.Parameters.AddWithValue("$status", status);
        }

        sql.Append(" ORDER BY started_at DESC, id DESC LIMIT $limit");
        command.Parameters.AddWithValue("$limit", query.Limit);
        command.CommandText = sql.ToString();
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var sessions = new List<SessionRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            sessions.Add(ReadSession(reader));
        }

        return sessions;
    }

    public async Task<SessionRecord?> GetSessionAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {SessionColumns} FROM sessions WHERE id = $id";
        command.Parameters.AddWithValue("$id", id.ToString());
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadSession(reader) : null;
    }

    public async Task<Recording.ExchangeRecord?> GetExchangeAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT query, request_headers, request_body, request_truncated, response_headers, response_body, response_truncated FROM exchanges WHERE session_id = $id";
        command.Parameters.AddWithValue("$id", sessionId.ToString());
        using var r = await command.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new Recording.ExchangeRecord
        {
            SessionId = sessionId,
            Query = r.IsDBNull(0) ? null : r.GetString(0),
            RequestHeaders = Recording.RecordedHeaders.FromJson(r.GetString(1)),
            RequestBody = (byte[])r.GetValue(2),
            RequestTruncated = r.GetBoolean(3),
            ResponseHeaders = Recording.RecordedHeaders.FromJson(r.GetString(4)),
            ResponseBody = (byte[])r.GetValue(5),
            ResponseTruncated = r.GetBoolean(6),
        };
    }

    public async Task<int> DeleteExchangesAsync(string connection, DateTimeOffset before, CancellationToken cancellationToken)
    {
        var connectionName = connection;
        await using var write = await OpenForWriteAsync(cancellationToken);
        var db = write.Connection;
        using var command = db.CreateCommand();
        command.CommandText = """
            DELETE FROM exchanges WHERE session_id IN
                (SELECT id FROM sessions WHERE connection = $connection AND started_at < $before)
            """;
        command.Parameters.AddWithValue("$connection", connectionName);
        command.Parameters.AddWithValue("$before", SqliteTime.ToMicroseconds(before));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static SessionRecord ReadSession(SqliteDataReader r) => SessionRows.Read(r, SqliteTime.Read);
}
