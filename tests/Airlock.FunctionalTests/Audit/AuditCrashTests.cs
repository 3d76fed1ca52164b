using System.Collections.Concurrent;
using System.Net;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Postgres;
using Airlock.Gateway.Storage.Sqlite;
using Xunit.Abstractions;

namespace Airlock.FunctionalTests.Audit;

/// <summary>
/// The gateway process is killed under load. Afterwards the audit trail verifies, and every
/// request that an agent saw answered, and every request the upstream received, has its
/// <c>request.allowed</c> event: the event is durable before the request is sent.
/// </summary>
public abstract class AuditCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Concurrency = 32;
    private const int AnsweredBeforeKill = 300;

    private TestUpstream _upstream = null!;

    protected abstract GatewayConfig Configure(GatewayConfig config, string directory);

    private protected abstract IAirlockStore OpenStore(string directory);

    public virtual async Task InitializeAsync() => _upstream = await TestUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task After_a_kill_under_load_the_chain_verifies_and_every_answered_request_is_on_record()
    {
        var directory = Directory.CreateTempSubdirectory("airlock-crash-").FullName;
        var config = Configure(new GatewayConfig().Connection("billing", _upstream.BaseUri), directory);
        var configPath = Path.Combine(directory, "airlock.yaml");
        await File.WriteAllTextAsync(configPath, config.ToYaml());
        await File.WriteAllTextAsync(Path.Combine(directory, "policy.yaml"), config.Policy);
        var key = await CreateKeyAsync(directory);

        await using var gateway = await GatewayProcess.StartAsync(configPath, config.Environment);
        using var client = new HttpClient { BaseAddress = gateway.ProxyUri, Timeout = TimeSpan.FromSeconds(30) };
        var answered = new ConcurrentBag<string>();
        var enoughAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = false;
        var next = 0;
        var failed = 0;
        var load = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (!Volatile.Read(ref killed))
            {
                var path = $"/billing/crash/{Interlocked.Increment(ref next)}";
                try
                {
                    using var response = await client.SendAsync(TestGateway.Get(path, key));
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    Assert.Equal("{\"ok\":true}", await response.Content.ReadAsStringAsync());
                    answered.Add(path);
                    if (answered.Count >= AnsweredBeforeKill)
                    {
                        enoughAnswered.TrySetResult();
                    }
                }
                catch (HttpRequestException) when (Volatile.Read(ref killed))
                {
                    Interlocked.Increment(ref failed);
                }
            }
        })).ToList();

        // A load task only ends before the kill by failing; then there is no point waiting.
        var first = await Task.WhenAny(load.Append(enoughAnswered.Task)).WaitAsync(TimeSpan.FromSeconds(60));
        await first;
        Volatile.Write(ref killed, true);
        await gateway.KillAsync();
        await Task.WhenAll(load);

        await using var store = OpenStore(directory);
        var verification = await AuditStoreVerification.VerifyAsync(store, null, CancellationToken.None);
        var events = await store.QueryAuditEventsAsync(new AuditQuery(Limit: 100_000), CancellationToken.None);
        var allowed = events.Where(e => e.Kind == AuditKinds.RequestAllowed).Select(e => e.Target!.Path!).ToHashSet(StringComparer.Ordinal);
        var received = _upstream.Received.Select(r => "/billing" + r.RawTarget).ToList();
        output.WriteLine($"{answered.Count} answered, {failed} cut off by the kill, {received.Count} reached the upstream, {allowed.Count} request.allowed events, chain of {verification.Count}");

        Assert.True(verification.Valid, verification.Break?.Problem);
        Assert.Equal(events.Count, verification.Count);
        Assert.Contains(events, e => e.Kind == AuditKinds.GatewayStarted);
        Assert.True(answered.Count >= AnsweredBeforeKill);
        var answeredWithoutEvent = answered.Where(path => !allowed.Contains(path)).ToList();
        Assert.True(answeredWithoutEvent.Count == 0, $"answered but not on record: {string.Join(", ", answeredWithoutEvent.Take(10))}");
        var sentWithoutEvent = received.Where(path => !allowed.Contains(path)).ToList();
        Assert.True(sentWithoutEvent.Count == 0, $"sent upstream but not on record: {string.Join(", ", sentWithoutEvent.Take(10))}");
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

public sealed class SqliteAuditCrashTests(ITestOutputHelper output) : AuditCrashTests(output)
{
    protected override GatewayConfig Configure(GatewayConfig config, string directory) => config;

    private protected override IAirlockStore OpenStore(string directory) => new SqliteStore(Path.Combine(directory, "airlock.db"), TimeProvider.System);
}

public sealed class PostgresAuditCrashTests(ITestOutputHelper output) : AuditCrashTests(output)
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
