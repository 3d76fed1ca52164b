using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.Forwarding;

/// <summary>The last stage of the proxy pipeline: forwards the request upstream.</summary>
internal sealed class ForwardingMiddleware(RequestDelegate next, UpstreamForwarder upstream)
{
    // Terminal: `next` is never called, but middleware activation requires it.
    private readonly RequestDelegate _unused = next;

    public Task InvokeAsync(HttpContext context) =>
        upstream.ForwardAsync(context, context.Features.GetRequiredFeature<SessionFeature>());
}
