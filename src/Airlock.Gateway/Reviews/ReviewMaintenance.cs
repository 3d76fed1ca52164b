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
/// <item>marks executions whose executor stopped beating, or that have been executing longer
/// than <see cref="StuckAfter"/> (their result could not be recorded), as <c>execution-unknown</c>;</item>
/// <item>beats this instance's heartbeat.</item>
/// </list>
/// Each of these runs on its own: one that fails is logged and retried on the next sweep, and
/// does not keep the others from running.
/// </summary>
internal sealed partial class ReviewMaintenance(
    IReviewStore store,
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

    /// <summary>
    /// An execution still <c>executing</c> this long after its claim is given up as
    /// execution-unknown even though its executor is alive: its result could not be recorded.
    /// Far longer than an upstream call takes, so a slow one is not given up while it runs.
    /// </summary>
    public static readonly TimeSpan StuckAfter = TimeSpan.FromMinutes(15);

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
        await StepAsync("heartbeat", () => store.BeatAsync(instance.Id, now, cancellationToken), cancellationToken);
        await StepAsync("expiry", () => ExpireDueAsync(now, cancellationToken), cancellationToken);
        await StepAsync("abandoned executions", () => GiveUpAbandonedExecutionsAsync(now, cancellationToken), cancellationToken);
        await StepAsync("orphaned approvals", async () =>
        {
            foreach (var id in await store.ListOrphanedApprovalsAsync(now, now - StaleAfter, cancellationToken))
            {
                Track(ExecuteInBackgroundAsync(id, cancellationToken));
            }
        }, cancellationToken);
    }

    private async Task StepAsync(string step, Func<Task> run, CancellationToken cancellationToken)
    {
        try
        {
            await run();
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Log.SweepStepFailed(logger, ex, step);
        }
    }

    private async Task ExpireDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var id in await store.ExpireDueAsync(now, cancellationToken))
        {
            Log.Expired(logger, id);
            await StepAsync($"announcing the expiry of review {id}", async () =>
            {
                if (await store.GetReviewAsync(id, cancellationToken) is { } expired)
                {
                    audit.Record(audit.ReviewEvent(expired, AuditKinds.ReviewExpired, "expired", null));
                    await reviews.AnnounceAsync(new ReviewEvent("expired", expired, now));
                }
            }, cancellationToken);
        }
    }

    private async Task GiveUpAbandonedExecutionsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var id in await store.MarkAbandonedExecutionsAsync(now - StaleAfter, now - StuckAfter, cancellationToken))
        {
            Log.ExecutionUnknown(logger, id);
            await StepAsync($"recording review {id} as execution-unknown", async () =>
            {
                if (await store.GetReviewAsync(id, cancellationToken) is { } unknown)
                {
                    audit.Record(audit.ReviewEvent(unknown, AuditKinds.ReviewExecutionUnknown, "execution-unknown", null,
                        unknown.UnknownReason is { } reason ? new Dictionary<string, string> { ["reason"] = reason } : null));
                }
            }, cancellationToken);
            signals.Signal(id);
        }
    }

    private async Task ExecuteInBackgroundAsync(Guid reviewId, CancellationToken cancellationToken)
    {
        try
        {
            await executor.ExecuteInBackgroundAsync(reviewId, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Log.ExecuteFailed(logger, ex, reviewId);
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

        [LoggerMessage(5502, LogLevel.Error, "Review {ReviewId}: its execution was cut short (its executor stopped, or its result could not be recorded); marked execution-unknown and not run again")]
        public static partial void ExecutionUnknown(ILogger logger, Guid reviewId);

        [LoggerMessage(5503, LogLevel.Error, "Review maintenance failed; retrying on the next sweep")]
        public static partial void SweepFailed(ILogger logger, Exception exception);

        [LoggerMessage(5504, LogLevel.Error, "Review {ReviewId}: background execution failed")]
        public static partial void ExecuteFailed(ILogger logger, Exception exception, Guid reviewId);

        [LoggerMessage(5505, LogLevel.Error, "Review maintenance: {Step} failed; retrying on the next sweep")]
        public static partial void SweepStepFailed(ILogger logger, Exception exception, string step);
    }
}
