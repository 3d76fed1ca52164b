using System.Collections.Frozen;
using Airlock.Gateway.Masking;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Airlock.Gateway.Forwarding;

/// <summary>
/// Shapes the request YARP sends upstream and the response it returns:
/// <list type="bullet">
/// <item>the URL is the connection's base plus the normalised path and the query as sent;</item>
/// <item>hop-by-hop headers go, including any the caller named in <c>Connection</c> (RFC 9110
/// §7.6.1), except the <c>Content-*</c> headers: removing those would make the upstream read
/// the body differently from what the gateway inspected;</item>
/// <item>headers the upstream would trust go (<see cref="UntrustedHeaders"/>), and the
/// connection's own credential is injected;</item>
/// <item><c>X-Forwarded-For/Proto/Prefix</c> are set by the gateway, never passed on.
/// <c>X-Forwarded-Host</c> is not sent: its only source would be the caller's own
/// <c>Host</c> header, which upstreams then trust to build links;</item>
/// <item>on a connection that masks, ranges are not asked for (a fragment of a document cannot
/// be masked by its fields) and only encodings the masker can decode are offered; on one that
/// only injects a credential, ranges are not asked for either (a credential cut between two
/// ranges could not be found) and the body is asked for unencoded;</item>
/// <item>on the way back, the upstream's reason phrase is dropped (the agent gets the standard
/// one for the status), <c>Airlock-*</c> headers from the upstream are dropped, so an
/// upstream cannot speak for the gateway; links to the upstream become the gateway's paths
/// (<see cref="UpstreamLinks"/>); then guardrails; then the connection's own credential is
/// scrubbed from every header (<see cref="InjectedCredential"/>), and the body is masked
/// (<see cref="ResponseMasker"/>) or, without masking, scrubbed (<see cref="ResponseScrubber"/>).</item>
/// </list>
/// </summary>
internal sealed class UpstreamRequestTransformer : HttpTransformer
{
    private readonly TimeProvider _timeProvider;
    private readonly ResponseGuardrailInspector _guardrails;
    private readonly ResponseMasker _masker;
    private readonly ResponseScrubber _scrubber;

    public UpstreamRequestTransformer(TimeProvider timeProvider, ResponseGuardrailInspector guardrails, ResponseMasker masker, ResponseScrubber scrubber)
    {
        _timeProvider = timeProvider;
        _guardrails = guardrails;
        _masker = masker;
        _scrubber = scrubber;
    }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var session = httpContext.Features.GetRequiredFeature<SessionFeature>();
        var routed = httpContext.Features.GetRequiredFeature<Routing.RouteFeature>();
        var route = routed.Connection;
        var request = httpContext.Request;

        foreach (var header in request.Headers)
        {
            if (UntrustedHeaders.IsUntrusted(header.Key))
            {
                Remove(proxyRequest, header.Key);
            }
        }

        foreach (var named in request.Headers.GetCommaSeparatedValues(HeaderNames.Connection))
        {
            if (!ContentHeaders.Contains(named))
            {
                Remove(proxyRequest, named);
            }
        }

        // The upstream's own host name, not the gateway's.
        proxyRequest.Headers.Host = null;
        proxyRequest.RequestUri = route.UpstreamUri(routed.UpstreamPath, session.Query);
        proxyRequest.Options.Set(Telemetry.AirlockTracing.UpstreamCall, true);
        proxyRequest.Options.Set(UpstreamAttemptHandler.Session, session);

