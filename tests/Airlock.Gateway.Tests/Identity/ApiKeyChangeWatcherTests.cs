using System.Collections.Concurrent;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.Gateway.Tests.Identity;

/// <summary>
/// What the watcher tells the operator, and how it listens: a failing check is logged once and
/// its recovery once (not every second), and a listening connection that fails empties the
/// cache, is logged, and is listened on again after <see cref="ApiKeyChangeWatcher.ListenRetryDelay"/>;
/// an engine that announces nothing (SQLite) is asked once.
/// </summary>
public sealed class ApiKeyChangeWatcherTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(T0);
    private readonly KeyStoreFile _file = new("airlock-keywatch-");
    private readonly EventLog _log = new();
    private SqliteStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = await _file.OpenAsync(_time);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        await _file.DisposeAsync();
    }

    private Task ExecuteAsync(string sql) => _file.ExecuteAsync(sql);

    [Fact]
    public async Task A_check_that_keeps_failing_is_logged_once_and_its_recovery_once()
    {
        var cache = new ApiKeyCache(_store, _time);
        using var watcher = new ApiKeyChangeWatcher(_store, cache, _time, _log);
        await watcher.CheckAsync(CancellationToken.None);
        Assert.Empty(_log.Ids);

        await ExecuteAsync("ALTER TABLE api_key_changes RENAME TO api_key_changes_away");
        await watcher.CheckAsync(CancellationToken.None);
        await watcher.CheckAsync(CancellationToken.None);
        await watcher.CheckAsync(CancellationToken.None);
        Assert.Equal([1010], _log.Ids);

        await ExecuteAsync("ALTER TABLE api_key_changes_away RENAME TO api_key_changes");
        await watcher.CheckAsync(CancellationToken.None);
        await watcher.CheckAsync(CancellationToken.None);
        Assert.Equal([1010, 1011], _log.Ids);
        Assert.True(cache.IsServable);

        // A second outage is reported again.
        await ExecuteAsync("ALTER TABLE api_key_changes RENAME TO api_key_changes_away");
        await watcher.CheckAsync(CancellationToken.None);
        Assert.Equal([1010, 1011, 1010], _log.Ids);
    }

    [Fact]
    public async Task A_listening_connection_that_fails_empties_the_cache_and_is_listened_on_again_after_the_delay()
    {
        var store = new ScriptedListen(_store, failFirst: true);
        var cache = new ApiKeyCache(store, _time);
        Assert.True(await _store.CreateApiKeyAsync(new ApiKey("0123456789abcdef", "billing-agent", ["agents"], new byte[32], T0, null), CancellationToken.None));
        using var watcher = new ApiKeyChangeWatcher(store, cache, _time, _log);
        await watcher.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(() => _log.Ids.Contains(1012), "the failed listen to be logged");
            Assert.Equal(1, store.Listens);
            // Held after the failure (the check keeps the cache servable), then the next listen.
            await WaitForAsync(() => cache.IsServable, "the first check");
            Assert.NotNull(await cache.FindAsync("0123456789abcdef", CancellationToken.None));
            Assert.Equal(1, cache.Count);

            _time.Advance(ApiKeyChangeWatcher.ListenRetryDelay);

            await WaitForAsync(() => store.Listens == 2, "the second listen");
            Assert.Single(_log.Ids, 1012);
        }
        finally
        {
            await watcher.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_failed_listen_forgets_every_key_held()
    {
        var store = new ScriptedListen(_store, failFirst: true, holdFirst: true);
        var cache = new ApiKeyCache(store, _time);
        Assert.True(await _store.CreateApiKeyAsync(new ApiKey("0123456789abcdef", "billing-agent", ["agents"], new byte[32], T0, null), CancellationToken.None));
        using var watcher = new ApiKeyChangeWatcher(store, cache, _time, _log);
        await watcher.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(() => cache.IsServable, "the first check");
            Assert.NotNull(await cache.FindAsync("0123456789abcdef", CancellationToken.None));
            Assert.Equal(1, cache.Count);

            store.FailHeldListen();

            await WaitForAsync(() => _log.Ids.Contains(1012), "the failed listen to be logged");
            Assert.Equal(0, cache.Count);
        }
        finally
        {
            await watcher.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_engine_that_announces_nothing_is_asked_once_and_the_checks_go_on()
    {
        var store = new ScriptedListen(_store, failFirst: false);
        var cache = new ApiKeyCache(store, _time);
        using var watcher = new ApiKeyChangeWatcher(store, cache, _time, _log);
        await watcher.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(() => cache.IsServable, "the first check");
            for (var i = 0; i < 3; i++)
            {
                _time.Advance(ApiKeyCache.RevocationBound);
                await WaitForAsync(() => cache.IsServable, $"check {i + 2}");
            }

            Assert.Equal(1, store.Listens);
            Assert.Empty(_log.Ids);
        }
        finally
        {
            await watcher.StopAsync(CancellationToken.None);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(15), $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>The real store, with a listen the test scripts: SQLite's (returns at once), or
    /// one that fails its first time (at once, or when the test says) and then listens until stopped.</summary>
    private sealed class ScriptedListen(SqliteStore store, bool failFirst, bool holdFirst = false) : IApiKeyStore
    {
        private readonly TaskCompletionSource _fail = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _listens;

        public int Listens => Volatile.Read(ref _listens);

        public void FailHeldListen() => _fail.SetResult();

        public event EventHandler? ApiKeysChanged
        {
            add => store.ApiKeysChanged += value;
            remove => store.ApiKeysChanged -= value;
        }

        public async Task ListenForApiKeyChangesAsync(Action changed, CancellationToken cancellationToken)
        {
            var listen = Interlocked.Increment(ref _listens);
            if (!failFirst)
            {
                await store.ListenForApiKeyChangesAsync(changed, cancellationToken);
                return;
            }

            if (listen == 1)
            {
                if (holdFirst)
                {
                    await _fail.Task.WaitAsync(cancellationToken);
                }

                throw new InvalidOperationException("the listening connection was lost");
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public Task<ApiKey?> FindApiKeyAsync(string id, CancellationToken cancellationToken) => store.FindApiKeyAsync(id, cancellationToken);

        public Task<bool> CreateApiKeyAsync(ApiKey key, CancellationToken cancellationToken) => store.CreateApiKeyAsync(key, cancellationToken);

        public Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(bool includeRevoked, CancellationToken cancellationToken) => store.ListApiKeysAsync(includeRevoked, cancellationToken);

        public Task<ApiKey?> RevokeApiKeyAsync(string idOrName, DateTimeOffset at, CancellationToken cancellationToken) => store.RevokeApiKeyAsync(idOrName, at, cancellationToken);

        public Task<long> GetApiKeyChangeMarkerAsync(CancellationToken cancellationToken) => store.GetApiKeyChangeMarkerAsync(cancellationToken);
    }

    /// <summary>The ids of the events the watcher logs, in order.</summary>
    private sealed class EventLog : ILogger<ApiKeyChangeWatcher>
    {
        private readonly ConcurrentQueue<int> _ids = new();

        public int[] Ids => [.. _ids];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _ids.Enqueue(eventId.Id);
    }
}
