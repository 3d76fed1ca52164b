using Airlock.Gateway.Configuration;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Recording;

/// <summary>
/// Enforces each connection's retention: recorded headers and bodies older than its
/// <c>recording.retentionDays</c> are deleted, hourly and at start. The sessions themselves (the
/// fact that an exchange happened, who made it, the decision) and the audit trail are kept.
/// </summary>
internal sealed partial class RecordingRetention(AirlockConfig config, ISessionStore store, TimeProvider timeProvider, ILogger<RecordingRetention> logger)
    : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every, timeProvider);
        try
        {
            do
            {
                await SweepAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Deletes what each connection's retention has run out on; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var deleted = 0;
        foreach (var connection in config.Connections)
        {
            try
            {
                var count = await store.DeleteExchangesAsync(connection.Name, now.AddDays(-connection.Recording.RetentionDays), cancellationToken);
                if (count > 0)
                {
                    Log.Expired(logger, count, connection.Name, connection.Recording.RetentionDays);
                }

                deleted += count;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One failed sweep is retried at the next; it must not stop the service.
                Log.Failed(logger, ex, connection.Name);
            }
        }

        return deleted;
    }

    private static partial class Log
    {
        [LoggerMessage(2101, LogLevel.Information, "Deleted the recorded bodies of {Count} sessions on connection {Connection}, past its {Days}-day retention")]
        public static partial void Expired(ILogger logger, int count, string connection, int days);

        [LoggerMessage(2102, LogLevel.Error, "Enforcing the recording retention of connection {Connection} failed; trying again at the next sweep")]
        public static partial void Failed(ILogger logger, Exception exception, string connection);
    }
}
