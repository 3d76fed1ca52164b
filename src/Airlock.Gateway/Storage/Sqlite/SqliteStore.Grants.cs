using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage.Rows;
using Microsoft.Data.Sqlite;

namespace Airlock.Gateway.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    private static readonly string GrantColumns = KeyAndGrantRows.GrantColumns(jsonAsText: false);

    private static async Task InsertGrantAsync(SqliteConnection connection, Grant grant, CancellationToken cancellationToken)
    {
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = $"INSERT INTO grants ({GrantColumns}) VALUES ($id, $review, $subject, $rule, $connection, $by, $created, $expires, NULL, NULL, $keyId)";
            insert.Parameters.AddWithValue("$id", grant.Id.ToString());
            insert.Parameters.AddWithValue("$review", grant.ReviewId.ToString());
            insert.Parameters.AddWithValue("$subject", grant.Subject);
            insert.Parameters.AddWithValue("$keyId", (object?)grant.KeyId ?? DBNull.Value);
            insert.Parameters.AddWithValue("$rule", grant.Rule);
            insert.Parameters.AddWithValue("$connection", grant.Connection);
            insert.Parameters.AddWithValue("$by", GroupList.Serialize(grant.GrantedBy));
            insert.Parameters.AddWithValue("$created", SqliteTime.ToMicroseconds(grant.CreatedAt));
            insert.Parameters.AddWithValue("$expires", SqliteTime.ToMicroseconds(grant.ExpiresAt));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        using var link = connection.CreateCommand();
        link.CommandText = "UPDATE reviews SET grant_id = $grant WHERE id = $review";
        link.Parameters.AddWithValue("$grant", grant.Id.ToString());
        link.Parameters.AddWithValue("$review", grant.ReviewId.ToString());
        await link.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Grant?> FindActiveGrantAsync(string subject, string? keyId, string rule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // IS, not =: both NULL (an OIDC caller) is a match.
        var grants = await QueryGrantsAsync(
            $"SELECT {GrantColumns} FROM grants WHERE subject = $subject AND key_id IS $keyId AND rule = $rule AND revoked_at IS NULL AND expires_at > $now ORDER BY expires_at DESC LIMIT 1",
            write: false, cancellationToken, ("$subject", subject), ("$keyId", (object?)keyId ?? DBNull.Value), ("$rule", rule), ("$now", SqliteTime.ToMicroseconds(now)));
        return grants.Count == 0 ? null : grants[0];
    }

    public Task<IReadOnlyList<Grant>> ListGrantsAsync(bool activeOnly, DateTimeOffset now, CancellationToken cancellationToken) =>
        QueryGrantsAsync(
            $"SELECT {GrantColumns} FROM grants {(activeOnly ? "WHERE revoked_at IS NULL AND expires_at > $now" : "")} ORDER BY created_at DESC LIMIT 500",
            write: false, cancellationToken, ("$now", SqliteTime.ToMicroseconds(now)));

    public async Task<Grant?> GetGrantAsync(Guid id, CancellationToken cancellationToken)
    {
        var grants = await QueryGrantsAsync($"SELECT {GrantColumns} FROM grants WHERE id = $id", write: false, cancellationToken, ("$id", id.ToString()));
        return grants.Count == 0 ? null : grants[0];
    }

    public async Task<Grant?> RevokeGrantAsync(Guid id, string by, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var grants = await QueryGrantsAsync(
            $"UPDATE grants SET revoked_at = $now, revoked_by = $by WHERE id = $id AND revoked_at IS NULL AND expires_at > $now RETURNING {GrantColumns}",
            write: true, cancellationToken, ("$now", SqliteTime.ToMicroseconds(now)), ("$by", by), ("$id", id.ToString()));
        return grants.Count == 0 ? null : grants[0];
    }

    private async Task<IReadOnlyList<Grant>> QueryGrantsAsync(string sql, bool write, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var lease = await OpenAsync(write, cancellationToken);
        var connection = lease.Connection;
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var grants = new List<Grant>();
        using var r = await command.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            grants.Add(KeyAndGrantRows.ReadGrant(r, SqliteTime.Read));
        }

        return grants;
    }
}
