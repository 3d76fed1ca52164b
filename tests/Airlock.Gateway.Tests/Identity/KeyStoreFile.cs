using Airlock.Gateway.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Airlock.Gateway.Tests.Identity;

/// <summary>A real SQLite store in a folder of its own, for the API-key cache's tests, and SQL
/// run on its file from outside the store (as an operator's own SQL would).</summary>
internal sealed class KeyStoreFile(string prefix) : IAsyncDisposable
{
    public string Path { get; } = System.IO.Path.Combine(Directory.CreateTempSubdirectory(prefix).FullName, "airlock.db");

    /// <summary>Opens a store on the file, migrated.</summary>
    public async Task<SqliteStore> OpenAsync(TimeProvider time)
    {
        var store = new SqliteStore(Path, time);
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(System.IO.Path.GetDirectoryName(Path)!, recursive: true);
        return ValueTask.CompletedTask;
    }
}
