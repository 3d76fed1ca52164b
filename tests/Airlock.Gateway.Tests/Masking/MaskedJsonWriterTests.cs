using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Airlock.Gateway.Masking;

namespace Airlock.Gateway.Tests.Masking;

/// <summary>The masker's own writer must write what <see cref="Utf8JsonWriter"/> wrote before it.</summary>
public class MaskedJsonWriterTests
{
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    [Fact]
    public void The_same_calls_give_the_same_bytes_as_Utf8JsonWriter()
    {
        var expected = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(expected, new JsonWriterOptions { Encoder = Encoder, SkipValidation = true }))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("plain");
            writer.WriteRawValue("\"as it came \\u00e9\""u8, skipInputValidation: true);
            writer.WritePropertyName("quote \" back\\slash\ttab");
            writer.WriteStringValue("[REDACTED:EMAIL] \"q\" \n\r\b\f\u0001 <&'> café 日本 😀");
            writer.WritePropertyName(JsonEncodedText.Encode("list", Encoder));
            writer.WriteStartArray();
            writer.WriteNullValue();
            writer.WriteRawValue("1.5e3"u8, skipInputValidation: true);
            writer.WriteStartObject();
            writer.WriteEndObject();
            writer.WriteStartArray();
            writer.WriteEndArray();
            writer.WriteStringValue("****1111");
            writer.WriteEndArray();
            writer.WritePropertyName("after");
            writer.WriteRawValue("true"u8, skipInputValidation: true);
            writer.WriteEndObject();
        }

        using var masked = new MaskedJsonWriter(Encoder);
        masked.StartObject();
        masked.PropertyName("plain");
        masked.RawValue("\"as it came \\u00e9\""u8);
        masked.PropertyName("quote \" back\\slash\ttab");
        masked.StringValue("[REDACTED:EMAIL] \"q\" \n\r\b\f\u0001 <&'> café 日本 😀");
        masked.PropertyName(JsonEncodedText.Encode("list", Encoder));
        masked.StartArray();
        masked.NullValue();
        masked.RawValue("1.5e3"u8);
        masked.StartObject();
        masked.EndObject();
        masked.StartArray();
        masked.EndArray();
        masked.StringValue("****1111");
        masked.EndArray();
        masked.PropertyName("after");
        masked.RawValue("true"u8);
        masked.EndObject();

        Assert.Equal(Encoding.UTF8.GetString(expected.WrittenSpan), Encoding.UTF8.GetString(masked.Written));
    }

    [Fact]
    public void Each_json_line_starts_without_a_comma_and_the_buffer_grows_past_its_first_size()
    {
        using var writer = new MaskedJsonWriter(Encoder);
        var value = new string('x', 40_000);
        writer.StringValue(value);
        writer.EndLine();
        writer.StartObject();
        writer.EndObject();
        writer.EndLine();

        Assert.Equal($"\"{value}\"\n{{}}\n", Encoding.UTF8.GetString(writer.Written));
        writer.Clear();
        Assert.True(writer.Written.IsEmpty);
    }
}
