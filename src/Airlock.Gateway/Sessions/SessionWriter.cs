using System.Threading.Channels;
using System.Threading.RateLimiting;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Sessions;

/// <summary>
/// Writes session records to the store in batches, off the request path.
/// <list type="bullet">
/// <item>The queue is bounded: when the store falls behind, finishing requests wait for room
/// (back-pressure) rather than a record being dropped.</item>
/// <item>A batch that fails is retried with back-off until it is written; the loop does not
/// move on, so the queue fills and back-pressure reaches the callers.</item>
/// <item>A batch the store refuses for its data (a constraint, a value it cannot hold) is
/// written one record at a time, so one record the store will never take cannot wedge the
/// gateway; that record is logged as critical with its session id.</item>
/// <item>Recorded bodies count against a byte budget (<see cref="BudgetBytes"/>): past it,
/// finishing requests wait too, so memory stays bounded whatever the bodies weigh.</item>
/// <item>Shutdown drains the queue until the host's shutdown timeout.</item>
/// </list>
/// </summary>
internal sealed partial class SessionWriter : BackgroundService
{
    private readonly ISessionStore store;
    private readonly TimeProvider timeProvider;
    private readonly ILogger<SessionWriter> logger;
    private readonly Telemetry.AirlockMetrics? _metrics;

