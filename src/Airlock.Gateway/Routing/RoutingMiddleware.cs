using Airlock.Gateway.Audit;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.Routing;

/// <summary>
/// Routes <c>/{connection}/{**path}</c>: the first segment of the normalised path names the
/// connection, the rest is the path sent upstream. An unknown connection is answered 404, once
/// the refusal is on the audit trail (the caller is known by now).
/// </summary>
internal sealed class RoutingMiddleware(RequestDelegate next, ConnectionCatalog connections, AuditTrail audit)
{
    public Task InvokeAsync(HttpContext context)
    {
        var session = context.Features.GetRequiredFeature<SessionFeature>();
        if (!RouteFeature.TryResolve(connections, session.Path, out var route))
        {
            // "//x" and "/" name no connection at all; anything else names one not configured.
            return RefuseAsync(context, session, noName: session.Path.Length < 2 || session.Path[1] == '/');
        }

        context.Features.Set(route);
        return next(context);
    }

    private async Task RefuseAsync(HttpContext context, SessionFeature session, bool noName)
    {
        session.Error = ProblemType.UnknownConnection.Name;
        await audit.RecordRefusalAsync(session, ProblemType.UnknownConnection);
        await ProblemWriter.WriteAsync(context, ProblemType.UnknownConnection,
            noName ? "call /{connection}/{path}; the path names no connection" : "no connection with that name is configured",
            session.Id);
    }
}
