using System.Security.Cryptography;
using System.Text;
using Airlock.Gateway.Detection;

namespace Airlock.Gateway.Masking;

/// <summary>
/// Masks one piece of text (a JSON string, a number's digits, a segment of a text body) with a
/// plan's detector rules. Where finds overlap, the one that starts first wins, then the longer,
/// then the rule listed first, so a card number is never half-masked as a phone number. One
/// instance serves one response: it reuses its buffers and is not thread-safe.
/// <para>
/// A value is first read once by <see cref="Prescreen"/>, and only the detectors whose signal it
/// holds run: most values hold none, and cost that one pass.
/// </para>
/// </summary>
internal sealed class ValueMasker
{
    private readonly MaskingPlan _plan;
    private readonly List<(int Start, int Length, int Rule)> _finds = [];
    private readonly Func<int, int, bool>[] _collectors;
    private readonly DetectorSignals[] _needs;
    private readonly DetectorSignals _anyNeeds;
    private readonly StringBuilder _output = new();

    public ValueMasker(MaskingPlan plan, MaskCounts counts)
    {
        _plan = plan;
        Counts = counts;
        _collectors = new Func<int, int, bool>[plan.Detectors.Length];
        _needs = new DetectorSignals[plan.Detectors.Length];
        for (var i = 0; i < _collectors.Length; i++)
        {
            var rule = i;
            _needs[i] = plan.Detectors[i].Detector.Needs;
            _anyNeeds |= _needs[i];
            _collectors[i] = (start, length) =>
            {
                _finds.Add((start, length, rule));
                return true;
            };
        }
    }

    public MaskCounts Counts { get; }

    /// <summary>Whether a detector the prescreen cannot speak for (a custom one) is in the plan.</summary>
    public bool HasCustomDetectors => (_anyNeeds & DetectorSignals.Always) != 0;

    /// <summary>The outcome for one value.</summary>
    public enum Outcome
    {
        Unchanged,
        Masked,
        Drop,
    }

    /// <summary>False when no detector rule can find anything in the UTF-8 text
    /// <c>around[start..(start + length)]</c>: it can be passed on as it is, without being decoded.
    /// The bytes around it are read as <see cref="Prescreen.Scan(ReadOnlySpan{byte}, int, int)"/> does.</summary>
    public bool MightFind(ReadOnlySpan<byte> around, int start, int length) => MightFind(around, start, length, out _);

    /// <summary><see cref="MightFind(ReadOnlySpan{byte}, int, int)"/>, with the signals it saw, for
    /// <see cref="Mask(ReadOnlySpan{char}, DetectorSignals, out string)"/>.</summary>
    public bool MightFind(ReadOnlySpan<byte> around, int start, int length, out DetectorSignals signals)
    {
        signals = _anyNeeds != 0 ? Prescreen.Scan(around, start, length) : DetectorSignals.None;
        return (signals & _anyNeeds) != 0;
    }

    /// <summary>Masks <paramref name="text"/> into <paramref name="masked"/>. <see cref="Outcome.Drop"/>
    /// asks for the field holding the text to go; <paramref name="masked"/> then holds the text
    /// without the dropped values (what text bodies use).</summary>
    public Outcome Mask(ReadOnlySpan<char> text, out string masked) => Mask(text, Prescreen.Scan(text), out masked);

    /// <summary><see cref="Mask(ReadOnlySpan{char}, out string)"/> for text whose signals are known:
    /// the prescreen's of its UTF-8 form (which never says less than that of the decoded text).</summary>
    public Outcome Mask(ReadOnlySpan<char> text, DetectorSignals signals, out string masked)
    {
        masked = "";
        if (!Find(text, signals))
        {
            return Outcome.Unchanged;
        }

        return Render(text, text.Length, out masked);
    }

