using System.Buffers;
using System.Text;
using Airlock.Gateway.Policy;
using Microsoft.Net.Http.Headers;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>How a multipart body is split into the parts upstreams read: every part, nested ones
/// after the part that holds them, within the bounds (parts, depth, boundary length); a body that
/// does not split one way has an error, never fewer parts.</summary>
public class MultipartBodyTests
{
    private static string Form(string boundary, params string[] parts) =>
        string.Concat(parts.Select(p => $"--{boundary}\r\n{p}\r\n")) + $"--{boundary}--\r\n";

    private static Task<MultipartBody?> SplitAsync(string contentType, string body) =>
        MultipartBody.ReadAsync(contentType, Encoding.UTF8.GetBytes(body), CancellationToken.None);

    [Theory]
    [InlineData("multipart/form-data; boundary=x", true)]
    [InlineData("multipart/mixed; boundary=x", true)]
    [InlineData("Multipart/Related", true)]
    [InlineData("application/json", false)]
    [InlineData("text/multipart", false)]
    [InlineData("not a media type", false)]
    [InlineData(null, false)]
    public void Multipart_is_any_multipart_media_type(string? contentType, bool multipart)
    {
        Assert.Equal(multipart, MultipartBody.IsMultipart(contentType));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("not a media type")]
    [InlineData(null)]
    public async Task A_body_that_is_not_multipart_is_not_split(string? contentType)
    {
        Assert.Null(await MultipartBody.ReadAsync(contentType, Encoding.UTF8.GetBytes("--x\r\n\r\na\r\n--x--\r\n"), CancellationToken.None));
    }

    [Fact]
    public async Task Every_part_is_read_with_its_headers_and_content_as_sent()
    {
        var body = await SplitAsync("multipart/form-data; boundary=b0", Form("b0",
            "Content-Disposition: form-data; name=\"amount\"\r\n\r\n150",
            "Content-Disposition: form-data; name=\"note\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nrefund\r\nall",
            "Content-Type: text/plain\r\n\r\nno name"));

        Assert.Null(body!.Error);
        Assert.Equal(["amount", "note", null], body.Parts.Select(p => p.Name));
        Assert.Equal(["150", "refund\r\nall", "no name"], body.Parts.Select(p => Encoding.UTF8.GetString(p.Content.Span)));
        Assert.Equal("text/plain; charset=utf-8", body.Parts[1].Headers[HeaderNames.ContentType].ToString());
        Assert.False(body.Parts[0].Headers.ContainsKey(HeaderNames.ContentType));
    }

    [Fact]
    public async Task A_part_without_headers_has_none()
    {
        var body = await SplitAsync("multipart/mixed; boundary=b0", "--b0\r\n\r\nbare\r\n--b0--\r\n");

        var part = Assert.Single(body!.Parts);
        Assert.Empty(part.Headers);
        Assert.Null(part.Name);
    }

    [Fact]
    public async Task A_part_named_by_a_disposition_that_does_not_parse_has_no_name()
    {
        var body = await SplitAsync("multipart/form-data; boundary=b0", Form("b0", "Content-Disposition: ;;\r\n\r\nx"));

        Assert.Null(Assert.Single(body!.Parts).Name);
    }

    [Fact]
    public async Task A_part_from_a_slice_of_a_larger_buffer_is_read_from_that_slice()
    {
        var bytes = Encoding.UTF8.GetBytes("garbage" + Form("b0", "Content-Disposition: form-data; name=\"a\"\r\n\r\n1") + "garbage");
        var slice = bytes.AsMemory(7, bytes.Length - 14);

        var body = await MultipartBody.ReadAsync("multipart/form-data; boundary=b0", slice, CancellationToken.None);

        Assert.Null(body!.Error);
        Assert.Equal("1", Encoding.UTF8.GetString(Assert.Single(body.Parts).Content.Span));
    }

    [Fact]
    public async Task A_body_held_in_memory_that_is_not_an_array_is_split_the_same()
    {
        using var memory = new NotAnArray(Encoding.UTF8.GetBytes(Form("b0", "Content-Disposition: form-data; name=\"a\"\r\n\r\n1", "Content-Disposition: form-data; name=\"b\"\r\n\r\n2")));

        var body = await MultipartBody.ReadAsync("multipart/form-data; boundary=b0", memory.Memory, CancellationToken.None);

        Assert.Null(body!.Error);
        Assert.Equal(["1", "2"], body.Parts.Select(p => Encoding.UTF8.GetString(p.Content.Span)));
    }

