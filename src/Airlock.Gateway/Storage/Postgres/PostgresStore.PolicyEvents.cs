using Airlock.Gateway.Policy;
using Npgsql;

namespace Airlock.Gateway.Storage.Postgres;

internal sealed partial class PostgresStore
{
    public async Task RecordPolicyLoadAsync(PolicyLoadRecord record, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("INSERT INTO policy_loads (at, source, version, outcome, errors) VALUES ($1, $2, $3, $4, $5)");
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = record.At });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.Source });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.Version });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.Outcome });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)record.Errors ?? DBNull.Value });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PolicyLoadRecord>> ListPolicyLoadsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT at, source, version, outcome, errors FROM policy_loads ORDER BY seq DESC LIMIT $1");
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var records = new List<PolicyLoadRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(new PolicyLoadRecord(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetString(2),
                reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return records;
    }
}