    /// <summary>
    /// Masks the head of a long text that has to be cut: the detectors read all of
    /// <paramref name="text"/>, <paramref name="cut"/> moves back to the start of any value found
    /// across it (repeatedly, as values can overlap), and only <c>text[..cut]</c> is masked into
    /// <paramref name="masked"/> (with what was found in the whole text, so a value ending at the
    /// cut is judged by what follows it). When every position before the cut is inside a value
    /// (one longer than the distance to the cut), the cut becomes the end of the text: that
    /// value is masked as far as the text holds it.
    /// </summary>
    public Outcome MaskHead(ReadOnlySpan<char> text, ref int cut, out string masked)
    {
        masked = "";
        if (!Find(text, Prescreen.Scan(text)))
        {
            return Outcome.Unchanged;
        }

        for (var moved = true; moved;)
        {
            moved = false;
            foreach (var (start, length, _) in _finds)
            {
                if (start >= cut)
                {
                    break;
                }

                if (start + length > cut)
                {
                    cut = start;
                    moved = true;
                    break;
                }
            }
        }

        if (cut == 0)
        {
            cut = text.Length;
        }

        return Render(text, cut, out masked);
    }

    /// <summary>Runs the detectors whose signal the text holds; the finds, sorted by where the
    /// masking goes through them, are in <see cref="_finds"/>. False when there are none.</summary>
    private bool Find(ReadOnlySpan<char> text, DetectorSignals signals)
    {
        if (_anyNeeds == 0)
        {
            return false;
        }

        _finds.Clear();
        for (var i = 0; i < _collectors.Length; i++)
        {
            if ((signals & _needs[i]) != 0)
            {
                _plan.Detectors[i].Detector.Find(text, _collectors[i]);
            }
        }

        if (_finds.Count == 0)
        {
            return false;
        }

        _finds.Sort(static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Length != b.Length ? b.Length.CompareTo(a.Length) : a.Rule.CompareTo(b.Rule));
        return true;
    }

    /// <summary>Masks <c>text[..end]</c> with the finds that start before <paramref name="end"/>
    /// (none of which goes past it).</summary>
    private Outcome Render(ReadOnlySpan<char> text, int end, out string masked)
    {
        _output.Clear();
        var drop = false;
        var any = false;
        var copied = 0;
        foreach (var (start, length, rule) in _finds)
        {
            if (start >= end)
            {
                break;
            }

            if (start < copied)
            {
                continue;
            }

            any = true;
            var detector = _plan.Detectors[rule];
            Counts.Add(detector.Detector.Label);
            _output.Append(text[copied..start]);
            if (detector.Action == MaskAction.Drop)
            {
                drop = true;
            }
            else
            {
                Apply(_output, text.Slice(start, length), detector.Action, detector.Detector.Label, _plan.HashKey);
            }

            copied = start + length;
        }

        _output.Append(text[copied..end]);
        masked = _output.ToString();
        return drop ? Outcome.Drop : any ? Outcome.Masked : Outcome.Unchanged;
    }

    /// <summary>Appends the masked form of a whole value.</summary>
    public static void Apply(StringBuilder output, ReadOnlySpan<char> value, MaskAction action, string label, byte[]? hashKey)
    {
        switch (action)
        {
            case MaskAction.Partial:
                Partial(output, value, label);
                break;
            case MaskAction.Hash:
                Span<byte> mac = stackalloc byte[32];
                var bytes = Encoding.UTF8.GetBytes(value.ToArray());
                HMACSHA256.HashData(hashKey, bytes, mac);
                output.Append('[').Append(label).Append(':').Append(Convert.ToHexStringLower(mac[..8])).Append(']');
                break;
            default:
                output.Append("[REDACTED:").Append(label).Append(']');
                break;
        }
    }

    private static void Partial(StringBuilder output, ReadOnlySpan<char> value, string label)
    {
        if (label == "EMAIL" && value.IndexOf('@') is var at && at > 0)
        {
            output.Append(value[0]).Append("***").Append(value[at..]);
            return;
        }

        // The last four letters or digits, separators dropped; short values keep nothing.
        Span<char> tail = stackalloc char[4];
        var kept = 0;
        var alphanumerics = 0;
        for (var i = value.Length - 1; i >= 0; i--)
        {
            if (char.IsAsciiLetterOrDigit(value[i]))
            {
                alphanumerics++;
                if (kept < 4)
                {
                    tail[3 - kept++] = value[i];
                }
            }
        }

        output.Append("****");
        if (alphanumerics >= 8)
        {
            output.Append(tail);
        }
    }
}
