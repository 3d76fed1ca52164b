using System.Net;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Microsoft.Data.Sqlite;
using static Airlock.FunctionalTests.Faults.StoredRecords;

namespace Airlock.FunctionalTests.Faults;

/// <summary>
/// No room left for recordings. A real SQLITE_FULL, without mounting a small filesystem: the
/// store is capped (<c>store.sqlite.maxSize</c>, SQLite's max_page_count) and the test fills
/// the file up to the cap from another connection. The gateway must fail closed, keep every
/// record it owes, say so in its logs, and carry on once there is room (docs/recording.md).
/// </summary>
public sealed class DiskFullTests : IAsyncLifetime
{
    private const long MaxSize = 2L << 20;
    private readonly CapturedLogs _logs = new();
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig { Store = $"sqlite: {{ path: ./airlock.db, maxSize: {MaxSize} }}" }
            .Connection("crm", _upstream.BaseUri), logs: _logs);
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private SqliteConnection Open() => new($"Data Source={Path.Combine(_gateway.Directory, "airlock.db")};Pooling=False");

    /// <summary>Fills every free page up to the cap with a table of filler, smaller and smaller
    /// rows until not even a small one fits.</summary>
    private async Task FillAsync()
    {
        await using var connection = Open();
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA max_page_count = {MaxSize / 4096}; CREATE TABLE filler (b BLOB)";
        await command.ExecuteNonQueryAsync();
        foreach (var size in new[] { 65536, 4096, 512, 64 })
        {
            command.CommandText = $"INSERT INTO filler VALUES (zeroblob({size}))";
            while (true)
            {
                try
                {
                    await command.ExecuteNonQueryAsync();
                }
                catch (SqliteException full) when (full.SqliteErrorCode == 13)
                {
                    break;
                }
            }
        }
    }

    [Fact]
    public async Task A_full_store_refuses_new_requests_with_503_keeps_every_record_and_recovers_when_there_is_room()
    {
        await FillAsync();

        // Requests go on until the gateway refuses one: the pages it had half used may take a
        // few small writes first. Each request is either answered by the upstream and on
        // record, or refused before anything is sent.
        var answered = new List<Guid>();
        var refused = new List<Guid>();
        for (var i = 0; i < 100 && refused.Count == 0; i++)
        {
            using var response = await _gateway.Proxy.SendAsync(TestGateway.Get($"/crm/v1/customers/{i}", _key));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                answered.Add(SessionId(response));
                continue;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            await ProblemAsync(response, "audit-unavailable");
            refused.Add(SessionId(response));
        }

        Assert.NotEmpty(refused);
        Assert.Equal(answered.Count, _upstream.Received.Count);
        Assert.Contains(_logs.Lines, l => l.StartsWith("Critical", StringComparison.Ordinal) && l.Contains("The store is full", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("[1000]", StringComparison.Ordinal));

        // Room again (an operator deletes something, or the disk grows): what waited is written.
        await using (var connection = Open())
        {
            await connection.OpenAsync();
            using var delete = connection.CreateCommand();
            delete.CommandText = "DROP TABLE filler";
            await delete.ExecuteNonQueryAsync();
        }

        foreach (var id in answered)
        {
            var session = await SessionAsync(_gateway.Store, id);
            Assert.Equal(200, session.Status);
            Assert.Equal(AuditKinds.RequestAllowed, Assert.Single(await EventsOfAsync(_gateway.Store, id)).Kind);
            Assert.NotNull(await _gateway.Store.GetExchangeAsync(id, CancellationToken.None));
        }

        foreach (var id in refused)
        {
            await AssertRefusedUnrecordedAsync(_gateway.Store, id);
        }

        using var after = await _gateway.Proxy.SendAsync(TestGateway.Get("/crm/v1/after", _key));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        await AssertChainVerifiesAsync(_gateway.Store);
    }
}
