using Airlock.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Identity.ApiKeys;

/// <summary>
/// Keeps <see cref="ApiKeyCache"/> in step with the store: reads the store's API-key change
/// marker every <see cref="CheckInterval"/> (one row), and where the engine announces changes
/// (PostgreSQL LISTEN/NOTIFY) empties the cache as each announcement arrives. The periodic check
/// runs on every engine, also while the announcements work: it is what bounds a revocation when
/// an announcement is lost, or when the listening connection has died without anyone noticing
/// (a half-open TCP connection waits in silence), and it costs one small read a second.
/// </summary>
internal sealed partial class ApiKeyChangeWatcher(IApiKeyStore store, ApiKeyCache cache, TimeProvider time, ILogger<ApiKeyChangeWatcher> logger)
    : BackgroundService
{
    /// <summary>How often the marker is read: half of <see cref="ApiKeyCache.RevocationBound"/>.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait before listening again after the connection failed.</summary>
    public static readonly TimeSpan ListenRetryDelay = TimeSpan.FromSeconds(1);

    private bool _failing;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(CheckEveryIntervalAsync(stoppingToken), ListenAsync(stoppingToken));

    private async Task CheckEveryIntervalAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, time);
        try
        {
            do
            {
                await CheckAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Reads the marker once and tells the cache. A check that fails, or takes longer than the
    /// bound, confirms nothing: the entries go stale at the bound and requests read the store.
    /// </summary>
    internal async Task CheckAsync(CancellationToken stoppingToken)
    {
        var startedAt = time.GetTimestamp();
        try
        {
            using var deadline = new CancellationTokenSource(ApiKeyCache.RevocationBound, time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, deadline.Token);
            var marker = await store.GetApiKeyChangeMarkerAsync(either.Token);
            cache.Confirm(marker, startedAt);
            if (_failing)
            {
                _failing = false;
                Log.CheckRecovered(logger);
            }
        }
        catch (Exception ex)
        {
            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            // What is held may be served only until the last good check's bound runs out; empty
            // it now rather than wait for that. Requests read the store meanwhile: while it is
            // down they fail as they did before the cache (503), never on a stale key.
            cache.Clear();
            if (!_failing)
            {
                _failing = true;
                Log.CheckFailed(logger, ApiKeyCache.RevocationBound, ex);
            }
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Returns only where the engine announces nothing (SQLite).
                await store.ListenForApiKeyChangesAsync(cache.Clear, stoppingToken);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever is announced until it is back is lost; the periodic check still
                // bounds it, and the store's listen empties the cache again when it is back.
                cache.Clear();
                Log.ListenFailed(logger, ApiKeyCache.RevocationBound, ex);
                try
                {
                    await Task.Delay(ListenRetryDelay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1010, LogLevel.Warning, "Checking the store for API key changes failed; keys are read from the store on every request until it works again (a revocation still applies within {Bound})")]
        public static partial void CheckFailed(ILogger logger, TimeSpan bound, Exception exception);

        [LoggerMessage(1011, LogLevel.Information, "Checking the store for API key changes works again; API keys are cached again")]
        public static partial void CheckRecovered(ILogger logger);

        [LoggerMessage(1012, LogLevel.Warning, "Listening for API key changes on PostgreSQL failed; reconnecting (a revocation from another replica still applies within {Bound})")]
        public static partial void ListenFailed(ILogger logger, TimeSpan bound, Exception exception);
    }
}
