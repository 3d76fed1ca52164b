using Airlock.Gateway.Audit;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Normalization;

/// <summary>
/// Puts the request target in its canonical form before anything else looks at it, or
/// refuses it with 400. Reads the raw target the client sent, not Kestrel's decoded path.
/// Nobody is known yet, so refusals are counted for the audit trail, not recorded one by one.
/// </summary>
internal sealed class NormalizationMiddleware(RequestDelegate next, RefusalTally refusals)
{
    public Task InvokeAsync(HttpContext context)
    {
        var session = context.Features.GetRequiredFeature<SessionFeature>();
        if (MethodProblem(context) is ({ } reason, { } methodProblem))
        {
            session.Error = ProblemType.InvalidMethod.Name;
            refusals.Count(context, session, ProblemType.InvalidMethod, reason);
            return ProblemWriter.WriteAsync(context, ProblemType.InvalidMethod, methodProblem, session.Id);
        }

        var rawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var error = RequestTargetNormalizer.Normalize(rawTarget, out var target);
        if (error != NormalizationError.None)
        {
            session.Error = ProblemType.InvalidRequestTarget.Name;
            refusals.Count(context, session, ProblemType.InvalidRequestTarget, ReasonName(error));
            return ProblemWriter.WriteAsync(context, ProblemType.InvalidRequestTarget, Describe(error), session.Id,
                json => json.WriteString("reason", ReasonName(error)));
        }

        session.Path = target.Path;
        session.Query = target.Query;
        DropConnectionListedHeaders(context.Request.Headers);
        return next(context);
    }

    /// <summary>
    /// Methods are case-sensitive (RFC 9110 §9.1) but many upstreams compare them without case,
    /// so <c>delete</c> could pass a rule about <c>DELETE</c> there and not here: only upper-case
    /// methods are accepted. CONNECT and protocol upgrades (WebSocket) are refused: what flows
    /// after them is not HTTP requests that policy could see. The reason is the audit trail's.
    /// </summary>
    private static (string? Reason, string? Detail) MethodProblem(HttpContext context)
    {
        var method = context.Request.Method;
        foreach (var c in method)
        {
            if (!char.IsAsciiLetterUpper(c) && c is not '-' and not '_')
            {
                return ("not-upper-case", $"the method '{method}' must be written in upper case letters");
            }
        }

        if (HttpMethods.IsConnect(method))
        {
            return ("connect", "CONNECT is not supported: the gateway forwards HTTP requests, not tunnels");
        }

        return context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
            ? ("upgrade", "protocol upgrades (such as WebSocket) are not supported: policy could not see what flows after them")
            : (null, null);
    }

    /// <summary>
    /// Headers the caller names in <c>Connection</c> are hop-by-hop (RFC 9110 §7.6.1) and are not
    /// forwarded. They are removed here, before policy, so a rule never tests a header the
    /// upstream will not see. <c>Content-*</c> headers stay: they describe the body.
    /// </summary>
    private static void DropConnectionListedHeaders(IHeaderDictionary headers)
    {
        if (headers.Connection.Count == 0)
        {
            return;
        }

        foreach (var name in headers.GetCommaSeparatedValues(HeaderNames.Connection))
        {
            if (!name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) && !name.Equals(HeaderNames.Connection, StringComparison.OrdinalIgnoreCase))
            {
                headers.Remove(name);
            }
        }
    }

    internal static string ReasonName(NormalizationError error) => error switch
    {
        NormalizationError.NotOriginForm => "not-origin-form",
        NormalizationError.InvalidPercentEncoding => "invalid-percent-encoding",
        NormalizationError.EncodedSeparator => "encoded-separator",
        NormalizationError.Backslash => "backslash",
        NormalizationError.Nul => "nul",
        NormalizationError.InvalidCharacter => "invalid-character",
        NormalizationError.InvalidUtf8 => "invalid-utf8",
        NormalizationError.Traversal => "traversal",
        NormalizationError.Fragment => "fragment",
        NormalizationError.PathParameter => "path-parameter",
        NormalizationError.DoubleEncoding => "double-encoding",
        _ => "unknown",
    };

    internal static string Describe(NormalizationError error) => error switch
    {
        NormalizationError.NotOriginForm => "the request target must be a path (origin-form); absolute URLs and '*' are not accepted",
        NormalizationError.InvalidPercentEncoding => "a '%' in the target is not followed by two hex digits",
        NormalizationError.EncodedSeparator => "the path contains an encoded '/' or '\\' (%2F, %5C), which servers read in different ways",
        NormalizationError.Backslash => "the path contains '\\', which some servers read as '/'",
        NormalizationError.Nul => "the target contains a NUL character",
        NormalizationError.InvalidCharacter => "the target contains a control character, a space or an unencoded non-ASCII character",
        NormalizationError.InvalidUtf8 => "the target's percent-encoded bytes are not valid UTF-8 (overlong forms included)",
        NormalizationError.Traversal => "a '..' segment climbs out of the connection's path",
        NormalizationError.Fragment => "the target contains a '#' fragment",
        NormalizationError.PathParameter => "the path contains ';', which some servers read as the start of path parameters; encode it as %3B",
        NormalizationError.DoubleEncoding => "the path contains an escaped '%' followed by two hex digits (double encoding)",
        _ => "the request target is not acceptable",
    };
}
