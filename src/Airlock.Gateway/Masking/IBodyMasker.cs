using System.Buffers;

namespace Airlock.Gateway.Masking;

/// <summary>
/// Masks a response body as it streams: each piece read from the upstream goes in, and whatever
/// can be masked already comes out, so the agent gets its first bytes before the upstream has
/// finished. Only a value still incomplete at the end of a piece is held back, up to a bound.
/// </summary>
internal interface IBodyMasker
{
    MaskCounts Counts { get; }

    /// <summary>Masks the next piece of the body into <paramref name="output"/>.</summary>
    /// <exception cref="MaskingFailedException">The body cannot be masked safely; stop sending it.</exception>
    void Write(ReadOnlySpan<byte> piece, IBufferWriter<byte> output);

    /// <summary>The body has ended: masks what was held back.</summary>
    /// <exception cref="MaskingFailedException">The body cannot be masked safely; stop sending it.</exception>
    void Complete(IBufferWriter<byte> output);
}

/// <summary>The body could not be masked in a way that honours every rule; what is left of it
/// must not reach the agent.</summary>
internal sealed class MaskingFailedException(string message) : Exception(message);
