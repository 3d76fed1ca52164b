using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Airlock.Gateway.Masking;

/// <summary>
/// What <see cref="JsonMasker"/> writes: the body as it came, with masked values spliced in.
/// Nearly every byte of a body passes unchanged, so input is copied in runs, from where the last
/// change ended to where the next begins, instead of token by token. Positions are offsets in
/// the whole body, so a run can start in one piece and end in a later one: what the reader
/// consumed from a piece but the masker has not yet decided on (the comma and name before a
/// value that may be dropped with them) is kept until the next piece.
/// <para>
/// New strings are escaped by a <see cref="Utf8JsonWriter"/> with the masker's encoder.
/// </para>
/// </summary>
internal sealed class JsonSplicer : IDisposable
{
    private readonly ArrayBufferWriter<byte> _escaped = new(256);
    private readonly Utf8JsonWriter _strings;
    // The characters a string can hold that the writer would write as they are.
    private readonly SearchValues<char> _verbatim;
    private IBufferWriter<byte> _output = null!;
    // The body offset of the first byte of the piece being read.
    private long _pieceStart;
    // Consumed input from earlier pieces not yet written or left out: body offsets
    // [_keptStart, _pieceStart).
    private byte[] _kept = new byte[256];
    private long _keptStart;

    public JsonSplicer(JavaScriptEncoder encoder)
    {
        _verbatim = Verbatim(encoder);
        _strings = new Utf8JsonWriter(_escaped, new JsonWriterOptions { Encoder = encoder, SkipValidation = true });
    }

    /// <summary>Input before this body offset has been written or left out.</summary>
    public long RunStart { get; private set; }

    /// <summary>Starts a piece, whose first byte is at body offset <paramref name="pieceStart"/>.</summary>
    public void Begin(long pieceStart, IBufferWriter<byte> output)
    {
        _pieceStart = pieceStart;
        _output = output;
    }

    /// <summary>Writes the input from <see cref="RunStart"/> up to body offset <paramref name="end"/>
    /// (nothing when it is not past the run's start).</summary>
    public void CopyTo(long end, ReadOnlySpan<byte> piece)
    {
        if (end <= RunStart)
        {
            return;
        }

        if (RunStart < _pieceStart)
        {
            var keptEnd = Math.Min(end, _pieceStart);
            _output.Write(_kept.AsSpan((int)(RunStart - _keptStart), (int)(keptEnd - RunStart)));
            RunStart = keptEnd;
        }

        if (end > RunStart)
        {
            _output.Write(piece[(int)(RunStart - _pieceStart)..(int)(end - _pieceStart)]);
            RunStart = end;
        }
    }

    /// <summary>Leaves out the input from <see cref="RunStart"/> up to body offset <paramref name="end"/>.</summary>
    public void SkipTo(long end) => RunStart = Math.Max(RunStart, end);

    /// <summary>Writes bytes that are already JSON (a literal, an escaped string with its quotes).</summary>
    public void Write(ReadOnlySpan<byte> json) => _output.Write(json);

    /// <summary>Writes a string, quoted and escaped.</summary>
    public void WriteString(ReadOnlySpan<char> text)
    {
        // A masked value is mostly what masking wrote ("[REDACTED:EMAIL]", "****1111"): ASCII
        // the encoder leaves as it is, which goes out as it is without setting up the writer.
        if (!text.ContainsAnyExcept(_verbatim))
        {
            var span = _output.GetSpan(text.Length + 2);
            span[0] = (byte)'"';
            var length = System.Text.Encoding.ASCII.GetBytes(text, span[1..]);
            span[1 + length] = (byte)'"';
            _output.Advance(length + 2);
            return;
        }

        _escaped.ResetWrittenCount();
        _strings.Reset();
        _strings.WriteStringValue(text);
        _strings.Flush();
        _output.Write(_escaped.WrittenSpan);
    }

    /// <summary>
    /// Ends a piece of which the reader consumed <paramref name="consumed"/> bytes: the input up to
    /// <paramref name="decided"/> is written, and what lies between that and the end of what was
    /// consumed is kept for the next piece.
    /// </summary>
    public void End(long decided, ReadOnlySpan<byte> piece, int consumed)
    {
        CopyTo(decided, piece);
        var consumedEnd = _pieceStart + consumed;
        if (RunStart >= consumedEnd)
        {
            _keptStart = consumedEnd;
            return;
        }

        // Kept bytes from before this piece that are still undecided, then this piece's.
        var fromKept = RunStart < _pieceStart ? _kept.AsSpan((int)(RunStart - _keptStart), (int)(_pieceStart - RunStart)) : default;
        var fromPiece = piece[(int)(Math.Max(RunStart, _pieceStart) - _pieceStart)..consumed];
        var length = fromKept.Length + fromPiece.Length;
        // Moving kept bytes to the front of the same array is an overlapping copy, which spans allow.
        var kept = _kept.Length >= length ? _kept : new byte[Math.Max(length, _kept.Length * 2)];
        fromKept.CopyTo(kept);
        fromPiece.CopyTo(kept.AsSpan(fromKept.Length));
        _kept = kept;
        _keptStart = RunStart;
    }

    public void Dispose() => _strings.Dispose();

    /// <summary>The ASCII characters <paramref name="encoder"/> does not escape (never a control
    /// character, JSON's quote or a backslash, which every JavaScript encoder escapes).</summary>
    internal static SearchValues<char> Verbatim(JavaScriptEncoder encoder)
    {
        var verbatim = new List<char>();
        for (var c = '\0'; char.IsAscii(c); c++)
        {
            if (!encoder.WillEncode(c))
            {
                verbatim.Add(c);
            }
        }

        return SearchValues.Create([.. verbatim]);
    }
}
