using System.Collections.Immutable;
using System.Data.Common;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Reviews;

namespace Airlock.Gateway.Storage.Rows;

/// <summary>
/// Reads reviews and their decisions from rows of either store (see <see cref="StoreRow"/>).
/// </summary>
internal static class ReviewRows
{
    /// <summary>What a review query selects. PostgreSQL reads its JSON columns as text.</summary>
    public static string Columns(bool jsonAsText)
    {
        string Json(string column) => StoreRow.Json(column, jsonAsText);
        return $"""
            id, created_at, status, session_id, requester_subject, requester_auth, requester_issuer, requester_key_name,
            requester_key_id, requester_owner, {Json("requester_groups")}, client_address, connection, method, path, query,
            {Json("headers")}, body, rule, policy_version, {Json("approvers")}, approvals_needed, max_grant_us, expires_at,
            decided_at, executed_at, result_status, {Json("result_headers")}, result_body, result_truncated, result_session_id,
            grant_id, unknown_reason, ambiguous, agent_reason
            """;
    }

    /// <summary>What a decisions query selects, after <c>review_id</c>.</summary>
    public static string DecisionColumns(bool jsonAsText) =>
        $"review_id, subject, {StoreRow.Json("groups", jsonAsText)}, verdict, comment, window_us, at";

    public static Review Read(DbDataReader r, TimeColumn time)
    {
        var row = new StoreRow(r, time);
        return new Review
        {
            Id = row.Id("id"),
            CreatedAt = row.Time("created_at"),
            Status = row.Text("status"),
            SessionId = row.Id("session_id"),
            Requester = new CallerIdentity(row.Text("requester_subject"), row.Text("requester_auth"), row.Text("requester_issuer"),
                row.TextOrNull("requester_key_name"), row.TextOrNull("requester_key_id"), GroupList.Deserialize(row.Text("requester_groups")))
            {
                Owner = row.TextOrNull("requester_owner"),
            },
            Request = new HeldRequest(row.Text("connection"), row.Text("method"), row.Text("path"), row.TextOrNull("query"),
                HeaderList.Deserialize(row.Text("headers")), row.Bytes("body"), row.TextOrNull("client_address")),
            Rule = row.Text("rule"),
            PolicyVersion = row.Text("policy_version"),
            Approvers = GroupList.Deserialize(row.Text("approvers")),
            ApprovalsNeeded = row.Int("approvals_needed"),
            MaxGrant = row.Span("max_grant_us"),
            ExpiresAt = row.Time("expires_at"),
            DecidedAt = row.TimeOrNull("decided_at"),
            ExecutedAt = row.TimeOrNull("executed_at"),
            Result = row.IsNull("result_status") ? null : new ReviewResult(row.Int("result_status"),
                HeaderList.Deserialize(row.TextOrNull("result_headers")), row.BytesOrNull("result_body") ?? [],
                row.Flag("result_truncated"), row.Id("result_session_id")),
            GrantId = row.IdOrNull("grant_id"),
            UnknownReason = row.TextOrNull("unknown_reason"),
            Ambiguous = row.TextOrNull("ambiguous"),
            AgentReason = row.TextOrNull("agent_reason"),
        };
    }

    /// <summary>Reads a decisions query's rows, grouped by review, each review's in the order
    /// the query gave them.</summary>
    public static async Task<Dictionary<Guid, ImmutableArray<ReviewDecision>>> ReadDecisionsAsync(DbDataReader r,
        TimeColumn time, CancellationToken cancellationToken)
    {
        var decisions = new Dictionary<Guid, ImmutableArray<ReviewDecision>.Builder>();
        while (await r.ReadAsync(cancellationToken))
        {
            var row = new StoreRow(r, time);
            var id = row.Id("review_id");
            if (!decisions.TryGetValue(id, out var list))
            {
                decisions[id] = list = ImmutableArray.CreateBuilder<ReviewDecision>();
            }

            list.Add(new ReviewDecision(row.Text("subject"), GroupList.Deserialize(row.Text("groups")), row.Text("verdict"),
                row.TextOrNull("comment"), row.SpanOrNull("window_us"), row.Time("at")));
        }

        return decisions.ToDictionary(pair => pair.Key, pair => pair.Value.ToImmutable());
    }
}
