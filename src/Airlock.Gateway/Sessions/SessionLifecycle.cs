using System.Diagnostics;
using Airlock.Gateway.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.Sessions;

/// <summary>
/// How a session begins counting and how it ends, for every session whoever runs it:
/// <see cref="SessionMiddleware"/> for a request an agent sent, and
/// <see cref="Reviews.ReviewExecutor"/> for an approved request the gateway sends in the
/// background. Both get the same byte counts, the same recorded exchange (the counting streams
/// feed it) and the same record, metrics and trace tags when they end.
/// </summary>
internal sealed class SessionLifecycle(SessionWriter writer, AirlockMetrics metrics, TimeProvider timeProvider)
{
    /// <summary>Puts the counting streams on both bodies: what passes through them is the
    /// session's byte counts, and the recording when its connection records bodies.</summary>
    public static void CountBodies(HttpContext context, SessionFeature session)
    {
        context.Request.Body = new CountingStream(context.Request.Body, session, context.Features, countsRequest: true);
        var responseBody = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        context.Features.Set<IHttpResponseBodyFeature>(
            new StreamResponseBodyFeature(new CountingStream(responseBody.Stream, session, context.Features, countsRequest: false), responseBody));
    }

    /// <summary>Hands the finished session to the writer (waiting for room when its queue is
    /// full: a record is never dropped), counts it, and tags the request's span with it.</summary>
    public ValueTask EndAsync(HttpContext context, SessionFeature session, Activity? span)
    {
        var record = session.ToRecord(context, timeProvider);
        metrics.RequestEnded(record, session.Masked);
        AirlockTracing.Describe(span, record);
        return writer.EnqueueAsync(record, CancellationToken.None);
    }
}
