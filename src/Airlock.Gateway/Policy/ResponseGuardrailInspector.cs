using System.Text;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Policy;

/// <summary>
/// Applies response guardrails before any byte of the upstream's response reaches the agent.
/// Status and content type are checked from the headers; a guardrail on the body makes the
/// response be read first (bounded, decoded), then either blocked or sent on unchanged. A
/// response that cannot be inspected (too large, an unknown encoding) is blocked: a gateway
/// that cannot decide denies.
/// </summary>
internal sealed partial class ResponseGuardrailInspector(AirlockConfig config, Audit.AuditTrail audit, ILogger<ResponseGuardrailInspector> logger)
{
    private readonly long _limit = config.Policy.MaxResponseBodyBytes;

    /// <summary>Returns true when the response may be sent on; otherwise the agent has been
    /// answered with a problem and the upstream's body must be discarded.</summary>
    public async ValueTask<bool> InspectAsync(HttpContext context, SessionFeature session, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        // The raw header, not HttpClient's parse: an unparseable type must not fall out of scope.
        var contentType = response.Content.Headers.NonValidated.TryGetValues("Content-Type", out var types) ? types.ToString() : null;
        List<ResponseGuardrail>? onBody = null;
        foreach (var guardrail in context.Features.GetRequiredFeature<DecisionFeature>().Guardrails)
        {
            if (!guardrail.StatusAndTypeMatch(status, contentType))
            {
                continue;
            }

            if (!guardrail.NeedsBody)
            {
                await BlockAsync(context, session, guardrail, status);
                return false;
            }

            (onBody ??= []).Add(guardrail);
        }

        if (onBody is null)
        {
            return true;
        }

        var headerText = HeaderText(response);
        foreach (var guardrail in onBody)
        {
            if (guardrail.HeadersTrip(headerText))
            {
                await BlockAsync(context, session, guardrail, status);
                return false;
            }
        }

        // HEAD, 204 and 304 answers have no body to inspect, whatever Content-Length says.
        if (HttpMethods.IsHead(context.Request.Method) || status is 204 or 304)
        {
            return true;
        }

        BodyReadResult body;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            body = await BodyReader.ReadAsync(stream, response.Content.Headers.ContentLength,
                response.Content.Headers.NonValidated.TryGetValues("Content-Encoding", out var encodings) ? encodings.ToArray() : default,
                _limit, "response body", cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            body = BodyReadResult.Fail(ProblemType.ResponseNotInspectable, "the upstream's body could not be read");
        }
        if (!body.Succeeded)
        {
            Log.NotInspectable(logger, session.Id, body.Detail!);
            session.Error = ProblemType.ResponseNotInspectable.Name;
            await audit.RecordResponseBlockedAsync(session, ProblemType.ResponseNotInspectable, onBody[0].Name, status);
            await ProblemWriter.WriteAsync(context, ProblemType.ResponseNotInspectable,
                $"a guardrail must inspect this response and cannot: {body.Detail}", session.Id,
                json => json.WriteString("guardrail", onBody[0].Name));
            return false;
        }

        var text = Encoding.UTF8.GetString(body.Decoded!);
        foreach (var guardrail in onBody)
        {
            if (guardrail.BodyMatchesText(text))
            {
                await BlockAsync(context, session, guardrail, status);
                return false;
            }
        }

        // Passed: send on exactly the bytes received, with their content headers.
        var replacement = new ByteArrayContent(body.Original!);
        foreach (var header in response.Content.Headers)
        {
            replacement.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content.Dispose();
        response.Content = replacement;
        return true;
    }

    private static string HeaderText(HttpResponseMessage response)
    {
        var text = new StringBuilder();
        foreach (var (name, values) in response.Headers.NonValidated)
        {
            text.Append(name).Append(": ").Append(values.ToString()).Append('\n');
        }

        foreach (var (name, values) in response.Content.Headers.NonValidated)
        {
            text.Append(name).Append(": ").Append(values.ToString()).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Withholds the response: on the audit trail first (<c>response.blocked</c>, after
    /// the request's <c>request.allowed</c>), then the agent is told.</summary>
    private async Task BlockAsync(HttpContext context, SessionFeature session, ResponseGuardrail guardrail, int upstreamStatus)
    {
        Log.Blocked(logger, session.Id, guardrail.Name);
        session.Error = ProblemType.ResponseBlocked.Name;
        await audit.RecordResponseBlockedAsync(session, ProblemType.ResponseBlocked, guardrail.Name, upstreamStatus);
        await ProblemWriter.WriteAsync(context, ProblemType.ResponseBlocked,
            guardrail.Message ?? $"the upstream's response was blocked by guardrail '{guardrail.Name}'", session.Id,
            json => json.WriteString("guardrail", guardrail.Name));
    }

    private static partial class Log
    {
        [LoggerMessage(4201, LogLevel.Warning, "Session {SessionId}: response blocked by guardrail {Guardrail}")]
        public static partial void Blocked(ILogger logger, Guid sessionId, string guardrail);

        [LoggerMessage(4202, LogLevel.Warning, "Session {SessionId}: response blocked, not inspectable: {Reason}")]
        public static partial void NotInspectable(ILogger logger, Guid sessionId, string reason);
    }
}
