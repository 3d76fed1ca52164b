using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.Gateway.Tests.Audit;

/// <summary>The refusal counts' rules: exact, bounded, and kept when the trail cannot take them.
/// A real SQLite store and audit writer; the clock is the test's.</summary>
public sealed class RefusalTallyTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("airlock-tally-").FullName, "airlock.db");
    private SqliteStore _store = null!;
    private AuditWriter _writer = null!;
    private RefusalTally _tally = null!;

    public async ValueTask InitializeAsync()
    {
        _store = new SqliteStore(_path, _time);
        await _store.MigrateAsync(CancellationToken.None);
        _writer = new AuditWriter(_store, _time, NullLogger<AuditWriter>.Instance);
        _writer.Start();
        _tally = new RefusalTally(_writer, _time, NullLogger<RefusalTally>.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        _tally.Dispose();
        await _writer.DrainAsync(CancellationToken.None);
        _writer.Dispose();
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }

    private void Refuse(ProblemType problem, string reason, string client = "10.0.0.1", CallerIdentity? caller = null, string? subject = null)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(client);
        var session = new SessionFeature(context.Features, Guid.CreateVersion7(_time.GetUtcNow()), _time.GetUtcNow(), _time.GetTimestamp(), "GET", "/x");
        _tally.Count(context, session, problem, reason, caller, subject);
    }

    private async Task<List<AuditEvent>> CountsAsync() =>
        [.. (await _store.QueryAuditEventsAsync(new AuditQuery(Limit: 1000), CancellationToken.None)).Where(e => e.Kind == AuditKinds.RequestsRefused)];

    private static long Sum(IEnumerable<AuditEvent> counts) => counts.Sum(e => long.Parse(e.Detail["count"], CultureInfo.InvariantCulture));

    [Fact]
    public async Task One_event_per_reason_with_the_exact_count_first_and_last()
    {
        Refuse(ProblemType.Unauthenticated, "no-credential");
        var firstAt = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 999; i++)
        {
            Refuse(ProblemType.Unauthenticated, "no-credential");
        }

        Refuse(ProblemType.InvalidRequestTarget, "traversal");
        await _tally.FlushAsync();

        var counts = await CountsAsync();
        Assert.Equal(2, counts.Count);
        var none = counts[0];
        Assert.Equal(("1000", "401", "unauthenticated"), (none.Detail["count"], none.Detail["status"], none.Detail["problem"]));
        Assert.Equal((AuditChain.FormatTime(firstAt), AuditChain.FormatTime(firstAt.AddSeconds(10))), (none.Detail["firstAt"], none.Detail["lastAt"]));
        Assert.Equal(("1", "400"), (counts[1].Detail["count"], counts[1].Detail["status"]));

        // Nothing is written twice: the next minute starts from zero.
        await _tally.FlushAsync();
        Assert.Equal(2, (await CountsAsync()).Count);
    }

    [Fact]
    public async Task Callers_past_the_bound_are_counted_without_their_names_and_nothing_is_lost()
    {
        const int callers = RefusalTally.MaxNamedCallers + 50;
        for (var i = 0; i < callers; i++)
        {
            var caller = new CallerIdentity($"key:agent-{i}", CallerIdentity.ApiKeyMethod, "airlock", $"agent-{i}", $"id{i}", ImmutableArray<string>.Empty);
            Refuse(ProblemType.RateLimited, "caller-limit", caller: caller);
            Refuse(ProblemType.RateLimited, "caller-limit", caller: caller);
        }

        await _tally.FlushAsync();

        var counts = await CountsAsync();
        Assert.Equal(RefusalTally.MaxNamedCallers + 1, counts.Count);
        Assert.Equal(2L * callers, Sum(counts));
        var unnamed = Assert.Single(counts, e => e.Actor is null);
        Assert.Equal("100", unnamed.Detail["count"]);
        Assert.Equal("key:agent-0", counts[0].Actor!.Subject);
    }

    [Fact]
    public async Task Addresses_past_the_bound_are_counted_together()
    {
        for (var i = 1; i <= RefusalTally.MaxClients + 3; i++)
        {
            Refuse(ProblemType.Unauthenticated, "unknown-key", client: $"192.0.2.{i}");
        }

        Refuse(ProblemType.Unauthenticated, "unknown-key", client: "192.0.2.1");
        await _tally.FlushAsync();

        var count = Assert.Single(await CountsAsync());
        Assert.StartsWith("192.0.2.1=2,192.0.2.2=1,", count.Detail["clients"], StringComparison.Ordinal);
        Assert.Equal(RefusalTally.MaxClients, count.Detail["clients"].Split(',').Length);
        Assert.Equal("3", count.Detail["otherClients"]);
    }

    [Fact]
    public async Task Counts_the_trail_cannot_take_are_written_with_the_next_minute()
    {
        Refuse(ProblemType.Unauthenticated, "no-credential", subject: null);
        Refuse(ProblemType.Unauthenticated, "revoked-key", subject: "key:old");
        await using (var db = new SqliteConnection($"Data Source={_path};Pooling=false"))
        {
            await db.OpenAsync();
            var hide = db.CreateCommand();
            hide.CommandText = "ALTER TABLE audit_events RENAME TO audit_events_away";
            await hide.ExecuteNonQueryAsync();
            await _tally.FlushAsync();
            Refuse(ProblemType.Unauthenticated, "no-credential");
            var restore = db.CreateCommand();
            restore.CommandText = "ALTER TABLE audit_events_away RENAME TO audit_events";
            await restore.ExecuteNonQueryAsync();
        }

        Assert.Empty(await CountsAsync());
        await _tally.FlushAsync();

        var counts = await CountsAsync();
        Assert.Equal(("no-credential", "2"), (counts[0].Detail["reason"], counts[0].Detail["count"]));
        Assert.Equal(("revoked-key", "1", "key:old"), (counts[1].Detail["reason"], counts[1].Detail["count"], counts[1].Detail["subject"]));
    }
}
