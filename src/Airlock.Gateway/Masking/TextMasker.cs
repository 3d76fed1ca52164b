using System.Buffers;
using System.Text;

namespace Airlock.Gateway.Masking;

/// <summary>
/// Masks a text body (text/*, text/event-stream, or JSON that turned out not to be) with the
/// plan's detectors. It decodes UTF-8 across pieces and masks a line at a time, holding back
/// the unfinished last line, so a value split between two reads is seen whole. A PEM private
/// key is held whole, lines and all, up to its END line.
/// <para>
/// A line of <see cref="MaxSegmentChars"/> or more is masked in parts, so memory stays bounded.
/// Where a part ends depends on the text alone, never on how it arrived: the detectors read the
/// line's first <see cref="MaxSegmentChars"/> characters (from its start or the last cut), and
/// the cut goes <see cref="MaxValueChars"/> before their end, back to just after whitespace when
/// there is some shortly before, and back again to the start of any value found across it. A
/// value up to <see cref="MaxValueChars"/> long is therefore never split (docs/masking.md).
/// </para>
/// </summary>
internal sealed class TextMasker : IBodyMasker
{
    /// <summary>The most of one line read at a time.</summary>
    public const int MaxSegmentChars = 64 * 1024;

    /// <summary>The longest value that is never split when a long line is cut: more than any
    /// built-in detector's value (a PEM key on one line, 16,384 characters of body, is the
    /// longest); an email, a JWT or a custom pattern's value can be longer, and is then only
    /// whole if it does not straddle a cut.</summary>
    public const int MaxValueChars = 20 * 1024;

    // How far back from the cut whitespace is looked for, so a cut rarely falls inside a word.
    private const int WhitespaceReach = 1024;
    private const int MaxHeldKeyChars = 32 * 1024;

    private readonly ValueMasker _values;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private char[] _held = new char[4096];
    private int _heldLength;

    public TextMasker(MaskingPlan plan, MaskCounts? counts = null)
    {
        Counts = counts ?? new MaskCounts();
        _values = new ValueMasker(plan, Counts);
    }

    public MaskCounts Counts { get; }

    public void Write(ReadOnlySpan<byte> piece, IBufferWriter<byte> output)
    {
        var chars = _decoder.GetCharCount(piece, flush: false);
        Reserve(chars);
        _heldLength += _decoder.GetChars(piece, _held.AsSpan(_heldLength), flush: false);
        Drain(output, final: false);
    }

    public void Complete(IBufferWriter<byte> output)
    {
        Reserve(4);
        _heldLength += _decoder.GetChars([], _held.AsSpan(_heldLength), flush: true);
        Drain(output, final: true);
    }

    /// <summary>Masks and sends what can be: long lines a part at a time, then whole lines;
    /// holds the rest (an unfinished line, a key waiting for its END line).</summary>
    private void Drain(IBufferWriter<byte> output, bool final)
    {
        var text = _held.AsSpan(0, _heldLength);
        int longLine;
        while ((longLine = FirstLongLine(text)) >= 0)
        {
            Emit(text[..longLine], output);
            text = text[longLine..];
            text = text[EmitHead(text[..MaxSegmentChars], output)..];
        }

        var end = final ? text.Length : SafeEnd(text);
        Emit(text[..end], output);
        text[end..].CopyTo(_held);
        _heldLength = text.Length - end;
    }

    /// <summary>Where the first line of at least <see cref="MaxSegmentChars"/> characters (its
    /// line break counted) starts, finished or not; -1 when there is none yet.</summary>
    private static int FirstLongLine(ReadOnlySpan<char> text)
    {
        var start = 0;
        while (text.Length - start >= MaxSegmentChars)
        {
            var end = text.Slice(start, MaxSegmentChars).IndexOf('\n');
            if (end < 0 || end == MaxSegmentChars - 1)
            {
                return start;
            }

            start += end + 1;
        }

        return -1;
    }

    /// <summary>Masks and sends the head of a long line, given its first
    /// <see cref="MaxSegmentChars"/> characters; returns where the rest of it starts.</summary>
    private int EmitHead(ReadOnlySpan<char> segment, IBufferWriter<byte> output)
    {
        // Neither a cut nor the end of what the detectors read may fall inside a surrogate pair.
        if (char.IsHighSurrogate(segment[^1]))
        {
            segment = segment[..^1];
        }

        var cut = MaxSegmentChars - MaxValueChars;
        var space = segment.Slice(cut - WhitespaceReach, WhitespaceReach).LastIndexOfAny(' ', '\t', '\r');
        if (space >= 0)
        {
            cut += space + 1 - WhitespaceReach;
        }
        else if (char.IsLowSurrogate(segment[cut]))
        {
            cut--;
        }

        var outcome = _values.MaskHead(segment, ref cut, out var masked);
        Send(outcome == ValueMasker.Outcome.Unchanged ? segment[..cut] : masked, output);
        return cut;
    }

    /// <summary>Where the text can be cut without splitting a value: after the last line break,
    /// before a private key still waiting for its END line; 0 to hold everything. The unfinished
    /// line is shorter than <see cref="MaxSegmentChars"/>: a longer one has been cut.</summary>
    private static int SafeEnd(ReadOnlySpan<char> text)
    {
        var end = text.LastIndexOf('\n') + 1;
        if (end == 0)
        {
            return 0;
        }

        var begin = text[..end].LastIndexOf("-----BEGIN ", StringComparison.Ordinal);
        if (begin >= 0 && text[begin..end].IndexOf("-----END ", StringComparison.Ordinal) < 0 && text.Length - begin < MaxHeldKeyChars)
        {
            return begin;
        }

        return end;
    }

    private void Emit(ReadOnlySpan<char> text, IBufferWriter<byte> output)
    {
        if (text.IsEmpty)
        {
            return;
        }

        // A line at a time, so each line's pre-scan skips the detectors it cannot trip (most
        // lines hold nothing). Only a PEM key spans lines: a segment with one is masked whole.
        if (!text.Contains("-----BEGIN ", StringComparison.Ordinal))
        {
            int end;
            while ((end = text.IndexOf('\n')) >= 0 && end < text.Length - 1)
            {
                EmitOne(text[..(end + 1)], output);
                text = text[(end + 1)..];
            }
        }

        EmitOne(text, output);
    }

    private void EmitOne(ReadOnlySpan<char> text, IBufferWriter<byte> output)
    {
        var outcome = _values.Mask(text, out var masked);
        ReadOnlySpan<char> result = outcome switch
        {
            ValueMasker.Outcome.Masked => masked,
            // In text there is no field to drop: the dropped values are simply left out.
            ValueMasker.Outcome.Drop => masked,
            _ => text,
        };
        Send(result, output);
    }

    private static void Send(ReadOnlySpan<char> text, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private void Reserve(int more)
    {
        if (_heldLength + more > _held.Length)
        {
            Array.Resize(ref _held, Math.Max(_held.Length * 2, _heldLength + more));
        }
    }
}
