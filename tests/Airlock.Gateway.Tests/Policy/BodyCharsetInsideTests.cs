using System.Text;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Policy;
using Microsoft.Extensions.Primitives;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>Charsets declared inside a body: an XML declaration, and each part of a multipart
/// body (its Content-Type, its Content-Transfer-Encoding, a <c>_charset_</c> field).</summary>
public class BodyCharsetInsideTests
{
    private const string Boundary = "b0undary";

    private static async Task<BodyRefusal?> CheckAsync(string contentType, string body)
    {
        using var inspected = await InspectedBody.ReadAsync(Encoding.UTF8.GetBytes(body), contentType, CancellationToken.None);
        return BodyCharset.Check(new StringValues(contentType), inspected);
    }

    /// <summary>A multipart/form-data body of the parts given, each "headers\r\n\r\ncontent".</summary>
    private static string Form(params string[] parts) =>
        string.Concat(parts.Select(p => $"--{Boundary}\r\n{p}\r\n")) + $"--{Boundary}--\r\n";

    private static Task<BodyRefusal?> FormAsync(params string[] parts) => CheckAsync($"multipart/form-data; boundary={Boundary}", Form(parts));

    [Theory]
    [InlineData("<?xml version=\"1.0\"?><a/>")]
    [InlineData("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>")]
    [InlineData("<?xml version='1.0' encoding='utf-8' standalone='yes'?><a/>")]
    [InlineData("<?xml-stylesheet href=\"a.xsl\" encoding=\"utf-7\"?><a/>")]
    [InlineData("<a encoding=\"utf-7\"/>")]
    public async Task Xml_in_utf8_or_without_a_declared_encoding_is_read(string body)
    {
        Assert.Null(await CheckAsync("application/xml", body));
    }

    [Theory]
    [InlineData("<?xml version=\"1.0\" encoding=\"UTF-7\"?><a>+AHI-efund-all</a>", "UTF-7")]
    [InlineData("\uFEFF<?xml version='1.0' encoding='iso-8859-1'?><a/>", "iso-8859-1")]
    [InlineData("\r\n <?xml version=\"1.0\" encoding = \"utf-16\" ?><a/>", "utf-16")]
    public async Task Xml_declaring_another_encoding_is_refused_whatever_the_content_type(string body, string charset)
    {
        var refusal = await CheckAsync("text/plain", body);

        Assert.Equal(charset, refusal?.Charset);
        Assert.Equal(ProblemType.UnsupportedCharset, refusal!.Problem);
    }

    [Theory]
    [InlineData("<?xml version=\"1.0\" encoding=\"utf-8\" encoding=\"utf-7\"?><a/>")]
    [InlineData("<?xml version=\"1.0\" encoding=utf-7?><a/>")]
    [InlineData("<?xml version=\"1.0\" encoding=\"utf-8\"")]
    public async Task An_xml_declaration_that_does_not_read_one_way_is_refused(string body)
    {
        Assert.NotNull(await CheckAsync("application/xml", body));
    }

    [Fact]
    public void An_xml_declaration_in_ebcdic_is_refused()
    {
        Assert.NotNull(BodyCharset.Check(new StringValues("application/xml"), [0x4C, 0x6F, 0xA7, 0x94, 0x93, 0x40]));
    }

    [Fact]
    public async Task A_form_of_utf8_and_ascii_parts_is_read()
    {
        Assert.Null(await FormAsync(
            "Content-Disposition: form-data; name=\"note\"\r\n\r\nrefund-all",
            "Content-Disposition: form-data; name=\"city\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nZ\u00fcrich",
            "Content-Disposition: form-data; name=\"code\"\r\ncontent-type: text/plain; charset=us-ascii\r\ncontent-transfer-encoding: 8bit\r\n\r\nAB-12",
            "Content-Disposition: form-data; name=\"_charset_\"\r\n\r\nUTF-8",
            "Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: binary\r\n\r\n\u0089PNG"));
    }

