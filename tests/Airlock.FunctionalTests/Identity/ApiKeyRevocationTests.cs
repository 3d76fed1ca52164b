using System.Diagnostics;
using System.Net;
using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Identity.ApiKeys;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Airlock.FunctionalTests.Identity;

/// <summary>
/// A key revoked outside the gateway's own process (<c>airlock keys revoke</c>, another
/// replica, an operator's SQL) stops working on a running gateway within
/// <see cref="ApiKeyCache.RevocationBound"/> (docs/identity.md). On the real clock: every request
/// sent once the bound has passed since the revocation returned is refused. On a clock the test
/// holds still: the gateway checks the store's change marker only when the test moves the clock,
/// so what refuses the key (the check, an announcement, a lost listening connection) is the
/// one thing the test lets happen.
/// </summary>
public sealed class ApiKeyRevocationTests(ITestOutputHelper output)
{
    /// <summary>
    /// Sends requests until the key is refused. Any request sent once the bound has passed since
    /// <paramref name="sinceRevoked"/> started (after the revocation returned, so after it
    /// committed) must be refused; returns when the first refusal was sent.
    /// </summary>
    internal static async Task<TimeSpan> RefusedWithinTheBoundAsync(TestGateway gateway, string key, Stopwatch sinceRevoked)
    {
        while (true)
        {
            var sentAt = sinceRevoked.Elapsed;
            using var response = await gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", key));
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                await ApiKeyTests.AssertUnauthenticatedAsync(response, "the API key has been revoked");
                return sentAt;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(sentAt < ApiKeyCache.RevocationBound, $"a request sent {sentAt.TotalMilliseconds:F0} ms after the revocation was let through");
            await Task.Delay(20);
        }
    }

    internal static async Task<HttpStatusCode> StatusAsync(TestGateway gateway, string key)
    {
        using var response = await gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", key));
        return response.StatusCode;
    }

    /// <summary>Until the gateway's first check of the marker is in, keys are not cached at all.</summary>
    internal static Task<string> CachingAsync(TestGateway gateway) =>
        Eventually.GetAsync(() => Task.FromResult(gateway.Services.GetRequiredService<ApiKeyCache>().IsServable ? "" : null), what: "the first check of the key marker");

    /// <summary><c>airlock</c> run in this process: its own store object on the gateway's file.</summary>
    private static Task<int> CliAsync(params string[] arguments) => AirlockCli.RunAsync(arguments, TextWriter.Null, TextWriter.Null);

