using Airlock.Gateway.Reviews;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Airlock.Gateway.Storage.Postgres;

/// <summary>
/// Review changes over PostgreSQL LISTEN/NOTIFY: publishing sends <c>NOTIFY airlock_reviews</c>
/// with the review id; one dedicated connection per gateway listens and wakes the local
/// waiters. Local waiters are also woken directly, so the replica that made the change does not
/// wait for the round trip. Notifications sent while the listening connection is down are lost,
/// so every local waiter is woken when it is back, and re-reads its review from the store.
/// </summary>
internal sealed partial class PostgresReviewNotifications(PostgresStore store, ReviewSignals signals, ILogger<PostgresReviewNotifications> logger)
    : BackgroundService, IReviewNotifications
{
    public const string Channel = "airlock_reviews";

    public async Task PublishAsync(Guid reviewId, CancellationToken cancellationToken)
    {
        signals.Signal(reviewId);
        await using var command = store.DataSource.CreateCommand("SELECT pg_notify($1, $2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Channel });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reviewId.ToString() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await store.DataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (Guid.TryParse(e.Payload, out var id))
                    {
                        signals.Signal(id);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                Log.Listening(logger);
                // Changes made while nobody listened here were missed: have every waiter look.
                signals.SignalAll();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Held requests fall back to their hold window; the maintenance sweep still runs.
                Log.ListenFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(5101, LogLevel.Debug, "Listening for review changes on PostgreSQL")]
        public static partial void Listening(ILogger logger);

        [LoggerMessage(5102, LogLevel.Warning, "Listening for review changes failed; reconnecting")]
        public static partial void ListenFailed(ILogger logger, Exception exception);
    }
}