    /// <summary>Memory that does not expose an array (as pooled or native buffers do not).</summary>
    private sealed class NotAnArray(byte[] bytes) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => bytes;

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }

    [Fact]
    public async Task A_nested_multipart_part_is_split_after_the_part_that_holds_it()
    {
        var inner = Form("in", "Content-Type: text/plain\r\n\r\nfirst", "Content-Type: text/plain\r\n\r\nsecond");
        var body = await SplitAsync("multipart/form-data; boundary=out", Form("out",
            $"Content-Disposition: form-data; name=\"files\"\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n{inner}",
            "Content-Disposition: form-data; name=\"after\"\r\n\r\nlast"));

        Assert.Null(body!.Error);
        Assert.Equal(["files", null, null, "after"], body.Parts.Select(p => p.Name));
        Assert.Equal("second", Encoding.UTF8.GetString(body.Parts[2].Content.Span));
    }

    private static string Nested(int depth)
    {
        var content = "Content-Type: text/plain\r\n\r\nleaf";
        for (var level = depth; level >= 2; level--)
        {
            content = $"Content-Type: multipart/mixed; boundary=b{level}\r\n\r\n{Form($"b{level}", content)}";
        }

        return Form("b1", content);
    }

    [Fact]
    public async Task Multipart_nested_three_deep_is_split()
    {
        var body = await SplitAsync("multipart/mixed; boundary=b1", Nested(3));

        Assert.Null(body!.Error);
        Assert.Equal(3, body.Parts.Length);
        Assert.Equal("leaf", Encoding.UTF8.GetString(body.Parts[^1].Content.Span));
    }

    [Fact]
    public async Task Multipart_nested_four_deep_is_not_split()
    {
        var body = await SplitAsync("multipart/mixed; boundary=b1", Nested(4));

        Assert.Equal("the multipart body nests multipart parts more than 3 deep", body!.Error);
    }

    [Fact]
    public async Task A_nested_part_that_does_not_split_makes_the_body_not_split()
    {
        var body = await SplitAsync("multipart/form-data; boundary=out", Form("out",
            "Content-Disposition: form-data; name=\"files\"\r\nContent-Type: multipart/mixed\r\n\r\n--in\r\n\r\nx\r\n--in--\r\n",
            "Content-Disposition: form-data; name=\"after\"\r\n\r\nlast"));

        Assert.StartsWith("the multipart body's Content-Type has no boundary", body!.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_thousand_parts_are_split()
    {
        var body = await SplitAsync("multipart/form-data; boundary=b0", Form("b0", [.. Enumerable.Range(0, MultipartBody.MaxParts).Select(i => $"Content-Disposition: form-data; name=\"f{i}\"\r\n\r\n{i}")]));

        Assert.Null(body!.Error);
        Assert.Equal(MultipartBody.MaxParts, body.Parts.Length);
    }

    [Fact]
    public async Task More_than_a_thousand_parts_are_not_split()
    {
        var body = await SplitAsync("multipart/form-data; boundary=b0", Form("b0", [.. Enumerable.Range(0, MultipartBody.MaxParts + 1).Select(i => $"Content-Disposition: form-data; name=\"f{i}\"\r\n\r\n{i}")]));

        Assert.Equal("the multipart body has more than 1000 parts", body!.Error);
    }

    [Fact]
    public async Task A_boundary_of_seventy_characters_is_read()
    {
        var boundary = new string('b', 70);

        var body = await SplitAsync($"multipart/form-data; boundary={boundary}", Form(boundary, "Content-Disposition: form-data; name=\"a\"\r\n\r\n1"));

        Assert.Null(body!.Error);
        Assert.Single(body.Parts);
    }

    [Theory]
    [InlineData("multipart/form-data")]
    [InlineData("multipart/form-data; boundary=\"\"")]
    [InlineData("multipart/form-data; boundary=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")]
    public async Task A_body_without_a_boundary_of_one_to_seventy_characters_is_not_split(string contentType)
    {
        var body = await SplitAsync(contentType, Form(new string('b', 71), "Content-Disposition: form-data; name=\"a\"\r\n\r\n1"));

        Assert.Equal("the multipart body's Content-Type has no boundary of 1 to 70 characters, so its parts cannot be told apart", body!.Error);
    }

    [Fact]
    public async Task A_quoted_boundary_is_read_without_its_quotes()
    {
        var body = await SplitAsync("multipart/form-data; boundary=\"b 0\"", Form("b 0", "Content-Disposition: form-data; name=\"a\"\r\n\r\n1"));

        Assert.Null(body!.Error);
        Assert.Single(body.Parts);
    }

    [Fact]
    public async Task A_malformed_part_header_is_an_error_that_does_not_echo_it()
    {
        var body = await SplitAsync("multipart/form-data; boundary=b0", Form("b0", "secret-looking line without a colon\r\n\r\nx"));

        Assert.Equal("a part of the multipart body has a malformed header, or more headers than the 16 (16 KiB) read", body!.Error);
    }

    [Fact]
    public async Task A_body_without_its_closing_boundary_is_an_error()
    {
        var body = await SplitAsync("multipart/form-data; boundary=b0", "--b0\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1");

        Assert.Equal("the multipart body ends before its closing boundary", body!.Error);
    }
}
