using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Postgres;
using Airlock.Gateway.Storage.Sqlite;
using Xunit.Abstractions;

namespace Airlock.FunctionalTests.Sessions;

/// <summary>
/// <c>kill -9</c> under load, and what it costs the session rows (docs/recording.md, "What a
/// crash loses"). Audit events are durable before a request is acted on; session rows are
/// written in batches after it ends. So every answered request has its audit event, and the
/// only rows a crash may lose are those of requests that ended after the session writer's last
/// commit began: the tail, never a row from before it. Each lost row can be found and rebuilt
/// from its request's audit event, which carries the session id.
/// </summary>
public abstract class SessionCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Concurrency = 32;
    private const int AnsweredBeforeKill = 500;

    /// <summary>How far a request's answer, seen by the client, may precede the end its session
    /// row records (the server finishes the session just after the last byte is sent), and how
    /// far session ends may run out of order on the way into the writer's queue.</summary>
    private static readonly TimeSpan Skew = TimeSpan.FromMilliseconds(250);

    private TestUpstream _upstream = null!;

    protected abstract GatewayConfig Configure(GatewayConfig config, string directory);

    private protected abstract IAirlockStore OpenStore(string directory);

    public virtual async Task InitializeAsync() => _upstream = await TestUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task After_a_kill_under_load_only_rows_of_requests_that_ended_after_the_last_commit_are_missing_and_each_has_its_audit_event()
    {
        var directory = Directory.CreateTempSubdirectory("airlock-session-crash-").FullName;
        var config = Configure(new GatewayConfig().Connection("billing", _upstream.BaseUri, "    recording: { bodies: false }"), directory);
        var configPath = Path.Combine(directory, "airlock.yaml");
        await File.WriteAllTextAsync(configPath, config.ToYaml());
        await File.WriteAllTextAsync(Path.Combine(directory, "policy.yaml"), config.Policy);
        var key = await CreateKeyAsync(directory);

        await using var gateway = await GatewayProcess.StartAsync(configPath, config.Environment);
        using var client = new HttpClient { BaseAddress = gateway.ProxyUri, Timeout = TimeSpan.FromSeconds(30) };
        var answered = new ConcurrentDictionary<Guid, DateTimeOffset>();
        var enoughAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = false;
        var load = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (!Volatile.Read(ref killed))
            {
                try
                {
                    using var response = await client.SendAsync(TestGateway.Get("/billing/v1/invoices", key));
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    await response.Content.ReadAsStringAsync();
                    answered[Guid.Parse(response.Headers.GetValues("Airlock-Session").Single())] = TimeProvider.System.GetUtcNow();
                    if (answered.Count >= AnsweredBeforeKill)
                    {
                        enoughAnswered.TrySetResult();
                    }
                }
                catch (HttpRequestException) when (Volatile.Read(ref killed))
                {
                }
            }
        })).ToList();

        var first = await Task.WhenAny(load.Append(enoughAnswered.Task)).WaitAsync(TimeSpan.FromSeconds(60));
        await first;
        Volatile.Write(ref killed, true);
        await gateway.KillAsync();
        var killedAt = TimeProvider.System.GetUtcNow();
        await Task.WhenAll(load);

        await using var store = OpenStore(directory);
        var rows = (await store.ListSessionsAsync(new SessionQuery(Limit: 1_000_000), CancellationToken.None)).ToDictionary(s => s.Id);
        var decided = (await store.QueryAuditEventsAsync(new AuditQuery(Limit: 100_000), CancellationToken.None))
            .Where(e => e.Kind == AuditKinds.RequestAllowed && e.SessionId is not null).Select(e => e.SessionId!.Value).ToHashSet();
        // Everything the writer committed ended by this time; nothing that ended before it is lost.
        var lastCommitted = rows.Values.Max(r => r.StartedAt + r.Duration);
        var missing = answered.Where(a => !rows.ContainsKey(a.Key)).ToList();
        var window = missing.Count == 0 ? TimeSpan.Zero : killedAt - missing.Min(m => m.Value);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{answered.Count} answered, {rows.Count} session rows, {missing.Count} answered without a row, all answered within {window.TotalMilliseconds:0} ms of the kill; last committed row ended {(killedAt - lastCommitted).TotalMilliseconds:0} ms before it"));

        Assert.True(answered.Count >= AnsweredBeforeKill);
        Assert.All(answered.Keys, id => Assert.Contains(id, decided));
        var tooOld = missing.Where(m => m.Value < lastCommitted - Skew).ToList();
        Assert.True(tooOld.Count == 0,
            $"{tooOld.Count} rows lost of requests answered before the last committed row ended ({lastCommitted:O}): {string.Join(", ", tooOld.Take(5).Select(m => $"{m.Key} at {m.Value:O}"))}");
    }

    private async Task<string> CreateKeyAsync(string directory)
    {
        await using var store = OpenStore(directory);
        await store.MigrateAsync(CancellationToken.None);
        var (id, text, hash) = ApiKeyFormat.Generate();
        Assert.True(await store.CreateApiKeyAsync(new ApiKey(id, "crash-agent", ["agents"], hash, TimeProvider.System.GetUtcNow(), null), CancellationToken.None));
        return text;
    }
}

public sealed class SqliteSessionCrashTests(ITestOutputHelper output) : SessionCrashTests(output)
{
    protected override GatewayConfig Configure(GatewayConfig config, string directory) => config;

    private protected override IAirlockStore OpenStore(string directory) => new SqliteStore(Path.Combine(directory, "airlock.db"), TimeProvider.System);
}

public sealed class PostgresSessionCrashTests(ITestOutputHelper output) : SessionCrashTests(output)
{
    private string? _database;

    protected override GatewayConfig Configure(GatewayConfig config, string directory) => config.Postgres(_database!);

    private protected override IAirlockStore OpenStore(string directory) => new PostgresStore(_database!, TimeProvider.System);

    public override async Task InitializeAsync()
    {
        _database = await (await TestServices.Postgres).CreateDatabaseAsync();
        await base.InitializeAsync();
    }
}
