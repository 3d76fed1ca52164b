using System.Buffers;
using Airlock.Gateway.Detection;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Airlock.Gateway.Masking;

/// <summary>
/// Masks a JSON body (or JSON lines) as it streams, with <see cref="Utf8JsonReader"/> reading
/// each piece where the last stopped. Field rules are matched by path as values go past;
/// detector rules run on every string, property name and long number. Values nothing matched
/// are copied byte for byte; masked ones are written as strings. Memory is bounded by the
/// nesting depth and by the largest single token, which may not exceed the bound given.
/// <para>
/// When the body turns out not to be JSON (or a token is over the bound), what follows is
/// masked as text with every detector, so nothing a detector knows passes because the body was
/// malformed. Field rules cannot be honoured in text, so with field rules that case fails
/// (<see cref="MaskingFailedException"/>) and the rest of the body is withheld.
/// </para>
/// </summary>
public sealed class JsonMasker : IBodyMasker, IDisposable
{
    // Non-ASCII stays as it came; the output is a response body, not HTML.
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private readonly MaskingPlan _plan;
    private readonly ValueMasker _values;
    private readonly int _maxTokenBytes;
    private readonly bool _lines;
    // The writer keeps its place (whether a comma is due) across pieces, so it writes to a
    // buffer of its own that is handed on after each piece.
    private readonly MaskedJsonWriter _writer = new(Encoder);
    private JsonReaderState _state;
    private byte[] _held = new byte[4096];
    private int _heldLength;
    private bool _any;

    // The open containers: whether each is an array, its next index, and the path states of
    // every field rule inside it (a flat array, one row of _plan.Fields.Length per depth).
    private (bool IsArray, int NextIndex)[] _frames = new (bool, int)[16];
    private int _depth;
    private readonly FieldRule[] _fields;
    private readonly (bool Known, ulong From, ulong To)[] _elementSteps;
    // What each field rule's redaction writes, escaped.
    private readonly JsonEncodedText[] _redacted;
    private ulong[] _states;
    private char[] _chars = new char[256];
    // What a field rule writes, built and copied out without a string per value.
    private readonly StringBuilder _fieldOutput = new();
    private char[] _fieldChars = new char[64];
    private readonly PropertyNameCache _names;
    private string? _name;
    // The name's escaped form when it came from the cache, so the writer need not escape it again.
    private PropertyNameCache.Entry? _cachedName;
    // The last name found in the cache, whose Next predicts the name after it.
    private PropertyNameCache.Entry? _previousName;
    private bool _dropNext;
    private int _skipDepth = -1;
    private TextMasker? _text;

    /// <param name="lines">JSON lines (application/x-ndjson): a value per line.</param>
    public JsonMasker(MaskingPlan plan, int maxTokenBytes, bool lines = false, MaskCounts? counts = null)
    {
        _plan = plan;
        Counts = counts ?? new MaskCounts();
        _values = new ValueMasker(plan, Counts);
        _maxTokenBytes = maxTokenBytes;
        _lines = lines;
        _states = new ulong[Math.Max(1, plan.Fields.Length) * 16];
        _fields = [.. plan.Fields];
        _elementSteps = new (bool, ulong, ulong)[_fields.Length];
        _redacted = [.. _fields.Select(f => JsonEncodedText.Encode($"[REDACTED:{f.Label}]", Encoder))];
        _names = new PropertyNameCache(Encoder, plan.Fields.Length);
        _state = new JsonReaderState(new JsonReaderOptions { AllowMultipleValues = lines, MaxDepth = 256 });
    }

    public MaskCounts Counts { get; }

    /// <summary>Whether this masks JSON lines (a stream of values) rather than one document.</summary>
    public bool Lines => _lines;

    private int Rules => _fields.Length;

    public void Write(ReadOnlySpan<byte> piece, IBufferWriter<byte> output)
    {
        if (_text is not null)
        {
            _text.Write(piece, output);
            return;
        }

        _any |= !piece.IsEmpty;
        if (_heldLength == 0)
        {
            Read(piece, final: false, output);
        }
        else
        {
            Hold(piece);
            Read(_held.AsSpan(0, _heldLength), final: false, output);
        }
    }

    public void Complete(IBufferWriter<byte> output)
    {
        if (_text is null && _any)
        {
            Read(_held.AsSpan(0, _heldLength), final: true, output);
        }

        _text?.Complete(output);
    }

    public void Dispose() => _writer.Dispose();

    private void Pass(IBufferWriter<byte> output)
    {
        output.Write(_writer.Written);
        _writer.Clear();
    }

