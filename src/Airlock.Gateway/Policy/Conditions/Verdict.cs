namespace Airlock.Gateway.Policy.Conditions;

/// <summary>
/// The outcome of one condition. <see cref="Ambiguous"/> is for a request that can be read
/// two ways: a repeated parameter with different values, a body that is not strict JSON, a
/// value that cannot be compared. An ambiguous condition counts against the request: it does
/// not satisfy an allow rule, and it does satisfy a deny or review rule.
/// </summary>
internal enum Verdict : byte
{
    No = 0,
    Yes = 1,
    Ambiguous = 2,
}

internal static class VerdictExtensions
{
    /// <summary>Combines the verdicts of several values of one field: all yes, all no, or mixed.</summary>
    public static Verdict Merge(this Verdict seen, Verdict next, bool first) =>
        first ? next : seen == next ? seen : Verdict.Ambiguous;

    /// <summary>Resolves a verdict for a rule with the given action.</summary>
    public static bool Holds(this Verdict verdict, PolicyAction action) =>
        verdict == Verdict.Yes || (verdict == Verdict.Ambiguous && action != PolicyAction.Allow);
}
