using System.Collections.Immutable;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage.Rows;
using Microsoft.Data.Sqlite;

namespace Airlock.Gateway.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    private static readonly string ReviewColumns = ReviewRows.Columns(jsonAsText: false);

    public async Task CreateReviewAsync(Review review, CancellationToken cancellationToken)
    {
        await using var write = await OpenForWriteAsync(cancellationToken);
        var connection = write.Connection;
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO reviews (id, created_at, status, session_id, requester_subject, requester_auth, requester_issuer,
                requester_key_name, requester_key_id, requester_owner, requester_groups, client_address, connection, method, path,
                query, headers, body, rule, policy_version, approvers, approvals_needed, max_grant_us, expires_at, ambiguous, agent_reason)
            VALUES ($id, $created, $status, $session, $subject, $auth, $issuer, $keyName, $keyId, $owner, $groups, $client,
                $connection, $method, $path, $query, $headers, $body, $rule, $version, $approvers, $needed, $maxGrant, $expires, $ambiguous, $reason)
            """;
        var p = command.Parameters;
        var r = review.Request;
        p.AddWithValue("$id", review.Id.ToString());
        p.AddWithValue("$created", SqliteTime.ToMicroseconds(review.CreatedAt));
        p.AddWithValue("$status", review.Status);
        p.AddWithValue("$session", review.SessionId.ToString());
        p.AddWithValue("$subject", review.Requester.Subject);
        p.AddWithValue("$auth", review.Requester.AuthMethod);
        p.AddWithValue("$issuer", review.Requester.Issuer);
        p.AddWithValue("$keyName", (object?)review.Requester.KeyName ?? DBNull.Value);
        p.AddWithValue("$keyId", (object?)review.Requester.KeyId ?? DBNull.Value);
        p.AddWithValue("$owner", (object?)review.Requester.Owner ?? DBNull.Value);
        p.AddWithValue("$groups", GroupList.Serialize(review.Requester.Groups));
        p.AddWithValue("$client", (object?)r.ClientAddress ?? DBNull.Value);
        p.AddWithValue("$connection", r.Connection);
        p.AddWithValue("$method", r.Method);
        p.AddWithValue("$path", r.Path);
        p.AddWithValue("$query", (object?)r.Query ?? DBNull.Value);
        p.AddWithValue("$headers", HeaderList.Serialize(r.Headers));
        p.AddWithValue("$body", r.Body);
        p.AddWithValue("$rule", review.Rule);
        p.AddWithValue("$version", review.PolicyVersion);
        p.AddWithValue("$approvers", GroupList.Serialize(review.Approvers));
        p.AddWithValue("$needed", review.ApprovalsNeeded);
        p.AddWithValue("$maxGrant", SqliteTime.ToMicroseconds(review.MaxGrant));
        p.AddWithValue("$expires", SqliteTime.ToMicroseconds(review.ExpiresAt));
        p.AddWithValue("$ambiguous", (object?)review.Ambiguous ?? DBNull.Value);
        p.AddWithValue("$reason", (object?)review.AgentReason ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Review?> GetReviewAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadReviewAsync(connection, id, cancellationToken);
    }

    public async Task<IReadOnlyList<Review>> ListReviewsAsync(string? status, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {ReviewColumns} FROM reviews {(status is null ? "" : "WHERE status = $status")} ORDER BY created_at DESC, id DESC LIMIT $limit";
        if (status is not null)
        {
            command.Parameters.AddWithValue("$status", status);
        }

        command.Parameters.AddWithValue("$limit", limit);
        var reviews = new List<Review>();
        using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                reviews.Add(ReadReview(reader));
            }
        }

        // The decisions of every listed review in one query, not one query per review.
        var decisions = await ReadDecisionsAsync(connection, reviews.Select(r => r.Id), cancellationToken);
        return [.. reviews.Select(r => decisions.TryGetValue(r.Id, out var d) ? r with { Decisions = d } : r)];
    }

    public async Task<(DecisionOutcome Outcome, Review? Review)> RecordDecisionAsync(Guid id, ReviewDecision decision, Func<Review, Grant?> grantWhenApproved, CancellationToken cancellationToken)
    {
        await using var write = await OpenForWriteAsync(cancellationToken);
        var connection = write.Connection;
        // BEGIN IMMEDIATE: the write lock is taken before reading, so concurrent deciders are
        // serialised and each sees the others' decisions.
        using var transaction = connection.BeginTransaction(deferred: false);
        var review = await ReadReviewAsync(connection, id, cancellationToken);
        if (review is null)
        {
            return (DecisionOutcome.NotFound, null);
        }

        var step = ReviewTransition.Decide(review, decision);
        if (step.RecordsDecision)
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO review_decisions (review_id, subject, groups, verdict, comment, window_us, at) VALUES ($id, $subject, $groups, $verdict, $comment, $window, $at)";
            insert.Parameters.AddWithValue("$id", id.ToString());
            insert.Parameters.AddWithValue("$subject", decision.Subject);
            insert.Parameters.AddWithValue("$groups", GroupList.Serialize(decision.Groups));
            insert.Parameters.AddWithValue("$verdict", decision.Verdict);
            insert.Parameters.AddWithValue("$comment", (object?)decision.Comment ?? DBNull.Value);
            insert.Parameters.AddWithValue("$window", decision.Window is { } w ? SqliteTime.ToMicroseconds(w) : DBNull.Value);
            insert.Parameters.AddWithValue("$at", SqliteTime.ToMicroseconds(decision.At));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        if (step.NewStatus is { } status)
        {
            await SetStatusAsync(connection, id, status, decision.At, cancellationToken);
        }

        review = step.Review;
        if (step.Outcome == DecisionOutcome.Approved && grantWhenApproved(review) is { } grant)
        {
            await InsertGrantAsync(connection, grant, cancellationToken);
            review = review with { GrantId = grant.Id };
        }

        if (step.Writes)
        {
            transaction.Commit();
        }

        return (step.Outcome, review);
    }

    private static async Task SetStatusAsync(SqliteConnection connection, Guid id, string status, DateTimeOffset at, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE reviews SET status = $status, decided_at = $at WHERE id = $id";
        command.Parameters.AddWithValue("$status", status);
        command.Parameters.AddWithValue("$at", SqliteTime.ToMicroseconds(at));
        command.Parameters.AddWithValue("$id", id.ToString());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> CancelReviewAsync(Guid id, DateTimeOffset at, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE reviews SET status = 'cancelled', decided_at = $at WHERE id = $id AND status = 'pending'", cancellationToken,
            ("$at", SqliteTime.ToMicroseconds(at)), ("$id", id.ToString())) == 1;

    public async Task HoldAsync(Guid id, string instance, DateTimeOffset until, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE reviews SET held_by = $instance, held_until = $until WHERE id = $id", cancellationToken,
            ("$instance", instance), ("$until", SqliteTime.ToMicroseconds(until)), ("$id", id.ToString()));

    public async Task ReleaseHoldAsync(Guid id, string instance, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE reviews SET held_by = NULL, held_until = NULL WHERE id = $id AND held_by = $instance", cancellationToken,
            ("$instance", instance), ("$id", id.ToString()));

    public async Task<bool> TryClaimExecutionAsync(Guid id, string instance, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync("""
            UPDATE reviews SET status = 'executing', executor = $instance, executing_since = $now
            WHERE id = $id AND status = 'approved'
            """, cancellationToken, ("$instance", instance), ("$now", SqliteTime.ToMicroseconds(now)), ("$id", id.ToString())) == 1;

    public async Task<bool> MarkExecutionUnknownAsync(Guid id, string instance, string reason, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE reviews SET status = 'execution-unknown', unknown_reason = $reason WHERE id = $id AND status = 'executing' AND executor = $instance",
            cancellationToken, ("$id", id.ToString()), ("$instance", instance), ("$reason", reason)) == 1;

    public async Task<bool> CompleteExecutionAsync(Guid id, ReviewResult result, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync("""
            UPDATE reviews SET status = 'executed', executed_at = $now, result_status = $status, result_headers = $headers,
                result_body = $body, result_truncated = $truncated, result_session_id = $session
            WHERE id = $id AND status = 'executing'
            """, cancellationToken, ("$now", SqliteTime.ToMicroseconds(now)), ("$status", result.Status),
            ("$headers", HeaderList.Serialize(result.Headers)), ("$body", result.Body), ("$truncated", result.Truncated ? 1 : 0),
            ("$session", result.SessionId.ToString()), ("$id", id.ToString())) == 1;

    public async Task<IReadOnlyList<Guid>> ExpireDueAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        await QueryIdsAsync("UPDATE reviews SET status = 'expired', decided_at = $now WHERE status = 'pending' AND expires_at <= $now RETURNING id",
            write: true, cancellationToken, ("$now", SqliteTime.ToMicroseconds(now)));

    public async Task<IReadOnlyList<Guid>> ListOrphanedApprovalsAsync(DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken) =>
        await QueryIdsAsync("""
            SELECT r.id FROM reviews r LEFT JOIN instances i ON i.id = r.held_by
            WHERE r.status = 'approved'
              AND (r.held_until IS NULL OR r.held_until <= $now OR i.seen_at IS NULL OR i.seen_at < $stale)
            """, write: false, cancellationToken, ("$now", SqliteTime.ToMicroseconds(now)), ("$stale", SqliteTime.ToMicroseconds(staleBefore)));

    public async Task<IReadOnlyList<Guid>> MarkAbandonedExecutionsAsync(DateTimeOffset staleBefore, DateTimeOffset stuckBefore, CancellationToken cancellationToken) =>
        await QueryIdsAsync("""
            UPDATE reviews SET status = 'execution-unknown',
                unknown_reason = CASE WHEN EXISTS (SELECT 1 FROM instances i WHERE i.id = reviews.executor AND i.seen_at >= $stale)
                                      THEN 'result-unrecorded' ELSE 'executor-lost' END
            WHERE status = 'executing'
              AND (executing_since < $stuck
                   OR NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = reviews.executor AND i.seen_at >= $stale))
            RETURNING id
            """, write: true, cancellationToken, ("$stale", SqliteTime.ToMicroseconds(staleBefore)), ("$stuck", SqliteTime.ToMicroseconds(stuckBefore)));

    public async Task BeatAsync(string instance, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync("INSERT INTO instances (id, seen_at) VALUES ($id, $now) ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            cancellationToken, ("$id", instance), ("$now", SqliteTime.ToMicroseconds(now)));

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var write = await OpenForWriteAsync(cancellationToken);
        var connection = write.Connection;
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<Guid>> QueryIdsAsync(string sql, bool write, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var lease = await OpenAsync(write, cancellationToken);
        var connection = lease.Connection;
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var ids = new List<Guid>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(Guid.Parse(reader.GetString(0)));
        }

        return ids;
    }

    private static async Task<Review?> ReadReviewAsync(SqliteConnection connection, Guid id, CancellationToken cancellationToken)
    {
        Review review;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT {ReviewColumns} FROM reviews WHERE id = $id";
            command.Parameters.AddWithValue("$id", id.ToString());
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            review = ReadReview(reader);
        }

        var decisions = await ReadDecisionsAsync(connection, [id], cancellationToken);
        return decisions.TryGetValue(id, out var d) ? review with { Decisions = d } : review;
    }

    /// <summary>The decisions of the reviews named, each review's in the order they were made.</summary>
    private static async Task<Dictionary<Guid, ImmutableArray<ReviewDecision>>> ReadDecisionsAsync(SqliteConnection connection, IEnumerable<Guid> ids,
        CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {ReviewRows.DecisionColumns(jsonAsText: false)} FROM review_decisions
            WHERE review_id IN (SELECT value FROM json_each($ids)) ORDER BY review_id, seq
            """;
        command.Parameters.AddWithValue("$ids", System.Text.Json.JsonSerializer.Serialize(ids.Select(id => id.ToString())));
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReviewRows.ReadDecisionsAsync(reader, SqliteTime.Read, cancellationToken);
    }

    private static Review ReadReview(SqliteDataReader r) => ReviewRows.Read(r, SqliteTime.Read);
}
