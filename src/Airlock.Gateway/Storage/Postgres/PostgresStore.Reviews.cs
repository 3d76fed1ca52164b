using System.Collections.Immutable;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage.Rows;
using Npgsql;
using NpgsqlTypes;

namespace Airlock.Gateway.Storage.Postgres;

internal sealed partial class PostgresStore
{
    private static readonly string ReviewColumns = ReviewRows.Columns(jsonAsText: true);

    public async Task CreateReviewAsync(Review review, CancellationToken cancellationToken)
    {
        var r = review.Request;
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO reviews (id, created_at, status, session_id, requester_subject, requester_auth, requester_issuer,
                requester_key_name, requester_key_id, requester_owner, requester_groups, client_address, connection, method, path,
                query, headers, body, rule, policy_version, approvers, approvals_needed, max_grant_us, expires_at, ambiguous, agent_reason)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
            """);
        Add(command, review.Id);
        Add(command, review.CreatedAt);
        Add(command, review.Status);
        Add(command, review.SessionId);
        Add(command, review.Requester.Subject);
        Add(command, review.Requester.AuthMethod);
        Add(command, review.Requester.Issuer);
        AddText(command, review.Requester.KeyName);
        AddText(command, review.Requester.KeyId);
        AddText(command, review.Requester.Owner);
        AddJson(command, GroupList.Serialize(review.Requester.Groups));
        AddText(command, r.ClientAddress);
        Add(command, r.Connection);
        Add(command, r.Method);
        Add(command, r.Path);
        AddText(command, r.Query);
        AddJson(command, HeaderList.Serialize(r.Headers));
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = r.Body });
        Add(command, review.Rule);
        Add(command, review.PolicyVersion);
        AddJson(command, GroupList.Serialize(review.Approvers));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = review.ApprovalsNeeded });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = review.MaxGrant.Ticks / 10 });
        Add(command, review.ExpiresAt);
        AddText(command, review.Ambiguous);
        AddText(command, review.AgentReason);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Review?> GetReviewAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadReviewAsync(connection, null, id, forUpdate: false, cancellationToken);
    }

    public async Task<IReadOnlyList<Review>> ListReviewsAsync(string? status, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var reviews = new List<Review>();
        await using (var command = new NpgsqlCommand(
            $"SELECT {ReviewColumns} FROM reviews WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at DESC, id DESC LIMIT $2", connection))
        {
            AddText(command, status);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                reviews.Add(ReadReview(reader));
            }
        }

        // The decisions of every listed review in one query, not one query per review.
        var decisions = await ReadDecisionsAsync(connection, null, [.. reviews.Select(r => r.Id)], cancellationToken);
        return [.. reviews.Select(r => decisions.TryGetValue(r.Id, out var d) ? r with { Decisions = d } : r)];
    }

    public async Task<(DecisionOutcome Outcome, Review? Review)> RecordDecisionAsync(Guid id, ReviewDecision decision, Func<Review, Grant?> grantWhenApproved, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // FOR UPDATE locks the review's row: concurrent deciders on any replica wait their turn
        // and each sees the decisions before it.
        var review = await ReadReviewAsync(connection, transaction, id, forUpdate: true, cancellationToken);
        if (review is null)
        {
            return (DecisionOutcome.NotFound, null);
        }

        var step = ReviewTransition.Decide(review, decision);
        if (step.RecordsDecision)
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO review_decisions (review_id, subject, groups, verdict, comment, window_us, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                connection, transaction);
            Add(insert, id);
            Add(insert, decision.Subject);
            AddJson(insert, GroupList.Serialize(decision.Groups));
            Add(insert, decision.Verdict);
            AddText(insert, decision.Comment);
            insert.Parameters.Add(new NpgsqlParameter { Value = decision.Window is { } w ? w.Ticks / 10 : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
            Add(insert, decision.At);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        if (step.NewStatus is { } status)
        {
            await SetStatusAsync(connection, transaction, id, status, decision.At, cancellationToken);
        }

        review = step.Review;
        if (step.Outcome == DecisionOutcome.Approved && grantWhenApproved(review) is { } grant)
        {
            await InsertGrantAsync(connection, transaction, grant, cancellationToken);
            review = review with { GrantId = grant.Id };
        }

        if (step.Writes)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        return (step.Outcome, review);
    }

    private static async Task SetStatusAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, string status, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("UPDATE reviews SET status = $1, decided_at = $2 WHERE id = $3", connection, transaction);
        Add(command, status);
        Add(command, at);
        Add(command, id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> CancelReviewAsync(Guid id, DateTimeOffset at, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE reviews SET status = 'cancelled', decided_at = $1 WHERE id = $2 AND status = 'pending'", cancellationToken, at, id) == 1;

    public async Task HoldAsync(Guid id, string instance, DateTimeOffset until, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE reviews SET held_by = $1, held_until = $2 WHERE id = $3", cancellationToken, instance, until, id);

    public async Task ReleaseHoldAsync(Guid id, string instance, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE reviews SET held_by = NULL, held_until = NULL WHERE id = $1 AND held_by = $2", cancellationToken, id, instance);

    public async Task<bool> TryClaimExecutionAsync(Guid id, string instance, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE reviews SET status = 'executing', executor = $1, executing_since = $2 WHERE id = $3 AND status = 'approved'",
            cancellationToken, instance, now, id) == 1;

    public async Task<bool> MarkExecutionUnknownAsync(Guid id, string instance, string reason, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE reviews SET status = 'execution-unknown', unknown_reason = $3 WHERE id = $1 AND status = 'executing' AND executor = $2",
            cancellationToken, id, instance, reason) == 1;

    public async Task<bool> CompleteExecutionAsync(Guid id, ReviewResult result, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            UPDATE reviews SET status = 'executed', executed_at = $1, result_status = $2, result_headers = $3,
                result_body = $4, result_truncated = $5, result_session_id = $6
            WHERE id = $7 AND status = 'executing'
            """);
        Add(command, now);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = result.Status });
        AddJson(command, HeaderList.Serialize(result.Headers));
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = result.Body });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = result.Truncated });
        Add(command, result.SessionId);
        Add(command, id);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public Task<IReadOnlyList<Guid>> ExpireDueAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        QueryIdsAsync("UPDATE reviews SET status = 'expired', decided_at = $1 WHERE status = 'pending' AND expires_at <= $1 RETURNING id", cancellationToken, now);

    public Task<IReadOnlyList<Guid>> ListOrphanedApprovalsAsync(DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken) =>
        QueryIdsAsync("""
            SELECT r.id FROM reviews r LEFT JOIN instances i ON i.id = r.held_by
            WHERE r.status = 'approved' AND (r.held_until IS NULL OR r.held_until <= $1 OR i.seen_at IS NULL OR i.seen_at < $2)
            """, cancellationToken, now, staleBefore);

    public Task<IReadOnlyList<Guid>> MarkAbandonedExecutionsAsync(DateTimeOffset staleBefore, DateTimeOffset stuckBefore, CancellationToken cancellationToken) =>
        QueryIdsAsync("""
            UPDATE reviews SET status = 'execution-unknown',
                unknown_reason = CASE WHEN EXISTS (SELECT 1 FROM instances i WHERE i.id = reviews.executor AND i.seen_at >= $1)
                                      THEN 'result-unrecorded' ELSE 'executor-lost' END
            WHERE status = 'executing'
              AND (executing_since < $2
                   OR NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = reviews.executor AND i.seen_at >= $1))
            RETURNING id
            """, cancellationToken, staleBefore, stuckBefore);

    public async Task BeatAsync(string instance, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync("INSERT INTO instances (id, seen_at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            cancellationToken, instance, now);

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = _dataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            AddValue(command, value);
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<Guid>> QueryIdsAsync(string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = _dataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            AddValue(command, value);
        }

        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private static void AddValue(NpgsqlCommand command, object value)
    {
        switch (value)
        {
            case Guid g:
                Add(command, g);
                break;
            case DateTimeOffset t:
                Add(command, t);
                break;
            case string s:
                Add(command, s);
                break;
            default:
                throw new ArgumentException($"unsupported parameter type {value.GetType()}", nameof(value));
        }
    }

    private static void Add(NpgsqlCommand command, Guid value) => command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = value });

    private static void Add(NpgsqlCommand command, DateTimeOffset value) => command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = value });

    private static void Add(NpgsqlCommand command, string value) => command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = value });

    private static void AddText(NpgsqlCommand command, string? value) =>
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });

    private static void AddJson(NpgsqlCommand command, string json) =>
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = json, NpgsqlDbType = NpgsqlDbType.Jsonb });

    private static async Task<Review?> ReadReviewAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid id, bool forUpdate, CancellationToken cancellationToken)
    {
        Review review;
        await using (var command = new NpgsqlCommand($"SELECT {ReviewColumns} FROM reviews WHERE id = $1{(forUpdate ? " FOR UPDATE" : "")}", connection, transaction))
        {
            Add(command, id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            review = ReadReview(reader);
        }

        var decisions = await ReadDecisionsAsync(connection, transaction, [id], cancellationToken);
        return decisions.TryGetValue(id, out var d) ? review with { Decisions = d } : review;
    }

    /// <summary>The decisions of the reviews named, each review's in the order they were made.</summary>
    private static async Task<Dictionary<Guid, ImmutableArray<ReviewDecision>>> ReadDecisionsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        Guid[] ids, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT {ReviewRows.DecisionColumns(jsonAsText: true)} FROM review_decisions WHERE review_id = ANY($1) ORDER BY review_id, seq",
            connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReviewRows.ReadDecisionsAsync(reader, ReadTime, cancellationToken);
    }

    private static Review ReadReview(NpgsqlDataReader r) => ReviewRows.Read(r, ReadTime);
}