    [Theory]
    [InlineData("text/plain; charset=utf-7", "utf-7")]
    [InlineData("text/plain; charset=UTF-16LE", "UTF-16LE")]
    [InlineData("text/plain; charset=base64", "base64")]
    [InlineData("application/json; charset=\"utf-7\"", "utf-7")]
    public async Task A_part_declaring_another_charset_is_refused_and_named(string partType, string charset)
    {
        var refusal = await FormAsync($"Content-Disposition: form-data; name=\"note\"\r\nContent-Type: {partType}\r\n\r\n+AHI-efund-all");

        Assert.Equal(charset, refusal?.Charset);
        Assert.Contains("part 'note'", refusal!.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("base64")]
    [InlineData("quoted-printable")]
    [InlineData("x-uuencode")]
    public async Task A_part_with_a_transfer_encoding_parsers_decode_is_refused(string encoding)
    {
        var refusal = await FormAsync($"Content-Disposition: form-data; name=\"note\"\r\nContent-Transfer-Encoding: {encoding}\r\n\r\ncmVmdW5kLWFsbA==");

        Assert.Equal(ProblemType.UnsupportedContentEncoding, refusal?.Problem);
    }

    [Fact]
    public async Task A_charset_field_naming_another_charset_is_refused()
    {
        var refusal = await FormAsync(
            "Content-Disposition: form-data; name=\"_charset_\"\r\n\r\nutf-7",
            "Content-Disposition: form-data; name=\"note\"\r\n\r\n+AHI-efund-all");

        Assert.Equal("utf-7", refusal?.Charset);
    }

    [Theory]
    [InlineData("Content-Disposition: form-data; name=\"note\"\r\n\r\n<?xml version=\"1.0\" encoding=\"utf-7\"?><a/>")]
    [InlineData("Content-Disposition: form-data; name=\"note\"\r\nContent-Type: text/plain\r\nContent-Type: text/plain; charset=utf-7\r\n\r\nx")]
    [InlineData("Content-Disposition: form-data; name=\"note\"; name*=utf-8''ssn\r\n\r\nx")]
    [InlineData("Content-Disposition: form-data; name=\"note\"; name=\"ssn\"\r\n\r\nx")]
    [InlineData("Content-Disposition: form-data; name=\"f\"; filename*=utf-16le''%61%00\r\n\r\nx")]
    [InlineData("Content-Disposition: form-data; name=\"note\"\r\n\r\n\u0000x")]
    public async Task A_part_that_reads_two_ways_is_refused(string part)
    {
        Assert.NotNull(await FormAsync(part));
    }

    [Fact]
    public async Task A_nested_multipart_part_is_checked_too()
    {
        var inner = "--inner\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+AHI-efund-all\r\n--inner--\r\n";

        var refusal = await FormAsync($"Content-Disposition: form-data; name=\"files\"\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n{inner}");

        Assert.Equal("utf-7", refusal?.Charset);
    }

    [Theory]
    [InlineData("multipart/form-data; boundary=b0undary", "--b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nrefund-all")]
    [InlineData("multipart/form-data; boundary=b0undary", "refund-all")]
    [InlineData("multipart/form-data", "--b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b0undary--\r\n")]
    [InlineData("multipart/form-data; boundary=b0undary", "--b0undary\r\nno colon here\r\n\r\nx\r\n--b0undary--\r\n")]
    public async Task A_multipart_body_that_does_not_split_into_parts_is_refused(string contentType, string body)
    {
        var refusal = await CheckAsync(contentType, body);

        Assert.Equal(ProblemType.InvalidBody, refusal?.Problem);
    }

    [Fact]
    public void A_multipart_body_read_without_its_parts_is_refused()
    {
        using var body = InspectedBody.Read(Encoding.UTF8.GetBytes(Form("Content-Disposition: form-data; name=\"a\"\r\n\r\nx")));

        Assert.Equal(ProblemType.InvalidBody, BodyCharset.Check(new StringValues($"multipart/form-data; boundary={Boundary}"), body)?.Problem);
    }

    [Fact]
    public async Task Part_names_are_read()
    {
        using var body = await InspectedBody.ReadAsync(Encoding.UTF8.GetBytes(Form(
            "Content-Disposition: form-data; name=\"ssn_like\"\r\n\r\n^1",
            "Content-Disposition: form-data; name=\"a \\\"b\\\"\"\r\n\r\nx")), $"multipart/form-data; boundary=\"{Boundary}\"", CancellationToken.None);

        Assert.Equal(["ssn_like", "a \"b\""], body.Multipart!.Parts.Select(p => p.Name));
    }
}
