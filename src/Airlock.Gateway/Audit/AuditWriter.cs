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
/// store cannot take it: the caller then refuses what it was about to do (fail closed).</item>
/// <item><see cref="Enqueue"/> is for events of something already done (an approval recorded):
/// never lost while the process runs, retried with back-off until the store takes it.</item>
/// </list>
/// The queue is bounded; when it is full, callers wait (back-pressure), nothing is dropped.
/// <para>
/// The writer runs for the whole life of the host: it starts before any other service (the
/// gateway records its start and the policy it loaded before listening) and drains after every
/// other service has stopped, so requests that finish during shutdown are still recorded.
/// </para>
/// </summary>
public sealed partial class AuditWriter(IAuditStore store, TimeProvider timeProvider, ILogger<AuditWriter> logger, StoreWriteHealth? health = null)
    : IHostedLifecycleService, IDisposable
{
    public const int Capacity = 16_384;

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

    private sealed record Pending(AuditEvent Event, TaskCompletionSource<AuditEvent>? Durable);

    /// <summary>Appends the event and waits until it is durable.</summary>
    public async Task<AuditEvent> AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        using var span = Telemetry.AirlockTracing.Source.StartActivity("airlock.audit.append");
        span?.SetTag("airlock.audit.kind", auditEvent.Kind);
        var durable = new TaskCompletionSource<AuditEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await _queue.Writer.WriteAsync(new Pending(auditEvent, durable), cancellationToken);
        }
        catch (ChannelClosedException ex)
        {
            throw new AuditUnavailableException("the audit trail is shut down", ex);
        }

        return await durable.Task;
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
    /// holding a thread.</summary>
    public async ValueTask EnqueueAsync(AuditEvent auditEvent)
    {
        try
        {
            await _queue.Writer.WriteAsync(new Pending(auditEvent, null));
        }
        catch (ChannelClosedException)
        {
            Log.AfterShutdown(logger, auditEvent.Kind, auditEvent.ReviewId);
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
        var delay = TimeSpan.FromMilliseconds(100);
        var batch = new List<Pending>();
        try
        {
            while (retry.Count > 0 || await _queue.Reader.WaitToReadAsync(CancellationToken.None))
            {
                batch = new List<Pending>(retry);
                retry.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                try
                {
                    var sealedEvents = await store.AppendAuditEventsAsync([.. batch.Select(p => p.Event)], _abandon.Token);
                    health?.Succeeded();
                    if (sealedEvents.Count > 0)
                    {
                        Volatile.Write(ref _lastAppended, new AppendedHead(sealedEvents[^1].Seq, sealedEvents[^1].Hash));
                    }

                    for (var i = 0; i < batch.Count; i++)
                    {
                        batch[i].Durable?.TrySetResult(sealedEvents[i]);
                    }

                    delay = TimeSpan.FromMilliseconds(100);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !_abandon.IsCancellationRequested)
                {
                    health?.Failed(ex);
                    if (StoreErrors.IsFull(ex))
                    {
                        Log.StoreFull(logger, batch.Count, ex.Message);
                    }
                    else
                    {
                        Log.AppendFailed(logger, ex, batch.Count);
                    }

                    foreach (var pending in batch)
                    {
                        if (pending.Durable is { } waiting)
                        {
                            waiting.TrySetException(new AuditUnavailableException("the audit trail could not be written", ex));
                        }
                        else
                        {
                            retry.Add(pending);
                        }
                    }

                    if (retry.Count > 0)
                    {
                        await Task.Delay(delay, timeProvider, _abandon.Token);
                        delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                    }
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
    }
}

/// <summary>An event's position and hash as its writer sealed it.</summary>
public sealed record AppendedHead(long Seq, string Hash);
