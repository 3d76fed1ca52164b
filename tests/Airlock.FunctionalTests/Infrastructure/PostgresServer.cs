using Npgsql;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// A real PostgreSQL server started for the test run from the Debian packages (initdb and
/// pg_ctl), on a free loopback port, in a temporary directory. Each test gets its own database.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dataDirectory;

    private PostgresServer(string bin, string dataDirectory, int port)
    {
        _bin = bin;
        _dataDirectory = dataDirectory;
        Port = port;
    }

    public int Port { get; }

    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Pooling=false";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBin();
        var root = Directory.CreateTempSubdirectory("airlock-pg-").FullName;
        var data = Path.Combine(root, "data");
        if (ProcessRunner.IsRoot)
        {
            // PostgreSQL refuses to run as root.
            await ProcessRunner.RunAsync("chown", ["postgres:postgres", root]);
        }

        await AsPostgresAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]);
        var port = FreePort.Next();
        await AsPostgresAsync(Path.Combine(bin, "pg_ctl"),
        [
            "-D", data, "-l", Path.Combine(root, "log"), "-w",
            "-o", $"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off -c max_connections=300",
            "start",
        ]);
        StopWhenThisProcessEnds(bin, root, data);
        return new PostgresServer(bin, data, port);
    }

    /// <summary>
    /// The test host can end without running its exit handlers (the runner kills it once the
    /// results are in), and a server started here then ran on, one per test run. A watcher
    /// outside this process waits for it to end, then stops the server and deletes its files;
    /// when DisposeAsync got there first, both are already gone and the watcher does nothing.
    /// </summary>
    private static void StopWhenThisProcessEnds(string bin, string root, string data)
    {
        var stop = ProcessRunner.IsRoot
            ? $"runuser -u postgres -- '{bin}/pg_ctl' -D '{data}' -m immediate -w stop"
            : $"'{bin}/pg_ctl' -D '{data}' -m immediate -w stop";
        // Its own session and no pipes to this process, so nothing of ours going away stops it.
        var script = $"exec </dev/null >/dev/null 2>&1; tail --pid={Environment.ProcessId} -f /dev/null; [ -d '{data}' ] && {stop}; rm -rf '{root}'";
        var start = new System.Diagnostics.ProcessStartInfo("setsid", ["sh", "-c", script]) { UseShellExecute = false };
        using var watcher = System.Diagnostics.Process.Start(start)
            ?? throw new InvalidOperationException("could not start the PostgreSQL watcher");
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "airlock_" + Guid.NewGuid().ToString("N");
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return $"Host=127.0.0.1;Port={Port};Username=postgres;Database={name}";
    }

    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Stops the server (fast shutdown: clients are disconnected), keeping its data.</summary>
    public async Task StopAsync()
    {
        await AsPostgresAsync(Path.Combine(_bin, "pg_ctl"), ["-D", _dataDirectory, "-m", "fast", "-w", "stop"]);
        _stopped = true;
    }

    private bool _stopped;

    /// <summary>Starts a stopped server again on the same port.</summary>
    public async Task RestartAsync()
    {
        await AsPostgresAsync(Path.Combine(_bin, "pg_ctl"),
        [
            "-D", _dataDirectory, "-l", Path.Combine(Path.GetDirectoryName(_dataDirectory)!, "log"), "-w",
            "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {Path.GetDirectoryName(_dataDirectory)} -c fsync=off -c synchronous_commit=off -c max_connections=300",
            "start",
        ]);
        _stopped = false;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            await AsPostgresAsync(Path.Combine(_bin, "pg_ctl"), ["-D", _dataDirectory, "-m", "immediate", "-w", "stop"]);
        }

        // Each server is a fresh initdb in /tmp: without this, every run leaves ~40 MB behind.
        Directory.Delete(Path.GetDirectoryName(_dataDirectory)!, recursive: true);
    }

    private static Task<string> AsPostgresAsync(string file, string[] arguments) =>
        ProcessRunner.IsRoot
            ? ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", file, .. arguments])
            : ProcessRunner.RunAsync(file, arguments);

    private static string FindBin()
    {
        const string Base = "/usr/lib/postgresql";
        var bin = Directory.Exists(Base)
            ? Directory.GetDirectories(Base).Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql; .ci/run does this)");
    }
}
