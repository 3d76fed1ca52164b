using System.Text;
using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>How policy reads a body: strict JSON with one reading, or opaque (and why), a UTF-8
/// byte order mark read past, and a multipart body split only when read with its parts.</summary>
public class InspectedBodyTests
{
    private static InspectedBody Read(string body, string? contentType = null) => InspectedBody.Read(Encoding.UTF8.GetBytes(body), contentType);

    [Fact]
    public void Strict_json_is_read_as_json()
    {
        using var body = Read("{\"amount\":150,\"items\":[{\"sku\":\"a\"},{\"sku\":\"b\"}]}");

        Assert.Equal(BodyKind.Json, body.Kind);
        Assert.Equal(150, body.Json!.RootElement.GetProperty("amount").GetInt32());
        Assert.Null(body.OpaqueReason);
    }

    [Fact]
    public void No_bytes_is_the_empty_body()
    {
        var body = InspectedBody.Read(ReadOnlyMemory<byte>.Empty);

        Assert.Same(InspectedBody.Empty, body);
        Assert.Equal(BodyKind.Empty, body.Kind);
        Assert.Null(body.Json);
        Assert.Equal("", body.Text);
    }

    [Fact]
    public void A_byte_order_mark_alone_is_an_empty_body_that_still_has_its_bytes()
    {
        using var body = InspectedBody.Read(new byte[] { 0xEF, 0xBB, 0xBF });

        Assert.NotSame(InspectedBody.Empty, body);
        Assert.Equal(BodyKind.Empty, body.Kind);
        Assert.Equal(3, body.Bytes.Length);
        Assert.True(body.Content.IsEmpty);
    }

    [Fact]
    public void A_utf8_byte_order_mark_is_read_past_as_upstream_json_parsers_do()
    {
        using var body = InspectedBody.Read(Encoding.UTF8.GetBytes("\uFEFF{\"amount\":150}"));

        Assert.Equal(BodyKind.Json, body.Kind);
        Assert.Equal(150, body.Json!.RootElement.GetProperty("amount").GetInt32());
        Assert.Equal("{\"amount\":150}", body.Text);
        Assert.Equal(17, body.Bytes.Length);
        Assert.Equal(14, body.Content.Length);
    }

    [Fact]
    public void A_repeated_key_is_opaque_because_parsers_keep_the_first_or_the_last()
    {
        using var body = Read("{\"amount\":50,\"amount\":150}");

        Assert.Equal(BodyKind.Opaque, body.Kind);
        Assert.Null(body.Json);
        Assert.Equal("the JSON body repeats a key", body.OpaqueReason);
    }

    [Theory]
    [InlineData("{\"amount\":50,\"AMOUNT\":150}")]
    [InlineData("{\"refund\":{\"amount\":50,\"Amount\":150}}")]
    [InlineData("{\"items\":[{\"sku\":\"a\"},{\"sku\":\"b\",\"SKU\":\"c\"}]}")]
    [InlineData("[[{\"a\":1,\"A\":2}]]")]
    [InlineData("{\"kind\":\"refund\",\"\\u212Aind\":\"payout\"}")]
    public void Keys_that_differ_only_in_case_are_opaque_because_case_insensitive_binders_merge_them(string json)
    {
        using var body = Read(json);

        Assert.Equal(BodyKind.Opaque, body.Kind);
        Assert.Null(body.Json);
        Assert.Equal("the JSON body has keys that differ only in letter case", body.OpaqueReason);
    }

    [Theory]
    [InlineData("{\"a\":{\"x\":1},\"b\":{\"x\":2}}")]
    [InlineData("[{\"x\":1},{\"x\":2}]")]
    [InlineData("{\"a\":[1,\"two\",null,true]}")]
    public void The_same_key_in_different_objects_is_no_repetition(string json)
    {
        using var body = Read(json);

        Assert.Equal(BodyKind.Json, body.Kind);
    }

    [Theory]
    [InlineData("{\"note\":\"\\ud800\"}")]
    [InlineData("[\"\\udc00x\"]")]
    [InlineData("{\"a\":{\"b\":[\"\\ud800\"]}}")]
    public void A_lone_surrogate_is_opaque_because_parsers_disagree_on_it(string json)
    {
        using var body = Read(json);

        Assert.Equal(BodyKind.Opaque, body.Kind);
        Assert.Equal("the JSON body has a string that is not valid Unicode", body.OpaqueReason);
    }