    private void Read(ReadOnlySpan<byte> data, bool final, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(data, final, _state);
        try
        {
            var before = reader.BytesConsumed;
            while (reader.Read())
            {
                // A value over the bound that arrived in one piece goes to text like one held
                // across pieces (below), from the same place, so the output does not depend on
                // how the body was cut.
                if (reader.BytesConsumed - before > _maxTokenBytes)
                {
                    var over = WritePendingName(data[(int)before..]);
                    Pass(output);
                    ToText(over, output, $"a single JSON value is over {_maxTokenBytes} bytes");
                    _heldLength = 0;
                    return;
                }

                Token(ref reader, data);
                before = reader.BytesConsumed;
            }
        }
        catch (JsonException)
        {
            Pass(output);
            ToText(data[(int)reader.BytesConsumed..], output, "the body is not valid JSON");
            _heldLength = 0;
            return;
        }

        _state = reader.CurrentState;
        var rest = data[(int)reader.BytesConsumed..];
        if (rest.Length > _maxTokenBytes)
        {
            rest = WritePendingName(rest);
            Pass(output);
            ToText(rest, output, $"a single JSON value is over {_maxTokenBytes} bytes");
            _heldLength = 0;
            return;
        }

        Pass(output);

        // What the reader could not finish waits for the next piece (an overlapping move).
        if (_held.Length < rest.Length)
        {
            var bigger = new byte[Math.Max(rest.Length, _held.Length * 2)];
            rest.CopyTo(bigger);
            _held = bigger;
        }
        else
        {
            rest.CopyTo(_held);
        }

        _heldLength = rest.Length;
    }

    /// <summary>
    /// Before a value over the bound goes to text: the text starts after the property name the
    /// reader already took (with its comma), so that name is written here, and the colon that
    /// followed it is left out of the text. Without it the output lost the name and stopped
    /// being JSON.
    /// </summary>
    private ReadOnlySpan<byte> WritePendingName(ReadOnlySpan<byte> rest)
    {
        if (_name is null && _cachedName is null)
        {
            return rest;
        }

        WriteName();
        var at = 0;
        while (at < rest.Length && rest[at] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            at++;
        }

        return at < rest.Length && rest[at] == (byte)':' ? rest[(at + 1)..] : rest[at..];
    }

    private void ToText(ReadOnlySpan<byte> rest, IBufferWriter<byte> output, string why)
    {
        if (!_plan.Fields.IsEmpty)
        {
            throw new MaskingFailedException($"{why}, so its field masking rules cannot be applied");
        }

        _text = new TextMasker(_plan.ForText(), Counts);
        _text.Write(rest, output);
    }

    private void Hold(ReadOnlySpan<byte> piece)
    {
        if (_heldLength + piece.Length > _held.Length)
        {
            Array.Resize(ref _held, Math.Max(_held.Length * 2, _heldLength + piece.Length));
        }

        piece.CopyTo(_held.AsSpan(_heldLength));
        _heldLength += piece.Length;
    }

