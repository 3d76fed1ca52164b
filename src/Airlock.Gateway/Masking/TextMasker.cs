using System.Buffers;
using System.Text;

namespace Airlock.Gateway.Masking;

/// <summary>
/// Masks a text body (text/*, text/event-stream, or JSON that turned out not to be) with the
/// plan's detectors. It decodes UTF-8 across pieces and masks a line at a time, holding back
/// the unfinished last line, so a value split between two reads is seen whole. A line longer
/// than <see cref="MaxSegmentChars"/> is cut at whitespace; a PEM private key is held whole,
/// lines and all, up to its END line.
/// </summary>
public sealed class TextMasker : IBodyMasker
{
    public const int MaxSegmentChars = 64 * 1024;
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
        var cut = SafeEnd(_held.AsSpan(0, _heldLength));
        if (cut > 0)
        {
            Emit(_held.AsSpan(0, cut), output);
            _held.AsSpan(cut, _heldLength - cut).CopyTo(_held);
            _heldLength -= cut;
        }
    }

    public void Complete(IBufferWriter<byte> output)
    {
        Reserve(4);
        _heldLength += _decoder.GetChars([], _held.AsSpan(_heldLength), flush: true);
        Emit(_held.AsSpan(0, _heldLength), output);
        _heldLength = 0;
    }

    /// <summary>Where the text can be cut without splitting a value: after the last line break,
    /// before a private key still waiting for its END line; 0 to hold everything.</summary>
    private static int SafeEnd(ReadOnlySpan<char> text)
    {
        var end = text.LastIndexOf('\n') + 1;
        if (end == 0)
        {
            if (text.Length < MaxSegmentChars)
            {
                return 0;
            }

            end = text.LastIndexOfAny(' ', '\t', '\r') + 1;
            return end == 0 ? text.Length : end;
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
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(result.Length));
        output.Advance(Encoding.UTF8.GetBytes(result, span));
    }

    private void Reserve(int more)
    {
        if (_heldLength + more > _held.Length)
        {
            Array.Resize(ref _held, Math.Max(_held.Length * 2, _heldLength + more));
        }
    }
}