        var headers = proxyRequest.Headers;
        if (httpContext.Connection.RemoteIpAddress is { } client)
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", client.ToString());
        }

        headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        if (session.Masking is not null)
        {
            headers.Remove(HeaderNames.Range);
            headers.Remove(HeaderNames.IfRange);
            headers.Remove(HeaderNames.AcceptEncoding);
            headers.TryAddWithoutValidation(HeaderNames.AcceptEncoding, "gzip, deflate, br");
        }
        else if (route.Credential is not null)
        {
            // Still needed beside ResponseScrubber's decoding: without it the agent's own
            // Accept-Encoding goes upstream, and an answer in a coding the gateway cannot read
            // (zstd) is blocked. Identity rather than "gzip, deflate, br": the agent gets the
            // body decoded either way, so compression would only make the gateway inflate it.
            headers.Remove(HeaderNames.Range);
            headers.Remove(HeaderNames.IfRange);
            headers.Remove(HeaderNames.AcceptEncoding);
            headers.TryAddWithoutValidation(HeaderNames.AcceptEncoding, "identity");
        }

        headers.TryAddWithoutValidation("X-Forwarded-Prefix", "/" + route.Name);

        var credential = route.Config.Credential;
        if (credential.HeaderName is { } name)
        {
            Remove(proxyRequest, name);
            headers.TryAddWithoutValidation(name, credential.HeaderValue!.Reveal());
        }

        session.UpstreamStartTimestamp = _timeProvider.GetTimestamp();
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var proceed = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        // YARP copies an HTTP/1.1 reason phrase that is not the standard one. It is free text the
        // upstream chooses, and can quote the request (the credential) or carry PII that no
        // masking reads: the agent gets the standard phrase for the status instead. Cleared
        // first, so a problem the gateway answers with instead does not carry it either.
        if (httpContext.Features.Get<IHttpResponseFeature>() is { } status)
        {
            status.ReasonPhrase = null;
        }

        var headers = httpContext.Response.Headers;
        List<string>? spoofed = null;
        foreach (var header in headers)
        {
            if (header.Key.StartsWith("Airlock-", StringComparison.OrdinalIgnoreCase))
            {
                (spoofed ??= []).Add(header.Key);
            }
        }

        if (spoofed is not null)
        {
            foreach (var key in spoofed)
            {
                headers.Remove(key);
            }
        }

        var session = httpContext.Features.GetRequiredFeature<SessionFeature>();
        var route = httpContext.Features.GetRequiredFeature<Routing.RouteFeature>().Connection;
        UpstreamLinks.Rewrite(headers, route);
        if (proceed && proxyResponse is not null && !httpContext.Features.GetRequiredFeature<Policy.DecisionFeature>().Guardrails.IsEmpty)
        {
            proceed = await _guardrails.InspectAsync(httpContext, session, proxyResponse, cancellationToken);
        }

        if (!proceed || proxyResponse is null)
        {
            return proceed;
        }

        var credential = route.Credential;
        if (credential is not null && credential.ScrubHeaders(headers, session.Masked ??= new MaskCounts()) is var scrubbed and > 0)
        {
            _scrubber.HeadersScrubbed(session.Id, scrubbed);
        }

        if (session.Masking is { } masking)
        {
            return await _masker.ApplyAsync(httpContext, session, proxyResponse, masking, credential, cancellationToken);
        }

        return credential is null
            || await _scrubber.ApplyAsync(httpContext, session, proxyResponse, credential, session.Masked!, cancellationToken);
    }

    /// <summary>Trailers can echo a request header as well as headers can (HTTP/2 and later).</summary>
    public override async ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken)
    {
        await base.TransformResponseTrailersAsync(httpContext, proxyResponse, cancellationToken);
        var session = httpContext.Features.GetRequiredFeature<SessionFeature>();
        if (session.Connection?.Credential is { } credential
            && httpContext.Features.Get<IHttpResponseTrailersFeature>()?.Trailers is { IsReadOnly: false } trailers)
        {
            credential.ScrubHeaders(trailers, session.Masked ??= new MaskCounts());
        }
    }

    /// <summary>HttpClient keeps content headers apart and throws when one is removed from
    /// the wrong collection.</summary>
    private static void Remove(HttpRequestMessage request, string name)
    {
        if (ContentHeaders.Contains(name))
        {
            request.Content?.Headers.Remove(name);
        }
        else
        {
            request.Headers.Remove(name);
        }
    }

    private static readonly FrozenSet<string> ContentHeaders = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
    [
        HeaderNames.Allow, HeaderNames.ContentDisposition, HeaderNames.ContentEncoding, HeaderNames.ContentLanguage,
        HeaderNames.ContentLength, HeaderNames.ContentLocation, HeaderNames.ContentMD5, HeaderNames.ContentRange,
        HeaderNames.ContentType, HeaderNames.Expires, HeaderNames.LastModified,
    ]);
}
