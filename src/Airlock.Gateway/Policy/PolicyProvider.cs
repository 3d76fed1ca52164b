using System.Collections.Frozen;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Policy;

/// <summary>What the last reload attempt of the policy file came to.</summary>
internal sealed record PolicyReloadFailure(DateTimeOffset At, string Version, IReadOnlyList<ConfigError> Errors);

/// <summary>
/// Holds the policy in force and reloads it when its file changes:
/// <code>
/// file change (watcher, or the periodic hash check) → settled read → parse → validate → compile → atomic swap
///                                                       └─ invalid: keep the last good policy,
///                                                          report it (log, /readyz, stored event)
/// </code>
/// The first load happens before the gateway starts and must succeed. Readers take
/// <see cref="Current"/> once per request, so a request is decided by one policy from start
/// to end even if a reload lands meanwhile.
/// </summary>
internal sealed partial class PolicyProvider : BackgroundService
{
    private static readonly TimeSpan PeriodicCheck = TimeSpan.FromSeconds(2);

    private readonly PolicyConfig _config;
    private readonly string _fileName;
    private readonly FrozenSet<string> _connections;
    private readonly IPolicyEventStore _events;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PolicyProvider> _logger;
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private readonly SemaphoreSlim _changed = new(0, int.MaxValue);
    private volatile CompiledPolicy _current;
    private volatile PolicyReloadFailure? _lastFailure;
    /// <summary>The hash of the file as last read, loaded or rejected.</summary>
    private string _lastSeen;

    private readonly AuditTrail _audit;

    public PolicyProvider(AirlockConfig config, CompiledPolicy initial, IPolicyEventStore events, AuditTrail audit, TimeProvider timeProvider, ILogger<PolicyProvider> logger)
    {
        _audit = audit;
        _config = config.Policy;
        _fileName = Path.GetFileName(config.Policy.File);
        _connections = config.Connections.Select(c => c.Name).ToFrozenSet(StringComparer.Ordinal);
        _current = initial;
        _events = events;
        _timeProvider = timeProvider;
        _logger = logger;
        _lastSeen = initial.Version;
    }

    /// <summary>The policy in force.</summary>
    public CompiledPolicy Current => _current;

    /// <summary>The last rejected reload, while no later reload has succeeded.</summary>
    public PolicyReloadFailure? LastFailure => _lastFailure;

    public DateTimeOffset LoadedAt { get; private set; }

