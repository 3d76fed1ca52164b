using System.Globalization;
using System.Text;
using System.Text.Json;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Gateway.Admin;

/// <summary>
/// Sessions and their recordings on the admin API, for admins and auditors:
/// <code>
/// GET /api/sessions?connection=&amp;subject=&amp;since=&amp;status=&amp;limit=   newest first
/// GET /api/sessions/{id}                                     the session and its recorded exchange
/// GET /api/sessions/{id}/response                            the response body as the agent got it
/// </code>
/// </summary>
internal static class SessionEndpoints
{
    public static IEndpointRouteBuilder MapSessionApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/sessions", ListAsync).RequireRoles(AdminRoles.Admin | AdminRoles.Auditor);
        endpoints.MapGet("/api/sessions/{id:guid}", GetAsync).RequireRoles(AdminRoles.Admin | AdminRoles.Auditor);
        endpoints.MapGet("/api/sessions/{id:guid}/response", ResponseAsync).RequireRoles(AdminRoles.Admin | AdminRoles.Auditor);
        return endpoints;
    }

    private static async Task ListAsync(HttpContext context, ISessionStore store)
    {
        var query = context.Request.Query;
        foreach (var key in query.Keys)
        {
            if (key is not ("connection" or "subject" or "since" or "status" or "limit"))
            {
                await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, $"unknown parameter '{key}'; the filters are connection, subject, since, status and limit");
                return;
            }
        }

        DateTimeOffset? since = null;
        if (query["since"] is { Count: > 0 } sinceText)
        {
            if (!Configuration.IsoTime.TryParse(sinceText, out var parsed))
            {
                await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, "since is an ISO 8601 time, e.g. 2026-11-01T09:00:00Z");
                return;
            }

            since = parsed;
        }

        int? status = null;
        var limit = 50;
        if ((query["status"] is { Count: > 0 } s && !(int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var st) && st is >= 100 and <= 599 && (status = st) is not null))
            || (query["limit"] is { Count: > 0 } l && !(int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= 1000)))
        {
            await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, "status is an HTTP status (100-599); limit is 1 to 1000");
            return;
        }

        var sessions = await store.ListSessionsAsync(new SessionQuery(limit, query["connection"].LastOrDefault(), query["subject"].LastOrDefault(), since, status), context.RequestAborted);
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartArray();
        foreach (var session in sessions)
        {
            Write(json, session);
        }

        json.WriteEndArray();
        await json.FlushAsync(context.RequestAborted);
    }

    private static async Task GetAsync(HttpContext context, Guid id, ISessionStore store)
    {
        if (await store.GetSessionAsync(id, context.RequestAborted) is not { } session)
        {
            await ProblemWriter.WriteAsync(context, ProblemType.NotFound, "no such session");
            return;
        }

        var exchange = await store.GetExchangeAsync(id, context.RequestAborted);
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WritePropertyName("session");
        Write(json, session);
        if (exchange is null)
        {
            json.WriteNull("exchange");
        }
        else
        {
            json.WriteStartObject("exchange");
            json.WriteString("query", exchange.Query);
            Part(json, "request", exchange.RequestHeaders, exchange.RequestBody, exchange.RequestTruncated);
            Part(json, "response", exchange.ResponseHeaders, exchange.ResponseBody, exchange.ResponseTruncated);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    private static async Task ResponseAsync(HttpContext context, Guid id, ISessionStore store)
    {
        if (await store.GetExchangeAsync(id, context.RequestAborted) is not { } exchange)
        {
            await ProblemWriter.WriteAsync(context, ProblemType.NotFound, "no recorded response for that session (none, metadata only, or past its retention)");
            return;
        }

        var type = exchange.ResponseHeaders.FirstOrDefault(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Value;
        context.Response.ContentType = type ?? "application/octet-stream";
        context.Response.Headers["Airlock-Truncated"] = exchange.ResponseTruncated ? "true" : "false";
        // A recorded body is evidence to read, never a page to run in the admin's browser.
        context.Response.Headers.ContentSecurityPolicy = "sandbox";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        await context.Response.Body.WriteAsync(exchange.ResponseBody, context.RequestAborted);
    }

    private static void Part(Utf8JsonWriter json, string name, IEnumerable<KeyValuePair<string, string>> headers, byte[] body, bool truncated)
    {
        json.WriteStartObject(name);
        json.WriteStartArray("headers");
        foreach (var (key, value) in headers)
        {
            json.WriteStartArray();
            json.WriteStringValue(key);
            json.WriteStringValue(value);
            json.WriteEndArray();
        }

        json.WriteEndArray();
        try
        {
            json.WriteString("body", new UTF8Encoding(false, true).GetString(body));
        }
        catch (DecoderFallbackException)
        {
            json.WriteString("bodyBase64", Convert.ToBase64String(body));
        }

        json.WriteBoolean("truncated", truncated);
        json.WriteEndObject();
    }

    private static void Write(Utf8JsonWriter json, SessionRecord s)
    {
        json.WriteStartObject();
        json.WriteString("id", s.Id);
        json.WriteString("startedAt", s.StartedAt);
        json.WriteNumber("durationMs", Math.Round(s.Duration.TotalMilliseconds, 3));
        json.WriteString("method", s.Method);
        json.WriteString("path", s.Path);
        json.WriteNumber("status", s.Status);
        json.WriteString("connection", s.Connection);
        json.WriteString("subject", s.Subject);
        json.WriteString("authMethod", s.AuthMethod);
        json.WriteString("decision", s.Decision);
        json.WriteString("outcome", SessionOutcome.Of(s));
        json.WriteString("rule", s.Rule);
        json.WriteString("policyVersion", s.PolicyVersion);
        json.WriteString("reviewId", s.ReviewId?.ToString());
        json.WriteString("grantId", s.GrantId?.ToString());
        json.WriteString("error", s.Error);
        json.WriteString("upstreamAttempts", s.UpstreamAttempts);
        json.WriteNumber("requestBytes", s.RequestBytes);
        json.WriteNumber("responseBytes", s.ResponseBytes);
        json.WriteNumber("masked", s.Masked);
        if (s.MaskedTypes is { } types)
        {
            json.WritePropertyName("maskedTypes");
            json.WriteRawValue(types);
        }
        else
        {
            json.WriteNull("maskedTypes");
        }

        json.WriteEndObject();
    }
}
