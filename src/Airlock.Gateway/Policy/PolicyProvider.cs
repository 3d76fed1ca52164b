using System.Collections.Frozen;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Policy;

/// <summary>What the last reload attempt of the policy file came to.</summary>
public sealed record PolicyReloadFailure(DateTimeOffset At, string Version, IReadOnlyList<ConfigError> Errors);

/// <summary>
/// Holds the policy in force and reloads it when its file changes:
/// <code>
/// file change (watcher, or the periodic check) → parse → validate → compile → atomic swap
///                                                       └─ invalid: keep the last good policy,
///                                                          report it (log, /readyz, stored event)
/// </code>
/// The first load happens before the gateway starts and must succeed. Readers take
/// <see cref="Current"/> once per request, so a request is decided by one policy from start
/// to end even if a reload lands meanwhile.
/// </summary>
public sealed partial class PolicyProvider : BackgroundService
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(150);
    private static readonly TimeSpan PeriodicCheck = TimeSpan.FromSeconds(2);

    private readonly PolicyConfig _config;
    private readonly FrozenSet<string> _connections;
    private readonly IPolicyEventStore _events;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PolicyProvider> _logger;
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private readonly SemaphoreSlim _changed = new(0, int.MaxValue);
    private volatile CompiledPolicy _current;
    private volatile PolicyReloadFailure? _lastFailure;
    private (DateTime WriteTime, long Length) _lastSeen;

    public PolicyProvider(AirlockConfig config, CompiledPolicy initial, IPolicyEventStore events, TimeProvider timeProvider, ILogger<PolicyProvider> logger)
    {
        _config = config.Policy;
        _connections = config.Connections.Select(c => c.Name).ToFrozenSet(StringComparer.Ordinal);
        _current = initial;
        _events = events;
        _timeProvider = timeProvider;
        _logger = logger;
        _lastSeen = Stamp();
    }

    /// <summary>The policy in force.</summary>
    public CompiledPolicy Current => _current;

    /// <summary>The last rejected reload, while no later reload has succeeded.</summary>
    public PolicyReloadFailure? LastFailure => _lastFailure;

    public DateTimeOffset LoadedAt { get; private set; }

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
    }

    /// <summary>Re-reads the file now. Returns the failure, or null when the policy in force is
    /// the file's content (swapped in, or unchanged).</summary>
    public async Task<PolicyReloadFailure?> ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloading.WaitAsync(cancellationToken);
        try
        {
            _lastSeen = Stamp();
            var result = PolicyParser.LoadFile(_config.File, _connections);
            var now = _timeProvider.GetUtcNow();
            if (!result.Succeeded)
            {
                var version = VersionOfFile();
                var failure = new PolicyReloadFailure(now, version, result.Errors);
                _lastFailure = failure;
                Log.Rejected(_logger, result.Errors.Count, _current.Version);
                foreach (var error in result.Errors)
                {
                    Log.PolicyError(_logger, error.ToString());
                }

                await _events.RecordPolicyLoadAsync(
                    new PolicyLoadRecord(now, _config.File, version, "rejected", string.Join('\n', result.Errors)), cancellationToken);
                return failure;
            }

            _lastFailure = null;
            if (result.Policy!.Version == _current.Version)
            {
                return null;
            }

            _current = result.Policy;
            LoadedAt = now;
            foreach (var warning in result.Warnings)
            {
                Log.PolicyWarning(_logger, warning.ToString());
            }

            Log.Loaded(_logger, _current.Version, _current.Rules.Length, _current.Guardrails.Length);
            await _events.RecordPolicyLoadAsync(new PolicyLoadRecord(now, _config.File, _current.Version, "loaded", null), cancellationToken);
            return null;
        }
        finally
        {
            _reloading.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var directory = Path.GetDirectoryName(_config.File)!;
        using var watcher = new FileSystemWatcher(directory, Path.GetFileName(_config.File))
        {
            // Editors save by writing in place or by renaming a new file over the old one.
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName | NotifyFilters.CreationTime,
        };
        watcher.Changed += (_, _) => _changed.Release();
        watcher.Created += (_, _) => _changed.Release();
        watcher.Renamed += (_, _) => _changed.Release();
        watcher.EnableRaisingEvents = true;

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A change event, or the periodic check for systems where events get lost.
                var signalled = await _changed.WaitAsync(PeriodicCheck, stoppingToken);
                if (!signalled && Stamp() == _lastSeen)
                {
                    continue;
                }

                // Let a burst of writes settle, then read once. File events arrive in wall-clock
                // time, so the debounce does too (not the injected clock).
                await Task.Delay(Debounce, stoppingToken);
                while (_changed.CurrentCount > 0)
                {
                    await _changed.WaitAsync(stoppingToken);
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

    private (DateTime, long) Stamp()
    {
        var info = new FileInfo(_config.File);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (default, -1);
    }

    private string VersionOfFile()
    {
        try
        {
            return "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(_config.File)));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unreadable";
        }
    }

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
    }
}
