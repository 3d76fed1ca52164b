using System.Buffers;
using System.Globalization;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Masking;

/// <summary>
/// Keeps a connection's own credential out of a body that masking does not rewrite (a
/// connection without masking, a type its <c>passthrough</c> lets through), whatever its type.
/// A body that declares at most <see cref="WholeBytes"/> is read whole and scrubbed, keeping an
/// exact <c>Content-Length</c> and, when something was scrubbed, <c>Airlock-Masked</c>; a larger
/// one, or one without a length (chunked, server-sent events), streams through a
/// <see cref="CredentialScrubbingStream"/> without a length, with the count in the session. A
/// compressed body (gzip, deflate, br) is decoded to be read and reaches the agent decoded; one
/// in another encoding cannot be read and is blocked (the gateway asks upstreams for
/// <c>identity</c> on these connections, so only an upstream that ignores it gets there).
/// </summary>
internal sealed partial class ResponseScrubber(Audit.AuditTrail audit, ILogger<ResponseScrubber> logger)
{
    /// <summary>Bodies that declare up to this are scrubbed whole (the default of masking's <c>bufferBytes</c>).</summary>
    public const int WholeBytes = 256 * 1024;

    /// <summary>Returns false when the agent has been answered with a problem instead.</summary>
    public async ValueTask<bool> ApplyAsync(HttpContext context, SessionFeature session, HttpResponseMessage response, InjectedCredential credential,
        MaskCounts counts, CancellationToken cancellationToken)
    {
        var headers = context.Response.Headers;
        var status = (int)response.StatusCode;
        if (HttpMethods.IsHead(context.Request.Method) || status is < 200 or 204 or 304 || response.Content.Headers.ContentLength == 0)
        {
            SetCount(headers, counts);
            return true;
        }

        var encoding = response.Content.Headers.NonValidated.TryGetValues(HeaderNames.ContentEncoding, out var encodings)
            ? encodings.ToString().Trim().ToLowerInvariant() : "";
        if (encoding is not ("" or "identity" or "gzip" or "x-gzip" or "deflate" or "br"))
        {
            Log.Blocked(logger, session.Id, encoding);
            session.Error = ProblemType.ResponseNotMaskable.Name;
            await audit.RecordResponseBlockedAsync(session, ProblemType.ResponseNotMaskable, null, status);
            headers.Remove(ResponseMasker.CountHeader);
            await ProblemWriter.WriteAsync(context, ProblemType.ResponseNotMaskable,
                $"the gateway reads every response on this connection for the credential it injects, and the upstream's response is encoded with '{encoding}', which it cannot decode; nothing of it was sent",
                session.Id);
            return false;
        }

        var decoded = encoding is not ("" or "identity");
        var source = ResponseMasker.Decode(await response.Content.ReadAsStreamAsync(cancellationToken), encoding);
        ArrayBufferWriter<byte>? read = null;
        ArrayBufferWriter<byte>? scrubbed = null;
        if (response.Content.Headers.ContentLength is { } declared && declared <= WholeBytes)
        {
            read = new ArrayBufferWriter<byte>((int)declared + 1);
            try
            {
                while (read.WrittenCount <= WholeBytes && await source.ReadAsync(read.GetMemory(), cancellationToken) is var n && n > 0)
                {
                    read.Advance(n);
                }
            }
            catch (InvalidDataException ex)
            {
                await source.DisposeAsync();
                return await BlockUndecodableAsync(context, session, (int)response.StatusCode, ex);
            }

            if (read.WrittenCount <= WholeBytes)
            {
                await source.DisposeAsync();
                credential.Scrub(read.WrittenSpan, final: true, ref scrubbed, counts, out var replaced);
                var body = replaced > 0 ? scrubbed!.WrittenMemory : read.WrittenMemory;
                if (replaced > 0 || decoded)
                {
                    Rewritten(headers, decoded);
                    context.Response.ContentLength = body.Length;
                }

                if (replaced > 0)
                {
                    Log.Scrubbed(logger, session.Id, replaced, "body");
                }

                SetCount(headers, counts);
                ResponseMasker.Replace(response, new ReadOnlyMemoryContent(body));
                return true;
            }

            // It decoded to more than that: stream the rest after what is read already.
        }

        Rewritten(headers, decoded);
        headers.Remove(HeaderNames.ContentLength);
        var prefix = read?.WrittenMemory ?? ReadOnlyMemory<byte>.Empty;
        var settled = credential.Scrub(prefix.Span, final: false, ref scrubbed, counts, out var first);
        var stream = new CredentialScrubbingStream(source, credential, counts,
            pending: first > 0 ? scrubbed!.WrittenMemory : prefix[..settled], carry: prefix.Span[settled..],
            onEnd: replaced =>
            {
                if (replaced + first > 0)
                {
                    Log.Scrubbed(logger, session.Id, replaced + first, "body");
                }
            });
        // The old content's stream is the one being read: it is disposed with the new stream.
        ResponseMasker.Replace(response, new StreamContent(stream), disposeOld: false);
        return true;
    }

    /// <summary>The body the agent gets is (or may be) not the upstream's bytes.</summary>
    private static void Rewritten(IHeaderDictionary headers, bool decoded)
    {
        if (decoded)
        {
            headers.Remove(HeaderNames.ContentEncoding);
        }

        headers.Remove(HeaderNames.ContentMD5);
        ResponseMasker.WeakenETag(headers);
    }

    /// <summary>The count goes in a header when it is known before the response starts, and
    /// something was scrubbed (a connection without masking says nothing otherwise).</summary>
    private static void SetCount(IHeaderDictionary headers, MaskCounts counts)
    {
        if (counts.Total > 0)
        {
            headers[ResponseMasker.CountHeader] = counts.Total.ToString(CultureInfo.InvariantCulture);
        }
    }

    private async Task<bool> BlockUndecodableAsync(HttpContext context, SessionFeature session, int upstreamStatus, Exception ex)
    {
        Log.Blocked(logger, session.Id, ex.GetType().Name);
        session.Error = ProblemType.ResponseNotMaskable.Name;
        await audit.RecordResponseBlockedAsync(session, ProblemType.ResponseNotMaskable, null, upstreamStatus);
        context.Response.Headers.Remove(ResponseMasker.CountHeader);
        await ProblemWriter.WriteAsync(context, ProblemType.ResponseNotMaskable,
            $"the gateway reads every response on this connection for the credential it injects, and the upstream's body could not be decoded ({ex.GetType().Name}); nothing of it was sent",
            session.Id);
        return false;
    }

    /// <summary>Logs credentials found in response headers (the transformer scrubs those).</summary>
    internal void HeadersScrubbed(Guid sessionId, int headers) => Log.Scrubbed(logger, sessionId, headers, "header(s)");

    private static partial class Log
    {
        [LoggerMessage(4311, LogLevel.Warning, "Session {SessionId}: response blocked, it cannot be read for the connection's credential: {Reason}")]
        public static partial void Blocked(ILogger logger, Guid sessionId, string reason);

        [LoggerMessage(4312, LogLevel.Warning, "Session {SessionId}: the upstream sent back the credential the gateway injects ({Count} in its {Where}); it was replaced before reaching the agent")]
        public static partial void Scrubbed(ILogger logger, Guid sessionId, int count, string where);
    }
}
