using System.Collections.Immutable;
using Airlock.Gateway.Masking;

namespace Airlock.Gateway.Configuration;

/// <summary>
/// A connection's masking: what to mask in its responses (compiled into a
/// <see cref="MaskingPlan"/>), which content types may pass unmasked because the configuration
/// says so, and the bounds that keep memory flat.
/// </summary>
public sealed record MaskingConfig(
    MaskingPlan Plan,
    ImmutableArray<string> Passthrough,
    long MaxValueBytes,
    long BufferBytes)
{
    public const long DefaultMaxValueBytes = 1L << 20;
    public const long DefaultBufferBytes = 256 * 1024;

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
