using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    public async Task RecordPolicyLoadAsync(PolicyLoadRecord record, CancellationToken cancellationToken)
    {
        await using var write = await OpenForWriteAsync(cancellationToken);
        var connection = write.Connection;
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO policy_loads (at, source, version, outcome, errors) VALUES ($at, $source, $version, $outcome, $errors)";
        command.Parameters.AddWithValue("$at", SqliteTime.ToMicroseconds(record.At));
        command.Parameters.AddWithValue("$source", record.Source);
        command.Parameters.AddWithValue("$version", record.Version);
        command.Parameters.AddWithValue("$outcome", record.Outcome);
        command.Parameters.AddWithValue("$errors", (object?)record.Errors ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PolicyLoadRecord>> ListPolicyLoadsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT at, source, version, outcome, errors FROM policy_loads ORDER BY seq DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var records = new List<PolicyLoadRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(new PolicyLoadRecord(SqliteTime.FromMicroseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2),
                reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return records;
    }
}
