using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.Gateway.Tests.Identity;

/// <summary>
/// The API-key cache against a real SQLite file, seen from the gateway's process: its own store
/// object (which the cache is told about) and a second store object on the same file, which
/// stands for another process (<c>airlock keys revoke</c>, another replica): the cache hears of
/// that one's changes only through the store's change marker. A key the cache serves from
/// memory shows as the state before such a change. Only the clock is the test's, and the
/// watcher's checks are run by hand, one at a time.
/// </summary>
public sealed class ApiKeyCacheTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(T0);
    private readonly KeyStoreFile _file = new("airlock-keycache-");
    private SqliteStore _store = null!;
    private SqliteStore _elsewhere = null!;
    private ApiKeyCache _cache = null!;
    private ApiKeyChangeWatcher _watcher = null!;

    public async ValueTask InitializeAsync()
    {
        _store = await _file.OpenAsync(_time);
        _elsewhere = new SqliteStore(_file.Path, _time);
        _cache = new ApiKeyCache(_store, _time);
        _watcher = new ApiKeyChangeWatcher(_store, _cache, _time, NullLogger<ApiKeyChangeWatcher>.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        _watcher.Dispose();
        await _elsewhere.DisposeAsync();
        await _store.DisposeAsync();
        await _file.DisposeAsync();
    }

    private static ApiKey Key(string id, string name) => new(id, name, ["agents"], new byte[32], T0, null);

    private async Task<ApiKey> CreateAsync(string id, string name = "billing-agent")
    {
        var key = Key(id, name);
        Assert.True(await _store.CreateApiKeyAsync(key, CancellationToken.None));
        return key;
    }

    private async Task RevokeElsewhereAsync(string idOrName) =>
        Assert.NotNull(await _elsewhere.RevokeApiKeyAsync(idOrName, T0.AddMinutes(1), CancellationToken.None));

    private async Task<bool> IsRevokedAsync(string id, ApiKeyCache? cache = null) =>
        (await (cache ?? _cache).FindAsync(id, CancellationToken.None))!.IsRevoked;

    private Task CheckAsync() => _watcher.CheckAsync(CancellationToken.None);

    private Task ExecuteAsync(string sql) => _file.ExecuteAsync(sql);

    [Fact]
    public async Task A_checked_cache_answers_from_memory_until_the_store_s_marker_moves()
    {
        await CreateAsync("0123456789abcdef");
        await CheckAsync();
        Assert.False(await IsRevokedAsync("0123456789abcdef"));
        Assert.Equal(1, _cache.Count);

        await RevokeElsewhereAsync("billing-agent");

        Assert.False(await IsRevokedAsync("0123456789abcdef"));
        await CheckAsync();
        Assert.Equal(0, _cache.Count);
        Assert.True(await IsRevokedAsync("0123456789abcdef"));
    }

    [Fact]
    public async Task A_check_that_finds_the_marker_unchanged_keeps_what_is_held()
    {
        await CreateAsync("0123456789abcdef");
        await CheckAsync();
        await _cache.FindAsync("0123456789abcdef", CancellationToken.None);

        _time.Advance(ApiKeyChangeWatcher.CheckInterval);
        await CheckAsync();

        Assert.Equal(1, _cache.Count);
    }

    [Fact]
    public async Task Before_the_first_check_nothing_is_held_and_every_lookup_reads_the_store()
    {
        await CreateAsync("0123456789abcdef");
        Assert.False(await IsRevokedAsync("0123456789abcdef"));

        await RevokeElsewhereAsync("billing-agent");

        Assert.False(_cache.IsServable);
        Assert.Equal(0, _cache.Count);
        Assert.True(await IsRevokedAsync("0123456789abcdef"));
    }

    [Fact]
    public async Task A_revocation_through_this_process_s_store_applies_to_the_next_lookup()
    {
        await CreateAsync("0123456789abcdef");
        await CheckAsync();
        Assert.False(await IsRevokedAsync("0123456789abcdef"));

        Assert.NotNull(await new ApiKeyService(_store, _time).RevokeAsync("billing-agent", CancellationToken.None));

        Assert.True(await IsRevokedAsync("0123456789abcdef"));
    }

    [Fact]
    public async Task A_key_made_again_under_its_name_in_this_process_works_at_once_and_the_old_one_stays_revoked()
    {
        var service = new ApiKeyService(_store, _time);
        var (old, _) = await service.CreateAsync("billing-agent", ["agents"], CancellationToken.None);
        await CheckAsync();
        Assert.False(await IsRevokedAsync(old!.Key.Id));

        await service.RevokeAsync("billing-agent", CancellationToken.None);
        var (renewed, _) = await service.CreateAsync("billing-agent", ["agents"], CancellationToken.None);

        Assert.True(await IsRevokedAsync(old.Key.Id));
        Assert.False(await IsRevokedAsync(renewed!.Key.Id));
    }

    [Fact]
    public async Task A_lookup_under_way_when_a_revocation_empties_the_cache_does_not_put_the_old_key_back()
    {
        await CreateAsync("0123456789abcdef");
        var held = new HeldReads(_store);
        var cache = new ApiKeyCache(held, _time);
        cache.Confirm(await _store.GetApiKeyChangeMarkerAsync(CancellationToken.None), _time.GetTimestamp());
        var lookup = cache.FindAsync("0123456789abcdef", CancellationToken.None).AsTask();
        await held.Read.Task;

        Assert.NotNull(await new ApiKeyService(_store, _time).RevokeAsync("billing-agent", CancellationToken.None));
        held.Release.SetResult();

        // The lookup began before the revocation, and may answer from before it; the next may not.
        Assert.False((await lookup)!.IsRevoked);
        Assert.True(await IsRevokedAsync("0123456789abcdef", cache));
    }

    /// <summary>The real store, except that a key lookup, once the store has answered, waits for
    /// the test before returning: a revocation can then land between a read and its use.</summary>
    private sealed class HeldReads(SqliteStore store) : IApiKeyStore
    {
        public TaskCompletionSource Read { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public event EventHandler? ApiKeysChanged
        {
            add => store.ApiKeysChanged += value;
            remove => store.ApiKeysChanged -= value;
        }

        public async Task<ApiKey?> FindApiKeyAsync(string id, CancellationToken cancellationToken)
        {
            var key = await store.FindApiKeyAsync(id, cancellationToken);
            Read.TrySetResult();
            await Release.Task;
            return key;
        }

        public Task<bool> CreateApiKeyAsync(ApiKey key, CancellationToken cancellationToken) => store.CreateApiKeyAsync(key, cancellationToken);

        public Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(bool includeRevoked, CancellationToken cancellationToken) => store.ListApiKeysAsync(includeRevoked, cancellationToken);

        public Task<ApiKey?> RevokeApiKeyAsync(string idOrName, DateTimeOffset at, CancellationToken cancellationToken) => store.RevokeApiKeyAsync(idOrName, at, cancellationToken);

        public Task<long> GetApiKeyChangeMarkerAsync(CancellationToken cancellationToken) => store.GetApiKeyChangeMarkerAsync(cancellationToken);

        public Task ListenForApiKeyChangesAsync(Action changed, CancellationToken cancellationToken) => store.ListenForApiKeyChangesAsync(changed, cancellationToken);
    }

    [Fact]
    public async Task Unknown_ids_are_not_held_so_a_key_created_elsewhere_works_at_once()
    {
        await CheckAsync();
        for (var i = 0; i < 100; i++)
        {
            Assert.Null(await _cache.FindAsync(i.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None));
        }

        Assert.Equal(0, _cache.Count);
        Assert.True(await _elsewhere.CreateApiKeyAsync(Key("0000000000000007", "late-agent"), CancellationToken.None));

        Assert.Equal("late-agent", (await _cache.FindAsync("0000000000000007", CancellationToken.None))!.Name);
    }

    [Fact]
    public async Task Past_its_capacity_the_cache_holds_no_more_and_reads_the_rest_from_the_store()
    {
        var cache = new ApiKeyCache(_store, _time, capacity: 2);
        using var watcher = new ApiKeyChangeWatcher(_store, cache, _time, NullLogger<ApiKeyChangeWatcher>.Instance);
        string[] ids = ["000000000000000a", "000000000000000b", "000000000000000c"];
        foreach (var id in ids)
        {
            await CreateAsync(id, "agent-" + id[^1]);
        }

        await watcher.CheckAsync(CancellationToken.None);
        foreach (var id in ids)
        {
            Assert.False(await IsRevokedAsync(id, cache));
        }

        Assert.Equal(2, cache.Count);
        foreach (var id in ids)
        {
            await RevokeElsewhereAsync(id);
        }

        var seen = new List<bool>();
        foreach (var id in ids)
        {
            seen.Add(await IsRevokedAsync(id, cache));
        }

        // The first two from memory, as they were; the third from the store, revoked.
        Assert.Equal([false, false, true], seen);
    }

    [Fact]
    public async Task Without_a_new_check_what_is_held_is_served_up_to_the_bound_and_not_after()
    {
        await CreateAsync("0123456789abcdef");
        await CheckAsync();
        Assert.False(await IsRevokedAsync("0123456789abcdef"));
        await RevokeElsewhereAsync("billing-agent");

        _time.Advance(ApiKeyCache.RevocationBound - TimeSpan.FromTicks(1));
        Assert.False(await IsRevokedAsync("0123456789abcdef"));

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.False(_cache.IsServable);
        Assert.True(await IsRevokedAsync("0123456789abcdef"));
    }

    [Fact]
    public async Task The_bound_counts_from_when_the_check_started_not_when_it_answered()
    {
        await CreateAsync("0123456789abcdef");
        var startedAt = _time.GetTimestamp();
        var marker = await _store.GetApiKeyChangeMarkerAsync(CancellationToken.None);
        _time.Advance(ApiKeyCache.RevocationBound);

        _cache.Confirm(marker, startedAt);

        Assert.False(_cache.IsServable);
        Assert.False(await IsRevokedAsync("0123456789abcdef"));
        Assert.Equal(0, _cache.Count);
    }

    [Fact]
    public async Task A_check_that_fails_empties_the_cache_and_nothing_is_held_past_the_bound_until_one_works()
    {
        await CreateAsync("0123456789abcdef");
        await CheckAsync();
        Assert.False(await IsRevokedAsync("0123456789abcdef"));
        // The marker cannot be read (the triggers follow the rename, so writes still move it).
        await ExecuteAsync("ALTER TABLE api_key_changes RENAME TO api_key_changes_away");
        await RevokeElsewhereAsync("billing-agent");

        await CheckAsync();

        Assert.Equal(0, _cache.Count);
        Assert.True(await IsRevokedAsync("0123456789abcdef"));
        _time.Advance(ApiKeyCache.RevocationBound);
        await CheckAsync();
        Assert.False(_cache.IsServable);
        Assert.True(await IsRevokedAsync("0123456789abcdef"));
        Assert.Equal(0, _cache.Count);

        await ExecuteAsync("ALTER TABLE api_key_changes_away RENAME TO api_key_changes");
        await CheckAsync();
        Assert.True(_cache.IsServable);
        Assert.True(await IsRevokedAsync("0123456789abcdef"));
        Assert.Equal(1, _cache.Count);
    }

    [Fact]
    public async Task The_watcher_checks_every_interval_and_keeps_the_cache_servable()
    {
        await CreateAsync("0123456789abcdef");
        await _watcher.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(() => Task.FromResult(_cache.IsServable), "the first check");
            Assert.False(await IsRevokedAsync("0123456789abcdef"));
            await RevokeElsewhereAsync("billing-agent");
            Assert.False(await IsRevokedAsync("0123456789abcdef"));

            _time.Advance(ApiKeyChangeWatcher.CheckInterval);

            await WaitForAsync(() => IsRevokedAsync("0123456789abcdef"), "the next check to see the revocation");
            for (var i = 0; i < 5; i++)
            {
                // Each step lets the last check's window run out: only a new check makes it servable.
                _time.Advance(ApiKeyCache.RevocationBound);
                await WaitForAsync(() => Task.FromResult(_cache.IsServable), $"check {i + 2}");
            }
        }
        finally
        {
            await _watcher.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>The checks run on the watcher's own task: wait for their effect, with a deadline.</summary>
    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(15), $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}
