using Airlock.Gateway.Policy;
using Microsoft.Extensions.Primitives;

namespace Airlock.Gateway.Tests.Policy;

/// <summary>A body policy reads is read as UTF-8, or refused: which Content-Types and bodies pass.</summary>
public class BodyCharsetTests
{
    private static BodyRefusal? Check(string? contentType, string body = "{\"a\":1}") =>
        BodyCharset.Check(contentType is null ? StringValues.Empty : new StringValues(contentType), System.Text.Encoding.UTF8.GetBytes(body));

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json;charset=UTF-8")]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("application/json; charset=\"utf\\-8\"")]
    [InlineData("application/json; charset=utf8")]
    [InlineData("text/plain; charset=us-ascii")]
    [InlineData("text/plain; format=flowed; charset=utf-8")]
    [InlineData("application/json;")]
    public void Utf8_and_ascii_bodies_are_read(string? contentType)
    {
        Assert.Null(Check(contentType));
    }

    [Theory]
    [InlineData("application/json; charset=utf-7", "utf-7")]
    [InlineData("application/json; charset=\"UTF-7\"", "UTF-7")]
    [InlineData("application/json; charset=\"utf-\\7\"", "utf-7")]
    [InlineData("application/json; charset=utf-7-imap", "utf-7-imap")]
    [InlineData("application/json; charset=utf-16le", "utf-16le")]
    [InlineData("text/plain; charset=iso-8859-1", "iso-8859-1")]
    [InlineData("text/plain; charset=", "")]
    public void Another_declared_charset_is_refused_and_named(string contentType, string charset)
    {
        Assert.Equal(charset, Check(contentType)?.Charset);
    }

    [Theory]
    [InlineData("application/json; charset=utf-8; charset=utf-8")]
    [InlineData("application/json; charset*=utf-8''utf-7")]
    [InlineData("application/json; x=\"charset=utf-7\"")]
    [InlineData("application/json, text/plain")]
    [InlineData("json")]
    public void A_content_type_with_two_readings_is_refused(string contentType)
    {
        Assert.NotNull(Check(contentType));
    }

    [Fact]
    public void Two_content_type_headers_are_refused()
    {
        Assert.NotNull(BodyCharset.Check(new StringValues(["application/json", "application/json; charset=utf-7"]), "{}"u8));
    }

    [Fact]
    public void Us_ascii_is_read_only_while_every_byte_is_ascii()
    {
        Assert.NotNull(Check("text/plain; charset=us-ascii", "caf\u00e9"));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x7B, 0 })]
    [InlineData(new byte[] { 0xFE, 0xFF, 0, 0x7B })]
    [InlineData(new byte[] { 0x7B, 0 })]
    [InlineData(new byte[] { 0, 0x7B })]
    public void A_body_that_starts_like_utf16_or_utf32_is_refused(byte[] body)
    {
        Assert.NotNull(BodyCharset.Check(new StringValues("application/json"), body));
    }

    [Fact]
    public void An_empty_body_has_no_charset_to_refuse()
    {
        Assert.Null(BodyCharset.Check(new StringValues("application/json; charset=utf-7"), []));
    }
}
