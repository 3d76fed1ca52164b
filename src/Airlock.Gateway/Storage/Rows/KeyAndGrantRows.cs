using System.Data.Common;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Reviews;

namespace Airlock.Gateway.Storage.Rows;

/// <summary>Reads API keys and grants from rows of either store (see <see cref="StoreRow"/>).</summary>
internal static class KeyAndGrantRows
{
    public static string ApiKeyColumns(bool jsonAsText) =>
        $"id, name, {StoreRow.Json("groups", jsonAsText)}, secret_hash, created_at, revoked_at, owner";

    public static string GrantColumns(bool jsonAsText) =>
        $"id, review_id, subject, rule, connection, {StoreRow.Json("granted_by", jsonAsText)}, created_at, expires_at, revoked_at, revoked_by, key_id";

    public static ApiKey ReadApiKey(DbDataReader reader, TimeColumn time)
    {
        var row = new StoreRow(reader, time);
        return new ApiKey(row.Text("id"), row.Text("name"), GroupList.Deserialize(row.Text("groups")), row.Bytes("secret_hash"),
            row.Time("created_at"), row.TimeOrNull("revoked_at"))
        {
            Owner = row.TextOrNull("owner"),
        };
    }

    public static Grant ReadGrant(DbDataReader reader, TimeColumn time)
    {
        var row = new StoreRow(reader, time);
        return new Grant(row.Id("id"), row.Id("review_id"), row.Text("subject"), row.TextOrNull("key_id"), row.Text("rule"), row.Text("connection"),
            GroupList.Deserialize(row.Text("granted_by")), row.Time("created_at"), row.Time("expires_at"), row.TimeOrNull("revoked_at"),
            row.TextOrNull("revoked_by"));
    }
}
