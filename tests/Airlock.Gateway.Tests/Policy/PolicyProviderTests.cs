using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>
/// Loading and reloading the policy file: a valid change is swapped in and on record before it is
/// enforced; a file that is wrong, unreadable or cannot be put on the audit trail leaves the last
/// good policy in force and is reported (log, <see cref="PolicyProvider.LastFailure"/>, the
/// store's policy loads, the audit trail). Real files, a real SQLite store and audit writer; the
/// clock is the test's.
/// </summary>
public sealed class PolicyProviderTests : IAsyncLifetime
{
    private const string Reads = "rules:\n  - { name: reads, when: { connections: [billing], methods: [GET] }, action: allow }\n";
    private const string Lockdown = "rules:\n  - { name: lockdown, action: deny }\nguardrails:\n  - { name: errors, response: { status: [500] } }\n";

    /// <summary>Files here are written whole by this process, so the re-read that waits out
    /// another process's write needs no 150 ms: an unreadable file costs 20 of these, and every
    /// mutant of the policy parser runs these tests (docs/testing.md).</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(2);

    private readonly Clock _time = new();
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("airlock-policy-provider-");
    private readonly ListLogger _log = new();
    private SqliteStore _store = null!;
    private AuditWriter _writer = null!;
    private AuditTrail _audit = null!;
    private AirlockConfig _config = null!;
    private PolicyProvider? _provider;

