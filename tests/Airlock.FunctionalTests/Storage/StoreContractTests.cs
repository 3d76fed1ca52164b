using System.Collections.Immutable;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Postgres;
using Airlock.Gateway.Storage.Sqlite;

namespace Airlock.FunctionalTests.Storage;

/// <summary>The store contract, run against each real engine.</summary>
public abstract class StoreContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);

    private protected IAirlockStore Store { get; private set; } = null!;

    private protected abstract Task<IAirlockStore> CreateStoreAsync();

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync() => await Store.DisposeAsync();

    [Fact]
    public async Task Migrations_are_idempotent_and_safe_to_run_concurrently()
    {
        var second = await CreateSecondHandleAsync();
        await using (second)
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => second.MigrateAsync(CancellationToken.None)));
            await Store.MigrateAsync(CancellationToken.None);
            await Store.PingAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Api_keys_round_trip_and_revoke_by_name_or_id()
    {
        var key = new ApiKey("0123456789abcdef", "billing-agent", ["agents", "billing"], new byte[32], T0, null);
        Assert.True(await Store.CreateApiKeyAsync(key, CancellationToken.None));
        Assert.False(await Store.CreateApiKeyAsync(key with { Id = "fedcba9876543210" }, CancellationToken.None));

        var found = await Store.FindApiKeyAsync("0123456789abcdef", CancellationToken.None);
        Assert.NotNull(found);
        Assert.Equal("billing-agent", found.Name);
        Assert.Equal(["agents", "billing"], found.Groups.ToArray());
        Assert.Equal(T0, found.CreatedAt);
        Assert.False(found.IsRevoked);

        var revoked = await Store.RevokeApiKeyAsync("billing-agent", T0.AddMinutes(1), CancellationToken.None);
        Assert.Equal(T0.AddMinutes(1), revoked!.RevokedAt);
        Assert.Null(await Store.RevokeApiKeyAsync("0123456789abcdef", T0.AddMinutes(2), CancellationToken.None));
        Assert.True((await Store.FindApiKeyAsync("0123456789abcdef", CancellationToken.None))!.IsRevoked);
        Assert.Empty(await Store.ListApiKeysAsync(includeRevoked: false, CancellationToken.None));
        Assert.Single(await Store.ListApiKeysAsync(includeRevoked: true, CancellationToken.None));
        Assert.True(await Store.CreateApiKeyAsync(key with { Id = "fedcba9876543210" }, CancellationToken.None));
    }

    [Fact]
    public async Task The_api_key_change_marker_moves_with_each_key_written_through_any_handle_and_with_nothing_else()
    {
        var second = await CreateSecondHandleAsync();
        await using (second)
        {
            var raised = 0;
            Store.ApiKeysChanged += (_, _) => Interlocked.Increment(ref raised);
            var start = await second.GetApiKeyChangeMarkerAsync(CancellationToken.None);

            Assert.True(await Store.CreateApiKeyAsync(new ApiKey("0123456789abcdef", "billing-agent", ["agents"], new byte[32], T0, null), CancellationToken.None));
            var created = await second.GetApiKeyChangeMarkerAsync(CancellationToken.None);
            Assert.NotEqual(start, created);
            Assert.Equal(1, raised);

            // Reads, and writes of anything but keys (every request writes a session), leave it:
            // a cache emptied by them would be emptied all the time.
            await Store.FindApiKeyAsync("0123456789abcdef", CancellationToken.None);
            await Store.ListApiKeysAsync(includeRevoked: true, CancellationToken.None);
            await Store.AppendSessionsAsync([new SessionRecord { Id = Guid.CreateVersion7(T0), StartedAt = T0, Duration = TimeSpan.FromMilliseconds(1), Method = "GET", Path = "/billing/v1/a", Status = 200 }], CancellationToken.None);
            Assert.Equal(created, await second.GetApiKeyChangeMarkerAsync(CancellationToken.None));

            Assert.NotNull(await second.RevokeApiKeyAsync("billing-agent", T0.AddMinutes(1), CancellationToken.None));
            var revoked = await Store.GetApiKeyChangeMarkerAsync(CancellationToken.None);
            Assert.NotEqual(created, revoked);
            // Only the handle that wrote raises it: another process's change reaches this one
            // through the marker (or, on PostgreSQL, an announcement).
            Assert.Equal(1, raised);

            // Raised whether or not the write took: here, the key was revoked already.
            Assert.Null(await Store.RevokeApiKeyAsync("0123456789abcdef", T0.AddMinutes(2), CancellationToken.None));
            Assert.Equal(2, raised);
        }
    }

    [Fact]
    public async Task Sessions_round_trip_and_list_newest_first_with_filters()
    {
        var sessions = Enumerable.Range(0, 10).Select(i => new SessionRecord
        {
            Id = Guid.CreateVersion7(T0.AddSeconds(i)),
            StartedAt = T0.AddSeconds(i),
            Duration = TimeSpan.FromMilliseconds(1.5 + i),
            Method = "GET",
            Path = $"/billing/v1/{i}",
            Status = i % 2 == 0 ? 200 : 401,
            Connection = i % 2 == 0 ? "billing" : "crm",
            Subject = i % 2 == 0 ? "key:agent" : null,
            AuthMethod = i % 2 == 0 ? "apikey" : null,
            Groups = i % 2 == 0 ? ImmutableArray.Create("agents") : [],
            ClientAddress = "127.0.0.1",
            RequestBytes = i,
            ResponseBytes = 1000 + i,
            UpstreamDuration = i % 2 == 0 ? TimeSpan.FromMilliseconds(1) : null,
            Error = i % 2 == 0 ? null : "unauthenticated",
            UpstreamAttempts = i % 2 == 0 ? "closed,answered" : null,
        }).ToList();

        await Store.AppendSessionsAsync(sessions, CancellationToken.None);

        var stored = await Store.GetSessionAsync(sessions[4].Id, CancellationToken.None);
        Assert.Equal(sessions[4] with { Groups = stored!.Groups }, stored);
        Assert.Equal(["agents"], stored.Groups.ToArray());

        var newest = await Store.ListSessionsAsync(new SessionQuery(Limit: 3), CancellationToken.None);
        Assert.Equal([sessions[9].Id, sessions[8].Id, sessions[7].Id], newest.Select(s => s.Id));
        var billing = await Store.ListSessionsAsync(new SessionQuery(Connection: "billing", Since: T0.AddSeconds(5)), CancellationToken.None);
        Assert.Equal([sessions[8].Id, sessions[6].Id], billing.Select(s => s.Id));
        var bySubject = await Store.ListSessionsAsync(new SessionQuery(Subject: "key:agent"), CancellationToken.None);
        Assert.Equal(5, bySubject.Count);
        Assert.Null(await Store.GetSessionAsync(Guid.NewGuid(), CancellationToken.None));
    }

    [Fact]
    public async Task Reviews_round_trip_with_the_agents_reason_and_the_same_request_hash()
    {
        var request = new HeldRequest("billing", "POST", "/billing/v1/refunds", "source=agent",
            [new("Content-Type", "application/json"), new("X-Trace", "a\u202Eb")], "{\"amount\":500}"u8.ToArray(), "127.0.0.1");
        var review = new Review
        {
            Id = Guid.CreateVersion7(T0),
            CreatedAt = T0,
            Status = ReviewStatus.Pending,
            SessionId = Guid.CreateVersion7(T0),
            Requester = new CallerIdentity("key:billing-agent", CallerIdentity.ApiKeyMethod, "airlock", "billing-agent", "0123456789abcdef", ["agents"]),
            Request = request,
            Rule = "refunds",
            PolicyVersion = "sha256:00",
            AgentReason = "customer 4411 was charged twice \u202Efor order 9912",
            Approvers = ["finance-approvers"],
            ApprovalsNeeded = 1,
            MaxGrant = TimeSpan.FromMinutes(30),
            ExpiresAt = T0.AddHours(1),
        };
        await Store.CreateReviewAsync(review, CancellationToken.None);
        var without = review with { Id = Guid.CreateVersion7(T0.AddSeconds(1)), AgentReason = null };
        await Store.CreateReviewAsync(without, CancellationToken.None);

        var stored = (await Store.GetReviewAsync(review.Id, CancellationToken.None))!;
        Assert.Equal(review.AgentReason, stored.AgentReason);
        Assert.Equal(review.RequestSha256, stored.RequestSha256);
        Assert.StartsWith("sha256:", stored.RequestSha256, StringComparison.Ordinal);
        Assert.Null((await Store.GetReviewAsync(without.Id, CancellationToken.None))!.AgentReason);
        Assert.Equal([without.Id, review.Id], (await Store.ListReviewsAsync(ReviewStatus.Pending, 10, CancellationToken.None)).Select(r => r.Id));
    }

    private protected abstract Task<IAirlockStore> CreateSecondHandleAsync();
}

