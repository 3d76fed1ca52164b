using System.Threading.Channels;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Sessions;

/// <summary>
/// Writes session records to the store in batches, off the request path. The queue is
/// bounded: when the store falls behind, requests wait for room (back-pressure) rather than
/// a record being dropped. A batch that fails to write is retried, not discarded. Shutdown
/// drains what is queued.
/// </summary>
public sealed partial class SessionWriter(ISessionStore store, TimeProvider timeProvider, ILogger<SessionWriter> logger) : BackgroundService
{
    public const int Capacity = 8192;
    private const int MaxBatch = 512;

    private readonly Channel<SessionRecord> _queue = Channel.CreateBounded<SessionRecord>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private readonly CancellationTokenSource _abandon = new();

    /// <summary>Queues a record; waits only when the queue is full.</summary>
    public ValueTask EnqueueAsync(SessionRecord record, CancellationToken cancellationToken) =>
        _queue.Writer.TryWrite(record) ? ValueTask.CompletedTask : _queue.Writer.WriteAsync(record, cancellationToken);

    public int QueueLength => _queue.Reader.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<SessionRecord>(MaxBatch);
        var retryDelay = TimeSpan.FromMilliseconds(100);
        // Reads until the queue is completed at shutdown, so nothing queued is left behind.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            try
            {
                await store.AppendSessionsAsync(batch, _abandon.Token);
                batch.Clear();
                retryDelay = TimeSpan.FromMilliseconds(100);
            }
            catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Log.WriteFailed(logger, ex, batch.Count, retryDelay);
                try
                {
                    await Task.Delay(retryDelay, timeProvider, _abandon.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }

        var lost = batch.Count + _queue.Reader.Count;
        if (lost > 0)
        {
            Log.Abandoned(logger, lost);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (ExecuteTask is null)
        {
            return;
        }

        // Give the drain until the host's shutdown timeout, then give up loudly.
        using var registration = cancellationToken.Register(() => _abandon.Cancel());
        await ExecuteTask.WaitAsync(Timeout.InfiniteTimeSpan, timeProvider, CancellationToken.None);
    }

    public override void Dispose()
    {
        _abandon.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(2001, LogLevel.Error, "Writing {Count} session records failed; retrying in {Delay}")]
        public static partial void WriteFailed(ILogger logger, Exception exception, int count, TimeSpan delay);

        [LoggerMessage(2002, LogLevel.Critical, "Shutdown timed out with {Count} session records not written")]
        public static partial void Abandoned(ILogger logger, int count);
    }
}