    private static async Task SqliteAsync(TestGateway gateway, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(gateway.Directory, "airlock.db")};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_key_revoked_by_the_cli_in_another_process_is_refused_within_the_bound()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var config = new GatewayConfig().Connection("billing", upstream.BaseUri);
        await using var gateway = await TestGateway.StartAsync(config);
        var key = await gateway.CreateApiKeyAsync("old-agent", "agents");
        await CachingAsync(gateway);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, key));

        var revoked = await CliProcess.RunAsync(config.Environment, "keys", "revoke", "--config", Path.Combine(gateway.Directory, "airlock.yaml"), "old-agent");
        var sinceRevoked = Stopwatch.StartNew();
        Assert.True(revoked.Exit == 0, revoked.Err);

        output.WriteLine($"refused from {(await RefusedWithinTheBoundAsync(gateway, key, sinceRevoked)).TotalMilliseconds:F0} ms after the CLI returned");
    }

    [Fact]
    public async Task On_sqlite_the_gateway_learns_of_another_process_s_revocation_at_its_next_check_of_the_marker()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", upstream.BaseUri), time);
        var key = await gateway.CreateApiKeyAsync("old-agent", "agents");
        await CachingAsync(gateway);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, key));

        Assert.Equal(0, await CliAsync("keys", "revoke", "--config", Path.Combine(gateway.Directory, "airlock.yaml"), "old-agent"));
        // The clock has not moved since the last check: the key is still the one held.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, key));

        time.Advance(ApiKeyChangeWatcher.CheckInterval);

        await Eventually.GetAsync(async () => await StatusAsync(gateway, key) == HttpStatusCode.Unauthorized ? "" : null, what: "the revoked key to be refused");
        Assert.Equal(2, upstream.Received.Count);
    }

    [Fact]
    public async Task When_the_marker_cannot_be_read_the_cache_is_emptied_and_keys_are_read_from_the_store()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var logs = new CapturedLogs();
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", upstream.BaseUri), time, logs);
        var key = await gateway.CreateApiKeyAsync("old-agent", "agents");
        var other = await gateway.CreateApiKeyAsync("other-agent", "agents");
        await CachingAsync(gateway);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, key));
        // The marker cannot be read any more; writes still move it (the triggers follow the rename).
        await SqliteAsync(gateway, "ALTER TABLE api_key_changes RENAME TO api_key_changes_away");
        Assert.Equal(0, await CliAsync("keys", "revoke", "--config", Path.Combine(gateway.Directory, "airlock.yaml"), "old-agent"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, key));

        time.Advance(ApiKeyChangeWatcher.CheckInterval);

        await Eventually.GetAsync(async () => await StatusAsync(gateway, key) == HttpStatusCode.Unauthorized ? "" : null, what: "the revoked key to be refused");
        Assert.Contains(logs.Lines, line => line.Contains("[1010]", StringComparison.Ordinal));
        // The store itself answers: keys still work, each read from it.
        time.Advance(ApiKeyCache.RevocationBound);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, other));
        Assert.False(gateway.Services.GetRequiredService<ApiKeyCache>().IsServable);
    }
}

