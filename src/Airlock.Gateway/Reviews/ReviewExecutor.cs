using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Forwarding;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Routing;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// Executes approved reviews, each exactly once: whoever wins the store's claim (approved →
/// executing) sends the stored request, nobody else. Two ways in, one way out:
/// <code>
/// held connection still waiting ──────────────────────────┐
///                                                         ├─ claim ─ RunAsync: stored request →
/// caller gone / 202 answered → BackgroundRequest (its own ┘    UpstreamForwarder (YARP) → result stored
///   session, counted and recorded like a live request)
/// </code>
/// Both take the path a live request takes to the upstream (credential injection, guardrails,
/// masking, recording), so what an approved request gets is never a second copy of it.
/// Once claimed, an execution is the gateway's, not the caller's: it runs on the gateway's own
/// cancellation, so a caller that hangs up does not cut the upstream call short, and the
/// upstream's true answer is stored. Only a stopping gateway cancels it, <see cref="ShutdownGrace"/>
/// after it starts stopping; a cancelled execution may have reached the upstream, so it becomes
/// <c>execution-unknown</c> rather than getting an invented result. A crash after the claim
/// leaves the review <c>executing</c>; the maintenance sweep marks it <c>execution-unknown</c>,
/// and it is never run again by itself.
/// </summary>
internal sealed partial class ReviewExecutor(
    IReviewStore store,
    ConnectionCatalog connections,
    UpstreamForwarder forwarder,
    PolicyProvider policies,
    SessionLifecycle lifecycle,
    ReviewService reviews,
    GatewayInstance instance,
    AirlockConfig config,
    AuditTrail audit,
    IHostApplicationLifetime lifetime,
    TimeProvider timeProvider,
    ILogger<ReviewExecutor> logger)
{
    /// <summary>How long executions in flight may still run once the gateway starts stopping.</summary>
    public static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(5);

    /// <summary>The one cancellation executions observe: the gateway stopping, after the grace.</summary>
    private readonly CancellationToken _abandoned = AbandonedOnStop(lifetime, timeProvider);

    private readonly ResiliencePipeline<bool> _recordRetry = BuildRecordRetry(timeProvider, logger);

    private static CancellationToken AbandonedOnStop(IHostApplicationLifetime lifetime, TimeProvider timeProvider)
    {
        var source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        lifetime.ApplicationStopping.Register(() => source.CancelAfter(ShutdownGrace));
        return source.Token;
    }

    /// <summary>Claims an approved review for execution on the connection holding it; false when
    /// another executor already has.</summary>
    public Task<bool> TryClaimAsync(Guid reviewId) =>
        store.TryClaimExecutionAsync(reviewId, instance.Id, timeProvider.GetUtcNow(), CancellationToken.None);

    /// <summary>Executes a review claimed with <see cref="TryClaimAsync"/> on the caller's held
    /// connection: the caller gets the upstream's answer, if it is still there.</summary>
    public async Task ExecuteHeldAsync(HttpContext context, SessionFeature session, Review review)
    {
        Log.Executing(logger, review.Id, "held connection");
        var callerAborted = context.RequestAborted;
        // The agent's body was counted and recorded as it arrived; the stored copy is what goes.
        HeldRequestReplay.Apply(context.Request, review.Request);
        var completed = false;
        using (callerAborted.Register(() => Log.CallerLeftDuringExecution(logger, review.Id)))
        {
            completed = await RunAsync(context, session, review);
        }

        // The caller that got the upstream's failure as a problem already (a 504) keeps it.
        if (!completed && !callerAborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            session.Error = ProblemType.ExecutionUnknown.Name;
            await ProblemWriter.WriteAsync(context, ProblemType.ExecutionUnknown, ExecutionUnknownReason.Describe(UnknownReason(session)), session.Id,
                json => json.WriteString("reviewId", review.Id));
        }
    }

    /// <summary>Executes an approved review nobody holds, if it is still unclaimed: as its own
    /// session, counted, recorded and written like a live request's.</summary>
    public async Task ExecuteInBackgroundAsync(Guid reviewId, CancellationToken cancellationToken)
    {
        var review = await store.GetReviewAsync(reviewId, cancellationToken);
        if (review is not { Status: ReviewStatus.Approved })
        {
            return;
        }

        if (!await store.TryClaimExecutionAsync(review.Id, instance.Id, timeProvider.GetUtcNow(), cancellationToken))
        {
            return;
        }

        Log.Executing(logger, review.Id, "background");
        var (context, session) = BackgroundRequest.Create(review, connections, policies.Current, timeProvider, _abandoned);
        SessionLifecycle.CountBodies(context, session);
        Recording.ExchangeRecorder.Begin(session, context);
        try
        {
            await RunAsync(context, session, review);
        }
        finally
        {
            // Not the span of whatever request happened to set this execution off.
            await lifecycle.EndAsync(context, session, span: null);
        }
    }

    /// <summary>
    /// The one execution of an approved request, whichever connection carries it: the approval
    /// settles the review stage on allow, the request goes through the same forwarding as a live
    /// one on the gateway's cancellation, and the upstream's answer (or that nobody knows what
    /// the upstream did) is recorded on the review. True when the execution completed.
    /// </summary>
    private async Task<bool> RunAsync(HttpContext context, SessionFeature session, Review review)
    {
        context.Features.Set(context.Features.GetRequiredFeature<ReviewFeature>() with { Action = PolicyAction.Allow });
        var callerAborted = context.RequestAborted;
        var body = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        var capture = new ResultCaptureStream(body.Stream, config.Reviews.MaxResultBytes, callerAborted);
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(capture, body));

        // YARP cancels the upstream call when RequestAborted fires; from the claim on, that is
        // the gateway's cancellation, not the caller's hanging up.
        context.RequestAborted = _abandoned;
        var completed = false;
        try
        {
            if (context.Features.Get<RouteFeature>() is null)
            {
                session.Error = ProblemType.UnknownConnection.Name;
                await ProblemWriter.WriteAsync(context, ProblemType.UnknownConnection,
                    $"connection '{review.Request.Connection}' is no longer configured; the approved request could not be sent", session.Id);
                completed = true;
            }
            else
            {
                // An upstream that may have acted without answering (a timeout, a reset after
                // sending) leaves the execution unknown, not executed with the gateway's 504.
                completed = await forwarder.ForwardAsync(context, session) != UpstreamOutcome.Unknown;
            }

            completed &= !_abandoned.IsCancellationRequested;
        }
        finally
        {
            context.RequestAborted = callerAborted;
            if (completed)
            {
                await CompleteAsync(review, capture.ToResult(context.Response, session.Id));
            }
            else
            {
                // Cancelled, or failed in a way that tells nothing of what the upstream did.
                await MarkUnknownAsync(review, UnknownReason(session));
            }
        }

        return completed;
    }

    private async Task CompleteAsync(Review review, ReviewResult result)
    {
        var now = timeProvider.GetUtcNow();
        if (!await TryRecordResultAsync(review.Id, result, now))
        {
            return;
        }

        Log.Executed(logger, review.Id, result.Status);
        audit.Record(audit.ReviewEvent(review, AuditKinds.ReviewExecuted, "executed", null, new Dictionary<string, string>
        {
            ["resultStatus"] = result.Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["executionSessionId"] = result.SessionId.ToString(),
        }));
        await reviews.AnnounceAsync(new Webhooks.ReviewEvent("executed", review with { Status = ReviewStatus.Executed, Result = result, ExecutedAt = now }, now));
    }

    /// <summary>
    /// Records the result, retrying a store that fails (<see cref="_recordRetry"/>). If it never
    /// takes it, the review stays <c>executing</c> and the maintenance sweep turns it into
    /// <c>execution-unknown</c> after <see cref="ReviewMaintenance.StuckAfter"/>; false then, or
    /// when the sweep already has.
    /// </summary>
    private async Task<bool> TryRecordResultAsync(Guid reviewId, ReviewResult result, DateTimeOffset now)
    {
        // A stopping gateway stops retrying (the sweep of a running one takes over), but the
        // first attempt always runs: the execution it records may have finished within
        // ShutdownGrace. Polly starts no attempt once its token is cancelled, so the token is
        // tied to the gateway stopping only once the first attempt has begun.
        using var stopping = new CancellationTokenSource();
        var onStop = default(CancellationTokenRegistration);
        var context = ResilienceContextPool.Shared.Get(stopping.Token);
        context.Properties.Set(ReviewIdKey, reviewId);
        try
        {
            var recorded = await _recordRetry.ExecuteAsync(async _ =>
            {
                if (onStop == default)
                {
                    onStop = lifetime.ApplicationStopping.Register(stopping.Cancel);
                }

                return await store.CompleteExecutionAsync(reviewId, result, now, CancellationToken.None);
            }, context);
            if (recorded)
            {
                return true;
            }

            Log.ResultTooLate(logger, reviewId, result.Status);
            return false;
        }
        catch (Exception ex)
        {
            Log.ResultLost(logger, ex is OperationCanceledException ? null : ex, reviewId, result.Status);
            return false;
        }
        finally
        {
            await onStop.DisposeAsync();
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static readonly ResiliencePropertyKey<Guid> ReviewIdKey = new("airlock.reviewId");

    /// <summary>Pauses between attempts to record a result: a store that failed once (a lock, a
    /// failover) often takes it a moment later.</summary>
    private static readonly TimeSpan[] RecordRetryDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)];

    private static ResiliencePipeline<bool> BuildRecordRetry(TimeProvider timeProvider, ILogger logger) => new ResiliencePipelineBuilder<bool> { TimeProvider = timeProvider }
        .AddRetry(new RetryStrategyOptions<bool>
        {
            MaxRetryAttempts = RecordRetryDelays.Length,
            ShouldHandle = new PredicateBuilder<bool>().Handle<Exception>(ex => ex is not OperationCanceledException),
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(RecordRetryDelays[Math.Min(args.AttemptNumber, RecordRetryDelays.Length - 1)]),
            OnRetry = args =>
            {
                Log.RecordingResultFailed(logger, args.Outcome.Exception!, args.Context.Properties.GetValue(ReviewIdKey, Guid.Empty), args.AttemptNumber + 1);
                return default;
            },
        })
        .Build();

    /// <summary>What cut an execution short, from what the forwarding saw: the gateway stopping
    /// (its cancellation), or the upstream's side (the session's attempts and error).</summary>
    private string UnknownReason(SessionFeature session) =>
        _abandoned.IsCancellationRequested ? ExecutionUnknownReason.GatewayStopped
        : session.UpstreamAttempts?.EndsWith(UpstreamFailure.Closed, StringComparison.Ordinal) == true ? ExecutionUnknownReason.UpstreamClosed
        : session.Error == ProblemType.UpstreamTimeout.Name ? ExecutionUnknownReason.UpstreamTimeout
        : ExecutionUnknownReason.UpstreamError;

    /// <summary>The execution was cut short after it may have reached the upstream: nobody knows
    /// whether the upstream acted, so it is never sent again by itself.</summary>
    private async Task MarkUnknownAsync(Review review, string reason)
    {
        if (!await store.MarkExecutionUnknownAsync(review.Id, instance.Id, reason, CancellationToken.None))
        {
            return;
        }

        Log.ExecutionUnknown(logger, review.Id, reason);
        audit.Record(audit.ReviewEvent(review, AuditKinds.ReviewExecutionUnknown, "execution-unknown", null,
            new Dictionary<string, string> { ["reason"] = reason }));
    }

    private static partial class Log
    {
        [LoggerMessage(5301, LogLevel.Information, "Review {ReviewId}: executing ({Where})")]
        public static partial void Executing(ILogger logger, Guid reviewId, string where);

        [LoggerMessage(5302, LogLevel.Information, "Review {ReviewId}: executed; the upstream answered {Status}")]
        public static partial void Executed(ILogger logger, Guid reviewId, int status);

        [LoggerMessage(5303, LogLevel.Information, "Review {ReviewId}: the caller left during execution; it runs to the end and its result is stored")]
        public static partial void CallerLeftDuringExecution(ILogger logger, Guid reviewId);

        [LoggerMessage(5305, LogLevel.Warning, "Review {ReviewId}: recording its result failed (attempt {Attempt}); retrying")]
        public static partial void RecordingResultFailed(ILogger logger, Exception exception, Guid reviewId, int attempt);

        [LoggerMessage(5306, LogLevel.Error, "Review {ReviewId}: the upstream answered {Status} but the result could not be recorded; the review will become execution-unknown")]
        public static partial void ResultLost(ILogger logger, Exception? exception, Guid reviewId, int status);

        [LoggerMessage(5307, LogLevel.Warning, "Review {ReviewId}: the upstream answered {Status} after the review was given up as execution-unknown; the result is not recorded")]
        public static partial void ResultTooLate(ILogger logger, Guid reviewId, int status);

        [LoggerMessage(5304, LogLevel.Error, "Review {ReviewId}: execution cut short ({Reason}); marked execution-unknown and not run again")]
        public static partial void ExecutionUnknown(ILogger logger, Guid reviewId, string reason);
    }
}
