using System.Net;
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

namespace Airlock.Gateway.Reviews;

/// <summary>
/// Executes approved reviews, each exactly once: whoever wins the store's claim (approved →
/// executing) sends the stored request, nobody else. Two ways in, one way out:
/// <code>
/// held connection still waiting ──┐
///                                 ├─ claim ─ stored request → UpstreamForwarder (YARP) ─ result stored
/// caller gone / 202 answered ─────┘          (same transforms, same credential injection)
///   (the gateway, in the background)
/// </code>
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
    SessionWriter sessions,
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
        // Sent now because it was approved: the review stage settles on allow, and the session
        // records that, as a background execution's does.
        context.Features.Set(context.Features.GetRequiredFeature<ReviewFeature>() with { Action = PolicyAction.Allow });
        Apply(context.Request, review.Request);
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
            using (callerAborted.Register(() => Log.CallerLeftDuringExecution(logger, review.Id)))
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

        // The caller that got the upstream's failure as a problem already (a 504) keeps it.
        if (!completed && !callerAborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            session.Error = ProblemType.ExecutionUnknown.Name;
            await ProblemWriter.WriteAsync(context, ProblemType.ExecutionUnknown, ExecutionUnknownReason.Describe(UnknownReason(session)), session.Id,
                json => json.WriteString("reviewId", review.Id));
        }
    }

    /// <summary>Executes an approved review nobody holds, if it is still unclaimed.</summary>
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
        var startedAt = timeProvider.GetUtcNow();
        var context = new DefaultHttpContext { RequestAborted = _abandoned };
        var held = review.Request;
        var session = new SessionFeature(context.Features, Guid.CreateVersion7(startedAt), startedAt, timeProvider.GetTimestamp(), held.Method, held.Path)
        {
            Query = held.Query,
        };
        context.Features.Set(session);
        // The stages that ran when the request was held are not run again: their features are
        // rebuilt from what the review stored.
        context.Features.Set(new Identity.CallerFeature(review.Requester));
        context.Features.Set(new ReviewFeature { ReviewId = review.Id, Action = PolicyAction.Allow });
        context.Request.Scheme = "http";
        context.Request.Protocol = "HTTP/1.1";
        context.Request.Host = new HostString("airlock");
        context.Connection.RemoteIpAddress = IPAddress.TryParse(held.ClientAddress, out var client) ? client : null;
        Apply(context.Request, held);
        context.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(held.Body.Length > 0));
        var capture = new ResultCaptureStream(Stream.Null, config.Reviews.MaxResultBytes);
        context.Response.Body = capture;

        var completed = false;
        try
        {
            if (RouteFeature.TryResolve(connections, held.Path, out var route))
            {
                context.Features.Set(route);
                var policy = policies.Current;
                var facts = new RequestFacts(review.Requester, held.Connection, held.Method, held.Path, held.Query, context.Request.Headers);
                // The policy sent it to review under this rule (the rule as it is now: what it
                // masks); the approval above makes it an allow.
                context.Features.Set(new DecisionFeature(
                    new PolicyDecision(PolicyAction.Review, policy.Rules.FirstOrDefault(r => r.Name == review.Rule) ?? RuleGone(review.Rule), review.PolicyVersion),
                    policy.GuardrailsFor(facts)));
                completed = await forwarder.ForwardAsync(context, session) != UpstreamOutcome.Unknown;
            }
            else
            {
                session.Error = ProblemType.UnknownConnection.Name;
                await ProblemWriter.WriteAsync(context, ProblemType.UnknownConnection,
                    $"connection '{held.Connection}' is no longer configured; the approved request could not be sent", session.Id);
                completed = true;
            }

            completed &= !_abandoned.IsCancellationRequested;
        }
        finally
        {
            session.RequestBytes = held.Body.Length;
            session.ResponseBytes = capture.Written;
            if (completed)
            {
                await CompleteAsync(review, capture.ToResult(context.Response, session.Id));
            }
            else
            {
                await MarkUnknownAsync(review, UnknownReason(session));
            }
        }

        await sessions.EnqueueAsync(session.ToRecord(context, timeProvider), CancellationToken.None);
    }

    /// <summary>
    /// Stands in for the rule that held a request when a policy reload has removed or renamed it
    /// before the approved request runs: what that rule masked is no longer known, so every
    /// detector redacts its result (fail closed), on top of the connection's masking.
    /// </summary>
    private static PolicyRule RuleGone(string name) => new()
    {
        Name = name,
        Index = -1,
        Line = 0,
        Action = PolicyAction.Review,
        Conditions = [],
        Mask = Masking.MaskingPlan.EveryDetector,
    };

    /// <summary>Pauses between attempts to record a result: a store that failed once (a lock, a
    /// failover) often takes it a moment later.</summary>
    private static readonly TimeSpan[] CompleteRetryDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)];

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
    /// Records the result, retrying a store that fails. If it never takes it, the review stays
    /// <c>executing</c> and the maintenance sweep turns it into <c>execution-unknown</c> after
    /// <see cref="ReviewMaintenance.StuckAfter"/>; false then, or when the sweep already has.
    /// </summary>
    private async Task<bool> TryRecordResultAsync(Guid reviewId, ReviewResult result, DateTimeOffset now)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (await store.CompleteExecutionAsync(reviewId, result, now, CancellationToken.None))
                {
                    return true;
                }

                Log.ResultTooLate(logger, reviewId, result.Status);
                return false;
            }
            catch (Exception ex) when (attempt < CompleteRetryDelays.Length)
            {
                Log.RecordingResultFailed(logger, ex, reviewId, attempt + 1);
            }
            catch (Exception ex)
            {
                Log.ResultLost(logger, ex, reviewId, result.Status);
                return false;
            }

            try
            {
                // A stopping gateway stops retrying; the sweep of a running one takes over.
                await Task.Delay(CompleteRetryDelays[attempt], timeProvider, lifetime.ApplicationStopping);
            }
            catch (OperationCanceledException)
            {
                Log.ResultLost(logger, null, reviewId, result.Status);
                return false;
            }
        }
    }

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

    /// <summary>Puts the approved request (headers and body exactly as stored) on the request
    /// that will be forwarded.</summary>
    private static void Apply(HttpRequest request, HeldRequest held)
    {
        request.Method = held.Method;
        request.Headers.Clear();
        foreach (var (name, value) in held.Headers)
        {
            request.Headers.Append(name, value);
        }

        request.ContentLength = held.Body.Length > 0 || held.Method is "POST" or "PUT" or "PATCH" ? held.Body.Length : null;
        request.Body = new MemoryStream(held.Body, writable: false);
    }

    private sealed class BodyDetection(bool canHaveBody) : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody { get; } = canHaveBody;
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
