using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Masking;

/// <summary>
/// Masks a connection's response on its way to the agent, after the guardrails passed it.
/// The body is decoded (gzip, br, deflate) and masked by content type: JSON and JSON lines by
/// <see cref="JsonMasker"/>, text by <see cref="TextMasker"/>. A response that turns out to be at
/// most <see cref="MaskingConfig.BufferBytes"/> once masked is masked whole first and carries
/// <c>Airlock-Masked: &lt;count&gt;</c>; a larger one, or a streaming type (server-sent events,
/// JSON lines), streams, with the count as a trailer where the protocol allows it (HTTP/2), and
/// in the session either way. What the
/// engine cannot inspect (another type, another charset, an unknown encoding) is blocked unless
/// the connection lets that type through by name. Header values are masked with the detectors.
/// The connection's own credential is scrubbed from the decoded body before it is masked
/// (<see cref="InjectedCredential"/>); a type let through is scrubbed by <see cref="ResponseScrubber"/>.
/// </summary>
internal sealed partial class ResponseMasker(ResponseScrubber scrubber, Audit.AuditTrail audit, ILogger<ResponseMasker> logger)
{
    public const string CountHeader = "Airlock-Masked";

    /// <summary>Response headers that describe the message rather than carry data.</summary>
    private static readonly HashSet<string> StructuralHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        HeaderNames.ContentType, HeaderNames.ContentLength, HeaderNames.ContentEncoding, HeaderNames.TransferEncoding,
        HeaderNames.Date, HeaderNames.ETag, HeaderNames.LastModified, HeaderNames.CacheControl, HeaderNames.Vary,
        HeaderNames.Trailer, HeaderNames.Connection, HeaderNames.Server, HeaderNames.Expires, HeaderNames.Age,
        HeaderNames.AcceptRanges, HeaderNames.ContentLanguage,
    };

    /// <summary>Returns false when the agent has been answered with a problem instead.</summary>
    public async ValueTask<bool> ApplyAsync(HttpContext context, SessionFeature session, HttpResponseMessage response, MaskingConfig masking,
        InjectedCredential? credential, CancellationToken cancellationToken)
    {
        var counts = session.Masked ??= new MaskCounts();
        var headers = context.Response.Headers;
        MaskHeaders(headers, masking.Plan, counts, "/" + context.Features.GetRequiredFeature<Routing.RouteFeature>().Connection.Name);
        // The body the agent gets is not the upstream's representation any more.
        WeakenETag(headers);

        var status = (int)response.StatusCode;
        if (HttpMethods.IsHead(context.Request.Method) || status is 204 or 304)
        {
            headers[CountHeader] = counts.Total.ToString(CultureInfo.InvariantCulture);
            return true;
        }

        var contentType = response.Content.Headers.NonValidated.TryGetValues(HeaderNames.ContentType, out var types) ? types.ToString() : null;
        var encoding = response.Content.Headers.NonValidated.TryGetValues(HeaderNames.ContentEncoding, out var encodings) ? encodings.ToString().Trim().ToLowerInvariant() : "";
        var mediaType = MediaType(contentType, out var utf8);
        var masker = utf8 && encoding is "" or "identity" or "gzip" or "x-gzip" or "deflate" or "br" ? MaskerFor(mediaType, masking, counts) : null;
        if (masker is null)
        {
            if (mediaType is not null && masking.PassesThrough(mediaType))
            {
                Log.PassedThrough(logger, session.Id, mediaType);
                return credential is null || await scrubber.ApplyAsync(context, session, response, credential, counts, cancellationToken);
            }

            if (response.Content.Headers.ContentLength == 0)
            {
                headers[CountHeader] = counts.Total.ToString(CultureInfo.InvariantCulture);
                return true;
            }

            return await BlockAsync(context, session, response, mediaType is null
                ? "the upstream's response has no usable content type"
                : !utf8 ? $"the upstream's {mediaType} response is not in UTF-8"
                : encoding.Length > 0 && encoding is not ("gzip" or "x-gzip" or "deflate" or "br" or "identity") ? $"the upstream's response is encoded with '{encoding}'"
                : $"the masking engine cannot inspect {mediaType}");
        }

        var source = Decode(await response.Content.ReadAsStreamAsync(cancellationToken), encoding);
        if (credential is not null)
        {
            source = new CredentialScrubbingStream(source, credential, counts);
        }

        headers.Remove(HeaderNames.ContentLength);
        headers.Remove(HeaderNames.ContentEncoding);
        headers.Remove("Content-MD5");

        // Small and complete: mask it all first, so the count can go in a header. A body that
        // declares more, or a streaming type, streams from its first byte.
        var declared = response.Content.Headers.ContentLength;
        var prefix = new ArrayBufferWriter<byte>();
        var streaming = mediaType == "text/event-stream" || masker is JsonMasker { Lines: true };
        if (masking.BufferBytes > 0 && !streaming && (declared is null || declared <= masking.BufferBytes))
        {
            var piece = new byte[16 * 1024];
            try
            {
                int read;
                while (prefix.WrittenCount <= masking.BufferBytes && (read = await source.ReadAsync(piece, cancellationToken)) > 0)
                {
                    masker.Write(piece.AsSpan(0, read), prefix);
                }

                if (prefix.WrittenCount <= masking.BufferBytes)
                {
                    masker.Complete(prefix);
                    await source.DisposeAsync();
                    (masker as IDisposable)?.Dispose();
                    headers[CountHeader] = counts.Total.ToString(CultureInfo.InvariantCulture);
                    context.Response.ContentLength = prefix.WrittenCount;
                    Replace(response, new ByteArrayContent(prefix.WrittenSpan.ToArray()));
                    return true;
                }
            }
            catch (MaskingFailedException ex)
            {
                await source.DisposeAsync();
                return await BlockAsync(context, session, response, ex.Message);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                await source.DisposeAsync();
                return await BlockAsync(context, session, response, $"the upstream's body could not be decoded ({ex.GetType().Name})");
            }

            // It is bigger than that: stream the rest after what is masked already.
        }

        if (context.Response.SupportsTrailers())
        {
            context.Response.DeclareTrailer(CountHeader);
        }

        var stream = new MaskingReadStream(source, masker, prefix.WrittenMemory,
            onComplete: () =>
            {
                if (context.Response.SupportsTrailers())
                {
                    context.Response.AppendTrailer(CountHeader, counts.Total.ToString(CultureInfo.InvariantCulture));
                }
            },
            onFailure: ex =>
            {
                session.Error = ProblemType.ResponseNotMaskable.Name;
                Log.FailedMidStream(logger, session.Id, ex.Message);
            });
        // The old content's stream is the one being read: it is disposed with the new stream.
        Replace(response, new StreamContent(stream), disposeOld: false);
        return true;
    }

    private static IBodyMasker? MaskerFor(string? mediaType, MaskingConfig masking, MaskCounts counts) => mediaType switch
    {
        null => null,
        "application/json" or "text/json" => new JsonMasker(masking.Plan, (int)masking.MaxValueBytes, counts: counts),
        _ when mediaType.EndsWith("+json", StringComparison.Ordinal) => new JsonMasker(masking.Plan, (int)masking.MaxValueBytes, counts: counts),
        "application/x-ndjson" or "application/jsonl" or "application/jsonlines" or "application/x-jsonlines" =>
            new JsonMasker(masking.Plan, (int)masking.MaxValueBytes, lines: true, counts: counts),
        _ when mediaType.StartsWith("text/", StringComparison.Ordinal)
            || mediaType is "application/xml" or "application/x-www-form-urlencoded" or "application/javascript" or "application/yaml"
            || mediaType.EndsWith("+xml", StringComparison.Ordinal) => new TextMasker(masking.Plan, counts),
        _ => null,
    };

    /// <summary>The media type, lower-case, and whether the charset (if given) is UTF-8 or ASCII.</summary>
    internal static string? MediaType(string? contentType, out bool utf8)
    {
        utf8 = true;
        if (string.IsNullOrWhiteSpace(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var parsed) || parsed.MediaType.Value is not { } media)
        {
            return null;
        }

        if (parsed.Charset.HasValue)
        {
            var charset = parsed.Charset.Value!.Trim('"').ToLowerInvariant();
            utf8 = charset is "utf-8" or "utf8" or "us-ascii" or "ascii";
        }

        return media.ToLowerInvariant();
    }

    internal static Stream Decode(Stream body, string encoding) => encoding switch
    {
        "gzip" or "x-gzip" => new GZipStream(body, CompressionMode.Decompress),
        // HTTP's "deflate" is the zlib format (RFC 9110, 8.4.1.2).
        "deflate" => new ZLibStream(body, CompressionMode.Decompress),
        "br" => new BrotliStream(body, CompressionMode.Decompress),
        _ => body,
    };

    /// <summary>A strong <c>ETag</c> made weak: the body the agent gets is not (or may not be)
    /// the upstream's representation byte for byte.</summary>
    internal static void WeakenETag(IHeaderDictionary headers)
    {
        if (headers.ETag is { Count: > 0 } etag && !etag.ToString().StartsWith("W/", StringComparison.Ordinal))
        {
            headers.ETag = "W/" + etag.ToString();
        }
    }

    internal static void Replace(HttpResponseMessage response, HttpContent content, bool disposeOld = true)
    {
        foreach (var header in response.Content.Headers)
        {
            if (!header.Key.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase)
                && !header.Key.Equals(HeaderNames.ContentEncoding, StringComparison.OrdinalIgnoreCase))
            {
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        if (disposeOld)
        {
            response.Content.Dispose();
        }

        response.Content = content;
    }

    /// <summary>Masks header values with the detectors. A link the gateway rewrote to its own
    /// path (<see cref="Forwarding.UpstreamLinks"/>) keeps that path: only what follows it, the
    /// upstream's part, is masked.</summary>
    private static void MaskHeaders(IHeaderDictionary headers, MaskingPlan plan, MaskCounts counts, string gatewayPrefix)
    {
        if (plan.Detectors.IsEmpty)
        {
            return;
        }

        var values = new ValueMasker(plan, counts);
        List<(string, string)>? changed = null;
        foreach (var (name, value) in headers)
        {
            if (StructuralHeaders.Contains(name) || name.StartsWith("Airlock-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var text = value.ToString();
            var kept = Forwarding.UpstreamLinks.IsLinkHeader(name) && Forwarding.UpstreamLinks.IsGatewayPath(text, gatewayPrefix) ? gatewayPrefix.Length : 0;
            if (values.Mask(text.AsSpan(kept), out var masked) != ValueMasker.Outcome.Unchanged)
            {
                (changed ??= []).Add((name, text[..kept] + masked));
            }
        }

        foreach (var (name, masked) in changed ?? [])
        {
            headers[name] = masked;
        }
    }

    private async Task<bool> BlockAsync(HttpContext context, SessionFeature session, HttpResponseMessage response, string why)
    {
        Log.Blocked(logger, session.Id, why);
        session.Error = ProblemType.ResponseNotMaskable.Name;
        await audit.RecordResponseBlockedAsync(session, ProblemType.ResponseNotMaskable, null, (int)response.StatusCode);
        context.Response.Headers.Remove(CountHeader);
        await ProblemWriter.WriteAsync(context, ProblemType.ResponseNotMaskable,
            $"this connection masks responses, and {why}; nothing of it was sent", session.Id);
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(4301, LogLevel.Warning, "Session {SessionId}: response blocked, it cannot be masked: {Reason}")]
        public static partial void Blocked(ILogger logger, Guid sessionId, string reason);

        [LoggerMessage(4302, LogLevel.Error, "Session {SessionId}: masking failed mid-response; the rest was withheld and the connection aborted: {Reason}")]
        public static partial void FailedMidStream(ILogger logger, Guid sessionId, string reason);

        [LoggerMessage(4303, LogLevel.Information, "Session {SessionId}: {MediaType} passed through unmasked, as the connection's masking.passthrough allows")]
        public static partial void PassedThrough(ILogger logger, Guid sessionId, string mediaType);
    }
}
