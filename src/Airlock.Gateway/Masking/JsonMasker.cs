using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Airlock.Gateway.Detection;

namespace Airlock.Gateway.Masking;

/// <summary>
/// Masks a JSON body (or JSON lines) as it streams, with <see cref="Utf8JsonReader"/> reading
/// each piece where the last stopped. Field rules are matched by path as values go past;
/// detector rules run on every string, property name and long number. The body is written as it
/// came, byte for byte, with masked values spliced in (<see cref="JsonSplicer"/>); a dropped
/// property goes with its name and one comma. Memory is bounded by the nesting depth and by the
/// largest single token, which may not exceed the bound given.
/// <para>
/// When the body turns out not to be JSON (or a token is over the bound), what follows is
/// masked as text with every detector, so nothing a detector knows passes because the body was
/// malformed. Field rules cannot be honoured in text, so with field rules that case fails
/// (<see cref="MaskingFailedException"/>) and the rest of the body is withheld; so does a body
/// that breaks inside a value being dropped whole.
/// </para>
/// </summary>
internal sealed class JsonMasker : IBodyMasker, IDisposable
{
    // Non-ASCII stays as it came; the output is a response body, not HTML.
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private readonly MaskingPlan _plan;
    private readonly ValueMasker _values;
    private readonly int _maxTokenBytes;
    private readonly bool _lines;
    private readonly JsonSplicer _splicer = new(Encoder);
    private JsonReaderState _state;
    private byte[] _held = new byte[4096];
    private int _heldLength;
    private bool _any;
    // The body offset of the first byte the reader reads next (the start of what is held).
    private long _readStart;
    // Every byte before this body offset is decided on: written as it came, replaced, or left out.
    // What follows it up to the reader's position is the comma and name of a property whose
    // value has not been read.
    private long _decided;

    // The open containers: whether each is an array, its next index, whether an object has kept
    // a property, and whether the comma before its next property goes (its first one was
    // dropped); and the path states of every field rule inside it (a flat array, one row of
    // _plan.Fields.Length per depth).
    private (bool IsArray, int NextIndex, bool Kept, bool DropComma)[] _frames = new (bool, int, bool, bool)[16];
    private int _depth;
    private readonly FieldRule[] _fields;
    private readonly (bool Known, ulong From, ulong To)[] _elementSteps;
    // What each field rule's redaction writes: a JSON string, quoted and escaped.
    private readonly byte[][] _redacted;
    private ulong[] _states;
    private char[] _chars = new char[256];
    // What a field rule writes, built and copied out without a string per value.
    private readonly StringBuilder _fieldOutput = new();
    private char[] _fieldChars = new char[64];
    private readonly PropertyNameCache _names;
    // The pending property name: decoded (for path matching) unless it came from the cache, where
    // it is in the body, and what replaces it there when a detector masked it.
    private string? _name;
    private PropertyNameCache.Entry? _cachedName;
    private string? _maskedName;
    private long _nameStart;
    private long _nameEnd;
    // The last name found in the cache, whose Next predicts the name after it.
    private PropertyNameCache.Entry? _previousName;
    private bool _dropNext;
    // Inside a value a field rule masked or dropped whole: the depth it ends at.
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
        _redacted = [.. _fields.Select(f => (byte[])[(byte)'"', .. JsonEncodedText.Encode($"[REDACTED:{f.Label}]", Encoder).EncodedUtf8Bytes, (byte)'"'])];
        _names = new PropertyNameCache(plan.Fields.Length);
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

    public void Dispose() => _splicer.Dispose();

