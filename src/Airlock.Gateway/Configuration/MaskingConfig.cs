using System.Collections.Immutable;
using Airlock.Gateway.Masking;

namespace Airlock.Gateway.Configuration;

/// <summary>
/// A connection's masking: what to mask in its responses (compiled into a
/// <see cref="MaskingPlan"/>), which content types may pass unmasked because the configuration
/// says so, and the bounds that keep memory flat.
/// </summary>
internal sealed record MaskingConfig(
    MaskingPlan Plan,
    ImmutableArray<string> Passthrough,
    long MaxValueBytes,
    long BufferBytes)
{
    public const long DefaultMaxValueBytes = 1L << 20;
    public const long DefaultBufferBytes = 256 * 1024;

    /// <summary>
    /// Refuse a request that asks about a masked value (<c>?ssn_like=^1</c>, a body naming
    /// <c>ssn</c>, a query value a detector finds): masking hides the value in every answer,
    /// but whether an answer comes back reveals it to an agent that may search.
    /// </summary>
    public bool RefuseQueriesOnMaskedFields { get; init; }

    /// <summary>
    /// A connection's masking with a policy rule's added: for a detector both name, the stricter
    /// action applies (a policy edit can add masking, never take it away), and both sets of field
    /// rules apply.
    /// A connection that masks nothing gets the rule's rules with the default bounds and no
    /// passthrough types, so what the rule asks for fails closed like any masking.
    /// </summary>
    public static MaskingConfig WithRule(MaskingConfig? connection, MaskingPlan rule)
    {
        var detectors = new Dictionary<string, DetectorRule>(StringComparer.Ordinal);
        foreach (var d in (connection?.Plan.Detectors ?? []).Concat(rule.Detectors))
        {
            if (!detectors.TryGetValue(d.Detector.Name, out var existing) || Strictness(d.Action) > Strictness(existing.Action))
            {
                detectors[d.Detector.Name] = d;
            }
        }

        var plan = new MaskingPlan([.. connection?.Plan.Fields ?? [], .. rule.Fields], detectors.Values, connection?.Plan.HashKey);
        return connection is null
            ? new MaskingConfig(plan, [], DefaultMaxValueBytes, DefaultBufferBytes)
            : connection with { Plan = plan };
    }

    /// <summary>How little of a value an action leaves: dropped, then a label, then a stable hash
    /// (equality shows), then part of the value.</summary>
    private static int Strictness(MaskAction action) => action switch
    {
        MaskAction.Drop => 3,
        MaskAction.Redact => 2,
        MaskAction.Hash => 1,
        _ => 0,
    };

    /// <summary>Whether a content type (media type only, lower-case) was let through explicitly.</summary>
    public bool PassesThrough(string mediaType)
    {
        foreach (var allowed in Passthrough)
        {
            if (allowed.EndsWith("/*", StringComparison.Ordinal)
                ? mediaType.StartsWith(allowed[..^1], StringComparison.Ordinal)
                : mediaType == allowed)
            {
                return true;
            }
        }

        return false;
    }
}
