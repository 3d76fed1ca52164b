using System.Collections.Frozen;

namespace Airlock.Gateway.Detection;

/// <summary>The detectors configuration can name, by their stable names.</summary>
public static class Detectors
{
    private static readonly FrozenDictionary<string, IDetector> ByName =
        new IDetector[] { new PaymentCardDetector() }.ToFrozenDictionary(d => d.Name, StringComparer.Ordinal);

    public static IEnumerable<string> Names => ByName.Keys.Order(StringComparer.Ordinal);

    public static bool TryGet(string name, out IDetector detector) => ByName.TryGetValue(name, out detector!);

    /// <summary>True when the detector finds at least one value in the text.</summary>
    public static bool Any(this IDetector detector, ReadOnlySpan<char> text)
    {
        var any = false;
        detector.Find(text, (_, _) =>
        {
            any = true;
            return false;
        });
        return any;
    }
}
