using System.Buffers.Binary;
using System.IO.Compression;
using Airlock.Gateway.Errors;
using Microsoft.Extensions.Primitives;

namespace Airlock.Gateway.Policy;

/// <summary>The outcome of reading a body for inspection.</summary>
/// <param name="Original">The bytes as they arrived, to be sent on unchanged.</param>
/// <param name="Decoded">The bytes with the content encoding removed, as inspected.</param>
internal readonly record struct BodyReadResult(byte[]? Original, byte[]? Decoded, ProblemType? Problem, string? Detail)
{
    public bool Succeeded => Problem is null;

    public static BodyReadResult Fail(ProblemType problem, string detail) => new(null, null, problem, detail);
}

/// <summary>
/// Reads a message body for inspection, bounded: never more than the limit, before or after
/// decoding. gzip (and x-gzip, which RFC 9110 §8.4.1.3 says to read as gzip), br and deflate are
/// decoded (stacked encodings too); any other encoding is refused rather than inspected as
/// opaque bytes. Used for request bodies (policy) and
/// response bodies (guardrails).
/// </summary>
internal static class BodyReader
{
    public static async Task<BodyReadResult> ReadAsync(Stream body, long? declaredLength, StringValues contentEncoding, long limit, string what, CancellationToken cancellationToken)
    {
        if (declaredLength > limit)
        {
            return BodyReadResult.Fail(ProblemType.BodyTooLarge, $"the {what} is {declaredLength} bytes; at most {limit} are inspected");
        }

        byte[]? original;
        try
        {
            original = await ReadBoundedAsync(body, limit, cancellationToken);
        }
        catch (IOException)
        {
            // The sender broke off mid-body (it disconnected, or sent less than it announced;
            // Kestrel's BadHttpRequestException is an IOException): a failed body, not a defect
            // of the gateway to answer with 500.
            return BodyReadResult.Fail(ProblemType.RequestBodyError, $"the {what} ended before its end: the sender broke off");
        }

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

            var (output, error) = await DecodeAsync(encodings[i], decoded, limit, cancellationToken);
            if (error is not null)
            {
                return BodyReadResult.Fail(ProblemType.InvalidBody, $"the {what} is not valid {encodings[i]} data: {error}");
            }

            if (output is null)
            {
                return BodyReadResult.Fail(ProblemType.BodyTooLarge, $"the {what} decodes to more than the {limit} bytes inspected");
            }

            decoded = output;
        }

        return new BodyReadResult(original, decoded, null, null);
    }

    /// <summary>
    /// Decodes one content encoding, bounded by <paramref name="limit"/> (a null output means
    /// more). A stream cut short is an error, not a shorter body: gzip's length trailer and
    /// zlib's Adler-32 are checked, and brotli must reach its end.
    /// </summary>
    private static async Task<(byte[]? Output, string? Error)> DecodeAsync(string encoding, byte[] input, long limit, CancellationToken cancellationToken)
    {
        if (encoding == "br")
        {
            return DecodeBrotli(input, limit);
        }

        byte[]? output;
        try
        {
            using var source = new MemoryStream(input);
            await using Stream decoder = encoding == "deflate"
                ? new ZLibStream(source, CompressionMode.Decompress)
                : new GZipStream(source, CompressionMode.Decompress);
            output = await ReadBoundedAsync(decoder, limit, cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException)
        {
            return (null, "corrupt data");
        }

        if (output is null)
        {
            return (null, null);
        }

        // The shortest whole streams: zlib is a 2-byte header, at least 2 bytes of deflate data
        // (an empty final block) and the 4-byte Adler-32; gzip a 10-byte header, the same 2 bytes
        // and an 8-byte trailer. Anything shorter that decodes is cut short, whatever its last
        // four bytes happen to say.
        if (encoding == "deflate")
        {
            return input.Length >= 8 && BinaryPrimitives.ReadUInt32BigEndian(input.AsSpan(input.Length - 4)) == Adler32(output)
                ? (output, null)
                : (null, "the stream is cut short or its checksum does not match");
        }

        // The last member's length trailer matches the whole output of several members only when
        // those before it are empty, so the first member is decoded alone too: an upstream that
        // reads one member must read what policy read.
        return input.Length >= 20 && BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(input.Length - 4)) == (uint)output.Length
            && await FirstGzipMemberLengthAsync(input, limit, cancellationToken) == output.Length
            ? (output, null)
            : (null, "the stream is cut short, or is several gzip members");
    }

    /// <summary>How many bytes the first gzip member alone decodes to (RFC 1952: a 10-byte
    /// header, optional extra field, name, comment and header CRC, then one deflate stream), or
    /// -1 when its header cannot be read.</summary>
    internal static async Task<long> FirstGzipMemberLengthAsync(byte[] input, long limit, CancellationToken cancellationToken)
    {
        const byte HeaderCrc = 0x02, Extra = 0x04, Name = 0x08, Comment = 0x10;
        var flags = input[3];
        var at = 10;
        if ((flags & Extra) != 0)
        {
            at = at + 2 <= input.Length ? at + 2 + BinaryPrimitives.ReadUInt16LittleEndian(input.AsSpan(at)) : int.MaxValue;
        }

        foreach (var text in new[] { Name, Comment })
        {
            if ((flags & text) != 0 && at < input.Length)
            {
                var end = Array.IndexOf(input, (byte)0, at);
                at = end < 0 ? int.MaxValue : end + 1;
            }
        }

        if ((flags & HeaderCrc) != 0)
        {
            at = at > int.MaxValue - 2 ? int.MaxValue : at + 2;
        }

        if (at >= input.Length)
        {
            return -1;
        }

        // A raw deflate stream ends at its final block and leaves what follows (the trailer and
        // any further members) unread.
        using var source = new MemoryStream(input, at, input.Length - at);
        await using var member = new DeflateStream(source, CompressionMode.Decompress);
        return (await ReadBoundedAsync(member, limit, cancellationToken))?.LongLength ?? -1;
    }

    private static (byte[]? Output, string? Error) DecodeBrotli(byte[] input, long limit)
    {
        using var decoder = new BrotliDecoder();
        using var output = new MemoryStream();
        var buffer = new byte[64 * 1024];
        var source = input.AsSpan();
        while (true)
        {
            var status = decoder.Decompress(source, buffer, out var consumed, out var written);
            output.Write(buffer, 0, written);
            source = source[consumed..];
            if (output.Length > limit)
            {
                return (null, null);
            }

            switch (status)
            {
                case System.Buffers.OperationStatus.Done:
                    return source.IsEmpty ? (output.ToArray(), null) : (null, "data follows the end of the stream");
                case System.Buffers.OperationStatus.NeedMoreData:
                    return (null, "the stream is cut short");
                case System.Buffers.OperationStatus.InvalidData:
                    return (null, "corrupt data");
            }
        }
    }

    private static uint Adler32(ReadOnlySpan<byte> data)
    {
        const uint Mod = 65521;
        uint a = 1, b = 0;
        foreach (var d in data)
        {
            a = (a + d) % Mod;
            b = (b + a) % Mod;
        }

        return (b << 16) | a;
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
