using Airlock.Gateway.Errors;
using Airlock.Gateway.Normalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Sessions;

/// <summary>
/// The first stage of the proxy pipeline: gives every request a session id (answered in the
/// <c>Airlock-Session</c> header), counts the bytes both ways, turns an unexpected failure into
/// a 500 problem, and hands the finished session to the <see cref="SessionWriter"/>.
/// </summary>
internal sealed partial class SessionMiddleware(
    RequestDelegate next,
    SessionWriter writer,
    SessionLifecycle lifecycle,
    Audit.RefusalTally refusals,
    Configuration.RecordingQueueConfig queue,
    TimeProvider timeProvider,
    ILogger<SessionMiddleware> logger)
{
    public const string HeaderName = "Airlock-Session";
    public const string ReviewHeaderName = "Airlock-Review";

    public async Task InvokeAsync(HttpContext context)
    {
        var startedAt = timeProvider.GetUtcNow();
        var rawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var queryAt = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var rawPath = queryAt < 0 ? rawTarget : rawTarget[..queryAt];
        // Until normalisation replaces it, the session holds the raw path, escaped: it may hold
        // control characters meant for whoever reads it later in a terminal.
        var session = new SessionFeature(context.Features, Guid.CreateVersion7(startedAt), startedAt, timeProvider.GetTimestamp(),
            context.Request.Method, RequestTargetNormalizer.EscapeForRecord(rawPath, 2048));
        context.Features.Set(session);

        // Set when the response starts, so it survives anything that clears headers before and
        // replaces any Airlock-Session an upstream tried to send.
        context.Response.OnStarting(static state =>
        {
            var ctx = (HttpContext)state;
            var s = ctx.Features.GetRequiredFeature<SessionFeature>();
            ctx.Response.Headers[HeaderName] = s.Id.ToString();
            if (s.ReviewId is { } review)
            {
                ctx.Response.Headers[ReviewHeaderName] = review.ToString();
            }

            return Task.CompletedTask;
        }, context);

        if (queue.RefuseWhenFull && writer.IsFull)
        {
            // Configured to refuse rather than wait: nothing is done that could not be recorded.
            session.Error = ProblemType.RecordingUnavailable.Name;
            refusals.Count(context, session, ProblemType.RecordingUnavailable, "queue-full");
            await ProblemWriter.WriteAsync(context, ProblemType.RecordingUnavailable,
                "the gateway's recording queue is full, so it takes no new requests until the store catches up; try again shortly", session.Id,
                headers: h => h.RetryAfter = "1");
            if (!writer.TryEnqueueRefusal(session.ToRecord(context, timeProvider)))
            {
                Log.RefusalNotRecorded(logger, session.Id);
            }

            return;
        }

        SessionLifecycle.CountBodies(context, session);

        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && Storage.StoreErrors.IsUnavailable(ex))
        {
            // A stage could not read the store (an API key lookup, a review): fail closed, and
            // say it is the store, not a defect, so the agent retries and keeps its credential.
            Log.StoreUnavailable(logger, session.Id, ex.Message);
            session.Error = ProblemType.StoreUnavailable.Name;
            if (session.ReviewId is { } reviewId)
            {
                // Held already: the review stays open and may still be approved and executed, so
                // "not acted on, retry" would invite a second review of the same request.
                await ProblemWriter.WriteAsync(context, ProblemType.StoreUnavailable,
                    "the gateway lost its store while this request was held for review; the review stays open: follow it with GET /api/reviews/{id} instead of sending the request again",
                    session.Id, json => json.WriteString("reviewId", reviewId));
            }
            else if (session.UpstreamStartTimestamp is not null)
            {
                await ProblemWriter.WriteAsync(context, ProblemType.StoreUnavailable,
                    "the gateway lost its store after sending this request upstream; the upstream may have acted on it", session.Id);
            }
            else
            {
                await ProblemWriter.WriteAsync(context, ProblemType.StoreUnavailable,
                    "the gateway cannot reach its store, so it does not act on this request; try again shortly", session.Id,
                    headers: h => h.RetryAfter = "1");
            }
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            Log.Failed(logger, ex, session.Id);
            session.Error = ProblemType.InternalError.Name;
            await ProblemWriter.WriteAsync(context, ProblemType.InternalError, "the gateway failed to handle this request; the session id identifies it in the logs", session.Id);
        }
        finally
        {
            await lifecycle.EndAsync(context, session, System.Diagnostics.Activity.Current);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1000, LogLevel.Error, "Session {SessionId}: unexpected failure")]
        public static partial void Failed(ILogger logger, Exception exception, Guid sessionId);

        [LoggerMessage(1002, LogLevel.Error, "Session {SessionId}: refused with 503 because the store is unavailable: {Reason}")]
        public static partial void StoreUnavailable(ILogger logger, Guid sessionId, string reason);

        [LoggerMessage(1003, LogLevel.Warning, "Session {SessionId}: refused because the recording queue is full; its own record did not fit either")]
        public static partial void RefusalNotRecorded(ILogger logger, Guid sessionId);
    }
}
