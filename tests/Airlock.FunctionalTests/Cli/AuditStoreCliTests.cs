using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Airlock.FunctionalTests.Cli;

/// <summary>
/// <c>airlock audit verify</c> on a store that is not what the configuration promises (a
/// misspelt path, an empty file, a copy without its WAL, a database without Airlock's schema):
/// it must fail, and leave the store exactly as it found it. And <c>airlock audit keygen</c>'s
/// advice, pasted into a configuration, must load.
/// </summary>
public sealed class AuditStoreCliTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("airlock-audit-store-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await AirlockCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string WriteConfig(string store, string? topLevel = null)
    {
        var path = Path.Combine(_directory, "airlock.yaml");
        File.WriteAllText(path, new GatewayConfig { Store = store, TopLevel = topLevel }.Connection("billing", new Uri("http://127.0.0.1:9")).ToYaml());
        return path;
    }

    [Fact]
    public async Task Verify_with_a_misspelt_store_path_fails_and_creates_nothing()
    {
        var config = WriteConfig("sqlite: ./airlcok.db");

        var (exit, stdout, _) = await RunAsync("audit", "verify", "--config", config);

        Assert.Equal(AirlockCli.Failure, exit);
        Assert.Contains($"FAILED: there is no store at {Path.Combine(_directory, "airlcok.db")}", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("OK:", stdout, StringComparison.Ordinal);
        Assert.Equal(["airlock.yaml"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Export_with_a_misspelt_store_path_fails_and_creates_nothing()
    {
        var config = WriteConfig("sqlite: ./airlcok.db");

        var (exit, _, stderr) = await RunAsync("audit", "export", "--config", config, "--out", Path.Combine(_directory, "evidence"));

        Assert.Equal(AirlockCli.Failure, exit);
        Assert.Contains($"error: there is no store at {Path.Combine(_directory, "airlcok.db")}", stderr, StringComparison.Ordinal);
        Assert.Equal(["airlock.yaml"], Directory.GetFiles(_directory).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.Combine(_directory, "evidence")));
    }

    [Fact]
    public async Task Verify_of_an_empty_file_fails_and_leaves_it_empty()
    {
        var config = WriteConfig("sqlite: ./airlock.db");
        await File.WriteAllBytesAsync(Path.Combine(_directory, "airlock.db"), []);

        var (exit, stdout, _) = await RunAsync("audit", "verify", "--config", config);

        Assert.Equal(AirlockCli.Failure, exit);
        Assert.Contains("holds no Airlock store: it is empty, or not Airlock's", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("OK:", stdout, StringComparison.Ordinal);
        Assert.Equal(0, new FileInfo(Path.Combine(_directory, "airlock.db")).Length);
    }

    [Fact]
    public async Task Verify_of_a_copy_made_without_its_wal_file_fails_and_a_copy_with_it_verifies()
    {
        // A gateway that ran: its start and a request are in the trail, in the WAL so far.
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", upstream.BaseUri));
        var key = await gateway.CreateApiKeyAsync("agent");
        using (var response = await gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/invoices", key)))
        {
            await gateway.SessionAsync(response);
        }

        var live = Path.Combine(gateway.Directory, "airlock.db");
        Assert.True(new FileInfo(live + "-wal").Length > 0, "the events are expected in the WAL file");
        var withoutWal = Directory.CreateDirectory(Path.Combine(_directory, "without-wal")).FullName;
        var withWal = Directory.CreateDirectory(Path.Combine(_directory, "with-wal")).FullName;
        File.Copy(live, Path.Combine(withoutWal, "airlock.db"));
        File.Copy(live, Path.Combine(withWal, "airlock.db"));
        File.Copy(live + "-wal", Path.Combine(withWal, "airlock.db-wal"));
        var copied = new FileInfo(Path.Combine(withoutWal, "airlock.db")).Length;

        var missing = await RunAsync("audit", "verify", "--config", WriteConfig($"sqlite: {Path.Combine(withoutWal, "airlock.db")}"));
        var whole = await RunAsync("audit", "verify", "--config", WriteConfig($"sqlite: {Path.Combine(withWal, "airlock.db")}"));

        Assert.Equal(AirlockCli.Failure, missing.Exit);
        Assert.Contains("a copy of a SQLite store must include its -wal file", missing.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("OK:", missing.Out, StringComparison.Ordinal);
        Assert.Equal(copied, new FileInfo(Path.Combine(withoutWal, "airlock.db")).Length);
        Assert.True(whole.Exit == 0, whole.Out + whole.Err);
        Assert.Contains("OK: the audit trail is intact.", whole.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_of_a_postgres_database_without_the_schema_fails_and_creates_no_table()
    {
        var postgres = await TestServices.Postgres;
        var connectionString = await postgres.CreateDatabaseAsync();
        await File.WriteAllTextAsync(Path.Combine(_directory, "pg.conn"), connectionString);
        var config = WriteConfig("postgres: { file: ./pg.conn }");

        var (exit, stdout, _) = await RunAsync("audit", "verify", "--config", config);

        Assert.Equal(AirlockCli.Failure, exit);
        Assert.Contains("FAILED: the PostgreSQL database holds no Airlock store", stdout, StringComparison.Ordinal);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var tables = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", connection);
        Assert.Equal(0L, (long)(await tables.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task The_configuration_line_keygen_prints_loads_and_signs()
    {
        // A space, '#' and ':' in the path: the printed line must still read as that path.
        var keys = Directory.CreateDirectory(Path.Combine(_directory, "keys #1: audit")).FullName;
        var (exit, stdout, _) = await RunAsync("audit", "keygen", "--out", Path.Combine(keys, "audit-key.pem"));
        Assert.Equal(0, exit);
        const string Advice = "Configure it with:  ";
        var line = stdout.Split('\n').Single(l => l.StartsWith(Advice, StringComparison.Ordinal))[Advice.Length..].TrimEnd();

        var config = WriteConfig("sqlite: ./airlock.db", topLevel: line);
        var created = await RunAsync("keys", "create", "--config", config, "--name", "agent");
        var signed = await RunAsync("audit", "checkpoint", "--config", config);
        var verified = await RunAsync("audit", "verify", "--config", config);

        Assert.True(created.Exit == 0, created.Err);
        Assert.True(signed.Exit == 0, signed.Err);
        Assert.Equal(0, verified.Exit);
        Assert.Contains("Using the public key of the configured signing key", verified.Out, StringComparison.Ordinal);
        Assert.Contains("checkpoint at event 1: signature valid, head hash matches", verified.Out, StringComparison.Ordinal);
    }
}
