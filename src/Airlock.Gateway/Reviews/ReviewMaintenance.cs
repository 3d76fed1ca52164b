using Airlock.Gateway.Audit;
using Airlock.Gateway.Reviews.Webhooks;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// Keeps reviews moving when nobody is waiting on them:
/// <list type="bullet">
/// <item>expires pending reviews whose time is up (and tells holders and webhooks);</item>
/// <item>executes approved reviews no live holder will execute: right away when an approval
/// is announced and no request waits on it here, and on every sweep (a holder that crashed);</item>
/// <item>marks executions whose executor stopped beating as <c>execution-unknown</c>;</item>
/// <item>beats this instance's heartbeat.</item>
/// </list>
/// </summary>
public sealed partial class ReviewMaintenance(
    IAirlockStore store,
    ReviewSignals signals,
    ReviewExecutor executor,
    ReviewService reviews,
    GatewayInstance instance,
    AuditTrail audit,
    TimeProvider timeProvider,
    ILogger<ReviewMaintenance> logger) : BackgroundService
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    /// <summary>An instance silent this long is taken for dead.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(30);

    private readonly List<Task> _inFlight = [];

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.BeatAsync(instance.Id, timeProvider.GetUtcNow(), cancellationToken);
        signals.Changed += OnChanged;
        await base.StartAsync(cancellationToken);
    }

    private void OnChanged(Guid reviewId, bool waitedHere)
    {
        // A request held here executes its own approval; otherwise this may be an orphan.
        if (!waitedHere)
        {
            Track(ExecuteIfOrphanedAsync(reviewId));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval, timeProvider);
        try
        {
            do
            {
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    Log.SweepFailed(logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass: heartbeat, expiries, abandoned executions, orphaned approvals.</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        await store.BeatAsync(instance.Id, now, cancellationToken);
        foreach (var id in await store.ExpireDueAsync(now, cancellationToken))
        {
            Log.Expired(logger, id);
            if (await store.GetReviewAsync(id, cancellationToken) is { } expired)
            {
                audit.Record(audit.ReviewEvent(expired, AuditKinds.ReviewExpired, "expired", null));
                await reviews.AnnounceAsync(new ReviewEvent("expired", expired, now), cancellationToken);
            }
        }

        foreach (var id in await store.MarkAbandonedExecutionsAsync(now - StaleAfter, cancellationToken))
        {
            Log.ExecutionUnknown(logger, id);
            if (await store.GetReviewAsync(id, cancellationToken) is { } unknown)
            {
                audit.Record(audit.ReviewEvent(unknown, AuditKinds.ReviewExecutionUnknown, "execution-unknown", null));
            }

            signals.Signal(id);
        }

        foreach (var id in await store.ListOrphanedApprovalsAsync(now, now - StaleAfter, cancellationToken))
        {
            Track(executor.ExecuteInBackgroundAsync(id, cancellationToken));
        }
    }

    private async Task ExecuteIfOrphanedAsync(Guid reviewId)
    {
        try
        {
            var now = timeProvider.GetUtcNow();
            var orphans = await store.ListOrphanedApprovalsAsync(now, now - StaleAfter, CancellationToken.None);
            if (orphans.Contains(reviewId))
            {
                await executor.ExecuteInBackgroundAsync(reviewId, CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            Log.ExecuteFailed(logger, ex, reviewId);
        }
    }

    private void Track(Task task)
    {
        lock (_inFlight)
        {
            _inFlight.RemoveAll(t => t.IsCompleted);
            _inFlight.Add(task);
        }
    }

    /// <summary>Waits for background executions started so far (tests and shutdown).</summary>
    public Task IdleAsync()
    {
        lock (_inFlight)
        {
            return Task.WhenAll(_inFlight.ToArray());
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        signals.Changed -= OnChanged;
        await base.StopAsync(cancellationToken);
        await IdleAsync().WaitAsync(cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(5501, LogLevel.Information, "Review {ReviewId} expired without a decision")]
        public static partial void Expired(ILogger logger, Guid reviewId);

        [LoggerMessage(5502, LogLevel.Error, "Review {ReviewId}: its executor stopped mid-execution; marked execution-unknown and not run again")]
        public static partial void ExecutionUnknown(ILogger logger, Guid reviewId);

        [LoggerMessage(5503, LogLevel.Error, "Review maintenance failed; retrying on the next sweep")]
        public static partial void SweepFailed(ILogger logger, Exception exception);

        [LoggerMessage(5504, LogLevel.Error, "Review {ReviewId}: background execution failed")]
        public static partial void ExecuteFailed(ILogger logger, Exception exception, Guid reviewId);
    }
}
