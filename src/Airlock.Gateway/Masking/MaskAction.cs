namespace Airlock.Gateway.Masking;

/// <summary>What masking does to a sensitive value.</summary>
internal enum MaskAction
{
    /// <summary>Replaced by <c>[REDACTED:LABEL]</c>.</summary>
    Redact,

    /// <summary>Only the last four letters or digits kept: <c>****1234</c> (an email keeps its
    /// first letter and domain: <c>a***@example.com</c>).</summary>
    Partial,

    /// <summary>Replaced by a keyed hash, <c>[LABEL:16 hex digits]</c>: the same value always
    /// gives the same hash, so an agent can still join on it, but cannot reverse it.</summary>
    Hash,

    /// <summary>The field holding the value is removed (in text, the value is removed).</summary>
    Drop,
}
