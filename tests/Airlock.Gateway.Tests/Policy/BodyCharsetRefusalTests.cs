using System.Text;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Policy;
using Microsoft.Extensions.Primitives;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>What the caller is told when a body cannot be read one way (the detail names what
/// was declared, safely), and the edges of each rule: where an XML declaration is found and how
/// far, which spellings of a transfer encoding and a part's name pass, and what a
/// <c>_charset_</c> field is held to.</summary>
public class BodyCharsetRefusalTests
{
    private const string Boundary = "b0undary";

    private static BodyRefusal? Check(string? contentType, string body) =>
        BodyCharset.Check(contentType is null ? StringValues.Empty : new StringValues(contentType), Encoding.UTF8.GetBytes(body));

    private static BodyRefusal? Check(string? contentType, byte[] body) =>
        BodyCharset.Check(contentType is null ? StringValues.Empty : new StringValues(contentType), body);

    private static async Task<BodyRefusal?> CheckAsync(string contentType, string body)
    {
        using var inspected = await InspectedBody.ReadAsync(Encoding.UTF8.GetBytes(body), contentType, CancellationToken.None);
        return BodyCharset.Check(new StringValues(contentType), inspected);
    }

    private static string Form(params string[] parts) =>
        string.Concat(parts.Select(p => $"--{Boundary}\r\n{p}\r\n")) + $"--{Boundary}--\r\n";

    private static Task<BodyRefusal?> FormAsync(params string[] parts) => CheckAsync($"multipart/form-data; boundary={Boundary}", Form(parts));

    // --- the body's own Content-Type

    [Fact]
    public void A_declared_charset_is_named_in_the_refusal()
    {
        var refusal = Check("application/json; charset=utf-7", "{\"a\":1}");

        Assert.Equal(ProblemType.UnsupportedCharset, refusal!.Problem);
        Assert.Equal("the body is declared in charset 'utf-7'; the gateway reads bodies as UTF-8 only, so it cannot see what the upstream would read: send it as UTF-8", refusal.Detail);
        Assert.Equal("utf-7", refusal.Charset);
    }

    [Theory]
    [InlineData("application/json; CHARSET=utf-7")]
    [InlineData("application/json; Charset=\"utf-7\"")]
    public void The_charset_parameter_is_found_in_any_case(string contentType)
    {
        Assert.Equal("utf-7", Check(contentType, "{}")?.Charset);
    }

    [Theory]
    [InlineData("application/json; charset=UTF-8")]
    [InlineData("application/json; charset=UTF8")]
    [InlineData("text/plain; charset=US-ASCII")]
    public void Utf8_and_ascii_are_recognised_in_any_case(string contentType)
    {
        Assert.Null(Check(contentType, "{\"a\":1}"));
    }

    [Fact]
    public void Us_ascii_with_other_bytes_says_so()
    {
        var refusal = Check("text/plain; charset=us-ascii", "Z\u00fcrich");

        Assert.Equal("the body is declared in charset 'us-ascii', yet has bytes that are not ASCII, which upstreams read each their own way; send it as UTF-8", refusal!.Detail);
        Assert.Equal("us-ascii", refusal.Charset);
        Assert.Equal(ProblemType.UnsupportedCharset, refusal.Problem);
    }

    [Fact]
    public void A_charset_name_is_shown_cut_to_forty_characters()
    {
        var refusal = Check($"text/plain; charset={new string('x', 50)}", "a");

        Assert.Equal(new string('x', 40), refusal!.Charset);
        Assert.Contains($"'{new string('x', 40)}'", refusal.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_charset_name_of_exactly_forty_characters_is_shown_whole()
    {
        Assert.Equal(new string('y', 40), Check($"text/plain; charset={new string('y', 40)}", "a")!.Charset);
    }

    [Fact]
    public void Two_content_type_headers_are_counted_in_the_refusal()
    {
        var refusal = BodyCharset.Check(new StringValues(["application/json", "application/json", "text/plain"]), "{}"u8);

        Assert.Equal("the body has 3 Content-Type headers, and upstreams read one or the other; send one", refusal!.Detail);
        Assert.Null(refusal.Charset);
        Assert.Equal(ProblemType.UnsupportedCharset, refusal.Problem);
    }

    [Fact]
    public void A_content_type_that_does_not_parse_says_so()
    {
        Assert.Equal("the Content-Type of the body does not parse as a media type, so upstreams may each find another charset in it", Check("json", "{}")!.Detail);
    }

    [Fact]
    public void A_content_type_header_without_a_value_does_not_parse()
    {
        var refusal = BodyCharset.Check(new StringValues([(string?)null]), "{}"u8);

        Assert.Equal("the Content-Type of the body does not parse as a media type, so upstreams may each find another charset in it", refusal!.Detail);
    }

    [Theory]
    [InlineData(" ")]
    [InlineData(" \t\r\n")]
    public void A_body_of_white_space_only_is_read(string body)
    {
        Assert.Null(Check("application/json", body));
    }

    [Fact]
    public void A_charset_named_twice_says_so()
    {
        Assert.Equal("the Content-Type of the body names a charset more than once, or in a form parsers read differently; declare one charset=utf-8 or none",
            Check("application/json; charset=utf-8; charset=utf-8", "{}")!.Detail);
    }

    [Theory]
    [InlineData("charset/json")]
    [InlineData("application/charset")]
    [InlineData("application/json; x-charset=utf-8")]
    public void A_charset_mentioned_anywhere_but_a_charset_parameter_is_refused(string contentType)
    {
        Assert.NotNull(Check(contentType, "{}"));
    }

    [Fact]
    public void A_content_type_without_a_charset_is_read_as_utf8()
    {
        Assert.Null(Check("application/json; version=2", "{\"city\":\"Z\u00fcrich\"}"));
    }

    [Fact]
    public void A_body_of_one_byte_is_read()
    {
        Assert.Null(Check("application/json", "1"));
    }

    [Fact]
    public void A_body_that_starts_like_utf16_says_so()
    {
        Assert.Equal("the body starts like UTF-16 or UTF-32 text (a byte order mark, or a NUL among its first two bytes), which JSON parsers that detect the encoding read as such; send it as UTF-8",
            Check("application/json", [0x7B, 0x00, 0x7D, 0x00])!.Detail);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0x7B })]
    [InlineData(new byte[] { 0xFE, 0x7B })]
    [InlineData(new byte[] { 0x7B, 0xFF })]
    [InlineData(new byte[] { 0x7B, 0xFE })]
    public void Half_a_utf16_byte_order_mark_is_not_one(byte[] body)
    {
        // Not UTF-8 either, but nothing reads it as UTF-16: policy sees its bytes as U+FFFD.
        Assert.Null(Check("application/octet-stream", body));
    }

    // --- bodies read with and without their parts

    [Fact]
    public void An_empty_body_declared_multipart_has_nothing_to_refuse()
    {
        Assert.Null(BodyCharset.Check(new StringValues("multipart/form-data; boundary=x"), InspectedBody.Empty));
    }

    [Fact]
    public void A_json_body_read_without_parts_is_read()
    {
        using var body = InspectedBody.Read(Encoding.UTF8.GetBytes("{\"amount\":150}"), "application/json");

        Assert.Null(BodyCharset.Check(new StringValues("application/json"), body));
    }

    [Fact]
    public void A_body_without_a_content_type_read_without_parts_is_read()
    {
        using var body = InspectedBody.Read(Encoding.UTF8.GetBytes("{\"amount\":150}"));

        Assert.Null(BodyCharset.Check(StringValues.Empty, body));
    }

    [Fact]
    public void A_multipart_body_read_without_its_parts_says_why()
    {
        using var body = InspectedBody.Read(Encoding.UTF8.GetBytes(Form("Content-Disposition: form-data; name=\"a\"\r\n\r\nx")));

        Assert.Equal("the multipart body was not split into its parts, so what each declares is unknown",
            BodyCharset.Check(new StringValues($"multipart/form-data; boundary={Boundary}"), body)!.Detail);
    }

    [Fact]
    public async Task The_body_itself_is_checked_before_its_parts()
    {
        var refusal = await CheckAsync($"multipart/form-data; boundary={Boundary}; charset=utf-7", Form("Content-Disposition: form-data; name=\"a\"\r\n\r\nx"));

        Assert.Equal("utf-7", refusal?.Charset);
        Assert.Equal(ProblemType.UnsupportedCharset, refusal!.Problem);
    }

    [Fact]
    public async Task A_multipart_body_that_does_not_split_says_why()
    {
        var refusal = await CheckAsync($"multipart/form-data; boundary={Boundary}", $"--{Boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx");

        Assert.Equal("the multipart body ends before its closing boundary; the gateway reads a multipart body only when it splits into parts one way", refusal!.Detail);
        Assert.Equal(ProblemType.InvalidBody, refusal.Problem);
    }

    // --- the parts

    [Fact]
    public async Task A_part_without_a_name_is_named_by_its_place()
    {
        var refusal = await FormAsync(
            "Content-Disposition: form-data; name=\"a\"\r\n\r\nx",
            "Content-Type: text/plain; charset=utf-7\r\n\r\n+AHI-");

        Assert.Equal("part 2 of the multipart body is declared in charset 'utf-7'; the gateway reads bodies as UTF-8 only, so it cannot see what the upstream would read: send it as UTF-8", refusal!.Detail);
    }

    [Fact]
    public async Task A_part_name_is_shown_cut_to_forty_characters()
    {
        var name = "n" + new string('m', 50);

        var refusal = await FormAsync($"Content-Disposition: form-data; name=\"{name}\"\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+AHI-");

        Assert.StartsWith($"part 'n{new string('m', 39)}' of the multipart body", refusal!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_part_that_starts_like_utf16_is_refused_by_name()
    {
        var refusal = await FormAsync("Content-Disposition: form-data; name=\"note\"\r\n\r\n\u0000r\u0000e");

        Assert.StartsWith("part 'note' of the multipart body starts like UTF-16", refusal!.Detail, StringComparison.Ordinal);
        Assert.Equal(ProblemType.UnsupportedCharset, refusal.Problem);
    }

    [Fact]
    public async Task A_part_with_two_content_types_is_refused()
    {
        var refusal = await FormAsync("Content-Disposition: form-data; name=\"note\"\r\nContent-Type: text/plain\r\nContent-Type: text/plain\r\n\r\nx");

        Assert.Equal("part 'note' of the multipart body has 2 Content-Type headers, and upstreams read one or the other; send one", refusal!.Detail);
    }

    [Fact]
    public async Task A_later_part_is_checked_after_good_ones()
    {
        var refusal = await FormAsync(
            "Content-Disposition: form-data; name=\"a\"\r\n\r\nx",
            "Content-Disposition: form-data; name=\"b\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ny",
            "Content-Disposition: form-data; name=\"c\"\r\nContent-Type: text/plain; charset=latin1\r\n\r\nz");

        Assert.Equal("latin1", refusal?.Charset);
        Assert.Contains("part 'c'", refusal!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_part_in_a_transfer_encoding_is_refused_for_it_whatever_else_it_declares()
    {
        // Its content is not what it is until decoded: what its Content-Type or name say comes second.
        var refusal = await FormAsync("Content-Disposition: form-data; name=\"note\"; name*=utf-8''ssn\r\nContent-Type: text/plain; charset=utf-7\r\n"
            + "Content-Transfer-Encoding: base64\r\n\r\nKwBBAEgASQAtAA==");

        Assert.Equal(ProblemType.UnsupportedContentEncoding, refusal?.Problem);
    }

    [Fact]
    public async Task A_part_named_two_ways_is_refused_for_it_before_its_charset()
    {
        var refusal = await FormAsync("Content-Disposition: form-data; name=\"note\"; name*=utf-8''ssn\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+AHI-");

        Assert.Equal(ProblemType.InvalidBody, refusal?.Problem);
    }

    [Theory]
    [InlineData("7bit")]
    [InlineData("8BIT")]
    [InlineData("Binary")]
    [InlineData(" binary ")]
    public async Task A_part_sent_as_it_is_is_read(string encoding)
    {
        Assert.Null(await FormAsync($"Content-Disposition: form-data; name=\"note\"\r\nContent-Transfer-Encoding: {encoding}\r\n\r\nrefund-all"));
    }

    [Fact]
    public async Task A_part_with_a_transfer_encoding_says_which_and_what_to_send()
    {
        var refusal = await FormAsync("Content-Disposition: form-data; name=\"note\"\r\nContent-Transfer-Encoding: base64\r\n\r\ncmVmdW5k");

        Assert.Equal("part 'note' of the multipart body is sent with Content-Transfer-Encoding 'base64', which some parsers decode (RFC 2045) "
            + "and the gateway does not; send its content as it is (7bit, 8bit or binary)", refusal!.Detail);
        Assert.Equal(ProblemType.UnsupportedContentEncoding, refusal.Problem);
        Assert.Null(refusal.Charset);
    }

    [Fact]
    public async Task A_part_with_two_transfer_encodings_is_refused_even_when_both_say_as_it_is()
    {
        var refusal = await FormAsync("Content-Disposition: form-data; name=\"note\"\r\nContent-Transfer-Encoding: 8bit\r\nContent-Transfer-Encoding: 8bit\r\n\r\nx");

        Assert.Equal(ProblemType.UnsupportedContentEncoding, refusal?.Problem);
    }

    [Fact]
    public async Task A_part_with_two_dispositions_says_so()
    {
        var refusal = await FormAsync("Content-Disposition: form-data; name=\"note\"\r\nContent-Disposition: form-data; name=\"ssn\"\r\n\r\nx");

        // Named two ways, the part has no one name: it is named by its place.
        Assert.Equal("part 1 of the multipart body has several Content-Disposition headers, so parsers may each find another name in it; send one", refusal!.Detail);
        Assert.Equal(ProblemType.InvalidBody, refusal.Problem);
    }

    [Fact]
    public async Task A_part_whose_disposition_does_not_parse_says_so()
    {
        var refusal = await FormAsync("Content-Disposition: ;;\r\n\r\nx");

        Assert.Equal("part 1 of the multipart body has a Content-Disposition that does not parse, so parsers may each find another name in it; send one", refusal!.Detail);
        Assert.Equal(ProblemType.InvalidBody, refusal.Problem);
    }

    [Fact]
    public async Task A_part_named_by_name_star_says_so()
    {
        var refusal = await FormAsync("Content-Disposition: form-data; name=\"note\"; NAME*=utf-8''ssn\r\n\r\nx");

        Assert.Equal("part 'note' of the multipart body gives its name as name* (RFC 2231), which some parsers read in place of name and others ignore; give it once, as name=\"…\"", refusal!.Detail);
        Assert.Equal(ProblemType.InvalidBody, refusal.Problem);
    }

    [Fact]
    public async Task A_disposition_parameter_given_twice_says_which()
    {
        var refusal = await FormAsync("Content-Disposition: form-data; name=\"note\"; filename=\"a.txt\"; FILENAME=\"b.txt\"\r\n\r\nx");

        Assert.Equal("part 'note' of the multipart body gives its Content-Disposition parameter 'FILENAME' twice, and parsers keep one or the other; give it once", refusal!.Detail);
        Assert.Equal(ProblemType.InvalidBody, refusal.Problem);
    }

    [Theory]
    [InlineData("filename*=utf-8''r%C3%A9sum%C3%A9.txt")]
    [InlineData("filename*=UTF-8'en'a.txt")]
    [InlineData("filename*=utf-8")]
    [InlineData("filename=\"a.txt\"; filename*=utf-8''a.txt")]
    public async Task A_filename_star_in_utf8_is_read(string parameter)
    {
        Assert.Null(await FormAsync($"Content-Disposition: form-data; name=\"f\"; {parameter}\r\n\r\nx"));
    }

    [Theory]
    [InlineData("filename*=iso-8859-1''r%E9sum%E9.txt", "iso-8859-1")]
    [InlineData("filename*=utf-7", "utf-7")]
    [InlineData("filename*=''a.txt", "")]
    public async Task A_filename_star_in_another_charset_is_refused_and_named(string parameter, string charset)
    {
        var refusal = await FormAsync($"Content-Disposition: form-data; name=\"f\"; {parameter}\r\n\r\nx");

        Assert.Equal(charset, refusal?.Charset);
        Assert.StartsWith("the filename* of part 'f' of the multipart body is declared in charset", refusal!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_charset_field_in_any_case_is_held_to_utf8()
    {
        var refusal = await FormAsync(
            "Content-Disposition: form-data; name=\"_CHARSET_\"\r\n\r\n iso-8859-1 ",
            "Content-Disposition: form-data; name=\"note\"\r\n\r\nx");

        Assert.Equal("iso-8859-1", refusal?.Charset);
        Assert.Equal("the multipart body's _charset_ field, the charset its parts without one are read in (RFC 7578 §4.6), names 'iso-8859-1'; "
            + "the gateway reads bodies as UTF-8 only, so it cannot see what the upstream would read: send it as UTF-8", refusal!.Detail);
    }

    [Fact]
    public async Task A_charset_field_naming_us_ascii_holds_while_the_whole_body_is_ascii()
    {
        Assert.Null(await FormAsync(
            "Content-Disposition: form-data; name=\"_charset_\"\r\n\r\nus-ascii",
            "Content-Disposition: form-data; name=\"city\"\r\n\r\nZurich"));

        var refusal = await FormAsync(
            "Content-Disposition: form-data; name=\"_charset_\"\r\n\r\nus-ascii",
            "Content-Disposition: form-data; name=\"city\"\r\n\r\nZ\u00fcrich");
        Assert.Equal("us-ascii", refusal?.Charset);
    }

    [Fact]
    public async Task A_field_that_only_ends_in_charset_is_an_ordinary_field()
    {
        Assert.Null(await FormAsync("Content-Disposition: form-data; name=\"x_charset_\"\r\n\r\nutf-7"));
    }

    // --- an XML declaration

    [Theory]
    [InlineData("\t<?xml version=\"1.0\" encoding=\"utf-7\"?><a/>")]
    [InlineData("\n<?xml version=\"1.0\" encoding=\"utf-7\"?><a/>")]
    [InlineData("\r<?xml version=\"1.0\" encoding=\"utf-7\"?><a/>")]
    [InlineData(" <?xml version=\"1.0\" encoding=\"utf-7\"?><a/>")]
    [InlineData("<?xml\tencoding=\"utf-7\"?><a/>")]
    [InlineData("<?xml\rencoding=\"utf-7\"?><a/>")]
    [InlineData("<?xml\nencoding=\"utf-7\"?><a/>")]
    [InlineData("<?xml encoding\t=\t'utf-7'?><a/>")]
    [InlineData("<?xml encoding\r\n=\r\n'utf-7'?><a/>")]
    [InlineData("<?xml encoding= \"utf-7\" version=\"1.0\"?><a/>")]
    public void An_xml_declaration_is_found_after_white_space_and_read_with_white_space_in_it(string body)
    {
        var refusal = Check("text/plain", body);

        Assert.Equal("utf-7", refusal?.Charset);
        Assert.Equal("the body is XML whose declaration names the encoding 'utf-7'; the gateway reads bodies as UTF-8 only, so it cannot see what the upstream would read: send it as UTF-8", refusal!.Detail);
    }

    [Theory]
    [InlineData("<?xml?><a/>")]
    [InlineData("<?xml version=\"1.0\"?>")]
    [InlineData("<?xmlns encoding=\"utf-7\"?><a/>")]
    [InlineData("x<?xml version=\"1.0\" encoding=\"utf-7\"?><a/>")]
    public void What_is_not_an_xml_declaration_names_no_encoding(string body)
    {
        Assert.Null(Check("application/xml", body));
    }

    [Fact]
    public void An_encoding_in_the_document_after_its_declaration_is_not_the_declaration()
    {
        Assert.Null(Check("application/xml", "<?xml version=\"1.0\"?><a encoding=\"utf-7\"/>"));
    }

    [Fact]
    public void An_xml_declaration_in_ebcdic_is_found_after_white_space_and_says_so()
    {
        var refusal = Check("application/xml", [0x20, 0x0A, 0x4C, 0x6F, 0xA7, 0x94, 0x93, 0x40]);

        Assert.Equal("the body starts like an XML declaration in EBCDIC, which XML parsers detect and read as such; send XML in UTF-8", refusal!.Detail);
        Assert.Null(refusal.Charset);
    }

    [Fact]
    public void An_encoding_named_twice_says_so()
    {
        Assert.Equal("the body has an XML declaration that names an encoding more than once; send XML in UTF-8",
            Check("application/xml", "<?xml version=\"1.0\" encoding=\"utf-8\" encoding=\"utf-7\"?><a/>")!.Detail);
    }

    [Theory]
    [InlineData("<?xml version=\"1.0\" encoding?><a/>")]
    [InlineData("<?xml version=\"1.0\" encoding ?><a/>")]
    [InlineData("<?xml version=\"1.0\" encoding:\"utf-7\"?><a/>")]
    [InlineData("<?xml version=\"1.0\" encoding=?><a/>")]
    [InlineData("<?xml version=\"1.0\" encoding= ?><a/>")]
    [InlineData("<?xml version=\"1.0\" encoding=utf-7?><a/>")]
    [InlineData("<?xml version=\"1.0\" encoding=\"utf-7?><a/>")]
    [InlineData("<?xml version=\"1.0\" encoding='utf-7\"?><a/>")]
    public void An_encoding_that_does_not_parse_says_so(string body)
    {
        Assert.Equal("the body has an XML declaration whose encoding does not parse; send XML in UTF-8", Check("application/xml", body)!.Detail);
    }

    [Fact]
    public void An_empty_encoding_is_refused_and_named_empty()
    {
        Assert.Equal("", Check("application/xml", "<?xml version=\"1.0\" encoding=\"\"?><a/>")?.Charset);
    }

    [Fact]
    public void A_declaration_that_ends_on_the_last_byte_read_is_read()
    {
        // "?>" at bytes 1022 and 1023.
        var start = "<?xml version=\"1.0\" encoding=\"utf-7\"";
        var body = start + new string(' ', 1022 - start.Length) + "?><a/>";

        Assert.Equal("utf-7", Check("application/xml", body)?.Charset);
    }

    [Fact]
    public void A_declaration_that_does_not_end_within_1024_bytes_is_refused()
    {
        // "?>" at bytes 1023 and 1024: past the end of what is read.
        var start = "<?xml version=\"1.0\" encoding=\"utf-8\"";
        var body = start + new string(' ', 1023 - start.Length) + "?><a/>";

        var refusal = Check("application/xml", body);

        Assert.Equal("the body has an XML declaration that does not end within its first 1024 bytes; send XML in UTF-8", refusal!.Detail);
    }

    [Fact]
    public void A_body_that_is_only_the_start_of_a_declaration_is_refused()
    {
        Assert.Equal("the body has an XML declaration that does not end within its first 1024 bytes; send XML in UTF-8", Check("application/xml", "<?xml")!.Detail);
    }

    [Fact]
    public void The_1024_bytes_are_counted_after_a_byte_order_mark_and_white_space()
    {
        var start = "<?xml version=\"1.0\" encoding=\"utf-7\"";
        var body = "\uFEFF\r\n" + start + new string(' ', 1022 - start.Length) + "?><a/>";

        Assert.Equal("utf-7", Check("application/xml", body)?.Charset);
    }

    [Fact]
    public void An_encoding_is_shown_printable()
    {
        // Control characters and bytes past '~' are shown as '?'; space and '~' as they are.
        var bytes = Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"a\u001F b~\u007F\u00e9\"?><a/>");

        Assert.Equal("a? b~???", Check("application/xml", bytes)?.Charset);
    }

    [Fact]
    public async Task An_xml_part_declaring_another_encoding_is_refused_by_name()
    {
        var refusal = await FormAsync("Content-Disposition: form-data; name=\"doc\"\r\nContent-Type: application/xml\r\n\r\n<?xml version=\"1.0\" encoding=\"utf-7\"?><a/>");

        Assert.Equal("part 'doc' of the multipart body is XML whose declaration names the encoding 'utf-7'; the gateway reads bodies as UTF-8 only, so it cannot see what the upstream would read: send it as UTF-8", refusal!.Detail);
    }
}
