using System.Text.Json;

namespace Airlock.Gateway.Policy;

/// <summary>How policy could read a request body.</summary>
internal enum BodyKind
{
    /// <summary>No body, or zero bytes: every JSON field is absent.</summary>
    Empty,

    /// <summary>Strict JSON (RFC 8259) with no repeated keys, not even ones differing only in case.</summary>
    Json,

    /// <summary>Anything else: not JSON, JSON declared a form, or JSON with comments, trailing commas or repeated
    /// keys. Its JSON fields cannot be read one way only, so conditions on them are ambiguous.</summary>
    Opaque,
}

/// <summary>
/// A request body read for inspection (decoded from gzip, br or deflate when it was sent so),
/// with its one reading as JSON when it has one.
/// </summary>
internal sealed class InspectedBody : IDisposable
{
    private static readonly JsonDocumentOptions Strict = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowDuplicateProperties = false,
        MaxDepth = 64,
    };

    private string? _text;

    private readonly ReadOnlyMemory<byte> _content;

    private InspectedBody(ReadOnlyMemory<byte> bytes, ReadOnlyMemory<byte> content, BodyKind kind, JsonDocument? json, string? opaqueReason)
    {
        Bytes = bytes;
        _content = content;
        Kind = kind;
        Json = json;
        OpaqueReason = opaqueReason;
    }

    public static InspectedBody Empty { get; } = new(ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, BodyKind.Empty, null, null);

    /// <summary>The decoded bytes, as received; policy reads them after a UTF-8 byte order mark.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    public BodyKind Kind { get; }

    public JsonDocument? Json { get; }

    /// <summary>Why a body that looked like JSON was not read as JSON.</summary>
    public string? OpaqueReason { get; }

    /// <summary>The parts of a <c>multipart/*</c> body, when it was read with <see cref="ReadAsync"/>.</summary>
    public MultipartBody? Multipart { get; private set; }

    /// <summary>The bytes policy reads: <see cref="Bytes"/> after a UTF-8 byte order mark.</summary>
    public ReadOnlyMemory<byte> Content => _content;

    public string Text => _text ??= RequestFacts.TextOf(_content.Span);

    /// <summary>
    /// Reads a body as <see cref="Read"/> does and, when its Content-Type is <c>multipart/*</c>,
    /// splits it into its parts, whose own declarations <see cref="BodyCharset"/> checks: how the
    /// gateway reads every body it inspects.
    /// </summary>
    public static async Task<InspectedBody> ReadAsync(ReadOnlyMemory<byte> bytes, string? contentType, CancellationToken cancellationToken)
    {
        var body = Read(bytes, contentType);
        if (!bytes.IsEmpty)
        {
            // Not Empty, the shared instance: a body with bytes is always a new one.
            body.Multipart = await MultipartBody.ReadAsync(contentType, bytes, cancellationToken);
        }

        return body;
    }

    /// <summary>Reads a body as JSON when it is strict JSON; a multipart body is not split into
    /// its parts (<see cref="ReadAsync"/> does that, and BodyCharset refuses one that was not).</summary>
    /// <param name="contentType">The request's Content-Type, only to say why a body is not
    /// JSON: the body is read as JSON whatever it declares.</param>
    public static InspectedBody Read(ReadOnlyMemory<byte> bytes, string? contentType = null)
    {
        // A UTF-8 byte order mark is read past, as Node's body-parser, Python's json.loads and
        // System.Text.Json's stream readers do; parsers that do not refuse the body instead, so
        // no upstream reads anything else. (Other charsets never get here: BodyCharset.)
        var content = bytes.Span.StartsWith("\uFEFF"u8) ? bytes[3..] : bytes;
        if (content.IsEmpty)
        {
            return bytes.IsEmpty ? Empty : new InspectedBody(bytes, content, BodyKind.Empty, null, null);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content, Strict);
        }
        catch (JsonException ex)
        {
            return new InspectedBody(bytes, content, BodyKind.Opaque, null, ex.Message.Contains("duplicate", StringComparison.OrdinalIgnoreCase)
                ? "the JSON body repeats a key"
                : NotJson(contentType));
        }

        string? problem;
        try
        {
            problem = IsForm(contentType)
                // "&amount=500&" is a JSON string with no fields, and a form with amount=500.
                ? "the body is declared a form and is also JSON: a form reader and a JSON reader read different fields in it"
                : HasKeysDifferingOnlyInCase(document.RootElement) ? "the JSON body has keys that differ only in letter case" : null;
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape ("\ud800") cannot be decoded; parsers disagree on it.
            problem = "the JSON body has a string that is not valid Unicode";
        }

        if (problem is not null)
        {
            document.Dispose();
            return new InspectedBody(bytes, content, BodyKind.Opaque, null, problem);
        }

        return new InspectedBody(bytes, content, BodyKind.Json, document, null);
    }

    /// <summary>Whether the body is declared a form, which express, Python and ASP.NET read by
    /// its form fields whatever else it could be read as.</summary>
    private static bool IsForm(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase));

    private static string NotJson(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media) ? media.MediaType.Value?.ToLowerInvariant() switch
        {
            "application/x-www-form-urlencoded" => "the body is form-encoded, not JSON, so its fields cannot be read as JSON fields",
            "multipart/form-data" => "the body is multipart form data, not JSON, so its fields cannot be read as JSON fields",
            _ => "the body is not strict JSON",
        } : "the body is not strict JSON";

    /// <summary>Case-insensitive deserialisers (Jackson, ASP.NET, many ORMs) merge such keys,
    /// taking one of the values, so the body has two readings. Every string is decoded on the
    /// way (which throws for one that is not valid Unicode).</summary>
    private static bool HasKeysDifferingOnlyInCase(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                HashSet<string>? seen = null;
                foreach (var property in element.EnumerateObject())
                {
                    seen ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                    if (!Conditions.KeyCase.AddUnique(seen, property.Name) || HasKeysDifferingOnlyInCase(property.Value))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValueKind.String:
                _ = element.GetString();
                return false;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (HasKeysDifferingOnlyInCase(item))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    public void Dispose() => Json?.Dispose();
}