    [Theory]
    [InlineData("{\"amount\":150,}")]
    [InlineData("{\"amount\":150 /* or 50 */}")]
    [InlineData("// note\n{\"amount\":150}")]
    [InlineData("amount=150")]
    [InlineData("{'amount':150}")]
    public void Json_that_is_not_strict_is_opaque(string text)
    {
        using var body = Read(text, "application/json");

        Assert.Equal(BodyKind.Opaque, body.Kind);
        Assert.Null(body.Json);
        Assert.Equal("the body is not strict JSON", body.OpaqueReason);
        Assert.Equal(text, body.Text);
    }

    [Fact]
    public void Json_nested_deeper_than_64_is_opaque()
    {
        using var deep = Read(new string('[', 65) + new string(']', 65));
        using var shallow = Read(new string('[', 64) + new string(']', 64));

        Assert.Equal(BodyKind.Opaque, deep.Kind);
        Assert.Equal(BodyKind.Json, shallow.Kind);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "the body is form-encoded, not JSON, so its fields cannot be read as JSON fields")]
    [InlineData("Application/X-WWW-Form-Urlencoded; charset=utf-8", "the body is form-encoded, not JSON, so its fields cannot be read as JSON fields")]
    [InlineData("multipart/form-data; boundary=x", "the body is multipart form data, not JSON, so its fields cannot be read as JSON fields")]
    [InlineData("MULTIPART/FORM-DATA; boundary=x", "the body is multipart form data, not JSON, so its fields cannot be read as JSON fields")]
    [InlineData("text/plain", "the body is not strict JSON")]
    [InlineData("not a media type", "the body is not strict JSON")]
    [InlineData(null, "the body is not strict JSON")]
    public void Why_a_body_is_not_json_names_what_it_declared(string? contentType, string reason)
    {
        using var body = Read("amount=150&currency=EUR", contentType);

        Assert.Equal(BodyKind.Opaque, body.Kind);
        Assert.Equal(reason, body.OpaqueReason);
    }

    [Fact]
    public void A_form_that_is_also_json_is_opaque_and_says_why()
    {
        // "&amount=500&" is a JSON string with no fields, and a form with amount=500.
        using var body = Read("\"&amount=500&\"", "application/x-www-form-urlencoded");

        Assert.Equal(BodyKind.Opaque, body.Kind);
        Assert.Equal("the body is declared a form and is also JSON: a form reader and a JSON reader read different fields in it", body.OpaqueReason);
    }

    [Fact]
    public void Json_is_read_as_json_whatever_the_content_type_says()
    {
        using var body = Read("{\"amount\":150}", "text/plain");

        Assert.Equal(BodyKind.Json, body.Kind);
    }

    [Fact]
    public async Task A_multipart_body_read_with_its_parts_has_them()
    {
        using var body = await InspectedBody.ReadAsync(Encoding.UTF8.GetBytes("--b\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n150\r\n--b--\r\n"),
            "multipart/form-data; boundary=b", CancellationToken.None);

        Assert.Equal("amount", Assert.Single(body.Multipart!.Parts).Name);
        Assert.Equal("150", Encoding.UTF8.GetString(body.Multipart.Parts[0].Content.Span));
    }

    [Fact]
    public async Task A_body_that_is_not_multipart_has_no_parts()
    {
        using var body = await InspectedBody.ReadAsync(Encoding.UTF8.GetBytes("{\"amount\":150}"), "application/json", CancellationToken.None);

        Assert.Null(body.Multipart);
        Assert.Equal(BodyKind.Json, body.Kind);
    }

    [Fact]
    public async Task An_empty_body_read_with_its_parts_is_the_empty_body()
    {
        var body = await InspectedBody.ReadAsync(ReadOnlyMemory<byte>.Empty, "multipart/form-data; boundary=b", CancellationToken.None);

        Assert.Same(InspectedBody.Empty, body);
        Assert.Null(body.Multipart);
    }

    [Fact]
    public void Reading_without_parts_leaves_a_multipart_body_unsplit()
    {
        using var body = Read("--b\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n150\r\n--b--\r\n", "multipart/form-data; boundary=b");

        Assert.Null(body.Multipart);
    }

    [Fact]
    public void Disposing_the_body_disposes_its_json()
    {
        var body = Read("{\"amount\":150}");
        var json = body.Json!;

        body.Dispose();

        Assert.Throws<ObjectDisposedException>(() => json.RootElement.GetProperty("amount"));
    }
}