    private void Read(ReadOnlySpan<byte> data, bool final, IBufferWriter<byte> output)
    {
        _splicer.Begin(_readStart, output);
        var reader = new Utf8JsonReader(data, final, _state);
        // The end of the last token read: a reader that throws may have consumed part of what
        // follows, which no masking has seen.
        var before = reader.BytesConsumed;
        try
        {
            while (reader.Read())
            {
                // A value over the bound that arrived in one piece goes to text like one held
                // across pieces (below), from the same place, so the output does not depend on
                // how the body was cut.
                if (reader.BytesConsumed - before > _maxTokenBytes)
                {
                    ToText(data, (int)before, output, $"a single JSON value is over {_maxTokenBytes} bytes");
                    return;
                }

                Token(ref reader, data);
                before = reader.BytesConsumed;
            }
        }
        catch (JsonException)
        {
            ToText(data, (int)before, output, "the body is not valid JSON");
            return;
        }

        _state = reader.CurrentState;
        var consumed = (int)reader.BytesConsumed;
        var rest = data[consumed..];
        // What is held back undecided (a property's comma and name, and the space the reader took
        // with them) counts against the bound like a value: space is unbounded otherwise.
        if (rest.Length > _maxTokenBytes || (_skipDepth < 0 && _readStart + consumed - _decided > _maxTokenBytes))
        {
            ToText(data, consumed, output, $"a single JSON value is over {_maxTokenBytes} bytes");
            return;
        }

        if (_skipDepth >= 0)
        {
            // Inside a value masked or dropped whole: what was read of it is left out.
            _splicer.SkipTo(_readStart + consumed);
        }

        // At the end of the body every byte is decided (what follows the last value is space).
        _splicer.End(final ? _readStart + data.Length : _decided, data, consumed);
        _readStart += consumed;

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
    /// Masks the body as text from <paramref name="from"/> in <paramref name="data"/> on: what came
    /// before is written as decided, a pending property name masked as it would have been.
    /// </summary>
    private void ToText(ReadOnlySpan<byte> data, int from, IBufferWriter<byte> output, string why)
    {
        if (!_plan.Fields.IsEmpty)
        {
            throw new MaskingFailedException($"{why}, so its field masking rules cannot be applied");
        }

        if (_skipDepth >= 0)
        {
            // Inside a value a detector's drop was leaving out whole (its name held what was
            // dropped): as text, the rest of that value would be sent.
            throw new MaskingFailedException($"{why}, inside a value that was being left out");
        }

        KeepName(data);
        _splicer.CopyTo(_readStart + from, data);
        _text = new TextMasker(_plan.ForText(), Counts);
        _text.Write(data[from..], output);
        _heldLength = 0;
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
                EndOfValue(_readStart + reader.TokenStartIndex + 1);
                _splicer.SkipTo(_decided);
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
                EndOfValue(_readStart + reader.TokenStartIndex + 1);
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
                KeepName(data);
                if (_depth == _frames.Length)
                {
                    Array.Resize(ref _frames, _frames.Length * 2);
                }

                _frames[_depth++] = (type == JsonTokenType.StartArray, 0, false, false);
                _decided = _readStart + reader.TokenStartIndex + 1;
                return;
            case JsonTokenType.String:
                StringValue(ref reader, data);
                return;
            case JsonTokenType.Number:
                NumberValue(ref reader, data);
                return;
            default:
                KeepName(data);
                EndOfValue(_readStart + reader.TokenStartIndex + Literal(type).Length);
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
                : path.Child(_states[parent + r], index < 0 ? _name : default, index);
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
        _maskedName = null;
        _nameStart = _readStart + reader.TokenStartIndex;
        _nameEnd = _nameStart + reader.ValueSpan.Length + 2;
        ref var frame = ref _frames[_depth - 1];
        if (frame.DropComma)
        {
            // The object's first property was dropped: the comma after it goes with it.
            _splicer.SkipTo(_nameStart);
            frame.DropComma = false;
        }

        var escaped = reader.ValueIsEscaped;
        if (!escaped)
        {
            // Records in an array repeat their names in order: the name that followed this
            // one's predecessor last time is usually the one, and comparing costs less than hashing.
            var span = reader.ValueSpan;
            var cached = _previousName?.Next is { } predicted && span.SequenceEqual(predicted.Utf8) ? predicted : _names.Find(span);
            if (cached is not null)
            {
                if (_previousName is not null && _previousName.Next != cached)
                {
                    _previousName.Next = cached;
                }

                _previousName = cached;
                _cachedName = cached;
                return;
            }
        }

        var name = Unescape(ref reader);
        var outcome = _values.Mask(name, out var masked);
        // Field paths match the name as masked.
        _name = outcome == ValueMasker.Outcome.Masked ? masked : name.ToString();
        // What replaces the name in the body; a dropped one goes with its value, or is written
        // without what was dropped from it if the body turns to text.
        _maskedName = outcome == ValueMasker.Outcome.Unchanged ? null : masked;
        _cachedName = outcome == ValueMasker.Outcome.Unchanged && !escaped ? _names.Add(reader.ValueSpan, _name) : null;
        if (_cachedName is not null)
        {
            _previousName?.Next = _cachedName;
            _previousName = _cachedName;
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

        var start = _readStart + reader.TokenStartIndex;
        var end = start + reader.ValueSpan.Length + 2;
        switch (outcome)
        {
            case ValueMasker.Outcome.Unchanged:
                // Exactly the bytes that came, quotes and escapes included.
                KeepName(data);
                break;
            case ValueMasker.Outcome.Masked:
                KeepName(data);
                Replace(start, end, masked, data);
                break;
            default:
                LeaveOut(start, end, data);
                break;
        }

        EndOfValue(end);
    }

    private void NumberValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
    {
        var raw = reader.ValueSpan;
        var start = _readStart + reader.TokenStartIndex;
        var end = start + raw.Length;
        // Of the built-in detectors only the card's can match a JSON number (the others need a
        // '+' after a non-word character, letters, or separators a number cannot hold), so they
        // see numbers from a card's length; custom detectors see them from eight characters.
        var screened = raw.Length >= PaymentCardDetector.MinDigits || (raw.Length >= 8 && _values.HasCustomDetectors);
        if (screened && _values.MightFind(data, (int)reader.TokenStartIndex, raw.Length))
        {
            // All of it: a number can be long (an exponent with a card's digits in it).
            Span<char> digits = raw.Length <= 64 ? stackalloc char[raw.Length] : Chars(raw.Length);
            var length = Encoding.ASCII.GetChars(raw, digits);
            switch (_values.Mask(digits[..length], out var masked))
            {
                case ValueMasker.Outcome.Masked:
                    KeepName(data);
                    Replace(start, end, masked, data);
                    EndOfValue(end);
                    return;
                case ValueMasker.Outcome.Drop:
                    LeaveOut(start, end, data);
                    EndOfValue(end);
                    return;
            }
        }

        KeepName(data);
        EndOfValue(end);
    }

    private void MaskedValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> data, FieldRule? field, bool drop)
    {
        var type = reader.TokenType;
        var start = _readStart + reader.TokenStartIndex;
        var whole = type is JsonTokenType.StartObject or JsonTokenType.StartArray;
        var end = start + type switch
        {
            JsonTokenType.String => reader.ValueSpan.Length + 2,
            JsonTokenType.Number => reader.ValueSpan.Length,
            JsonTokenType.StartObject or JsonTokenType.StartArray => 1,
            _ => Literal(type).Length,
        };
        if (drop)
        {
            Counts.Add(field?.Label ?? "FIELD");
            LeaveOut(start, end, data);
        }
        else if (field!.Action == MaskAction.Redact || (type is not (JsonTokenType.String or JsonTokenType.Number) && field.Action != MaskAction.Hash))
        {
            // Redacted, the value is not needed: the same few bytes, encoded once per rule.
            Counts.Add(field.Label);
            KeepName(data);
            _splicer.CopyTo(start, data);
            _splicer.Write(_redacted[Array.IndexOf(_fields, field)]);
            _splicer.SkipTo(end);
        }
        else
        {
            Counts.Add(field.Label);
            KeepName(data);
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
            Replace(start, end, _fieldChars.AsSpan(0, builder.Length), data);
        }

        if (whole)
        {
            // The rest of the object or array is left out as it is read, up to its end.
            _skipDepth = reader.CurrentDepth;
            return;
        }

        EndOfValue(end);
    }

    /// <summary>Writes <paramref name="text"/> as a string in place of the input from
    /// <paramref name="start"/> to <paramref name="end"/>.</summary>
    private void Replace(long start, long end, ReadOnlySpan<char> text, ReadOnlySpan<byte> data)
    {
        _splicer.CopyTo(start, data);
        _splicer.WriteString(text);
        _splicer.SkipTo(end);
    }

    /// <summary>Leaves a value out: a property goes with its name and the comma before it (an
    /// object's first property, with the comma after it); an array element or a whole document
    /// becomes null (removing it would shift the positions other rules name).</summary>
    private void LeaveOut(long start, long end, ReadOnlySpan<byte> data)
    {
        _maskedName = null;
        if (_depth > 0 && !_frames[_depth - 1].IsArray)
        {
            _splicer.CopyTo(_decided, data);
            _splicer.SkipTo(end);
            ref var frame = ref _frames[_depth - 1];
            frame.DropComma = !frame.Kept;
            return;
        }

        _splicer.CopyTo(start, data);
        _splicer.Write("null"u8);
        _splicer.SkipTo(end);
    }

    /// <summary>A value is kept (as it came or masked): its property, if any, is kept, with its
    /// name as a detector masked it.</summary>
    private void KeepName(ReadOnlySpan<byte> data)
    {
        if (_depth > 0 && !_frames[_depth - 1].IsArray)
        {
            _frames[_depth - 1].Kept = true;
        }

        if (_maskedName is not null)
        {
            Replace(_nameStart, _nameEnd, _maskedName, data);
            _maskedName = null;
        }
    }

    /// <summary>After a whole value, which ends at body offset <paramref name="end"/>.</summary>
    private void EndOfValue(long end)
    {
        _decided = end;
        _name = null;
        _cachedName = null;
        _maskedName = null;
    }

    /// <summary>The masker's character buffer, at least <paramref name="needed"/> long.</summary>
    private Span<char> Chars(int needed)
    {
        if (_chars.Length < needed)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        return _chars;
    }

    private ReadOnlySpan<char> Unescape(ref Utf8JsonReader reader)
    {
        Chars(reader.ValueSpan.Length);
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
