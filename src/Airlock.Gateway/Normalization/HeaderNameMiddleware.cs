using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.Normalization;

/// <summary>
/// A request header whose name has a character other than a letter, a digit or '-' has two
/// readings: CGI-style upstreams (WSGI, PHP, CGI; Apache before 2.4 for every such character)
/// turn it into the same <c>HTTP_X_REMOTE_USER</c> variable as <c>X-Remote-User</c>, which the
/// gateway strips as an identity claim and policy compares by its dashed name. Such headers are
/// dropped, as nginx drops them by default (<c>underscores_in_headers off</c>,
/// <c>ignore_invalid_headers on</c>), or, on a connection that says <c>headersWithUnderscores:
/// refuse</c>, the request is refused with 400. Runs after routing (the choice is the
/// connection's) and recording (the record keeps what the agent sent), before policy.
/// </summary>
internal sealed class HeaderNameMiddleware(RequestDelegate next, AuditTrail audit)
{
    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        List<string>? odd = null;
        foreach (var header in headers)
        {
            if (!IsPlainName(header.Key))
            {
                (odd ??= []).Add(header.Key);
            }
        }

        if (odd is null)
        {
            return next(context);
        }

        var session = context.Features.GetRequiredFeature<SessionFeature>();
        if (context.Features.GetRequiredFeature<Routing.RouteFeature>().Connection.Config.HeadersWithUnderscores == OddHeaderNames.Refuse)
        {
            return RefuseAsync(context, session, odd[0]);
        }

        foreach (var name in odd)
        {
            headers.Remove(name);
        }

        return next(context);
    }

    private async Task RefuseAsync(HttpContext context, SessionFeature session, string header)
    {
        session.Error = ProblemType.AmbiguousHeaderName.Name;
        // A known caller's refusal before policy is on the trail, as an unknown connection is.
        await audit.RecordRefusalAsync(session, ProblemType.AmbiguousHeaderName);
        await ProblemWriter.WriteAsync(context, ProblemType.AmbiguousHeaderName,
            $"the header '{header}' has a character other than letters, digits and '-' in its name, which some upstreams read as another header's ('_' as '-'); this connection refuses such headers",
            session.Id, json => json.WriteString("header", header));
    }

    private static bool IsPlainName(string name)
    {
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-')
            {
                return false;
            }
        }

        return true;
    }
}
