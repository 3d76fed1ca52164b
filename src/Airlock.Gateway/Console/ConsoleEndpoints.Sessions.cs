using System.Globalization;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Console.Pages;
using Airlock.Gateway.Recording;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Console;

internal static partial class ConsoleEndpoints
{
    /// <summary>The newest sessions (as <c>GET /api/sessions</c> lists them), for auditors and admins.</summary>
    private static async Task<IResult> SessionsAsync(HttpContext context, ISessionStore store, AirlockConfig config, string? connection, string? subject, string? status)
    {
        if (!MayAudit(context))
        {
            return NotAnAuditor(context);
        }

        connection = string.IsNullOrEmpty(connection) ? null : connection;
        subject = string.IsNullOrWhiteSpace(subject) ? null : subject.Trim();
        if (subject is { Length: > 200 })
        {
            subject = subject[..200];
        }

        int? statusCode = null;
        string? problem = null;
        if (!string.IsNullOrWhiteSpace(status))
        {
            if (int.TryParse(status, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 100 and <= 599)
            {
                statusCode = parsed;
            }
            else
            {
                problem = "The status is an HTTP status, 100 to 599; it was left out of the filter.";
            }
        }

        var sessions = await store.ListSessionsAsync(new SessionQuery(100, connection, subject, null, statusCode), context.RequestAborted);
        return ConsolePages.Page<SessionsPage>(new
        {
            Model = new SessionsModel(ConsolePages.Frame(context), sessions, connection, subject, statusCode?.ToString(CultureInfo.InvariantCulture) ?? (problem is null ? null : status),
                [.. config.Connections.Select(c => c.Name)], problem),
        });
    }

    /// <summary>One session and its transcript, for auditors and admins.</summary>
    private static async Task<IResult> SessionAsync(HttpContext context, Guid id, ISessionStore store)
    {
        if (!MayAudit(context))
        {
            return NotAnAuditor(context);
        }

        if (await store.GetSessionAsync(id, context.RequestAborted) is not { } session)
        {
            return ConsolePages.Message(context, StatusCodes.Status404NotFound, "No such session", ["There is no such session."], "/sessions", "Sessions");
        }

        var exchange = await store.GetExchangeAsync(id, context.RequestAborted);
        return ConsolePages.Page<SessionPage>(new
        {
            Model = new SessionModel(ConsolePages.Frame(context), session, Transcript.Format(session, exchange, pretty: true), exchange is not null),
        });
    }
}
