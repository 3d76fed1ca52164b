using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Airlock.Gateway.Sessions;

namespace Airlock.Gateway.Recording;

/// <summary>
/// A recorded exchange as an HTTP transcript, the way an auditor replays it: the request line,
/// headers and body the agent sent, then the status, headers and body it got. Bodies are the
/// recorded bytes as they were (a compact JSON body stays compact); JSON is indented only when
/// asked (<c>airlock sessions show --pretty</c>). A cut-off body says how much is missing.
/// </summary>
internal static class Transcript
{
    public static string Format(SessionRecord session, ExchangeRecord? exchange, bool pretty = false)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"# session {session.Id} · {session.StartedAt:yyyy-MM-ddTHH:mm:ss.fffZ} · {session.Subject ?? "unauthenticated"} · {SessionOutcome.Describe(session, full: true)} · {session.Duration.TotalMilliseconds:0.0} ms");
        if (session.Masked > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" · masked {session.Masked} {session.MaskedTypes}");
        }

        // Anything but one answered attempt is worth a look: the upstream may have seen it more than once.
        if (session.UpstreamAttempts is { } attempts && attempts != "answered")
        {
            text.Append(CultureInfo.InvariantCulture, $" · upstream attempts: {attempts}");
        }

        text.Append('\n');
        if (exchange is null)
        {
            text.Append(CultureInfo.InvariantCulture, $"{session.Method} {session.Path} → {session.Status}\n");
            text.Append("# no headers or bodies: the connection records metadata only, their retention has ended, or the request never reached a connection\n");
            return text.ToString();
        }

        text.Append(session.Method).Append(' ').Append(session.Path);
        if (exchange.Query is { Length: > 0 } query)
        {
            text.Append('?').Append(query);
        }

        text.Append(" HTTP/1.1\n");
        Headers(text, exchange.RequestHeaders);
        Body(text, exchange.RequestBody, exchange.RequestTruncated, session.RequestBytes, Header(exchange.RequestHeaders, "Content-Type"), pretty);
        text.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {session.Status}\n");
        Headers(text, exchange.ResponseHeaders);
        Body(text, exchange.ResponseBody, exchange.ResponseTruncated, session.ResponseBytes, Header(exchange.ResponseHeaders, "Content-Type"), pretty);
        return text.ToString();
    }

    private static string? Header(IEnumerable<KeyValuePair<string, string>> headers, string name) =>
        headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    private static void Headers(StringBuilder text, IEnumerable<KeyValuePair<string, string>> headers)
    {
        foreach (var (name, value) in headers)
        {
            text.Append(name).Append(": ").Append(value).Append('\n');
        }

        text.Append('\n');
    }

    private static void Body(StringBuilder text, byte[] body, bool truncated, long total, string? contentType, bool pretty)
    {
        if (body.Length > 0)
        {
            string shown;
            try
            {
                shown = new UTF8Encoding(false, true).GetString(body);
            }
            catch (DecoderFallbackException)
            {
                shown = $"[{body.Length} bytes, not UTF-8; base64] {Convert.ToBase64String(body)}";
                pretty = false;
            }

            if (pretty && !truncated && contentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
            {
                try
                {
                    using var document = JsonDocument.Parse(body);
                    shown = Indented(document);
                }
                catch (JsonException)
                {
                    // Not JSON after all: shown as it came.
                }
            }

            text.Append(shown);
            if (!shown.EndsWith('\n'))
            {
                text.Append('\n');
            }
        }

        if (truncated)
        {
            text.Append(CultureInfo.InvariantCulture, $"[truncated: {body.Length:N0} of {total:N0} bytes recorded]\n");
        }

        text.Append('\n');
    }

    // Strings keep their characters: the default encoder would show "é" as "\u00E9" and "<" as
    // "\u003C", which is not what the agent got. (A terminal is no HTML page.)
    private static readonly JsonWriterOptions IndentedJson = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Indented(JsonDocument document)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, IndentedJson))
        {
            document.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