/// <summary>
/// Two gateways sharing one PostgreSQL database: a key revoked through one (or by the CLI, or by
/// hand in SQL) stops working on the other within the bound, and through LISTEN/NOTIFY well
/// before it. The gateway whose clock the test holds still never checks the marker again after
/// its first check, so only an announcement or a lost listening connection can tell it.
/// </summary>
public sealed class PostgresApiKeyRevocationTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string OtherName = "airlock-other";
    private PostgresServer _postgres = null!;
    private string _database = null!;
    private TestUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        _postgres = await TestServices.Postgres;
        _database = await _postgres.CreateDatabaseAsync();
        _upstream = await TestUpstream.StartAsync();
    }

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private GatewayConfig Config(string? applicationName = null) => new GatewayConfig()
        .Connection("billing", _upstream.BaseUri)
        .Postgres(applicationName is null ? _database : new NpgsqlConnectionStringBuilder(_database) { ApplicationName = applicationName }.ToString());

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private const string ListenerOfOther = $"FROM pg_stat_activity WHERE application_name = '{OtherName}' AND query = 'LISTEN airlock_api_keys'";

    /// <summary>The other gateway's listening connection is up (an announcement made before would be lost).</summary>
    private Task<string> ListeningAsync() =>
        Eventually.GetAsync(async () =>
        {
            await using var connection = new NpgsqlConnection(_database);
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand($"SELECT count(*) {ListenerOfOther}", connection);
            return (long)(await count.ExecuteScalarAsync())! == 1 ? "listening" : null;
        }, what: "the other gateway to listen for key changes");

    [Fact]
    public async Task A_key_revoked_through_one_gateway_is_refused_by_the_other_within_the_bound()
    {
        await using var revoking = await TestGateway.StartAsync(Config());
        await using var other = await TestGateway.StartAsync(Config(OtherName));
        var key = await revoking.CreateApiKeyAsync("old-agent", "agents");
        await ApiKeyRevocationTests.CachingAsync(other);
        Assert.Equal(HttpStatusCode.OK, await ApiKeyRevocationTests.StatusAsync(other, key));

        Assert.NotNull(await revoking.Services.GetRequiredService<ApiKeyService>().RevokeAsync("old-agent", CancellationToken.None));
        var sinceRevoked = Stopwatch.StartNew();

        output.WriteLine($"refused from {(await ApiKeyRevocationTests.RefusedWithinTheBoundAsync(other, key, sinceRevoked)).TotalMilliseconds:F0} ms after the revocation");
        Assert.Equal(HttpStatusCode.Unauthorized, await ApiKeyRevocationTests.StatusAsync(revoking, key));
    }

    [Fact]
    public async Task A_key_revoked_by_the_cli_is_announced_to_a_gateway_that_does_not_check_the_marker_again()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var config = Config();
        await using var revoking = await TestGateway.StartAsync(config);
        await using var other = await TestGateway.StartAsync(Config(OtherName), time);
        var key = await revoking.CreateApiKeyAsync("old-agent", "agents");
        await ApiKeyRevocationTests.CachingAsync(other);
        await ListeningAsync();
        Assert.Equal(HttpStatusCode.OK, await ApiKeyRevocationTests.StatusAsync(other, key));

        var revoked = await CliProcess.RunAsync(config.Environment, "keys", "revoke", "--config", Path.Combine(revoking.Directory, "airlock.yaml"), "old-agent");
        var sinceRevoked = Stopwatch.StartNew();
        Assert.True(revoked.Exit == 0, revoked.Err);

        await Eventually.GetAsync(async () => await ApiKeyRevocationTests.StatusAsync(other, key) == HttpStatusCode.Unauthorized ? "" : null, what: "the announcement to reach the other gateway");
        output.WriteLine($"refused {sinceRevoked.Elapsed.TotalMilliseconds:F0} ms after the CLI returned, on the announcement alone");
    }

    [Fact]
    public async Task A_key_revoked_by_hand_in_sql_without_an_announcement_is_refused_within_the_bound()
    {
        await using var first = await TestGateway.StartAsync(Config());
        await using var second = await TestGateway.StartAsync(Config(OtherName));
        var key = await first.CreateApiKeyAsync("old-agent", "agents");
        await ApiKeyRevocationTests.CachingAsync(first);
        await ApiKeyRevocationTests.CachingAsync(second);
        Assert.Equal(HttpStatusCode.OK, await ApiKeyRevocationTests.StatusAsync(first, key));
        Assert.Equal(HttpStatusCode.OK, await ApiKeyRevocationTests.StatusAsync(second, key));

        await ExecuteAsync("UPDATE api_keys SET revoked_at = now() WHERE name = 'old-agent'");
        var sinceRevoked = Stopwatch.StartNew();

        var onFirst = ApiKeyRevocationTests.RefusedWithinTheBoundAsync(first, key, sinceRevoked);
        var onSecond = ApiKeyRevocationTests.RefusedWithinTheBoundAsync(second, key, sinceRevoked);
        output.WriteLine($"refused from {(await onFirst).TotalMilliseconds:F0} and {(await onSecond).TotalMilliseconds:F0} ms after the revocation");
    }

    [Fact]
    public async Task A_gateway_that_loses_its_listening_connection_forgets_the_keys_it_held()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var first = await TestGateway.StartAsync(Config());
        await using var other = await TestGateway.StartAsync(Config(OtherName), time);
        var key = await first.CreateApiKeyAsync("old-agent", "agents");
        await ApiKeyRevocationTests.CachingAsync(other);
        await ListeningAsync();
        Assert.Equal(HttpStatusCode.OK, await ApiKeyRevocationTests.StatusAsync(other, key));
        // Revoked with no announcement; and the other gateway's clock stands still, so its
        // check of the marker does not run again: nothing has told it.
        await ExecuteAsync("UPDATE api_keys SET revoked_at = now() WHERE name = 'old-agent'");
        Assert.Equal(HttpStatusCode.OK, await ApiKeyRevocationTests.StatusAsync(other, key));

        await ExecuteAsync($"SELECT pg_terminate_backend(pid) {ListenerOfOther}");

        await Eventually.GetAsync(async () => await ApiKeyRevocationTests.StatusAsync(other, key) == HttpStatusCode.Unauthorized ? "" : null, what: "the other gateway to forget the key");
    }
}
