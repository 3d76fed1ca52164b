using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Policy;

/// <summary>One part of a multipart body: its headers as sent and its content, not decoded.</summary>
/// <param name="Name">The <c>name</c> of its <c>Content-Disposition</c> (a form field's name), when it has one.</param>
internal sealed record MultipartPart(string? Name, IReadOnlyDictionary<string, StringValues> Headers, ReadOnlyMemory<byte> Content);

/// <summary>
/// A multipart body (RFC 2046; RFC 7578 for <c>multipart/form-data</c>) split into its parts by
/// ASP.NET's <see cref="MultipartReader"/>. Each part may declare its own charset and transfer
/// encoding, which upstream parsers honour (busboy decodes a part declared <c>utf-16le</c>, a MIME
/// parser one declared <c>utf-7</c> or sent as base64): <see cref="BodyCharset"/> checks every
/// part, and masked-field queries read their names. Nested multipart parts are split too and
/// follow the part that holds them.
/// <para>
/// Bounded: the body is already at most <c>policy.maxBodyBytes</c>; at most <see cref="MaxParts"/>
/// parts, nested at most <see cref="MaxDepth"/> deep, each with the reader's header limits (16
/// headers, 16 KiB). A body that does not split (no boundary, a malformed part header, no closing
/// boundary) has an <see cref="Error"/>, never fewer parts.
/// </para>
/// </summary>
internal sealed class MultipartBody
{
    public const int MaxParts = 1000;

    public const int MaxDepth = 3;

    /// <summary>RFC 2046 §5.1.1: a boundary is 1 to 70 characters.</summary>
    private const int MaxBoundaryLength = 70;

    private MultipartBody(ImmutableArray<MultipartPart> parts, string? error)
    {
        Parts = parts;
        Error = error;
    }

    public ImmutableArray<MultipartPart> Parts { get; }

    /// <summary>Why the body could not be split into parts; null when it was.</summary>
    public string? Error { get; }

    /// <summary>Whether a Content-Type names a multipart media type (<c>multipart/*</c>).</summary>
    public static bool IsMultipart(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media) && IsMultipart(media);

    private static bool IsMultipart(MediaTypeHeaderValue media) =>
        media.Type.Equals("multipart", StringComparison.OrdinalIgnoreCase);

    /// <summary>Splits the body when its Content-Type is <c>multipart/*</c>; null otherwise.</summary>
    public static async Task<MultipartBody?> ReadAsync(string? contentType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || !IsMultipart(media))
        {
            return null;
        }

        var parts = ImmutableArray.CreateBuilder<MultipartPart>();
        var error = await SplitAsync(media, body, 1, parts, cancellationToken);
        return new MultipartBody(parts.ToImmutable(), error);
    }

    private static async Task<string?> SplitAsync(MediaTypeHeaderValue media, ReadOnlyMemory<byte> body, int depth,
        ImmutableArray<MultipartPart>.Builder parts, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(media.Boundary);
        if (boundary.Length is 0 or > MaxBoundaryLength)
        {
            return $"the multipart body's Content-Type has no boundary of 1 to {MaxBoundaryLength} characters, so its parts cannot be told apart";
        }

        var stream = MemoryMarshal.TryGetArray(body, out var array)
            ? new MemoryStream(array.Array!, array.Offset, array.Count, writable: false)
            : new MemoryStream(body.ToArray(), writable: false);
        await using (stream)
        {
            var reader = new MultipartReader(boundary.ToString(), stream) { BodyLengthLimit = body.Length };
            try
            {
                while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
                {
                    if (parts.Count == MaxParts)
                    {
                        return $"the multipart body has more than {MaxParts} parts";
                    }

                    using var content = new MemoryStream();
                    await section.Body.CopyToAsync(content, cancellationToken);
                    var headers = section.Headers ?? [];
                    parts.Add(new MultipartPart(NameOf(section.ContentDisposition), headers, content.ToArray()));
                    if (MediaTypeHeaderValue.TryParse(section.ContentType, out var inner) && IsMultipart(inner))
                    {
                        if (depth == MaxDepth)
                        {
                            return $"the multipart body nests multipart parts more than {MaxDepth} deep";
                        }

                        if (await SplitAsync(inner, parts[^1].Content, depth + 1, parts, cancellationToken) is { } error)
                        {
                            return error;
                        }
                    }
                }
            }
            catch (InvalidDataException)
            {
                // The reader's own messages quote the offending line: the caller's bytes, not ours to echo.
                return "a part of the multipart body has a malformed header, or more headers than the 16 (16 KiB) read";
            }
            catch (IOException)
            {
                return "the multipart body ends before its closing boundary";
            }
        }

        return null;
    }

    private static string? NameOf(string? contentDisposition) =>
        ContentDispositionHeaderValue.TryParse(contentDisposition, out var disposition) && disposition.Name.HasValue
            ? HeaderUtilities.UnescapeAsQuotedString(disposition.Name).ToString()
            : null;
}