public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("airlock-store-").FullName, "airlock.db");

    private protected override Task<IAirlockStore> CreateStoreAsync() => Task.FromResult<IAirlockStore>(new SqliteStore(_path, TimeProvider.System));

    private protected override Task<IAirlockStore> CreateSecondHandleAsync() => CreateStoreAsync();

    [Fact]
    public void Nothing_is_announced_between_processes_so_listening_ends_at_once()
    {
        Assert.True(Store.ListenForApiKeyChangesAsync(() => Assert.Fail("nothing to hear"), CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task The_database_is_in_wal_mode()
    {
        await using var connection = await ((SqliteStore)Store).OpenAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }
}

public sealed class PostgresStoreContractTests : StoreContractTests
{
    private string? _connectionString;

    private protected override async Task<IAirlockStore> CreateStoreAsync()
    {
        _connectionString ??= await (await TestServices.Postgres).CreateDatabaseAsync();
        return new PostgresStore(_connectionString, TimeProvider.System);
    }

    private protected override Task<IAirlockStore> CreateSecondHandleAsync() => CreateStoreAsync();

    [Fact]
    public async Task A_revocation_is_announced_to_the_handles_listening_and_listening_starts_with_a_call()
    {
        var second = await CreateSecondHandleAsync();
        await using (second)
        {
            var calls = 0;
            using var stop = new CancellationTokenSource();
            var listening = second.ListenForApiKeyChangesAsync(() => Interlocked.Increment(ref calls), stop.Token);
            // The first call says it listens now (anything announced before was missed).
            Assert.True(await Eventually.TrueWithinAsync(() => Task.FromResult(Volatile.Read(ref calls) == 1), TimeSpan.FromSeconds(15)));
            Assert.True(await Store.CreateApiKeyAsync(new ApiKey("0123456789abcdef", "billing-agent", ["agents"], new byte[32], T0, null), CancellationToken.None));

            Assert.NotNull(await Store.RevokeApiKeyAsync("billing-agent", T0.AddMinutes(1), CancellationToken.None));

            Assert.True(await Eventually.TrueWithinAsync(() => Task.FromResult(Volatile.Read(ref calls) >= 2), TimeSpan.FromSeconds(15)), $"{calls} calls");
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listening);
        }
    }
}
