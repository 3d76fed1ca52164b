namespace Airlock.Gateway.Masking;

/// <summary>How many values were masked in one response, by label (EMAIL, CARD, a field's label).</summary>
public sealed class MaskCounts
{
    private readonly Dictionary<string, long> _byLabel = new(StringComparer.Ordinal);

    public long Total { get; private set; }

    public IReadOnlyDictionary<string, long> ByLabel => _byLabel;

    public void Add(string label)
    {
        Total++;
        _byLabel[label] = _byLabel.GetValueOrDefault(label) + 1;
    }
}
