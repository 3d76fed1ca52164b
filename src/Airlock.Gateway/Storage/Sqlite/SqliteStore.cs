using Microsoft.Data.Sqlite;

namespace Airlock.Gateway.Storage.Sqlite;

/// <summary>
/// The embedded default store: one SQLite file in WAL mode, so readers (the CLI, the admin
/// API) never block the gateway's writes. One machine only; use PostgreSQL for replicas.
/// </summary>
internal sealed partial class SqliteStore : IAirlockStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly TimeSpan _busyTimeout;
    private readonly long? _maxSize;
    private readonly string _basePragmas;
    private string _pragmas;
    private bool _capped;

    /// <param name="readOnly">Opens the file read-only (SQLite's <c>mode=ro</c>): a missing file
    /// is an error, not a new database, and nothing can be written.</param>
    public SqliteStore(string path, TimeProvider timeProvider, TimeSpan? busyTimeout = null, long? maxSize = null, bool readOnly = false)
    {
        Path = path;
        _timeProvider = timeProvider;
        _maxSize = maxSize;
        var busy = busyTimeout ?? Configuration.SqliteStoreConfig.DefaultBusyTimeout;
        _busyTimeout = busy;
        // busy_timeout: another process's write (the CLI) is waited for in SQLite's own busy
        // handler, which retries within milliseconds, rather than in Microsoft.Data.Sqlite's
        // 150 ms sleeps; its retry loop then finds the same time spent and gives up with it.
        _basePragmas = FormattableString.Invariant($"PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {(long)busy.TotalMilliseconds};");
        _pragmas = _basePragmas;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Microsoft.Data.Sqlite retries a busy database until this many seconds pass.
            DefaultTimeout = (int)Math.Ceiling(busy.TotalSeconds),
        }.ToString();
    }

    public string Engine => "sqlite";

    public string Path { get; }

    /// <summary>
    /// Opens a connection for a write, after this process's earlier writes are done. Our own
    /// writers (the audit trail's group commits, session batches, reviews) queue here instead of
    /// inside SQLite: a write that meets SQLite's lock is retried by Microsoft.Data.Sqlite after
    /// a 150 ms sleep, which under load put 150 ms on every request waiting for its audit event.
    /// Other processes (the CLI) still meet the lock, and wait in SQLite's busy handler.
    /// </summary>
    internal async Task<Lease> OpenForWriteAsync(CancellationToken cancellationToken)
    {
        // Bounded like a wait on SQLite's own lock: a writer stuck ahead (another process
        // holding the file) fails the ones queued behind it within the same busy timeout, so a
        // request waiting on the audit trail gets its 503 in time, not after a whole queue.
        if (!await _writeGate.WaitAsync(_busyTimeout, cancellationToken))
        {
            throw new StoreBusyException($"the store stayed busy for {Configuration.Duration.Format(_busyTimeout)}");
        }

        try
        {
            return new Lease(await OpenConnectionAsync(forWrite: true, cancellationToken), _writeGate);
        }
        catch
        {
            _writeGate.Release();
            throw;
        }
    }

    internal async Task<Lease> OpenAsync(bool write, CancellationToken cancellationToken) =>
        write ? await OpenForWriteAsync(cancellationToken) : new Lease(await OpenAsync(cancellationToken), null);

    /// <summary>A connection, and the write turn it holds until disposed (if any).</summary>
    internal sealed class Lease(SqliteConnection connection, SemaphoreSlim? writeGate) : IAsyncDisposable
    {
        public SqliteConnection Connection => connection;

        public async ValueTask DisposeAsync()
        {
            try
            {
                await connection.DisposeAsync();
            }
            finally
            {
                // Whatever happens to the connection, the next writer gets its turn.
                writeGate?.Release();
            }
        }
    }

    /// <summary>Opens a connection for reading (writes go through <see cref="OpenForWriteAsync"/>).</summary>
    internal Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken) => OpenConnectionAsync(forWrite: false, cancellationToken);

    private async Task<SqliteConnection> OpenConnectionAsync(bool forWrite, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (!forWrite)
            {
                // A read (an API key on every request) needs none of the settings below, and
                // parsing them on every open was a visible share of a request's CPU.
                return connection;
            }

            if (_maxSize is { } maxSize && !Volatile.Read(ref _capped))
            {
                await CapAsync(connection, maxSize, cancellationToken);
            }

            using var pragma = connection.CreateCommand();
            // WAL with synchronous=NORMAL survives a process crash; FULL would also survive
            // power loss at the cost of an fsync per commit. max_page_count is per connection,
            // so the cap is set on every one that writes.
            pragma.CommandText = Volatile.Read(ref _pragmas);
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Turns <c>store.sqlite.maxSize</c> into pages, once: the page size is the file's.</summary>
    private async Task CapAsync(SqliteConnection connection, long maxSize, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA page_size";
        var pageSize = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        // Past the cap SQLite answers SQLITE_FULL, exactly as on a full disk (docs/recording.md).
        Volatile.Write(ref _pragmas, _basePragmas + FormattableString.Invariant($" PRAGMA max_page_count = {Math.Max(1, maxSize / pageSize)};"));
        Volatile.Write(ref _capped, true);
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM airlock_schema";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    public async Task<(int Current, int Latest)> GetSchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'airlock_schema'";
        var current = 0L;
        if ((long)(await command.ExecuteScalarAsync(cancellationToken))! > 0)
        {
            command.CommandText = "SELECT coalesce(max(version), 0) FROM airlock_schema";
            current = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        return ((int)current, SqliteMigrations.All[^1].Version);
    }

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await using var write = await OpenForWriteAsync(cancellationToken);
        var connection = write.Connection;
        using (var wal = connection.CreateCommand())
        {
            // The journal mode is a property of the file and persists once set.
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }

        // BEGIN IMMEDIATE takes the write lock first, so two gateways starting at once apply
        // each migration exactly once.
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS airlock_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)";
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        long current;
        using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT coalesce(max(version), 0) FROM airlock_schema";
            current = (long)(await select.ExecuteScalarAsync(cancellationToken))!;
        }

        var latest = SqliteMigrations.All[^1].Version;
        if (current > latest)
        {
            throw new InvalidOperationException($"the store's schema is version {current}, newer than this build of Airlock knows ({latest}); upgrade Airlock");
        }

        foreach (var migration in SqliteMigrations.All)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            using var step = connection.CreateCommand();
            step.CommandText = migration.Sql;
            await step.ExecuteNonQueryAsync(cancellationToken);
            using var record = connection.CreateCommand();
            record.CommandText = "INSERT INTO airlock_schema (version, name, applied_at) VALUES ($v, $n, $t)";
            record.Parameters.AddWithValue("$v", migration.Version);
            record.Parameters.AddWithValue("$n", migration.Name);
            record.Parameters.AddWithValue("$t", SqliteTime.ToMicroseconds(_timeProvider.GetUtcNow()));
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        transaction.Commit();
    }

    public ValueTask DisposeAsync()
    {
        // Pooled connections keep the file open (and its WAL un-checkpointed) until cleared.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }
}
