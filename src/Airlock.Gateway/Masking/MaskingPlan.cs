using System.Collections.Immutable;
using Airlock.Gateway.Detection;

namespace Airlock.Gateway.Masking;

/// <summary>Mask the values a detector finds, with an action.</summary>
internal sealed record DetectorRule(IDetector Detector, MaskAction Action);

/// <summary>Mask the value at a JSON field path, whatever it holds.</summary>
internal sealed record FieldRule(JsonPathPattern Path, MaskAction Action, string Label);

/// <summary>
/// What to mask in a connection's responses, compiled once: field rules for JSON, detector
/// rules for every string (and number) in JSON and for text, and the key for keyed hashes.
/// </summary>
internal sealed class MaskingPlan
{
    public MaskingPlan(IEnumerable<FieldRule> fields, IEnumerable<DetectorRule> detectors, byte[]? hashKey)
    {
        Fields = [.. fields];
        Detectors = [.. detectors];
        FieldNames = [.. Fields.Select(f => f.Path.FieldName).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase)];
        HashKey = hashKey;
        if (HashKey is null && (Fields.Any(f => f.Action == MaskAction.Hash) || Detectors.Any(d => d.Action == MaskAction.Hash)))
        {
            throw new ArgumentException("a hash action needs a hash key", nameof(hashKey));
        }
    }

    /// <summary>Every built-in detector redacting, nothing else: what masks when what was asked
    /// for is no longer known.</summary>
    public static MaskingPlan EveryDetector { get; } = new MaskingPlan([], [], null).ForText();

    public ImmutableArray<FieldRule> Fields { get; }

    public ImmutableArray<DetectorRule> Detectors { get; }

    /// <summary>The names of the fields the field rules mask (each path's last field name).</summary>
    public ImmutableArray<string> FieldNames { get; }

    public byte[]? HashKey { get; }

    /// <summary>
    /// What text masking uses when a body that claimed to be JSON is not: the plan's own detector
    /// rules, and every other detector redacting, so nothing listed passes because the body was
    /// malformed.
    /// </summary>
    public MaskingPlan ForText()
    {
        var configured = Detectors.Select(d => d.Detector.Name).ToHashSet(StringComparer.Ordinal);
        return new MaskingPlan([], [.. Detectors, .. Detection.Detectors.All.Where(d => !configured.Contains(d.Name)).Select(d => new DetectorRule(d, MaskAction.Redact))], HashKey);
    }
}
