using System.Data.Common;
using Airlock.Gateway.Sessions;

namespace Airlock.Gateway.Storage.Rows;

/// <summary>Reads session records from rows of either store (see <see cref="StoreRow"/>).</summary>
internal static class SessionRows
{
    /// <summary>What a session query selects. PostgreSQL reads its JSON columns as text.</summary>
    public static string Columns(bool jsonAsText) =>
        "id, started_at, duration_us, method, path, status, connection, subject, auth_method, issuer, key_name, key_id, "
        + $"{StoreRow.Json("groups", jsonAsText)}, client_address, request_bytes, response_bytes, upstream_us, error, decision, rule, "
        + "policy_version, review_id, grant_id, masked, masked_types, upstream_attempts";

    public static SessionRecord Read(DbDataReader reader, TimeColumn time)
    {
        var row = new StoreRow(reader, time);
        return new SessionRecord
        {
            Id = row.Id("id"),
            StartedAt = row.Time("started_at"),
            Duration = row.Span("duration_us"),
            Method = row.Text("method"),
            Path = row.Text("path"),
            Status = row.Int("status"),
            Connection = row.TextOrNull("connection"),
            Subject = row.TextOrNull("subject"),
            AuthMethod = row.TextOrNull("auth_method"),
            Issuer = row.TextOrNull("issuer"),
            KeyName = row.TextOrNull("key_name"),
            KeyId = row.TextOrNull("key_id"),
            Groups = GroupList.Deserialize(row.Text("groups")),
            ClientAddress = row.TextOrNull("client_address"),
            RequestBytes = row.Long("request_bytes"),
            ResponseBytes = row.Long("response_bytes"),
            UpstreamDuration = row.SpanOrNull("upstream_us"),
            Error = row.TextOrNull("error"),
            Decision = row.TextOrNull("decision"),
            Rule = row.TextOrNull("rule"),
            PolicyVersion = row.TextOrNull("policy_version"),
            ReviewId = row.IdOrNull("review_id"),
            GrantId = row.IdOrNull("grant_id"),
            Masked = row.Long("masked"),
            MaskedTypes = row.TextOrNull("masked_types"),
            UpstreamAttempts = row.TextOrNull("upstream_attempts"),
        };
    }
}
