using System.Data.Common;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Postgres;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Airlock.FunctionalTests.Audit;

/// <summary>
/// A real store for audit tests, and what someone with access to its database can do behind
/// the gateway's back: plain SQL on the audit tables. One subclass per engine.
/// </summary>
internal abstract class AuditDatabase : IAsyncDisposable
{
    public IAirlockStore Store { get; private set; } = null!;

    /// <summary>SQL for the event blob as text (to edit inside it).</summary>
    public abstract string EventText { get; }

    /// <summary>SQL turning a text expression back into the event blob.</summary>
    public abstract string ToBlob(string text);

    /// <summary>How the engine stores an event's time in the <c>at</c> column.</summary>
    public abstract object AtValue(DateTimeOffset at);

    /// <summary>Another handle on the same database, as a second gateway replica would open it.</summary>
    public abstract IAirlockStore OpenAnotherStore();

    protected abstract Task<DbConnection> OpenConnectionAsync();

    protected async Task<AuditDatabase> InitializeAsync()
    {
        Store = OpenAnotherStore();
        await Store.MigrateAsync(CancellationToken.None);
        return this;
    }

    public async Task<int> SqlAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public static AuditEvent Request(string path) => new()
    {
        At = TimeProvider.System.GetUtcNow(),
        Kind = AuditKinds.RequestAllowed,
        Actor = new AuditActor("key:billing-agent", ["agents"], "apikey"),
        Target = new AuditTarget("billing", "GET", path),
        Rule = "read-billing",
        PolicyVersion = "sha256:test",
        SessionId = Guid.NewGuid(),
        Outcome = "allowed",
    };

    /// <summary>Appends events through a real <see cref="AuditWriter"/> (group commit), all at once.</summary>
    public async Task WriteAsync(int count, string pathPrefix = "/billing/v1/items/", IAirlockStore? store = null)
    {
        using var writer = new AuditWriter(store ?? Store, TimeProvider.System, NullLogger<AuditWriter>.Instance);
        writer.Start();
        await Task.WhenAll(Enumerable.Range(1, count).Select(i => writer.AppendAsync(Request(pathPrefix + i), CancellationToken.None)));
        await writer.DrainAsync(CancellationToken.None);
    }

    public virtual async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    public static AuditCheckpointService CheckpointService(IAuditStore store, string privatePem) =>
        new(new AuditConfig(new Secret("env:AIRLOCK_AUDIT_KEY", privatePem), TimeSpan.FromMinutes(10)), store, TimeProvider.System,
            NullLogger<AuditCheckpointService>.Instance);
}

internal sealed class SqliteAuditDatabase : AuditDatabase
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("airlock-audit-").FullName, "airlock.db");

    public static Task<AuditDatabase> CreateAsync() => new SqliteAuditDatabase().InitializeAsync();

    public string FilePath => _path;

    public override string EventText => "CAST(event AS TEXT)";

    public override string ToBlob(string text) => $"CAST({text} AS BLOB)";

    public override object AtValue(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public override IAirlockStore OpenAnotherStore() => new SqliteStore(_path, TimeProvider.System);

    protected override async Task<DbConnection> OpenConnectionAsync()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false }.ToString());
        await connection.OpenAsync();
        return connection;
    }
}

internal sealed class PostgresAuditDatabase : AuditDatabase
{
    private string _connectionString = "";

    public static async Task<AuditDatabase> CreateAsync() =>
        await new PostgresAuditDatabase { _connectionString = await (await TestServices.Postgres).CreateDatabaseAsync() }.InitializeAsync();

    public override string EventText => "convert_from(event, 'UTF8')";

    public override string ToBlob(string text) => $"convert_to({text}, 'UTF8')";

    public override object AtValue(DateTimeOffset at) => at;

    public override IAirlockStore OpenAnotherStore() => new PostgresStore(_connectionString, TimeProvider.System);

    protected override async Task<DbConnection> OpenConnectionAsync()
    {
        var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        return connection;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await (await TestServices.Postgres).DropDatabaseAsync(_connectionString);
    }
}
