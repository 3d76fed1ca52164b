using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.Recording;

/// <summary>
/// Right after routing (the connection decides what is recorded) and before anything reads the
/// body: starts capturing the exchange. The session writer stores it with the session.
/// </summary>
internal sealed class RecordingMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        ExchangeRecorder.Begin(context.Features.GetRequiredFeature<SessionFeature>(), context);
        return next(context);
    }
}
