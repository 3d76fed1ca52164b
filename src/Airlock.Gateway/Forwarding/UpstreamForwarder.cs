using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Airlock.Gateway.Forwarding;

/// <summary>
/// Sends a request upstream with YARP and turns a forwarding failure into a problem answer:
/// 504 when the upstream went silent past the connection's response timeout, 502 when it could
/// not be reached or answered badly. One path for every request that reaches an upstream: a
/// live one, a held one executed on approval, or one the gateway executes in the background.
/// </summary>
internal sealed partial class UpstreamForwarder(
    IHttpForwarder forwarder,
    UpstreamRequestTransformer transformer,
    Audit.AuditTrail audit,
    TimeProvider timeProvider,
    ILogger<UpstreamForwarder> logger)
{
    public async Task<UpstreamOutcome> ForwardAsync(HttpContext context, SessionFeature session)
    {
        var route = context.Features.GetRequiredFeature<Routing.RouteFeature>().Connection;
        var error = await forwarder.SendAsync(context, route.DestinationPrefix, route.Client, route.RequestConfig, transformer);
        session.UpstreamEndTimestamp = timeProvider.GetTimestamp();
        if (error == ForwarderError.None)
        {
            return UpstreamOutcome.Answered;
        }

        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        // Not sent only when no attempt got past connecting: after a retry, the last attempt's
        // refused connection says nothing of the earlier one that may have reached the upstream.
        var notSent = error == ForwarderError.Request && UpstreamFailure.NeverConnected(exception) && !session.UpstreamMayHaveReceived;
        var outcome = notSent ? UpstreamOutcome.NotSent : UpstreamOutcome.Unknown;
        Log.ForwardingFailed(logger, session.Id, route.Name, error, exception?.GetType().Name, (exception as HttpRequestException)?.HttpRequestError,
            session.UpstreamAttempts);
        var (type, detail) = error switch
        {
            ForwarderError.RequestTimedOut => (ProblemType.UpstreamTimeout,
                $"the upstream did not answer within the connection's response timeout ({Configuration.Duration.Format(route.Config.ResponseTimeout)})"),
            // Both reach YARP as a failed request: tell "never connected" from "connected, then
            // reset, closed or answered with something that is not HTTP" (docs/errors.md).
            ForwarderError.Request when notSent => (ProblemType.UpstreamUnreachable,
                "the upstream could not be reached (name resolution, connection or TLS failed); nothing was sent"),
            ForwarderError.Request when session.UpstreamMayHaveReceived && UpstreamFailure.NeverConnected(exception) => (ProblemType.UpstreamError,
                "the upstream closed the connection without answering, then could not be reached again; the request was sent and may have reached it"),
            ForwarderError.Request when UpstreamFailure.ClosedWithoutAnswer(exception) => (ProblemType.UpstreamError,
                "the upstream closed the connection without answering; the request was sent and may have reached it"),
            ForwarderError.Request => (ProblemType.UpstreamError,
                "the upstream reset the connection or answered with something that is not valid HTTP; the request was sent and may have reached it"),
            // A read from the upstream cancelled: YARP's activity timeout fired, the upstream went
            // silent mid-response (the session must say so). YARP may already have aborted the
            // agent's connection by now, so RequestAborted cannot tell; "Destination" can: an
            // agent that leaves is reported as ResponseBodyClient or ResponseBodyCanceled.
            ForwarderError.ResponseBodyDestination when exception is OperationCanceledException => (ProblemType.UpstreamTimeout, SilentMidResponse(route)),
            ForwarderError.ResponseBodyCanceled when !context.RequestAborted.IsCancellationRequested => (ProblemType.UpstreamTimeout, SilentMidResponse(route)),
            ForwarderError.RequestBodyClient when TooLarge(exception) => (ProblemType.BodyTooLarge,
                $"the request body is over the gateway's limit of {Hosting.ServerLimits.MaxRequestBodyBytes / (1024 * 1024)} MiB"),
            // RequestBodyCanceled: YARP's name when the client's body failed while the copy was
            // being cancelled (a client that went away mid-body); the failure is still the client's.
            ForwarderError.RequestBodyClient or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled =>
                (ProblemType.RequestBodyError, "the request body could not be read from the client"),
            _ => (ProblemType.UpstreamError, "the upstream's response could not be relayed"),
        };

        // A stage that failed the body on purpose (masking) has said why already.
        session.Error ??= type.Name;
        if (session.Error == ProblemType.ResponseNotMaskable.Name && !session.ResponseBlockRecorded)
        {
            // Masking failed mid-stream: the agent got the start, the rest was withheld.
            await audit.RecordResponseBlockedAsync(session, ProblemType.ResponseNotMaskable, null, context.Response.StatusCode, partial: true);
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            return outcome;
        }

        // Once the upstream's response has started, the status is sent and cannot change: the
        // writer aborts the connection so the client sees a broken response, not a short one.
        await ProblemWriter.WriteAsync(context, type, detail, session.Id);
        return outcome;
    }

    private static string SilentMidResponse(Routing.ConnectionRoute route) =>
        $"the upstream went silent mid-response for longer than the connection's response timeout ({Configuration.Duration.Format(route.Config.ResponseTimeout)})";

    private static bool TooLarge(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(3001, LogLevel.Warning, "Session {SessionId}: forwarding to connection {Connection} failed: {Error} ({Exception} {HttpRequestError}); attempts: {Attempts}")]
        public static partial void ForwardingFailed(ILogger logger, Guid sessionId, string connection, ForwarderError error, string? exception, HttpRequestError? httpRequestError,
            string? attempts);
    }
}
