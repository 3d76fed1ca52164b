using Airlock.Gateway.Audit;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.Gateway.Tests.Audit;

/// <summary>
/// The columns a search of the trail reads (<c>airlock audit --actor</c>, <c>--connection</c>)
/// are copies of the hashed event. Someone with the database can edit a copy so a search
/// misses an event or finds it under another name; verification of the real SQLite store
/// names the event whose copy no longer matches.
/// </summary>
public sealed class AuditColumnEditTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(TestChain.T0);
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("airlock-audit-").FullName, "airlock.db");
    private SqliteStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = new SqliteStore(_path, _time);
        await _store.MigrateAsync(CancellationToken.None);
        await _store.AppendAuditEventsAsync([.. Enumerable.Range(1, 8).Select(i => TestChain.Event(i))], CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }

    private async Task EditAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={_path};Pooling=False");
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task An_untouched_trail_verifies()
    {
        var result = await AuditStoreVerification.VerifyAsync(_store, null, CancellationToken.None);

        Assert.True(result.Valid, result.Break?.Problem);
        Assert.Equal(8, result.Count);
    }

    [Theory]
    [InlineData("actor = 'key:someone-else'")]
    [InlineData("actor = NULL")]
    [InlineData("connection = 'crm'")]
    [InlineData("connection = NULL")]
    [InlineData("kind = 'request.denied'")]
    public async Task A_search_column_edited_in_the_database_is_named_at_its_event(string edit)
    {
        await EditAsync($"UPDATE audit_events SET {edit} WHERE seq = 6");

        var result = await AuditStoreVerification.VerifyAsync(_store, null, CancellationToken.None);

        Assert.False(result.Valid);
        Assert.Equal(new AuditBreak(6, "event 6's searchable columns (kind, time, actor, connection, prevHash) differ from its hashed content: they were edited"), result.Break);
        Assert.Equal(5, result.Count);
    }
}
