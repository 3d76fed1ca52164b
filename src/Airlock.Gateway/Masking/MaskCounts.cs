using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace Airlock.Gateway.Masking;

[JsonSerializable(typeof(SortedDictionary<string, long>))]
internal sealed partial class MaskCountsJsonContext : JsonSerializerContext;

/// <summary>How many values were masked in one response, by label (EMAIL, CARD, a field's label).</summary>
internal sealed class MaskCounts
{
    private readonly Dictionary<string, long> _byLabel = new(StringComparer.Ordinal);

    public long Total { get; private set; }

    public IReadOnlyDictionary<string, long> ByLabel => _byLabel;

    /// <summary>The counts by label as a JSON object, labels in order: <c>{"CARD":1,"EMAIL":3}</c>.</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(
        new SortedDictionary<string, long>(_byLabel, StringComparer.Ordinal), MaskCountsJsonContext.Default.SortedDictionaryStringInt64);

    public void Add(string label)
    {
        Total++;
        // One lookup: this runs for every masked value.
        CollectionsMarshal.GetValueRefOrAddDefault(_byLabel, label, out _)++;
    }
}
