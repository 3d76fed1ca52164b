using Airlock.Gateway.Audit;
using Airlock.Gateway.Storage;

namespace Airlock.FunctionalTests.Audit;

/// <summary>
/// Two gateways (two stores, two writers) on one database, each appending from many tasks at
/// once, extend one chain: every event is there once, numbered without gaps, and it verifies.
/// </summary>
public abstract class AuditConcurrencyTests : IAsyncLifetime
{
    private const int WritersPerStore = 8;
    private const int EventsPerWriter = 40;

    private AuditDatabase _db = null!;

    private protected abstract Task<AuditDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _db = await CreateDatabaseAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Concurrent_writers_on_two_store_instances_extend_one_chain_without_a_fork()
    {
        await using var second = _db.OpenAnotherStore();
        var (privatePem, publicPem) = AuditSigner.Generate();
        using var checkpoints = AuditDatabase.CheckpointService(second, privatePem);

        // Each store has its own group-commit writer, fed by many tasks; both run at once, and a
        // checkpoint is signed while they write.
        var appends = new[] { _db.Store, second }.Select((store, s) => AppendFromManyTasksAsync(store, $"/replica-{s}/")).ToList();
        var signing = Task.Run(() => checkpoints.CheckpointAsync(CancellationToken.None));
        await Task.WhenAll(appends);
        await signing;
        await checkpoints.CheckpointAsync(CancellationToken.None);
        const int Total = 2 * WritersPerStore * EventsPerWriter;

        var result = await AuditStoreVerification.VerifyAsync(_db.Store, publicPem, CancellationToken.None);

        Assert.True(result.Valid, result.Break?.Problem);
        Assert.Equal(Total, result.Count);
        Assert.Equal((Total, result.HeadHash), await second.GetAuditHeadAsync(CancellationToken.None));
        Assert.Contains($"checkpoint at event {Total}: signature valid, head hash matches", result.Checkpoints);

        // What each append was told (its position and hash) is what the chain holds.
        var told = appends.SelectMany(a => a.Result).ToList();
        Assert.Equal(Enumerable.Range(1, Total).Select(i => (long)i), told.Select(e => e.Seq).Order());
        var stored = new Dictionary<long, StoredAuditEvent>();
        await foreach (var e in _db.Store.ReadAuditChainAsync(1, CancellationToken.None))
        {
            stored.Add(e.Seq, e);
        }

        foreach (var e in told)
        {
            Assert.Equal(e.Hash, stored[e.Seq].Hash);
            Assert.Equal(e.PrevHash, stored[e.Seq].PrevHash);
        }

        var paths = (await _db.Store.QueryAuditEventsAsync(new AuditQuery(Limit: Total + 1), CancellationToken.None)).Select(e => e.Target!.Path!).ToList();
        Assert.Equal(Total, paths.Count);
        Assert.Equal(told.Select(e => e.Target!.Path!).Order(StringComparer.Ordinal), paths.Order(StringComparer.Ordinal));
        Assert.Equal(Total, paths.Distinct().Count());
    }

    private static async Task<List<AuditEvent>> AppendFromManyTasksAsync(IAirlockStore store, string prefix)
    {
        using var writer = new AuditWriter(store, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<AuditWriter>.Instance);
        writer.Start();
        var tasks = Enumerable.Range(0, WritersPerStore).Select(w => Task.Run(async () =>
        {
            var appended = new List<AuditEvent>(EventsPerWriter);
            for (var i = 0; i < EventsPerWriter; i++)
            {
                appended.Add(await writer.AppendAsync(AuditDatabase.Request($"{prefix}{w}/{i}"), CancellationToken.None));
            }

            return appended;
        })).ToList();
        var all = (await Task.WhenAll(tasks)).SelectMany(a => a).ToList();
        await writer.DrainAsync(CancellationToken.None);
        return all;
    }
}

public sealed class SqliteAuditConcurrencyTests : AuditConcurrencyTests
{
    private protected override Task<AuditDatabase> CreateDatabaseAsync() => SqliteAuditDatabase.CreateAsync();
}

public sealed class PostgresAuditConcurrencyTests : AuditConcurrencyTests
{
    private protected override Task<AuditDatabase> CreateDatabaseAsync() => PostgresAuditDatabase.CreateAsync();
}