    private string PolicyPath => Path.Combine(_dir.FullName, "policy.yaml");

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_dir.FullName, "data"));
        _store = new SqliteStore(Path.Combine(_dir.FullName, "data", "airlock.db"), _time);
        await _store.MigrateAsync(CancellationToken.None);
        _writer = new AuditWriter(_store, _time, NullLogger<AuditWriter>.Instance);
        _writer.Start();
        _audit = new AuditTrail(_writer, _time, NullLogger<AuditTrail>.Instance);
        var loaded = ConfigLoader.Load("""
            listeners: { proxy: 127.0.0.1:8080, admin: 127.0.0.1:8081 }
            store: { sqlite: ./data/airlock.db }
            identity: { apiKeys: true }
            connections:
              billing: { upstream: http://127.0.0.1:9000, credential: { type: none } }
            policy: { file: ./policy.yaml }
            """, Path.Combine(_dir.FullName, "airlock.yaml"), _ => null);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        _config = loaded.Config!;
        await File.WriteAllTextAsync(PolicyPath, Reads);
    }

    public async ValueTask DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.StopAsync(CancellationToken.None);
            _provider.Dispose();
        }

        await _writer.DrainAsync(CancellationToken.None);
        _writer.Dispose();
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _dir.Delete(recursive: true);
    }

    private PolicyProvider Start(IPolicyEventStore? events = null)
    {
        var initial = PolicyProvider.LoadInitial(_config);
        Assert.True(initial.Succeeded, string.Join("\n", initial.Errors));
        _provider = new PolicyProvider(_config, initial.Policy!, events ?? _store, _audit, _time, _log) { SettleDelay = Settle };
        return _provider;
    }

    private static string Version(string text) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private async Task<List<AuditEvent>> PolicyEventsAsync()
    {
        await _writer.DrainAsync(CancellationToken.None);
        return [.. (await _store.QueryAuditEventsAsync(new AuditQuery(Limit: 100), CancellationToken.None))
            .Where(e => e.Kind is AuditKinds.PolicyLoaded or AuditKinds.PolicyRejected)];
    }

    private Task<IReadOnlyList<PolicyLoadRecord>> LoadsAsync() => _store.ListPolicyLoadsAsync(10, CancellationToken.None);

    [Fact]
    public async Task The_first_load_is_announced_in_the_log_the_store_and_the_audit_trail()
    {
        var provider = Start();
        await provider.AnnounceInitialAsync([new ConfigError(PolicyPath, 2, 1, "rules[0] 'reads'", "a warning")], CancellationToken.None);

        Assert.Equal(_time.GetUtcNow(), provider.LoadedAt);
        Assert.Equal(Version(Reads), provider.Current.Version);
        Assert.Null(provider.LastFailure);
        var load = Assert.Single(await LoadsAsync());
        Assert.Equal((_time.GetUtcNow(), PolicyPath, Version(Reads), "loaded", (string?)null), (load.At, load.Source, load.Version, load.Outcome, load.Errors));
        var loaded = Assert.Single(await PolicyEventsAsync());
        Assert.Equal((AuditKinds.PolicyLoaded, "loaded", Version(Reads)), (loaded.Kind, loaded.Outcome, loaded.PolicyVersion));
        Assert.Equal([("guardrails", "0"), ("rules", "1"), ("source", PolicyPath)], loaded.Detail.Select(d => (d.Key, d.Value)));
        Assert.Contains($"Policy warning: {PolicyPath}:2:1: rules[0] 'reads': a warning", _log.Messages);
        Assert.Contains($"Policy {Version(Reads)} in force: 1 rule(s), 0 guardrail(s)", _log.Messages);
    }

    [Fact]
    public async Task The_first_load_is_checked_against_the_configured_connections()
    {
        await File.WriteAllTextAsync(PolicyPath, "rules:\n  - { name: a, when: { connections: [crm] }, action: allow }\n");

        var result = PolicyProvider.LoadInitial(_config);

        Assert.False(result.Succeeded);
        Assert.Equal($"{PolicyPath}:2:37: rules[0].when.connections: 'crm' is not a configured connection", Assert.Single(result.Errors).ToString());
    }

    [Fact]
    public async Task A_valid_change_is_swapped_in_and_on_record()
    {
        var provider = Start();
        var before = provider.Current;
        await File.WriteAllTextAsync(PolicyPath, Lockdown);
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.Null(await provider.ReloadAsync(CancellationToken.None));

        Assert.NotSame(before, provider.Current);
        Assert.Equal(Version(Lockdown), provider.Current.Version);
        Assert.Equal("lockdown", Assert.Single(provider.Current.Rules).Name);
        Assert.Equal(_time.GetUtcNow(), provider.LoadedAt);
        Assert.Null(provider.LastFailure);
        var load = Assert.Single(await LoadsAsync());
        Assert.Equal((_time.GetUtcNow(), Version(Lockdown), "loaded"), (load.At, load.Version, load.Outcome));
        var loaded = Assert.Single(await PolicyEventsAsync());
        Assert.Equal((AuditKinds.PolicyLoaded, Version(Lockdown)), (loaded.Kind, loaded.PolicyVersion));
        Assert.Equal([("guardrails", "1"), ("rules", "1"), ("source", PolicyPath)], loaded.Detail.Select(d => (d.Key, d.Value)));
        Assert.Contains($"Policy {Version(Lockdown)} in force: 1 rule(s), 1 guardrail(s)", _log.Messages);
    }

    [Fact]
    public async Task A_new_policys_warnings_are_logged()
    {
        var provider = Start();
        await File.WriteAllTextAsync(PolicyPath, "rules:\n  - { name: everything, action: allow }\n");

        Assert.Null(await provider.ReloadAsync(CancellationToken.None));

        Assert.Contains($"Policy warning: {PolicyPath}:2:1: rules[0] 'everything': allows every request on every connection: it turns off default deny", _log.Messages);
    }

    [Fact]
    public async Task Reading_an_unchanged_file_changes_nothing()
    {
        var provider = Start();
        var before = provider.Current;
        var loadedAt = provider.LoadedAt;
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.Null(await provider.ReloadAsync(CancellationToken.None));

        Assert.Same(before, provider.Current);
        Assert.Equal(loadedAt, provider.LoadedAt);
        Assert.Empty(await LoadsAsync());
        Assert.Empty(await PolicyEventsAsync());
    }

    [Fact]
    public async Task Readiness_says_which_policy_is_enforced_and_a_rejected_reload_makes_it_degraded_not_unready()
    {
        var provider = Start();
        var check = new PolicyHealthCheck(provider);
        var loadedAt = provider.LoadedAt.ToString("O", CultureInfo.InvariantCulture);

        var healthy = await check.CheckHealthAsync(new HealthCheckContext(), CancellationToken.None);

        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Equal($"enforcing {Version(Reads)}: 1 rule(s)", healthy.Description);
        Assert.Equal([("loadedAt", (object)loadedAt), ("version", Version(Reads))], healthy.Data.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => (d.Key, d.Value)));

        const string Broken = "rules:\n  - { name: worse, action: permit }\n";
        await File.WriteAllTextAsync(PolicyPath, Broken);
        _time.Advance(TimeSpan.FromMinutes(5));
        var failure = await provider.ReloadAsync(CancellationToken.None);
        Assert.NotNull(failure);

        var degraded = await check.CheckHealthAsync(new HealthCheckContext(), CancellationToken.None);

        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Equal($"the reload of {PolicyPath} was rejected with 1 error(s); still enforcing {Version(Reads)}", degraded.Description);
        Assert.Equal(Version(Reads), degraded.Data["version"]);
        Assert.Equal(loadedAt, degraded.Data["loadedAt"]);
        Assert.Equal(Version(Broken), degraded.Data["rejectedVersion"]);
        Assert.Equal(_time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture), degraded.Data["rejectedAt"]);
        Assert.Equal([failure.Errors[0].ToString()], (string[])degraded.Data["errors"]);
    }

    [Fact]
    public async Task A_wrong_file_keeps_the_last_good_policy_and_is_reported_everywhere()
    {
        var provider = Start();
        var good = provider.Current;
        const string Broken = "rules:\n  - { name: broken, action: allow, when: { methods: [get] } }\n  - { name: worse, action: permit }\n";
        await File.WriteAllTextAsync(PolicyPath, Broken);
        _time.Advance(TimeSpan.FromMinutes(5));

        var failure = await provider.ReloadAsync(CancellationToken.None);

        Assert.NotNull(failure);
        Assert.Same(good, provider.Current);
        Assert.Same(failure, provider.LastFailure);
        Assert.Equal((_time.GetUtcNow(), Version(Broken)), (failure.At, failure.Version));
        Assert.Equal(
            $"{PolicyPath}:2:53: rules[0].when.methods: 'get' must be an HTTP method in upper case, e.g. GET\n" +
            $"{PolicyPath}:3:28: rules[1].action: 'permit' is not an action; expected allow, deny or review",
            string.Join('\n', failure.Errors));

        Assert.Contains($"Policy reload rejected with 2 error(s); still enforcing {good.Version}", _log.Messages);
        Assert.Contains($"Policy error: {failure.Errors[0]}", _log.Messages);
        Assert.Contains($"Policy error: {failure.Errors[1]}", _log.Messages);

        var load = Assert.Single(await LoadsAsync());
        Assert.Equal((_time.GetUtcNow(), PolicyPath, Version(Broken), "rejected"), (load.At, load.Source, load.Version, load.Outcome));
        Assert.Equal(string.Join('\n', failure.Errors), load.Errors);

        var rejected = Assert.Single(await PolicyEventsAsync());
        Assert.Equal((AuditKinds.PolicyRejected, "rejected", Version(Broken)), (rejected.Kind, rejected.Outcome, rejected.PolicyVersion));
        Assert.Equal([("errors", string.Join('\n', failure.Errors)), ("source", PolicyPath), ("stillEnforcing", good.Version)],
            rejected.Detail.Select(d => (d.Key, d.Value)));
    }

    [Fact]
    public async Task A_reload_is_checked_against_the_configured_connections()
    {
        var provider = Start();
        await File.WriteAllTextAsync(PolicyPath, "rules:\n  - { name: a, when: { connections: [crm] }, action: allow }\n");

        var failure = await provider.ReloadAsync(CancellationToken.None);

        Assert.Equal($"{PolicyPath}:2:37: rules[0].when.connections: 'crm' is not a configured connection", Assert.Single(failure!.Errors).ToString());
        Assert.Equal(Version(Reads), provider.Current.Version);
    }

    [Fact]
    public async Task Fixing_the_file_clears_the_failure()
    {
        var provider = Start();
        await File.WriteAllTextAsync(PolicyPath, "rules: {}\n");
        Assert.NotNull(await provider.ReloadAsync(CancellationToken.None));

        await File.WriteAllTextAsync(PolicyPath, Lockdown);
        Assert.Null(await provider.ReloadAsync(CancellationToken.None));

        Assert.Null(provider.LastFailure);
        Assert.Equal(Version(Lockdown), provider.Current.Version);
        Assert.Equal(["loaded", "rejected"], (await LoadsAsync()).Select(l => l.Outcome));
    }

    [Fact]
    public async Task Putting_back_the_policy_in_force_clears_the_failure()
    {
        var provider = Start();
        var good = provider.Current;
        await File.WriteAllTextAsync(PolicyPath, "rules: {}\n");
        Assert.NotNull(await provider.ReloadAsync(CancellationToken.None));

        await File.WriteAllTextAsync(PolicyPath, Reads);
        Assert.Null(await provider.ReloadAsync(CancellationToken.None));

        Assert.Null(provider.LastFailure);
        Assert.Same(good, provider.Current);
        Assert.Equal(["rejected"], (await LoadsAsync()).Select(l => l.Outcome));
    }

    [Fact]
    public async Task A_file_that_cannot_be_read_keeps_the_last_good_policy()
    {
        var provider = Start();
        var good = provider.Current;
        File.Delete(PolicyPath);

        var failure = await provider.ReloadAsync(CancellationToken.None);

        Assert.NotNull(failure);
        Assert.Same(good, provider.Current);
        Assert.Equal("unreadable", failure.Version);
        Assert.Equal($"{PolicyPath}: the policy file cannot be read", Assert.Single(failure.Errors).ToString());
        var load = Assert.Single(await LoadsAsync());
        Assert.Equal(("unreadable", "rejected"), (load.Version, load.Outcome));
    }

    [Fact]
    public async Task A_new_policy_the_audit_trail_cannot_take_is_not_enforced()
    {
        var provider = Start();
        var good = provider.Current;
        await File.WriteAllTextAsync(PolicyPath, Lockdown);
        await _writer.DrainAsync(CancellationToken.None);

        var failure = await provider.ReloadAsync(CancellationToken.None);

        Assert.NotNull(failure);
        Assert.Same(good, provider.Current);
        Assert.Same(failure, provider.LastFailure);
        Assert.Equal(Version(Lockdown), failure.Version);
        Assert.Equal($"{PolicyPath}: the new policy could not be recorded in the audit trail, so it is not in force yet", Assert.Single(failure.Errors).ToString());
        var load = Assert.Single(await LoadsAsync());
        Assert.Equal(("rejected", Version(Lockdown)), (load.Outcome, load.Version));
    }

    [Fact]
    public async Task A_store_that_cannot_record_the_load_does_not_undo_it()
    {
        await using var readOnly = new SqliteStore(Path.Combine(_dir.FullName, "data", "airlock.db"), _time, readOnly: true);
        var provider = Start(readOnly);
        await File.WriteAllTextAsync(PolicyPath, Lockdown);

        Assert.Null(await provider.ReloadAsync(CancellationToken.None));

        Assert.Equal(Version(Lockdown), provider.Current.Version);
        Assert.Contains($"The store did not take the record of policy {Version(Lockdown)} being loaded; the audit trail has it", _log.Messages);
        Assert.Equal(AuditKinds.PolicyLoaded, Assert.Single(await PolicyEventsAsync()).Kind);

        // A rejection too: it is on the trail and the failure stands.
        await File.WriteAllTextAsync(PolicyPath, "rules: {}\n");
        Assert.NotNull(await provider.ReloadAsync(CancellationToken.None));
        Assert.Contains($"The store did not take the record of policy {Version("rules: {}\n")} being rejected; the audit trail has it", _log.Messages);
    }

    [Fact]
    public async Task A_failure_nobody_planned_for_is_logged_and_the_watching_goes_on()
    {
        // A store that gives up on its own (a cancellation the gateway did not ask for) is the one
        // failure a reload does not handle itself: the loop logs it and keeps watching.
        var provider = Start(new GivesUpOnce(_store));
        await provider.StartAsync(CancellationToken.None);
        await _time.PeriodicCheckArmed.WaitAsync(TimeSpan.FromSeconds(30));
        var failed = _log.WhenLogged("Policy reload failed");

        await File.WriteAllTextAsync(PolicyPath, Lockdown);
        await failed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Version(Lockdown), provider.Current.Version);

        const string Next = "rules:\n  - { name: next, action: deny }\n";
        var loaded = _log.WhenLogged($"Policy {Version(Next)} in force");
        await File.WriteAllTextAsync(PolicyPath, Next);
        await loaded.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Version(Next), provider.Current.Version);
        Assert.Single(_log.Messages, m => m == "Policy reload failed");
    }

    /// <summary>The real store, except that its first record of a load is cancelled by itself.</summary>
    private sealed class GivesUpOnce(IPolicyEventStore store) : IPolicyEventStore
    {
        private int _calls;

        public Task RecordPolicyLoadAsync(PolicyLoadRecord record, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _calls) == 1
                ? throw new OperationCanceledException("the store gave up")
                : store.RecordPolicyLoadAsync(record, cancellationToken);

        public Task<IReadOnlyList<PolicyLoadRecord>> ListPolicyLoadsAsync(int limit, CancellationToken cancellationToken) =>
            store.ListPolicyLoadsAsync(limit, cancellationToken);
    }

    /// <summary>Starts watching; returns once the directory is watched and the loop waits.</summary>
    private async Task<PolicyProvider> WatchAsync()
    {
        var provider = Start();
        await provider.StartAsync(CancellationToken.None);
        await _time.PeriodicCheckArmed.WaitAsync(TimeSpan.FromSeconds(30));
        return provider;
    }

    [Fact]
    public async Task A_change_the_watcher_sees_is_loaded_without_waiting_for_the_periodic_check()
    {
        var provider = await WatchAsync();
        var loaded = _log.WhenLogged($"Policy {Version(Lockdown)} in force");

        await File.WriteAllTextAsync(PolicyPath, Lockdown);

        await loaded.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Version(Lockdown), provider.Current.Version);

        // Stopping is not a failure.
        await provider.StopAsync(CancellationToken.None);
        Assert.DoesNotContain("Policy reload failed", _log.Messages);
    }

    [Fact]
    public async Task A_change_the_watcher_missed_is_found_by_the_periodic_check()
    {
        // Changed before the directory is watched: only the periodic check can find it.
        var initial = PolicyProvider.LoadInitial(_config).Policy!;
        await File.WriteAllTextAsync(PolicyPath, Lockdown);
        _provider = new PolicyProvider(_config, initial, _store, _audit, _time, _log) { SettleDelay = Settle };
        await _provider.StartAsync(CancellationToken.None);
        await _time.PeriodicCheckArmed.WaitAsync(TimeSpan.FromSeconds(30));
        var loaded = _log.WhenLogged($"Policy {Version(Lockdown)} in force");
        Assert.Equal(Version(Reads), _provider.Current.Version);

        _time.Advance(TimeSpan.FromSeconds(2));

        await loaded.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Version(Lockdown), _provider.Current.Version);
    }

    [Fact]
    public async Task A_re_pointed_configmap_link_is_seen_by_the_watcher()
    {
        // As kubelet lays a ConfigMap out: ..data -> v1/, policy.yaml -> ..data/policy.yaml.
        var dir = _dir.FullName;
        Directory.CreateDirectory(Path.Combine(dir, "v1"));
        Directory.CreateDirectory(Path.Combine(dir, "v2"));
        File.WriteAllText(Path.Combine(dir, "v1", "policy.yaml"), Reads);
        File.WriteAllText(Path.Combine(dir, "v2", "policy.yaml"), Lockdown);
        File.CreateSymbolicLink(Path.Combine(dir, "..data"), "v1");
        File.Delete(PolicyPath);
        File.CreateSymbolicLink(PolicyPath, Path.Combine("..data", "policy.yaml"));
        var provider = await WatchAsync();
        var loaded = _log.WhenLogged($"Policy {Version(Lockdown)} in force");

        // Swap the ..data link atomically, as kubelet does: a rename onto it.
        File.CreateSymbolicLink(Path.Combine(dir, "..data_tmp"), "v2");
        using (var mv = System.Diagnostics.Process.Start("mv", ["-Tf", Path.Combine(dir, "..data_tmp"), Path.Combine(dir, "..data")]))
        {
            await mv.WaitForExitAsync();
            Assert.Equal(0, mv.ExitCode);
        }

        await loaded.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Version(Lockdown), provider.Current.Version);
    }

    [Fact]
    public async Task A_wrong_file_is_rejected_once_and_the_next_fix_loaded()
    {
        var provider = await WatchAsync();
        var rejected = _log.WhenLogged("Policy reload rejected with 1 error(s)");
        await File.WriteAllTextAsync(PolicyPath, "rules: {}\n");
        await rejected.WaitAsync(TimeSpan.FromSeconds(30));

        // The periodic check finds the same wrong file: it is not rejected again.
        await _time.PeriodicCheckArmed.WaitAsync(TimeSpan.FromSeconds(30));
        _time.Advance(TimeSpan.FromSeconds(2));
        await _time.PeriodicCheckArmed.WaitAsync(TimeSpan.FromSeconds(30));

        var loaded = _log.WhenLogged($"Policy {Version(Lockdown)} in force");
        await File.WriteAllTextAsync(PolicyPath, Lockdown);
        await loaded.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(provider.LastFailure);
        Assert.Equal(Version(Lockdown), provider.Current.Version);
        Assert.Equal(["loaded", "rejected"], (await LoadsAsync()).Select(l => l.Outcome));
    }

    [Fact]
    public async Task A_missing_file_is_rejected_once_and_its_return_loaded()
    {
        var provider = await WatchAsync();
        var good = provider.Current;
        var rejected = _log.WhenLogged("Policy reload rejected with 1 error(s)");
        File.Delete(PolicyPath);
        await rejected.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Same(good, provider.Current);
        Assert.Equal("unreadable", provider.LastFailure!.Version);

        // Still missing at the next periodic check: not rejected again.
        await _time.PeriodicCheckArmed.WaitAsync(TimeSpan.FromSeconds(30));
        _time.Advance(TimeSpan.FromSeconds(2));
        await _time.PeriodicCheckArmed.WaitAsync(TimeSpan.FromSeconds(30));

        var loaded = _log.WhenLogged($"Policy {Version(Lockdown)} in force");
        await File.WriteAllTextAsync(PolicyPath, Lockdown);
        await loaded.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["loaded", "rejected"], (await LoadsAsync()).Select(l => l.Outcome));
    }

    [Fact]
    public async Task The_gateway_registers_one_provider_that_is_also_the_running_reload_loop()
    {
        // What the middleware reads must be what the reload loop swaps: one instance, hosted.
        var initial = PolicyProvider.LoadInitial(_config).Policy!;
        var services = new ServiceCollection()
            .AddSingleton(_config).AddSingleton(initial).AddSingleton<IPolicyEventStore>(_store).AddSingleton(_audit)
            .AddSingleton<TimeProvider>(_time).AddSingleton<ILogger<PolicyProvider>>(_log)
            .AddAirlockPolicy();
        await using var provider = services.BuildServiceProvider();

        var policies = provider.GetRequiredService<PolicyProvider>();
        Assert.Same(policies, Assert.Single(provider.GetServices<IHostedService>()));
        Assert.Same(policies, provider.GetRequiredService<PolicyProvider>());
        Assert.Same(initial, policies.Current);
    }

    [Fact]
    public async Task A_policy_file_that_reappears_as_a_link_is_loaded_without_waiting_for_the_periodic_check()
    {
        // A link made where the file was raises only a "created" event: no write follows it.
        var elsewhere = Path.Combine(_dir.FullName, "elsewhere", "policy.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(elsewhere)!);
        await File.WriteAllTextAsync(elsewhere, Lockdown);
        var provider = await WatchAsync();
        var rejected = _log.WhenLogged("Policy reload rejected with 1 error(s)");
        File.Delete(PolicyPath);
        await rejected.WaitAsync(TimeSpan.FromSeconds(30));

        var loaded = _log.WhenLogged($"Policy {Version(Lockdown)} in force");
        File.CreateSymbolicLink(PolicyPath, elsewhere);

        await loaded.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Version(Lockdown), provider.Current.Version);
    }

    [Fact]
    public async Task A_directory_that_cannot_be_watched_is_still_checked_periodically()
    {
        var initial = PolicyProvider.LoadInitial(_config).Policy!;
        var elsewhere = Path.Combine(_dir.FullName, "not-yet", "policy.yaml");
        var config = _config with { Policy = _config.Policy with { File = elsewhere } };
        _provider = new PolicyProvider(config, initial, _store, _audit, _time, _log) { SettleDelay = Settle };
        var watchFailed = _log.WhenLogged("Cannot watch the policy file's directory (");
        await _provider.StartAsync(CancellationToken.None);
        await watchFailed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains(_log.Messages, m => m.StartsWith("Cannot watch the policy file's directory (", StringComparison.Ordinal)
            && m.EndsWith("); checking it every two seconds instead", StringComparison.Ordinal));
        await _time.PeriodicCheckArmed.WaitAsync(TimeSpan.FromSeconds(30));

        Directory.CreateDirectory(Path.GetDirectoryName(elsewhere)!);
        await File.WriteAllTextAsync(elsewhere, Lockdown);
        var loaded = _log.WhenLogged($"Policy {Version(Lockdown)} in force");
        _time.Advance(TimeSpan.FromSeconds(2));

        await loaded.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Version(Lockdown), _provider.Current.Version);
    }

    [Fact]
    public async Task A_policy_the_trail_could_not_take_is_tried_again_once_it_can()
    {
        // A store of its own with a short busy timeout, and another connection holding its write lock.
        var path = Path.Combine(_dir.FullName, "data", "locked.db");
        await using var store = new SqliteStore(path, _time, busyTimeout: TimeSpan.FromMilliseconds(50));
        await store.MigrateAsync(CancellationToken.None);
        using var writer = new AuditWriter(store, _time, NullLogger<AuditWriter>.Instance);
        writer.Start();
        var initial = PolicyProvider.LoadInitial(_config).Policy!;
        _provider = new PolicyProvider(_config, initial, store, new AuditTrail(writer, _time, NullLogger<AuditTrail>.Instance), _time, _log) { SettleDelay = Settle };
        await _provider.StartAsync(CancellationToken.None);
        await _time.PeriodicCheckArmed.WaitAsync(TimeSpan.FromSeconds(30));

        await using (var blocker = new SqliteConnection($"Data Source={path};Pooling=false"))
        {
            await blocker.OpenAsync();
            using (var begin = blocker.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE";
                await begin.ExecuteNonQueryAsync();
            }

            var refused = _log.WhenLogged("Policy error: " + _config.Policy.File + ": the new policy could not be recorded in the audit trail");
            await File.WriteAllTextAsync(PolicyPath, Lockdown);
            await refused.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(Version(Reads), _provider.Current.Version);
        }

        // The file has not changed since, but the policy is not in force: the next check loads it.
        var loaded = _log.WhenLogged($"Policy {Version(Lockdown)} in force");
        await _time.PeriodicCheckArmed.WaitAsync(TimeSpan.FromSeconds(30));
        _time.Advance(TimeSpan.FromSeconds(2));
        await loaded.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Version(Lockdown), _provider.Current.Version);

        await _provider.StopAsync(CancellationToken.None);
        _provider.Dispose();
        _provider = null;
        await writer.DrainAsync(CancellationToken.None);
    }

    /// <summary>The test's clock; says each time the reload loop arms its periodic check.</summary>
    private sealed class Clock() : FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero))
    {
        public SemaphoreSlim PeriodicCheckArmed { get; } = new(0);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (dueTime == TimeSpan.FromSeconds(2))
            {
                PeriodicCheckArmed.Release();
            }

            return timer;
        }
    }

    /// <summary>Keeps what is logged, and tells a test when a line starting with some text is.</summary>
    private sealed class ListLogger : ILogger<PolicyProvider>
    {
        private readonly ConcurrentQueue<string> _messages = new();
        private readonly ConcurrentBag<(string Start, TaskCompletionSource Seen)> _waiting = [];

        public IEnumerable<string> Messages => _messages;

        public Task WhenLogged(string start)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Add((start, seen));
            if (_messages.Any(m => m.StartsWith(start, StringComparison.Ordinal)))
            {
                seen.TrySetResult();
            }

            return seen.Task;
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            _messages.Enqueue(message);
            foreach (var (start, seen) in _waiting)
            {
                if (message.StartsWith(start, StringComparison.Ordinal))
                {
                    seen.TrySetResult();
                }
            }
        }
    }
}