    private void Token(ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
    {
        var type = reader.TokenType;
        if (_skipDepth >= 0)
        {
            if (type is JsonTokenType.EndObject or JsonTokenType.EndArray && reader.CurrentDepth == _skipDepth)
            {
                _skipDepth = -1;
                EndOfValue();
            }

            return;
        }

        switch (type)
        {
            case JsonTokenType.PropertyName:
                PropertyName(ref reader);
                return;
            case JsonTokenType.EndObject:
            case JsonTokenType.EndArray:
                _depth--;
                if (type == JsonTokenType.EndObject)
                {
                    _writer.EndObject();
                }
                else
                {
                    _writer.EndArray();
                }

                EndOfValue();
                return;
            case JsonTokenType.Comment:
            case JsonTokenType.None:
                return;
        }

        // A value: where it sits decides the field rules that apply to it.
        var depth = _depth;
        var index = -1;
        if (depth > 0 && _frames[depth - 1].IsArray)
        {
            index = _frames[depth - 1].NextIndex++;
        }

        FieldRule? field = null;
        if (_fields.Length > 0)
        {
            field = MatchField(depth, index);
        }

        var drop = _dropNext || field?.Action == MaskAction.Drop;
        _dropNext = false;
        if (field is not null || drop)
        {
            MaskedValue(ref reader, data, field, drop);
            return;
        }

        switch (type)
        {
            case JsonTokenType.StartObject:
            case JsonTokenType.StartArray:
                WriteName();
                if (_depth == _frames.Length)
                {
                    Array.Resize(ref _frames, _frames.Length * 2);
                }

                _frames[_depth++] = (type == JsonTokenType.StartArray, 0);
                if (type == JsonTokenType.StartObject)
                {
                    _writer.StartObject();
                }
                else
                {
                    _writer.StartArray();
                }

                return;
            case JsonTokenType.String:
                StringValue(ref reader, data);
                return;
            case JsonTokenType.Number:
                NumberValue(ref reader, data);
                return;
            default:
                WriteName();
                _writer.RawValue(reader.ValueSpan.IsEmpty ? Literal(type) : reader.ValueSpan);
                EndOfValue();
                return;
        }
    }

    /// <summary>Steps every field rule's path into the value at <paramref name="depth"/> (reached
    /// by the pending name, or by <paramref name="index"/> in an array) and returns the first rule
    /// that names it.</summary>
    private FieldRule? MatchField(int depth, int index)
    {
        EnsureStates(depth + 1);
        var rules = _fields.Length;
        var parent = (depth - 1) * rules;
        var cached = index < 0 ? _cachedName : null;
        FieldRule? field = null;
        for (var r = 0; r < rules; r++)
        {
            var path = _fields[r].Path;
            var child = depth == 0 ? Masking.JsonPathPattern.Start
                : cached is not null ? cached.Child(r, path, _states[parent + r])
                : index >= 0 && path.AnyIndexAlike ? ElementStep(r, path, _states[parent + r])
                : path.Child(_states[parent + r], index < 0 ? _name ?? _cachedName?.Name : default, index);
            _states[depth * rules + r] = child;
            if (field is null && path.IsMatch(child))
            {
                field = _fields[r];
            }
        }

        return field;
    }

    /// <summary><see cref="JsonPathPattern.Child"/> into any array element, remembered per rule
    /// for the last state it was taken from (the elements of one array share it).</summary>
    private ulong ElementStep(int rule, JsonPathPattern path, ulong state)
    {
        ref var step = ref _elementSteps[rule];
        if (!step.Known || step.From != state)
        {
            step = (true, state, path.Child(state, default, 0));
        }

        return step.To;
    }

    private static ReadOnlySpan<byte> Literal(JsonTokenType type) => type switch
    {
        JsonTokenType.True => "true"u8,
        JsonTokenType.False => "false"u8,
        _ => "null"u8,
    };

    private void PropertyName(ref Utf8JsonReader reader)
    {
        _dropNext = false;
        var escaped = reader.ValueIsEscaped;
        if (!escaped)
        {
            // Records in an array repeat their names in order: the name that followed this
            // one's predecessor last time is usually the one, and comparing costs less than hashing.
            var span = reader.ValueSpan;
            var cached = _previousName?.Next is { } predicted && span.SequenceEqual(predicted.Utf8) ? predicted : _names.Find(span);
            if (cached is not null)
            {
                _previousName?.Next = cached;
                _previousName = cached;
                _cachedName = cached;
                return;
            }
        }

        var name = Unescape(ref reader);
        var outcome = _values.Mask(name, out var masked);
        _name = outcome == ValueMasker.Outcome.Masked ? masked : name.ToString();
        _cachedName = outcome == ValueMasker.Outcome.Unchanged && !escaped ? _names.Add(reader.ValueSpan, _name) : null;
        if (_cachedName is not null)
        {
            _previousName?.Next = _cachedName;
            _previousName = _cachedName;
            _name = null;
        }
        _dropNext = outcome == ValueMasker.Outcome.Drop;
    }

    private void StringValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
    {
        // Most strings: nothing to unescape and no detector could find anything, so no decoding.
        var masked = "";
        ValueMasker.Outcome outcome;
        if (reader.ValueIsEscaped)
        {
            outcome = _values.Mask(Unescape(ref reader), out masked);
        }
        else
        {
            // What the UTF-8 screen saw serves for the decoded text too.
            outcome = _values.MightFind(data, (int)reader.TokenStartIndex + 1, reader.ValueSpan.Length, out var signals)
                ? _values.Mask(Unescape(ref reader), signals, out masked)
                : ValueMasker.Outcome.Unchanged;
        }

        switch (outcome)
        {
            case ValueMasker.Outcome.Unchanged:
                WriteName();
                // Exactly the bytes that came, quotes and escapes included.
                _writer.RawValue(data.Slice((int)reader.TokenStartIndex, reader.ValueSpan.Length + 2));
                break;
            case ValueMasker.Outcome.Masked:
                WriteName();
                _writer.StringValue(masked);
                break;
            default:
                DropValue();
                break;
        }

        EndOfValue();
    }

    private void NumberValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
    {
        var raw = reader.ValueSpan;
        // Only a long number can be a card or a phone number; short ones skip the detectors. Of
        // the built-in detectors only the card's can match a JSON number (the others need a '+',
        // letters, or separators a number cannot hold), so below a card's length only a custom
        // detector is asked.
        var screened = raw.Length >= PaymentCardDetector.MinDigits || (raw.Length >= 8 && _values.HasCustomDetectors);
        if (screened && _values.MightFind(data, (int)reader.TokenStartIndex, raw.Length))
        {
            Span<char> digits = stackalloc char[Math.Min(raw.Length, 64)];
            var length = Encoding.ASCII.GetChars(raw[..digits.Length], digits);
            switch (_values.Mask(digits[..length], out var masked))
            {
                case ValueMasker.Outcome.Masked:
                    WriteName();
                    _writer.StringValue(masked);
                    EndOfValue();
                    return;
                case ValueMasker.Outcome.Drop:
                    DropValue();
                    EndOfValue();
                    return;
            }
        }

        WriteName();
        _writer.RawValue(raw);
        EndOfValue();
    }

    private void MaskedValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> data, FieldRule? field, bool drop)
    {
        var type = reader.TokenType;
        if (drop)
        {
            Counts.Add(field?.Label ?? "FIELD");
            DropValue();
        }
        else if (field!.Action == MaskAction.Redact || (type is not (JsonTokenType.String or JsonTokenType.Number) && field.Action != MaskAction.Hash))
        {
            // Redacted, the value is not needed: the same few bytes, encoded once per rule.
            Counts.Add(field.Label);
            WriteName();
            _writer.StringValue(_redacted[Array.IndexOf(_fields, field)]);
        }
        else
        {
            Counts.Add(field.Label);
            WriteName();
            var builder = _fieldOutput.Clear();
            ReadOnlySpan<char> value = type switch
            {
                JsonTokenType.String => Unescape(ref reader),
                JsonTokenType.Number => Encoding.ASCII.GetString(reader.ValueSpan),
                // A whole object or array, or a literal: nothing of it is kept.
                _ => default,
            };
            ValueMasker.Apply(builder, value, value.IsEmpty && field.Action != MaskAction.Hash ? MaskAction.Redact : field.Action, field.Label, _plan.HashKey);
            if (_fieldChars.Length < builder.Length)
            {
                _fieldChars = new char[Math.Max(builder.Length, _fieldChars.Length * 2)];
            }

            builder.CopyTo(0, _fieldChars, builder.Length);
            _writer.StringValue(_fieldChars.AsSpan(0, builder.Length));
        }

        if (type is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            _skipDepth = reader.CurrentDepth;
            return;
        }

        EndOfValue();
    }

