using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Airlock.Gateway.Masking;

/// <summary>
/// The few writes <see cref="JsonMasker"/> makes, into a pooled buffer, minified as
/// <see cref="Utf8JsonWriter"/> writes them: a comma before every item but the first in a
/// container, <c>"name":</c>, values as given. Nearly every token of a body is copied through
/// unchanged, and a general writer's bookkeeping per token cost more than the copy itself.
/// New strings (masked values) are still escaped by a <see cref="Utf8JsonWriter"/> with the
/// same encoder, so they come out byte for byte as before.
/// </summary>
internal sealed class MaskedJsonWriter : IDisposable
{
    private readonly JavaScriptEncoder _encoder;
    private readonly ArrayBufferWriter<byte> _escaped = new(256);
    private readonly Utf8JsonWriter _strings;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    private int _length;
    // Whether the last thing written ends an item, so the next item in the container needs a comma.
    private bool _itemEnded;

    public MaskedJsonWriter(JavaScriptEncoder encoder)
    {
        _encoder = encoder;
        _strings = new Utf8JsonWriter(_escaped, new JsonWriterOptions { Encoder = encoder, SkipValidation = true });
    }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void Clear() => _length = 0;

    public void StartObject() => Start((byte)'{');

    public void StartArray() => Start((byte)'[');

    public void EndObject() => End((byte)'}');

    public void EndArray() => End((byte)']');

    public void PropertyName(JsonEncodedText name)
    {
        var encoded = name.EncodedUtf8Bytes;
        var span = Reserve(encoded.Length + 4);
        var at = 0;
        if (_itemEnded)
        {
            span[at++] = (byte)',';
        }

        span[at++] = (byte)'"';
        encoded.CopyTo(span[at..]);
        at += encoded.Length;
        span[at++] = (byte)'"';
        span[at++] = (byte)':';
        _length += at;
        _itemEnded = false;
    }

    /// <summary>A kept name, written in one copy.</summary>
    public void PropertyName(PropertyNameCache.Entry name)
    {
        var written = name.Written;
        var span = Reserve(written.Length + 1);
        var at = 0;
        if (_itemEnded)
        {
            span[at++] = (byte)',';
        }

        written.CopyTo(span[at..]);
        _length += at + written.Length;
        _itemEnded = false;
    }

    public void PropertyName(string name) => PropertyName(JsonEncodedText.Encode(name, _encoder));

    /// <summary>A value already in JSON form (a string with its quotes, a number, a literal).</summary>
    public void RawValue(ReadOnlySpan<byte> json)
    {
        var span = Reserve(json.Length + 1);
        var at = 0;
        if (_itemEnded)
        {
            span[at++] = (byte)',';
        }

        json.CopyTo(span[at..]);
        _length += at + json.Length;
        _itemEnded = true;
    }

    public void StringValue(ReadOnlySpan<char> text)
    {
        _escaped.ResetWrittenCount();
        _strings.Reset();
        _strings.WriteStringValue(text);
        _strings.Flush();
        RawValue(_escaped.WrittenSpan);
    }

    /// <summary>A string already escaped with this writer's encoder.</summary>
    public void StringValue(JsonEncodedText text)
    {
        var encoded = text.EncodedUtf8Bytes;
        var span = Reserve(encoded.Length + 3);
        var at = 0;
        if (_itemEnded)
        {
            span[at++] = (byte)',';
        }

        span[at++] = (byte)'"';
        encoded.CopyTo(span[at..]);
        at += encoded.Length;
        span[at++] = (byte)'"';
        _length += at;
        _itemEnded = true;
    }

    public void NullValue() => RawValue("null"u8);

    /// <summary>Ends a line of JSON lines: the next value starts afresh, with no comma.</summary>
    public void EndLine()
    {
        Reserve(1)[0] = (byte)'\n';
        _length++;
        _itemEnded = false;
    }

    public void Dispose()
    {
        _strings.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _length = 0;
    }

    private void Start(byte bracket)
    {
        var span = Reserve(2);
        var at = 0;
        if (_itemEnded)
        {
            span[at++] = (byte)',';
        }

        span[at++] = bracket;
        _length += at;
        _itemEnded = false;
    }

    private void End(byte bracket)
    {
        Reserve(1)[0] = bracket;
        _length++;
        _itemEnded = true;
    }

    private Span<byte> Reserve(int bytes)
    {
        if (_buffer.Length - _length < bytes)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + bytes));
            Written.CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        return _buffer.AsSpan(_length);
    }
}
