using System.IO.Compression;
using System.IO.Pipelines;
using System.Text;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Policy;
using Microsoft.Extensions.Primitives;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>How a body is read for inspection: bounded before and after decoding, decoded from
/// gzip, br and deflate (stacked too), anything else refused, and a stream cut short never read as
/// a shorter body. The upstream gets the bytes as they came.</summary>
public class BodyReaderTests
{
    private const long Limit = 64 * 1024;

    private static Task<BodyReadResult> ReadAsync(byte[] body, StringValues encoding = default, long limit = Limit, long? declared = null) =>
        BodyReader.ReadAsync(new MemoryStream(body, writable: false), declared, encoding, limit, "request body", CancellationToken.None);

    private static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] Brotli(byte[] data)
    {
        using var output = new MemoryStream();
        using (var brotli = new BrotliStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            brotli.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>Bytes no compressor can shrink much and whose sums overflow Adler-32's modulus.</summary>
    private static byte[] Noise(int length)
    {
        var bytes = new byte[length];
        new Random(1234).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task A_plain_body_is_read_as_it_came()
    {
        var body = Text("{\"amount\":50}");

        var result = await ReadAsync(body);

        Assert.True(result.Succeeded);
        Assert.Equal(body, result.Original);
        Assert.Equal(body, result.Decoded);
        Assert.Null(result.Detail);
    }

    [Fact]
    public async Task An_empty_body_is_read_as_empty()
    {
        var result = await ReadAsync([]);

        Assert.True(result.Succeeded);
        Assert.Empty(result.Original!);
        Assert.Empty(result.Decoded!);
    }

    [Fact]
    public async Task A_body_larger_than_one_read_is_read_whole()
    {
        var body = Noise(50_000);

        var result = await ReadAsync(body);

        Assert.Equal(body, result.Decoded);
    }

    [Fact]
    public async Task A_body_of_exactly_the_limit_is_read()
    {
        var body = Noise(40_000);

        var result = await ReadAsync(body, limit: body.Length, declared: body.Length);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(body, result.Decoded);
    }

    [Fact]
    public async Task A_body_declared_larger_than_the_limit_is_refused_before_it_is_read()
    {
        var stream = new MemoryStream(Text("{}"));

        var result = await BodyReader.ReadAsync(stream, 2049, default, 2048, "request body", CancellationToken.None);

        Assert.Equal(ProblemType.BodyTooLarge, result.Problem);
        Assert.Equal("the request body is 2049 bytes; at most 2048 are inspected", result.Detail);
        Assert.Equal(0, stream.Position);
        Assert.Null(result.Original);
    }

    [Fact]
    public async Task A_streamed_body_one_byte_over_the_limit_is_refused()
    {
        var result = await ReadAsync(Noise(40_001), limit: 40_000);

        Assert.False(result.Succeeded);
        Assert.Equal(ProblemType.BodyTooLarge, result.Problem);
        Assert.Equal("the request body is larger than the 40000 bytes inspected", result.Detail);
    }

    [Fact]
    public async Task A_sender_that_breaks_off_mid_body_is_a_body_error_not_a_gateway_fault()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Text("{\"amount\":"));
        await pipe.Writer.CompleteAsync(new IOException("the client disconnected"));

        var result = await BodyReader.ReadAsync(pipe.Reader.AsStream(), 100, default, Limit, "request body", CancellationToken.None);

        Assert.Equal(ProblemType.RequestBodyError, result.Problem);
        Assert.Equal("the request body ended before its end: the sender broke off", result.Detail);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("x-gzip")]
    [InlineData("GZip")]
    [InlineData(" gzip ")]
    [InlineData("identity, gzip")]
    [InlineData("gzip,identity")]
    public async Task A_gzip_body_is_inspected_decoded_and_sent_as_it_came(string encoding)
    {
        var json = Text("{\"amount\":150}");
        var sent = Gzip(json);

        var result = await ReadAsync(sent, encoding);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(json, result.Decoded);
        Assert.Equal(sent, result.Original);
    }

    [Fact]
    public async Task A_content_encoding_header_without_a_value_names_no_encoding()
    {
        var json = Text("{\"amount\":150}");

        var result = await ReadAsync(json, new StringValues([null, ""]));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(json, result.Decoded);
    }

    [Fact]
    public async Task A_br_body_is_inspected_decoded()
    {
        var json = Text("{\"amount\":150}");

        var result = await ReadAsync(Brotli(json), "br");

        Assert.Equal(json, result.Decoded);
    }

    [Fact]
    public async Task A_deflate_body_is_inspected_decoded()
    {
        var json = Text("{\"amount\":150}");

        var result = await ReadAsync(Deflate(json), "deflate");

        Assert.Equal(json, result.Decoded);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task A_large_compressed_body_is_decoded_whole(string encoding)
    {
        // Larger than one read, the brotli decoder's buffer, and Adler-32's modulus.
        var data = Noise(200_000);
        var sent = encoding switch { "gzip" => Gzip(data), "deflate" => Deflate(data), _ => Brotli(data) };

        var result = await ReadAsync(sent, encoding, limit: 300_000);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(data, result.Decoded);
    }

    [Fact]
    public async Task Stacked_encodings_are_undone_last_first()
    {
        var json = Text("{\"amount\":150}");
        // Content-Encoding: deflate, gzip — deflate was applied first, gzip last.
        var sent = Gzip(Deflate(json));

        var result = await ReadAsync(sent, "deflate, gzip");

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(json, result.Decoded);
        Assert.Equal(sent, result.Original);
    }

    [Fact]
    public async Task Stacked_encodings_in_separate_headers_are_undone_last_first()
    {
        var json = Text("{\"amount\":150}");

        var result = await ReadAsync(Brotli(Gzip(json)), new StringValues(["gzip", "br"]));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(json, result.Decoded);
    }

    [Theory]
    [InlineData("zstd", "zstd")]
    [InlineData("compress", "compress")]
    [InlineData("ZSTD", "zstd")]
    [InlineData("zstd, gzip", "zstd")]
    public async Task Another_encoding_is_refused_rather_than_inspected_as_opaque_bytes(string encoding, string named)
    {
        var result = await ReadAsync(Gzip(Text("{}")), encoding);

        Assert.Equal(ProblemType.UnsupportedContentEncoding, result.Problem);
        Assert.Equal($"the request body is encoded with '{named}', which the gateway cannot decode to inspect; use gzip, br or deflate", result.Detail);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task Data_that_is_not_of_its_encoding_is_an_invalid_body(string encoding)
    {
        var result = await ReadAsync(Text("{\"amount\":150} is not compressed at all"), encoding);

        Assert.Equal(ProblemType.InvalidBody, result.Problem);
        Assert.StartsWith($"the request body is not valid {encoding} data: ", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gzip", 4)]
    [InlineData("gzip", 8)]
    [InlineData("deflate", 2)]
    [InlineData("deflate", 4)]
    [InlineData("br", 1)]
    public async Task A_compressed_body_cut_short_is_refused_never_read_as_a_shorter_body(string encoding, int cut)
    {
        var data = Noise(30_000);
        var sent = encoding switch { "gzip" => Gzip(data), "deflate" => Deflate(data), _ => Brotli(data) };

        var result = await ReadAsync(sent[..^cut], encoding);

        Assert.Equal(ProblemType.InvalidBody, result.Problem);
        Assert.Null(result.Decoded);
    }

    [Fact]
    public async Task A_deflate_body_whose_checksum_does_not_match_is_refused()
    {
        var sent = Deflate(Text("{\"amount\":150}"));
        sent[^1] ^= 0x01;

        var result = await ReadAsync(sent, "deflate");

        Assert.Equal(ProblemType.InvalidBody, result.Problem);
        Assert.StartsWith("the request body is not valid deflate data: ", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deflate_body_without_its_checksum_says_it_is_cut_short()
    {
        var sent = Deflate(Text("{\"amount\":150}"));

        var result = await ReadAsync(sent[..^4], "deflate");

        Assert.Equal("the request body is not valid deflate data: the stream is cut short or its checksum does not match", result.Detail);
    }

    [Fact]
    public async Task The_shortest_whole_gzip_and_zlib_streams_are_read_as_empty_bodies()
    {
        // gzip: header, an empty final block, CRC-32 0 and length 0; zlib: header, the block, Adler-32 1.
        byte[] gzip = [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] zlib = [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];

        var fromGzip = await ReadAsync(gzip, "gzip");
        var fromZlib = await ReadAsync(zlib, "deflate");

        Assert.True(fromGzip.Succeeded, fromGzip.Detail);
        Assert.Empty(fromGzip.Decoded!);
        Assert.True(fromZlib.Succeeded, fromZlib.Detail);
        Assert.Empty(fromZlib.Decoded!);
    }

    [Theory]
    // gzip with its trailer cut to 6 bytes, the last four of which are 0: the length of an empty body.
    [InlineData("gzip", new byte[] { 0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0x03, 0x00, 0, 0, 0, 0, 0, 0 })]
    [InlineData("gzip", new byte[] { 0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0 })]
    // zlib with its Adler-32 cut to 3 bytes, the last four of which read 1: the checksum of an empty body.
    [InlineData("deflate", new byte[] { 0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x01 })]
    // zlib cut inside its first block, ending in the same four bytes.
    [InlineData("deflate", new byte[] { 0x78, 0x01, 0x00, 0x00, 0x00, 0x01 })]
    public async Task A_stream_shorter_than_any_whole_one_is_cut_short_whatever_its_last_bytes_say(string encoding, byte[] sent)
    {
        var result = await ReadAsync(sent, encoding);

        Assert.Equal(ProblemType.InvalidBody, result.Problem);
    }

    [Fact]
    public async Task A_gzip_body_of_two_members_is_refused_as_upstreams_read_one_or_both()
    {
        var sent = Gzip(Text("{\"amount\":50}")).Concat(Gzip(Text("{\"amount\":150}"))).ToArray();

        var result = await ReadAsync(sent, "gzip");

        Assert.Equal(ProblemType.InvalidBody, result.Problem);
        Assert.Equal("the request body is not valid gzip data: the stream is cut short, or is several gzip members", result.Detail);
    }

    [Fact]
    public async Task A_gzip_body_whose_first_member_is_empty_is_refused_as_several_members()
    {
        // The last member's length trailer equals the whole output when the first member is empty,
        // so the trailer alone cannot tell; an upstream that reads one member reads an empty body.
        // An empty member by hand (GZipStream writes nothing for no data): header, an empty final
        // deflate block, CRC-32 0 and length 0.
        byte[] empty = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
        var sent = empty.Concat(Gzip(Text("{\"amount\":5000}"))).ToArray();

        var result = await ReadAsync(sent, "gzip");

        Assert.Equal(ProblemType.InvalidBody, result.Problem);
        Assert.Equal("the request body is not valid gzip data: the stream is cut short, or is several gzip members", result.Detail);
    }

    [Fact]
    public async Task A_gzip_body_with_a_file_name_and_comment_in_its_header_is_read()
    {
        var data = Text("{\"amount\":5}");
        var plain = Gzip(data);
        // FLG.FNAME | FLG.FCOMMENT, each a zero-terminated string after the 10-byte header.
        byte[] header = [.. plain[..3], 0x18, .. plain[4..10], .. "refund.json\0"u8.ToArray(), .. "from the agent\0"u8.ToArray()];
        var sent = header.Concat(plain[10..]).ToArray();

        var result = await ReadAsync(sent, "gzip");

        Assert.Null(result.Problem);
        Assert.Equal(data, result.Decoded);
    }

    [Fact]
    public async Task A_gzip_body_with_every_optional_header_field_is_read()
    {
        var data = Text("{\"amount\":5}");
        var plain = Gzip(data);
        // FLG.FHCRC | FEXTRA | FNAME | FCOMMENT: the extra field (its 2-byte length first), the
        // zero-terminated name and comment, then the CRC-16 of all the header before it. The extra
        // field holds a zero byte, which a reader that misplaced its end would take for a name's end.
        byte[] extra = [.. "Ai"u8.ToArray(), 4, 0, 0x64, 0, 0x74, 0x61];
        byte[] header = [.. plain[..3], 0x1E, .. plain[4..10], (byte)extra.Length, 0, .. extra,
            .. "refund.json\0"u8.ToArray(), .. "from the agent\0"u8.ToArray()];
        var crc = Crc32(header);
        var sent = header.Concat([(byte)crc, (byte)(crc >> 8)]).Concat(plain[10..]).ToArray();

        var result = await ReadAsync(sent, "gzip");

        Assert.Null(result.Problem);
        Assert.Equal(data, result.Decoded);
    }

    // What the first member decodes to is compared with the whole body's output. Headers that run
    // past the body's end (which the gzip decoder refuses before) find no first member, and never
    // throw or read a member from the wrong place.
    [Theory]
    [InlineData(new byte[] { 0x1F, 0x8B, 0x08, 0x04, 0, 0, 0, 0, 0, 0x03, 0x05 })]                     // FEXTRA, its length cut
    [InlineData(new byte[] { 0x1F, 0x8B, 0x08, 0x08, 0, 0, 0, 0, 0, 0x03, 0x61, 0x62, 0x03, 0x04 })]    // FNAME never ends
    [InlineData(new byte[] { 0x1F, 0x8B, 0x08, 0x0A, 0, 0, 0, 0, 0, 0x03, 0x61, 0x62, 0x03, 0x04 })]    // FNAME never ends, then FHCRC
    [InlineData(new byte[] { 0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03 })]                           // a header and nothing after
    public async Task A_gzip_header_that_runs_past_the_body_has_no_first_member(byte[] input)
    {
        Assert.Equal(-1, await BodyReader.FirstGzipMemberLengthAsync(input, Limit, CancellationToken.None));
    }

    [Fact]
    public async Task A_first_gzip_member_larger_than_the_limit_has_no_length()
    {
        var sent = Gzip(Text("{\"amount\":5000}"));

        Assert.Equal(15, await BodyReader.FirstGzipMemberLengthAsync(sent, Limit, CancellationToken.None));
        Assert.Equal(-1, await BodyReader.FirstGzipMemberLengthAsync(sent, 14, CancellationToken.None));
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }

    [Fact]
    public async Task A_gzip_body_whose_length_trailer_does_not_match_is_refused()
    {
        var sent = Gzip(Text("{\"amount\":150}"));
        sent[^4] ^= 0x01;

        var result = await ReadAsync(sent, "gzip");

        Assert.Equal(ProblemType.InvalidBody, result.Problem);
    }

    [Fact]
    public async Task A_br_body_followed_by_more_data_is_refused()
    {
        var sent = Brotli(Text("{\"amount\":50}")).Concat(Text("{\"amount\":150}")).ToArray();

        var result = await ReadAsync(sent, "br");

        Assert.Equal(ProblemType.InvalidBody, result.Problem);
        Assert.Equal("the request body is not valid br data: data follows the end of the stream", result.Detail);
    }

    [Fact]
    public async Task A_br_body_cut_short_says_so()
    {
        var sent = Brotli(Noise(1000));

        var result = await ReadAsync(sent[..^1], "br");

        Assert.Equal("the request body is not valid br data: the stream is cut short", result.Detail);
    }

    [Fact]
    public async Task Corrupt_br_data_says_so()
    {
        var result = await ReadAsync([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "br");

        Assert.Equal("the request body is not valid br data: corrupt data", result.Detail);
    }

    [Fact]
    public async Task Corrupt_gzip_data_says_so()
    {
        var result = await ReadAsync([0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "gzip");

        Assert.Equal("the request body is not valid gzip data: corrupt data", result.Detail);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task A_body_that_decodes_past_the_limit_is_too_large(string encoding)
    {
        var bomb = new byte[200_000];
        var sent = encoding switch { "gzip" => Gzip(bomb), "deflate" => Deflate(bomb), _ => Brotli(bomb) };
        Assert.True(sent.Length < 2048);

        var result = await ReadAsync(sent, encoding, limit: 100_000);

        Assert.Equal(ProblemType.BodyTooLarge, result.Problem);
        Assert.Equal("the request body decodes to more than the 100000 bytes inspected", result.Detail);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task A_body_that_decodes_to_exactly_the_limit_is_read(string encoding)
    {
        var data = new byte[100_000];
        var sent = encoding switch { "gzip" => Gzip(data), "deflate" => Deflate(data), _ => Brotli(data) };

        var result = await ReadAsync(sent, encoding, limit: 100_000);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(data.Length, result.Decoded!.Length);
    }

    [Fact]
    public async Task A_response_body_is_named_as_such()
    {
        var result = await BodyReader.ReadAsync(new MemoryStream(), 10_000, default, 1024, "response body", CancellationToken.None);

        Assert.Equal("the response body is 10000 bytes; at most 1024 are inspected", result.Detail);
    }
}