    public SessionWriter(ISessionStore store, TimeProvider timeProvider, ILogger<SessionWriter> logger, Telemetry.AirlockMetrics? metrics = null,
        Configuration.RecordingQueueConfig? queue = null, StoreWriteHealth? health = null)
    {
        _health = health;
        _capacity = (queue ?? Configuration.RecordingQueueConfig.Default).Capacity;
        _queue = Channel.CreateBounded<(SessionRecord, RateLimitLease?)>(
            new BoundedChannelOptions(_capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        this.store = store;
        this.timeProvider = timeProvider;
        this.logger = logger;
        _metrics = metrics;
        if (metrics is not null)
        {
            metrics.RecordingQueue = () => QueueLength;
        }
    }

    public const long BudgetBytes = 64L << 20;
    private const int MaxBatch = 512;
    private const int GatherAtLeast = 100;
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly StoreWriteHealth? _health;
    private readonly int _capacity;
    private readonly Channel<(SessionRecord Record, RateLimitLease? Lease)> _queue;

    // Permits are KiB of recorded exchanges waiting to be written.
    private readonly ConcurrencyLimiter _budget = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = (int)(BudgetBytes / 1024),
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    private readonly CancellationTokenSource _abandon = new();

    /// <summary>Queues a record; waits only when the queue or the byte budget is full.</summary>
    public async ValueTask EnqueueAsync(SessionRecord record, CancellationToken cancellationToken)
    {
        RateLimitLease? lease = null;
        if (record.Exchange is { } exchange)
        {
            var kib = (int)Math.Clamp((exchange.Size + 1023) / 1024, 1, BudgetBytes / 1024);
            lease = await _budget.AcquireAsync(kib, cancellationToken);
        }

        if (!_queue.Writer.TryWrite((record, lease)))
        {
            await _queue.Writer.WriteAsync((record, lease), cancellationToken);
        }
    }

    public int QueueLength => _queue.Reader.Count;

    /// <summary>How many records the writer has taken from the queue and is writing (or retrying).</summary>
    public int Writing => Volatile.Read(ref _writing);

    private int _writing;

    /// <summary>Whether a finishing request would now wait for room (queue or byte budget).</summary>
    public bool IsFull => _queue.Reader.Count >= _capacity
        || _budget.GetStatistics() is { } budget && (budget.CurrentAvailablePermits == 0 || budget.CurrentQueuedCount > 0);

    /// <summary>Queues the record of a request the gateway refused because the queue was full;
    /// false when there is no room for it either (it was never forwarded, so nothing is lost
    /// but the record of a refusal, which is counted in the logs).</summary>
    public bool TryEnqueueRefusal(SessionRecord record) => _queue.Writer.TryWrite((record, null));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<SessionRecord>(MaxBatch);
        var leases = new List<RateLimitLease>();
        try
        {
            // Reads until the queue is completed at shutdown, so nothing queued is left behind.
            while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
            {
                Drain(batch, leases);
                if (batch.Count < GatherAtLeast)
                {
                    await GatherMoreAsync(batch, leases);
                }

                Volatile.Write(ref _writing, batch.Count);
                await WriteUntilStoredAsync(batch);
                Volatile.Write(ref _writing, 0);
                batch.Clear();
                leases.ForEach(l => l.Dispose());
                leases.Clear();
            }
        }
        catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
        {
            var lost = batch.Count + _queue.Reader.Count;
            Log.Abandoned(logger, lost);
        }
    }

    private void Drain(List<SessionRecord> batch, List<RateLimitLease> leases)
    {
        while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var queued))
        {
            batch.Add(queued.Record);
            if (queued.Lease is { } lease)
            {
                leases.Add(lease);
            }
        }
    }

    /// <summary>
    /// Waits a few milliseconds for more records before writing a small batch. A commit rewrites
    /// the same table and index pages whether it holds 20 rows or 200: measured on SQLite, 20 rows
    /// a commit cost about 90 µs a row and 100 rows about 30 µs, and under load the gateway's
    /// single writer was busy most of the time with small batches. Wall-clock time on purpose:
    /// this is about the disk, and a test's fake clock must not hold writes back.
    /// </summary>
    private async Task GatherMoreAsync(List<SessionRecord> batch, List<RateLimitLease> leases)
    {
        using var linger = new CancellationTokenSource(Linger);
        try
        {
            while (batch.Count < MaxBatch && await _queue.Reader.WaitToReadAsync(linger.Token))
            {
                Drain(batch, leases);
            }
        }
        catch (OperationCanceledException) when (linger.IsCancellationRequested)
        {
        }
    }

    private async Task WriteUntilStoredAsync(List<SessionRecord> batch)
    {
        var delay = FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                await store.AppendSessionsAsync(batch, _abandon.Token);
                _metrics?.StoreWrote("sessions", started);
                _health?.Succeeded(StoreWriter.Sessions);
                return;
            }
            catch (Exception ex) when (StoreErrors.IsDataRejection(ex))
            {
                if (batch.Count == 1)
                {
                    Log.Rejected(logger, ex, batch[0].Id);
                    return;
                }

                // One record the store refuses must not hold back the others: find it.
                foreach (var record in batch)
                {
                    await WriteUntilStoredAsync([record]);
                }

                return;
            }
            catch (Exception ex) when (StoreErrors.IsFull(ex))
            {
                _health?.Failed(StoreWriter.Sessions, ex);
                Log.StoreFull(logger, batch.Count, attempt, delay, ex.Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !_abandon.IsCancellationRequested)
            {
                _health?.Failed(StoreWriter.Sessions, ex);
                Log.WriteFailed(logger, ex, batch.Count, attempt, delay);
            }

            await Task.Delay(delay, timeProvider, _abandon.Token);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (ExecuteTask is null)
        {
            return;
        }

        // Drain until the host's shutdown timeout, then give up loudly.
        using var registration = cancellationToken.Register(_abandon.Cancel);
        await ExecuteTask;
    }

    public override void Dispose()
    {
        _abandon.Dispose();
        _budget.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(2001, LogLevel.Error, "Writing {Count} session records failed (attempt {Attempt}); retrying in {Delay}")]
        public static partial void WriteFailed(ILogger logger, Exception exception, int count, int attempt, TimeSpan delay);

        [LoggerMessage(2004, LogLevel.Critical, "The store is full ({Reason}): {Count} session records are kept in memory and retried until there is room (attempt {Attempt}, next in {Delay}); none is dropped")]
        public static partial void StoreFull(ILogger logger, int count, int attempt, TimeSpan delay, string reason);

        [LoggerMessage(2002, LogLevel.Critical, "Shutdown timed out with {Count} session records not written")]
        public static partial void Abandoned(ILogger logger, int count);

        [LoggerMessage(2003, LogLevel.Critical, "The store refused the record of session {SessionId}; it is not stored")]
        public static partial void Rejected(ILogger logger, Exception exception, Guid sessionId);
    }
}
