using Airlock.Gateway.Recording;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage.Sqlite;
using BenchmarkDotNet.Attributes;

namespace Airlock.Benchmarks;

/// <summary>
/// The session writer's cost per request: one batch of 100 finished sessions, each with its
/// recorded exchange (headers and a 100-byte reply, as bench/load.sh's recorded 100 B row),
/// appended to a real SQLite file in one transaction. Divide by 100 for the cost per request.
/// </summary>
[MemoryDiagnoser]
public class SessionWriteBenchmarks
{
    private const int Batch = 100;
    private string _directory = "";
    private SqliteStore _store = null!;
    private SessionRecord[] _template = [];

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Directory.CreateTempSubdirectory("airlock-bench-sessions-").FullName;
        _store = new SqliteStore(Path.Combine(_directory, "airlock.db"), TimeProvider.System);
        await _store.MigrateAsync(CancellationToken.None);
        var body = new byte[100];
        Array.Fill(body, (byte)'x');
        _template = [.. Enumerable.Range(0, Batch).Select(_ => new SessionRecord
        {
            Id = Guid.Empty,
            StartedAt = TimeProvider.System.GetUtcNow(),
            Duration = TimeSpan.FromMilliseconds(3),
            Method = "GET",
            Path = "/plain/small",
            Status = 200,
            Connection = "plain",
            Subject = "key:load-agent",
            AuthMethod = "apikey",
            KeyName = "load-agent",
            KeyId = "0123456789abcdef",
            Groups = ["agents"],
            ClientAddress = "127.0.0.1",
            ResponseBytes = body.Length,
            UpstreamDuration = TimeSpan.FromMilliseconds(1),
            Decision = "allow",
            Rule = "agents-read",
            PolicyVersion = "sha256:9b74c9897bac770ffc029102a200c5de",
            Exchange = new ExchangeRecord
            {
                SessionId = Guid.Empty,
                RequestHeaders = [new("Host", "127.0.0.1:8080"), new("Accept", "*/*"), new("Authorization", "[withheld]")],
                ResponseHeaders = [new("Content-Type", "text/plain"), new("Content-Length", "100"), new("Date", "Tue, 08 Dec 2026 04:00:00 GMT")],
                ResponseBody = body,
            },
        })];
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public Task AppendBatchOf100()
    {
        // New ids each time: the rows are inserted, as the writer's are, not replaced.
        var batch = Array.ConvertAll(_template, t =>
        {
            var id = Guid.CreateVersion7();
            return t with { Id = id, Exchange = t.Exchange! with { SessionId = id } };
        });
        return _store.AppendSessionsAsync(batch, CancellationToken.None);
    }
}
