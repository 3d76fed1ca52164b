using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Storage.Sqlite;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Airlock.Benchmarks;

/// <summary>
/// Finding an API key's stored record, which every API-key request does before verifying it:
/// the read from a SQLite store that every request made until issue 19 (the baseline, measured
/// in the same run), against the revocation-aware cache, with its watcher checking the store's
/// marker every second in the background as in the gateway.
/// </summary>
[MemoryDiagnoser]
public class ApiKeyLookupBenchmarks
{
    private string _directory = "";
    private SqliteStore _store = null!;
    private ApiKeyCache _cache = null!;
    private ApiKeyChangeWatcher _watcher = null!;
    private string _id = "";

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("airlock-bench-keys-").FullName;
        _store = new SqliteStore(Path.Combine(_directory, "airlock.db"), TimeProvider.System);
        _store.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
        var service = new ApiKeyService(_store, TimeProvider.System);
        var (created, _) = service.CreateAsync("bench-agent", ["agents"], CancellationToken.None).GetAwaiter().GetResult();
        _id = created!.Key.Id;
        _cache = new ApiKeyCache(_store, TimeProvider.System);
        _watcher = new ApiKeyChangeWatcher(_store, _cache, TimeProvider.System, NullLogger<ApiKeyChangeWatcher>.Instance);
        _watcher.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        while (!_cache.IsServable)
        {
            Task.Delay(10).GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _watcher.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        _watcher.Dispose();
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    // Each returns the key's name, not the internal ApiKey: BenchmarkDotNet's generated project
    // cannot see the gateway's internal types; the await around each costs a few nanoseconds.

    [Benchmark(Baseline = true)]
    public async Task<string> StoreRead() => (await _store.FindApiKeyAsync(_id, CancellationToken.None))!.Name;

    [Benchmark]
    public async ValueTask<string> CachedLookup() => (await _cache.FindAsync(_id, CancellationToken.None))!.Name;
}
