using System.Buffers;
using Airlock.Gateway.Masking;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Recording;

/// <summary>
/// Starts recording an exchange once its connection is known, and builds the record when it
/// ends. The response is recorded as the agent got it (masked); the request body goes through
/// the connection's masking too, so a recording never holds what an agent must not see, even
/// when the agent itself sent it.
/// </summary>
internal static class ExchangeRecorder
{
    public const string Unmaskable = "[WITHHELD: the body could not be masked]";

    /// <summary>Begins capturing, when the session's connection records bodies.</summary>
    public static void Begin(SessionFeature session, HttpContext context)
    {
        if (session.Connection?.Config.Recording is not { Bodies: true } recording)
        {
            return;
        }

        context.Features.Set(new RecordingFeature(RecordedHeaders.From(context.Request.Headers, session.Connection.Config.Credential.HeaderName),
            new BodyCapture(recording.MaxBodyBytes), new BodyCapture(recording.MaxBodyBytes)));
    }

    public static ExchangeRecord? From(SessionFeature session, HttpContext context)
    {
        if (context.Features.Get<RecordingFeature>() is not { } recording)
        {
            return null;
        }

        var request = recording.Request;
        var masking = session.Masking;
        return new ExchangeRecord
        {
            SessionId = session.Id,
            Query = RecordedHeaders.Query(session.Query),
            RequestHeaders = recording.RequestHeaders,
            RequestBody = masking is null ? request.Bytes.ToArray() : Mask(request.Bytes, context.Request.ContentType, masking.Plan, request.Truncated),
            RequestTruncated = request.Truncated,
            ResponseHeaders = RecordedHeaders.From(context.Response.Headers, session.Connection?.Config.Credential.HeaderName),
            ResponseBody = recording.Response.Bytes.ToArray(),
            ResponseTruncated = recording.Response.Truncated,
        };
    }

    private static byte[] Mask(ReadOnlySpan<byte> body, string? contentType, MaskingPlan plan, bool truncated)
    {
        if (body.IsEmpty)
        {
            return [];
        }

        var json = !truncated && MediaTypeHeaderValue.TryParse(contentType, out var type)
            && type.MediaType.Value is { } media && (media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        // A truncated or non-JSON body is masked as text with every detector.
        IBodyMasker masker = json ? new JsonMasker(plan, int.MaxValue) : new TextMasker(plan.ForText());
        var output = new ArrayBufferWriter<byte>(body.Length);
        try
        {
            masker.Write(body, output);
            masker.Complete(output);
            return output.WrittenSpan.ToArray();
        }
        catch (MaskingFailedException)
        {
            return System.Text.Encoding.UTF8.GetBytes(Unmaskable);
        }
        finally
        {
            (masker as IDisposable)?.Dispose();
        }
    }
}
