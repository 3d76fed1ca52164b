using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage.Rows;
using Npgsql;

namespace Airlock.Gateway.Storage.Postgres;

internal sealed partial class PostgresStore
{
    private static readonly string GrantColumns = KeyAndGrantRows.GrantColumns(jsonAsText: true);

    private static async Task InsertGrantAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Grant grant, CancellationToken cancellationToken)
    {
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO grants (id, review_id, subject, rule, connection, granted_by, created_at, expires_at, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            connection, transaction))
        {
            Add(insert, grant.Id);
            Add(insert, grant.ReviewId);
            Add(insert, grant.Subject);
            Add(insert, grant.Rule);
            Add(insert, grant.Connection);
            AddJson(insert, GroupList.Serialize(grant.GrantedBy));
            Add(insert, grant.CreatedAt);
            Add(insert, grant.ExpiresAt);
            AddText(insert, grant.KeyId);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var link = new NpgsqlCommand("UPDATE reviews SET grant_id = $1 WHERE id = $2", connection, transaction);
        Add(link, grant.Id);
        Add(link, grant.ReviewId);
        await link.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Grant?> FindActiveGrantAsync(string subject, string? keyId, string rule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // IS NOT DISTINCT FROM, not =: both NULL (an OIDC caller) is a match.
        var grants = await QueryGrantsAsync(
            $"SELECT {GrantColumns} FROM grants WHERE subject = $1 AND key_id IS NOT DISTINCT FROM $2 AND rule = $3 AND revoked_at IS NULL AND expires_at > $4 ORDER BY expires_at DESC LIMIT 1",
            cancellationToken, subject, new NullableText(keyId), rule, now);
        return grants.Count == 0 ? null : grants[0];
    }

    public Task<IReadOnlyList<Grant>> ListGrantsAsync(bool activeOnly, DateTimeOffset now, CancellationToken cancellationToken) =>
        QueryGrantsAsync(
            $"SELECT {GrantColumns} FROM grants WHERE NOT $1 OR (revoked_at IS NULL AND expires_at > $2) ORDER BY created_at DESC LIMIT 500",
            cancellationToken, activeOnly, now);

    public async Task<Grant?> GetGrantAsync(Guid id, CancellationToken cancellationToken)
    {
        var grants = await QueryGrantsAsync($"SELECT {GrantColumns} FROM grants WHERE id = $1", cancellationToken, id);
        return grants.Count == 0 ? null : grants[0];
    }

    public async Task<Grant?> RevokeGrantAsync(Guid id, string by, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var grants = await QueryGrantsAsync(
            $"UPDATE grants SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL AND expires_at > $1 RETURNING {GrantColumns}",
            cancellationToken, now, by, id);
        return grants.Count == 0 ? null : grants[0];
    }

    private async Task<IReadOnlyList<Grant>> QueryGrantsAsync(string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = _dataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            if (value is bool b)
            {
                command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = b });
            }
            else if (value is NullableText text)
            {
                AddText(command, text.Value);
            }
            else
            {
                AddValue(command, value);
            }
        }

        var grants = new List<Grant>();
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            grants.Add(KeyAndGrantRows.ReadGrant(r, ReadTime));
        }

        return grants;
    }

    /// <summary>A text parameter that may be NULL (a bare null carries no type).</summary>
    private readonly record struct NullableText(string? Value);
}
