using System.IO.Compression;
using Airlock.Gateway.Errors;
using Microsoft.Extensions.Primitives;

namespace Airlock.Gateway.Policy;

/// <summary>The outcome of reading a body for inspection.</summary>
/// <param name="Original">The bytes as they arrived, to be sent on unchanged.</param>
/// <param name="Decoded">The bytes with the content encoding removed, as inspected.</param>
public readonly record struct BodyReadResult(byte[]? Original, byte[]? Decoded, ProblemType? Problem, string? Detail)
{
    public bool Succeeded => Problem is null;

    public static BodyReadResult Fail(ProblemType problem, string detail) => new(null, null, problem, detail);
}

/// <summary>
/// Reads a message body for inspection, bounded: never more than the limit, before or after
/// decoding. gzip, br and deflate are decoded (stacked encodings too); any other encoding is
/// refused rather than inspected as opaque bytes. Used for request bodies (policy) and
/// response bodies (guardrails).
/// </summary>
public static class BodyReader
{
    public static async Task<BodyReadResult> ReadAsync(Stream body, long? declaredLength, StringValues contentEncoding, long limit, string what, CancellationToken cancellationToken)
    {
        if (declaredLength > limit)
        {
            return BodyReadResult.Fail(ProblemType.BodyTooLarge, $"the {what} is {declaredLength} bytes; at most {limit} are inspected");
        }

        var original = await ReadBoundedAsync(body, limit, cancellationToken);
        if (original is null)
        {
            return BodyReadResult.Fail(ProblemType.BodyTooLarge, $"the {what} is larger than the {limit} bytes inspected");
        }

        // Content-Encoding lists the encodings in the order applied: undo them last first.
        var encodings = new List<string>();
        foreach (var value in contentEncoding)
        {
            foreach (var token in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!token.Equals("identity", StringComparison.OrdinalIgnoreCase))
                {
                    encodings.Add(token.ToLowerInvariant());
                }
            }
        }

        var decoded = original;
        for (var i = encodings.Count - 1; i >= 0; i--)
        {
            if (encodings[i] is not ("gzip" or "x-gzip" or "br" or "deflate"))
            {
                return BodyReadResult.Fail(ProblemType.UnsupportedContentEncoding,
                    $"the {what} is encoded with '{encodings[i]}', which the gateway cannot decode to inspect; use gzip, br or deflate");
            }

            try
            {
                using var input = new MemoryStream(decoded);
                await using Stream decoder = encodings[i] switch
                {
                    "br" => new BrotliStream(input, CompressionMode.Decompress),
                    "deflate" => new ZLibStream(input, CompressionMode.Decompress),
                    _ => new GZipStream(input, CompressionMode.Decompress),
                };
                // The limit applies to the decoded size too: a small bomb must not expand past it.
                decoded = await ReadBoundedAsync(decoder, limit, cancellationToken);
                if (decoded is null)
                {
                    return BodyReadResult.Fail(ProblemType.BodyTooLarge, $"the {what} decodes to more than the {limit} bytes inspected");
                }
            }
            catch (InvalidDataException)
            {
                return BodyReadResult.Fail(ProblemType.InvalidBody, $"the {what} is not valid {encodings[i]} data");
            }
        }

        return new BodyReadResult(original, decoded, null, null);
    }

    /// <summary>Reads up to <paramref name="limit"/> bytes; null when there are more.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(Stream stream, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
