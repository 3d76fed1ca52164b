using System.Threading.Channels;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Audit;

/// <summary>
/// Appends audit events with group commit: events that arrive together are sealed and made
/// durable in one transaction, so waiting for durability stays cheap under load.
/// <list type="bullet">
/// <item><see cref="AppendAsync"/> completes once the event is durable, or fails when the
/// store cannot take it: the caller then refuses what it was about to do (fail closed). It
/// never waits long for that answer: an event waited for is never queued behind the events
/// being retried, it ends the writer's back-off (it gets the outcome of the next write, made
/// at once), and one not taken into a write within <see cref="DurableWait"/> is withdrawn and
/// fails.</item>
/// <item><see cref="Enqueue"/> is for events of something already done (an approval recorded):
/// never lost while the process runs, retried with back-off until the store takes it.</item>
/// </list>
/// The queue is bounded; when it is full, callers wait (back-pressure), nothing is dropped.
/// <code>
/// AppendAsync ─▶ queue (16,384) ─▶ batch ─▶ store ── ok ─▶ durable (first ok after failures:
///   │ wakes a writer                   ▲                     audit.interrupted, first)
///   │ in back-off                      │    └ failed: events waited for are refused, those
///   └ withdrawn if not taken           │      still queued too; the rest are kept to retry
///     within DurableWait               └ retried events first (≤ 16,384), then ≤ 1,024 new
/// </code>
/// <para>
/// The writer runs for the whole life of the host: it starts before any other service (the
/// gateway records its start and the policy it loaded before listening) and drains after every
/// other service has stopped, so requests that finish during shutdown are still recorded.
/// </para>
/// </summary>
internal sealed partial class AuditWriter(IAuditStore store, TimeProvider timeProvider, ILogger<AuditWriter> logger, StoreWriteHealth? health = null)
    : IHostedLifecycleService, IDisposable
{
    public const int Capacity = 16_384;

    /// <summary>How long an event waited for may sit in the queue before its caller is told the
    /// trail is unavailable. A healthy store drains the whole queue in well under a second; an
    /// event taken into a write waits for that write, which the store's own timeouts bound.</summary>
    public static readonly TimeSpan DurableWait = TimeSpan.FromSeconds(10);

    private AppendedHead? _lastAppended;

    /// <summary>The last event this process appended, as it sealed it: what the checkpoint
    /// service compares the stored chain with before it signs.</summary>
    public AppendedHead? LastAppended => Volatile.Read(ref _lastAppended);
    private const int MaxBatch = 1024;

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private readonly CancellationTokenSource _abandon = new();
    private readonly Lock _startLock = new();
    private Task? _loop;

    /// <summary>Set from the first failed write until a write succeeds.</summary>
    private AuditInterruption? _interruption;

    /// <summary>Completed when an event is waited for: ends the writer's back-off.</summary>
    private TaskCompletionSource _waiting = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>An event on its way to the store. One waited for is either taken into a write by
    /// the writer or withdrawn by its caller, never both.</summary>
    private sealed class Pending(AuditEvent auditEvent, TaskCompletionSource<AuditEvent>? durable)
    {
        private const int Queued = 0;
        private const int Taken = 1;
        private const int Withdrawn = 2;
        private int _state;

        public AuditEvent Event { get; } = auditEvent;

        public TaskCompletionSource<AuditEvent>? Durable { get; } = durable;

        /// <summary>False when its caller has withdrawn it: it must not be written.</summary>
        public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Queued) != Withdrawn;

        /// <summary>False when the writer has taken it already.</summary>
        public bool TryWithdraw() => Interlocked.CompareExchange(ref _state, Withdrawn, Queued) == Queued;
    }

    /// <summary>Appends the event and waits until it is durable.</summary>
    public async Task<AuditEvent> AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        using var span = Telemetry.AirlockTracing.Source.StartActivity("airlock.audit.append");
        span?.SetTag("airlock.audit.kind", auditEvent.Kind);
        var pending = new Pending(auditEvent, new TaskCompletionSource<AuditEvent>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            if (!_queue.Writer.TryWrite(pending))
            {
                using var deadline = new CancellationTokenSource(DurableWait, timeProvider);
                using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
                await _queue.Writer.WriteAsync(pending, either.Token);
            }
        }
        catch (ChannelClosedException ex)
        {
            throw new AuditUnavailableException("the audit trail is shut down", ex);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AuditUnavailableException($"the audit trail's queue stayed full for {Configuration.Duration.Format(DurableWait)}");
        }

        // A writer backing off after a failed write tries again now: the caller gets the
        // outcome of one attempt, not a wait for the back-off.
        Volatile.Read(ref _waiting).TrySetResult();
        try
        {
            return await pending.Durable!.Task.WaitAsync(DurableWait, timeProvider, CancellationToken.None);
        }
        catch (TimeoutException) when (pending.TryWithdraw())
        {
            // Never written now: what the caller refuses is not on record as done.
            Volatile.Read(ref _interruption)?.Refuse();
            throw new AuditUnavailableException($"the audit trail did not take the event within {Configuration.Duration.Format(DurableWait)}");
        }
        catch (TimeoutException)
        {
            // The writer has it in a write that is under way: its outcome is the answer.
            return await pending.Durable!.Task;
        }
    }

    /// <summary>Queues the event; it is written as soon as the store takes it.</summary>
    public void Enqueue(AuditEvent auditEvent)
    {
        if (_queue.Writer.TryWrite(new Pending(auditEvent, null)))
        {
            return;
        }

        try
        {
            // Full: wait for room rather than drop. Rare; this call is never on a request's path.
            _queue.Writer.WriteAsync(new Pending(auditEvent, null)).AsTask().GetAwaiter().GetResult();
        }
        catch (ChannelClosedException)
        {
            Log.AfterShutdown(logger, auditEvent.Kind, auditEvent.ReviewId);
        }
    }

    /// <summary>Like <see cref="Enqueue"/>, for a request's path: waits for room without
    /// holding a thread, until <paramref name="cancellationToken"/> fires. False when the event
    /// could not be queued (the queue stayed full, or the trail is shut down).</summary>
    public async ValueTask<bool> EnqueueAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(new Pending(auditEvent, null), cancellationToken);
            return true;
        }
        catch (ChannelClosedException)
        {
            Log.AfterShutdown(logger, auditEvent.Kind, auditEvent.ReviewId);
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Starts writing; safe to call more than once.</summary>
    public void Start()
    {
        lock (_startLock)
        {
            _loop ??= Task.Run(WriteLoopAsync);
        }
    }

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken)
    {
        Start();
        return Task.CompletedTask;
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After every other service has stopped: write what is queued, then end.</summary>
    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => DrainAsync(cancellationToken);

    /// <summary>Refuses new events and writes the queued ones; gives up when the token fires.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        Task? loop;
        lock (_startLock)
        {
            loop = _loop;
        }

        if (loop is null)
        {
            return;
        }

        using var registration = cancellationToken.Register(_abandon.Cancel);
        await loop;
    }

    private async Task WriteLoopAsync()
    {
        var retry = new List<Pending>();
        var delay = FirstRetryDelay;
        var batch = new List<Pending>();
        try
        {
            while (true)
            {
                var interrupted = Volatile.Read(ref _interruption);
                if (retry.Count == 0 && interrupted is null && !await _queue.Reader.WaitToReadAsync(CancellationToken.None))
                {
                    break;
                }

                batch = new List<Pending>(retry.Count + 1);
                // An interruption is recorded before anything written after it.
                AuditEvent? resumed = null;
                long refusedInEvent = 0;
                if (interrupted is not null)
                {
                    resumed = interrupted.ToEvent(timeProvider.GetUtcNow(), out refusedInEvent);
                    batch.Add(new Pending(resumed, null));
                }

                batch.AddRange(retry);
                retry.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
                {
                    if (next.TryTake())
                    {
                        batch.Add(next);
                    }
                }

                if (batch.Count == 0)
                {
                    // Only withdrawn events were queued.
                    continue;
                }

                try
                {
                    var sealedEvents = await store.AppendAuditEventsAsync([.. batch.Select(p => p.Event)], _abandon.Token);
                    health?.Succeeded(StoreWriter.Audit);
                    if (interrupted is not null)
                    {
                        Volatile.Write(ref _interruption, null);
                        Log.Resumed(logger, interrupted.FailedWrites, refusedInEvent, interrupted.Refused - refusedInEvent);
                    }

                    if (sealedEvents.Count > 0)
                    {
                        Volatile.Write(ref _lastAppended, new AppendedHead(sealedEvents[^1].Seq, sealedEvents[^1].Hash));
                    }

                    for (var i = 0; i < batch.Count; i++)
                    {
                        batch[i].Durable?.TrySetResult(sealedEvents[i]);
                    }

                    delay = FirstRetryDelay;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !_abandon.IsCancellationRequested)
                {
                    health?.Failed(StoreWriter.Audit, ex);
                    if (StoreErrors.IsFull(ex))
                    {
                        Log.StoreFull(logger, batch.Count, ex.Message);
                    }
                    else
                    {
                        Log.AppendFailed(logger, ex, batch.Count);
                    }

                    if (interrupted is null)
                    {
                        interrupted = new AuditInterruption(timeProvider.GetUtcNow(), ex);
                        Volatile.Write(ref _interruption, interrupted);
                    }
                    else
                    {
                        interrupted.Failed(ex);
                    }

                    // From here on, an event waited for ends the back-off (those queued before are
                    // answered just below).
                    var waited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    Volatile.Write(ref _waiting, waited);

                    var unavailable = new AuditUnavailableException("the audit trail could not be written", ex);
                    foreach (var pending in batch)
                    {
                        if (pending.Event == resumed)
                        {
                            // Made again, with the counts of then, on the next attempt.
                            continue;
                        }

                        if (pending.Durable is { } waiting)
                        {
                            interrupted.Refuse();
                            waiting.TrySetException(unavailable);
                        }
                        else
                        {
                            retry.Add(pending);
                        }
                    }

                    // What is queued now: events waited for are refused (the store has just
                    // failed), not left behind the retries; the rest join the retries, up to the
                    // queue's size (beyond it, they wait in the queue: back-pressure).
                    while (retry.Count < Capacity && _queue.Reader.TryRead(out var queued))
                    {
                        if (queued.Durable is null)
                        {
                            retry.Add(queued);
                        }
                        else if (queued.TryTake())
                        {
                            interrupted.Refuse();
                            queued.Durable.TrySetException(unavailable);
                        }
                    }

                    if (retry.Count == 0 && _queue.Reader.Completion.IsCompleted)
                    {
                        // Shutting down with nothing left to write but the interruption itself.
                        Log.InterruptionUnrecorded(logger, AuditChain.FormatTime(interrupted.Since), interrupted.Refused);
                        return;
                    }

                    await Task.WhenAny(Task.Delay(delay, timeProvider, _abandon.Token), waited.Task);
                    _abandon.Token.ThrowIfCancellationRequested();
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
        {
            Log.Abandoned(logger, retry.Count + _queue.Reader.Count);
            // Whoever still waits for durability is told it did not happen, rather than left
            // waiting on a writer that has stopped.
            var gone = new AuditUnavailableException("the gateway stopped before the event could be recorded");
            foreach (var pending in batch.Concat(retry))
            {
                pending.Durable?.TrySetException(gone);
            }

            while (_queue.Reader.TryRead(out var queued))
            {
                queued.Durable?.TrySetException(gone);
            }
        }
    }

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    public void Dispose() => _abandon.Dispose();

    private static partial class Log
    {
        [LoggerMessage(6001, LogLevel.Error, "Appending {Count} audit events failed")]
        public static partial void AppendFailed(ILogger logger, Exception exception, int count);

        [LoggerMessage(6004, LogLevel.Critical, "The store is full ({Reason}): {Count} audit events could not be written; requests are refused with 503 audit-unavailable until there is room")]
        public static partial void StoreFull(ILogger logger, int count, string reason);

        [LoggerMessage(6003, LogLevel.Critical, "An audit event ({Kind}, review {ReviewId}) arrived after the audit trail shut down and was not written")]
        public static partial void AfterShutdown(ILogger logger, string kind, Guid? reviewId);

        [LoggerMessage(6002, LogLevel.Critical, "Shutdown timed out with {Count} audit events not written")]
        public static partial void Abandoned(ILogger logger, int count);

        [LoggerMessage(6005, LogLevel.Warning, "The store takes audit writes again after {FailedWrites} failed write(s); audit.interrupted records {Refused} event(s) refused to their callers ({Later} more were refused while it was being written)")]
        public static partial void Resumed(ILogger logger, int failedWrites, long refused, long later);

        [LoggerMessage(6006, LogLevel.Critical, "The gateway stopped while the store refused the audit trail's writes (since {Since}, {Refused} event(s) refused to their callers); the interruption could not be recorded")]
        public static partial void InterruptionUnrecorded(ILogger logger, string since, long refused);
    }
}

/// <summary>An event's position and hash as its writer sealed it.</summary>
internal sealed record AppendedHead(long Seq, string Hash);