    /// <summary>How long a read waits before reading again to see the file settled; 20 reads
    /// at most. Real time, not the injected clock: it waits for another process's write. Tests
    /// shorten it, or every unreadable file costs them three seconds.</summary>
    internal TimeSpan SettleDelay { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>Loads the policy named by the configuration, for the first time.</summary>
    public static PolicyLoadResult LoadInitial(AirlockConfig config) =>
        PolicyParser.LoadFile(config.Policy.File, config.Connections.Select(c => c.Name).ToHashSet(StringComparer.Ordinal));

    /// <summary>Records the initial load and reports its warnings; called once at start.</summary>
    public async Task AnnounceInitialAsync(IReadOnlyList<ConfigError> warnings, CancellationToken cancellationToken)
    {
        LoadedAt = _timeProvider.GetUtcNow();
        foreach (var warning in warnings)
        {
            Log.PolicyWarning(_logger, warning.ToString());
        }

        Log.Loaded(_logger, _current.Version, _current.Rules.Length, _current.Guardrails.Length);
        await _events.RecordPolicyLoadAsync(new PolicyLoadRecord(LoadedAt, _config.File, _current.Version, "loaded", null), cancellationToken);
        await _audit.RecordAsync(LoadedEvent(), cancellationToken);
    }

    private AuditEvent LoadedEvent(CompiledPolicy? policy = null)
    {
        policy ??= _current;
        return _audit.Event(AuditKinds.PolicyLoaded, "loaded", null,
            new Dictionary<string, string>
            {
                ["source"] = _config.File,
                ["rules"] = policy.Rules.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["guardrails"] = policy.Guardrails.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }, policyVersion: policy.Version);
    }

    /// <summary>Re-reads the file now. Returns the failure, or null when the policy in force is
    /// the file's content (swapped in, or unchanged).</summary>
    public async Task<PolicyReloadFailure?> ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloading.WaitAsync(cancellationToken);
        try
        {
            var now = _timeProvider.GetUtcNow();
            var bytes = await ReadSettledAsync(cancellationToken);
            if (bytes is null)
            {
                // Reported once: the periodic check looks again when the file is back.
                _lastSeen = "unreadable";
                var unreadable = new PolicyReloadFailure(now, "unreadable", [new ConfigError(_config.File, 0, 0, "", "the policy file cannot be read")]);
                return await RejectAsync(unreadable, cancellationToken);
            }

            _lastSeen = Hash(bytes);
            var result = PolicyParser.Load(bytes, _config.File, _connections);
            if (!result.Succeeded)
            {
                return await RejectAsync(new PolicyReloadFailure(now, _lastSeen, result.Errors), cancellationToken);
            }

            _lastFailure = null;
            if (result.Policy!.Version == _current.Version)
            {
                return null;
            }

            // On record before it is enforced: no decision carries a policy version the trail
            // has not seen loaded. If the trail cannot take it, the old policy stays and the
            // next change (or the next look at the file) tries again.
            try
            {
                await _audit.RecordAsync(LoadedEvent(result.Policy), cancellationToken);
            }
            catch (AuditUnavailableException)
            {
                _lastSeen = "";
                return await RejectAsync(new PolicyReloadFailure(now, result.Policy.Version,
                    [new ConfigError(_config.File, 0, 0, "", "the new policy could not be recorded in the audit trail, so it is not in force yet")]), cancellationToken);
            }

            _current = result.Policy;
            LoadedAt = now;
            foreach (var warning in result.Warnings)
            {
                Log.PolicyWarning(_logger, warning.ToString());
            }

            // Logged last: whoever waits for this line (an operator, a test) finds the store's
            // record of the load already there.
            await RecordLoadAsync(new PolicyLoadRecord(now, _config.File, _current.Version, "loaded", null), cancellationToken);
            Log.Loaded(_logger, _current.Version, _current.Rules.Length, _current.Guardrails.Length);
            return null;
        }
        finally
        {
            _reloading.Release();
        }
    }

