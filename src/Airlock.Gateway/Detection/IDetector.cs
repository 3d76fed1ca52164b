namespace Airlock.Gateway.Detection;

/// <summary>
/// Finds sensitive values of one kind in text. One library of detectors serves both the
/// policy's response guardrails (block a response that holds a card number) and masking.
/// </summary>
internal interface IDetector
{
    /// <summary>The stable name used in configuration, e.g. <c>payment-card</c>.</summary>
    string Name { get; }

    /// <summary>What a redacted value says it was, e.g. <c>CARD</c> in <c>[REDACTED:CARD]</c>.</summary>
    string Label { get; }

    /// <summary>Calls <paramref name="found"/> for each value found, with its start and length,
    /// in order; stops early when it returns false.</summary>
    void Find(ReadOnlySpan<char> text, Func<int, int, bool> found);

    /// <summary>The <see cref="Prescreen"/> signal without which <see cref="Find"/> finds
    /// nothing; <see cref="DetectorSignals.Always"/> when the detector cannot be screened.</summary>
    DetectorSignals Needs => DetectorSignals.Always;
}
