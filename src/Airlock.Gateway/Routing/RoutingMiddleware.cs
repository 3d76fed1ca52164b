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
public sealed class RoutingMiddleware(RequestDelegate next, ConnectionCatalog connections, AuditTrail audit)
{
    public Task InvokeAsync(HttpContext context)
    {
        var session = context.Features.GetRequiredFeature<SessionFeature>();
        var path = session.Path.AsSpan(1);
        var slash = path.IndexOf('/');
        var name = slash < 0 ? path : path[..slash];
        ConnectionRoute? route = null;
        if (name.IsEmpty || !connections.TryGet(name, out route))
        {
            return RefuseAsync(context, session, name.IsEmpty);
        }

        session.Connection = route;
        session.UpstreamPath = slash < 0 ? "" : session.Path[(slash + 1)..];
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