    /// <summary>The store's record of a load (for /readyz and the CLI); a failure is logged, not
    /// thrown, so the reload itself stands and is on the audit trail.</summary>
    private async Task RecordLoadAsync(PolicyLoadRecord record, CancellationToken cancellationToken)
    {
        try
        {
            await _events.RecordPolicyLoadAsync(record, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.LoadRecordFailed(_logger, ex, record.Outcome, record.Version);
        }
    }

    private async Task<PolicyReloadFailure> RejectAsync(PolicyReloadFailure failure, CancellationToken cancellationToken)
    {
        _lastFailure = failure;
        Log.Rejected(_logger, failure.Errors.Count, _current.Version);
        foreach (var error in failure.Errors)
        {
            Log.PolicyError(_logger, error.ToString());
        }

        // The trail first: the store's own record of loads is secondary, and failing it must not
        // leave the rejection off the trail.
        _audit.Record(_audit.Event(AuditKinds.PolicyRejected, "rejected", null, new Dictionary<string, string>
        {
            ["source"] = _config.File,
            ["errors"] = string.Join('\n', failure.Errors),
            ["stillEnforcing"] = _current.Version,
        }, policyVersion: failure.Version));
        await RecordLoadAsync(new PolicyLoadRecord(failure.At, _config.File, failure.Version, "rejected", string.Join('\n', failure.Errors)), cancellationToken);
        return failure;
    }

    /// <summary>
    /// Reads the file until two reads a moment apart agree, so a file caught half-written (which
    /// may still be valid YAML, cut before its deny rules) is never loaded. Null when unreadable.
    /// </summary>
    private async Task<byte[]?> ReadSettledAsync(CancellationToken cancellationToken)
    {
        byte[]? previous = null;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            byte[] bytes;
            try
            {
                // Reading follows symbolic links, as a Kubernetes ConfigMap's are.
                bytes = await File.ReadAllBytesAsync(_config.File, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                previous = null;
                await Task.Delay(SettleDelay, cancellationToken);
                continue;
            }

            if (previous is not null && previous.AsSpan().SequenceEqual(bytes))
            {
                return bytes;
            }

            previous = bytes;
            await Task.Delay(SettleDelay, cancellationToken);
        }

        return null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Watch the directory, not the file: editors replace files by renaming, and Kubernetes
        // swaps a ConfigMap's files by re-pointing a symbolic link in the directory.
        FileSystemWatcher? watcher = null;
        try
        {
            watcher = new FileSystemWatcher(Path.GetDirectoryName(_config.File)!)
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.CreationTime,
            };
            watcher.Changed += (_, e) => Noticed(e.Name);
            watcher.Created += (_, e) => Noticed(e.Name);
            watcher.Renamed += (_, e) => Noticed(e.Name);
            watcher.Deleted += (_, e) => Noticed(e.Name);
            watcher.EnableRaisingEvents = true;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            // Out of inotify watches, say: the periodic check still finds every change.
            Log.WatchFailed(_logger, ex.Message);
            watcher?.Dispose();
            watcher = null;
        }

        using (watcher)
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    // A change event, or the periodic check for file systems that lose events
                    // (on the gateway's clock, so a test can bring it about).
                    await WaitForChangeOrCheckAsync(stoppingToken);

                    // One write raises several events: the reload below reads them all at once.
                    // (Wait(0) never blocks; it takes a pending notice or says there is none.)
                    while (_changed.Wait(0, CancellationToken.None))
                    {
                    }

                    if (CurrentHash() == _lastSeen)
                    {
                        continue;
                    }

                    await ReloadAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    // The store being down must not stop the watching; the next change retries.
                    Log.ReloadFailed(_logger, ex);
                }
            }
        }
    }

    private async Task WaitForChangeOrCheckAsync(CancellationToken stoppingToken)
    {
        using var check = new CancellationTokenSource(PeriodicCheck, _timeProvider);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, check.Token);
        try
        {
            await _changed.WaitAsync(either.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // Time for the periodic check.
        }
    }

    /// <summary>
    /// Wakes the reload loop for a change that can concern the policy: the file itself (also
    /// when an editor renames a new copy onto it), or a Kubernetes ConfigMap's "..data" link
    /// swap. Other files in the directory are ignored: the SQLite store often sits beside the
    /// policy, and its writes would otherwise re-read and hash the policy on every request.
    /// </summary>
    private void Noticed(string? name)
    {
        if (name is null || name == _fileName || name.StartsWith("..", StringComparison.Ordinal))
        {
            _changed.Release();
        }
    }

    private string CurrentHash()
    {
        try
        {
            return Hash(File.ReadAllBytes(_config.File));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unreadable";
        }
    }

    private static string Hash(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    public override void Dispose()
    {
        _reloading.Dispose();
        _changed.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(4001, LogLevel.Information, "Policy {Version} in force: {Rules} rule(s), {Guardrails} guardrail(s)")]
        public static partial void Loaded(ILogger logger, string version, int rules, int guardrails);

        [LoggerMessage(4002, LogLevel.Error, "Policy reload rejected with {Count} error(s); still enforcing {Version}")]
        public static partial void Rejected(ILogger logger, int count, string version);

        [LoggerMessage(4003, LogLevel.Error, "Policy error: {Error}")]
        public static partial void PolicyError(ILogger logger, string error);

        [LoggerMessage(4004, LogLevel.Warning, "Policy warning: {Warning}")]
        public static partial void PolicyWarning(ILogger logger, string warning);

        [LoggerMessage(4005, LogLevel.Error, "Policy reload failed")]
        public static partial void ReloadFailed(ILogger logger, Exception exception);

        [LoggerMessage(4007, LogLevel.Error, "The store did not take the record of policy {Version} being {Outcome}; the audit trail has it")]
        public static partial void LoadRecordFailed(ILogger logger, Exception exception, string outcome, string version);

        [LoggerMessage(4006, LogLevel.Warning, "Cannot watch the policy file's directory ({Reason}); checking it every two seconds instead")]
        public static partial void WatchFailed(ILogger logger, string reason);
    }
}