    /// <summary>Leaves a value out: a property goes with its name; an array element or a whole
    /// document becomes null (removing it would shift the positions other rules name).</summary>
    private void DropValue()
    {
        if (_depth > 0 && !_frames[_depth - 1].IsArray)
        {
            _name = null;
            _cachedName = null;
            return;
        }

        _writer.NullValue();
    }

    private void WriteName()
    {
        if (_cachedName is not null)
        {
            _writer.PropertyName(_cachedName);
        }
        else if (_name is not null)
        {
            _writer.PropertyName(_name);
        }

        _name = null;
        _cachedName = null;
    }

    /// <summary>After a whole value: JSON lines end each top-level value with a line break.</summary>
    private void EndOfValue()
    {
        _name = null;
        _cachedName = null;
        if (_lines && _depth == 0)
        {
            // A fresh start for the next line, so the writer puts no comma before it.
            _writer.EndLine();
        }
    }

    private ReadOnlySpan<char> Unescape(ref Utf8JsonReader reader)
    {
        var needed = reader.ValueSpan.Length;
        if (_chars.Length < needed)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        try
        {
            return _chars.AsSpan(0, reader.CopyString(_chars));
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape: valid JSON that .NET will not unescape. Thrown on, it
            // stopped the response with an error that is not a masking failure.
            return _chars.AsSpan(0, LenientJsonString.Unescape(reader.ValueSpan, _chars));
        }
    }

    private void EnsureStates(int depth)
    {
        var needed = depth * Math.Max(1, Rules);
        if (_states.Length < needed)
        {
            Array.Resize(ref _states, Math.Max(needed, _states.Length * 2));
        }
    }
}
