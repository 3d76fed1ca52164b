using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Errors;

/// <summary>
/// Writes RFC 9457 <c>application/problem+json</c> answers. Every error the gateway itself
/// produces goes through here, so every one has the same shape: <c>type</c>, <c>title</c>,
/// <c>status</c>, <c>detail</c>, and the <c>sessionId</c> the error belongs to.
/// </summary>
internal static class ProblemWriter
{
    public const string ContentType = "application/problem+json";

    // The body is JSON served as JSON, never embedded in HTML, so '<' and '>' need no escaping.
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes the problem unless the response has already started, in which case
    /// the status can no longer change and the connection is aborted instead.</summary>
    public static async Task WriteAsync(HttpContext context, ProblemType type, string detail, Guid? sessionId = null,
        Action<Utf8JsonWriter>? extensions = null, Action<IHeaderDictionary>? headers = null)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        context.Response.Clear();
        context.Response.StatusCode = type.Status;
        context.Response.ContentType = ContentType;
        context.Response.Headers.CacheControl = "no-store";
        headers?.Invoke(context.Response.Headers);

        var body = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(body, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString("type", type.Uri);
            json.WriteString("title", type.Title);
            json.WriteNumber("status", type.Status);
            json.WriteString("detail", detail);
            if (sessionId is { } id)
            {
                json.WriteString("sessionId", id.ToString());
            }

            extensions?.Invoke(json);
            json.WriteEndObject();
        }

        context.Response.ContentLength = body.WrittenCount;
        await context.Response.Body.WriteAsync(body.WrittenMemory, context.RequestAborted);
    }
}
