using System.Collections.Frozen;

namespace Airlock.Gateway.Policy.Conditions;

/// <summary>A request fact that must be one of a set of names.</summary>
public abstract class SetCondition(string key, IEnumerable<string> values, StringComparer comparer) : RuleCondition
{
    public FrozenSet<string> Values { get; } = values.ToFrozenSet(comparer);

    public override string Key => key;

    protected abstract string? Fact(RequestFacts facts);

    protected virtual string Noun => key;

    public override Verdict Evaluate(RequestFacts facts, bool strict) =>
        Fact(facts) is { } value && Values.Contains(value) ? Verdict.Yes : Verdict.No;

    public override string Describe() => $"{key}: {string.Join(", ", Values.Order(StringComparer.Ordinal))}";

    public override string Explain(RequestFacts facts, bool strict) =>
        $"{key}: {Fact(facts) ?? "(none)"} is not one of {string.Join(", ", Values.Order(StringComparer.Ordinal))}";
}

public sealed class ConnectionCondition(IEnumerable<string> names) : SetCondition("connections", names, StringComparer.Ordinal)
{
    protected override string? Fact(RequestFacts facts) => facts.Connection;
}

/// <summary>Methods are compared as sent; the gateway refuses methods that are not upper case,
/// so <c>delete</c> can never pass for something other than <c>DELETE</c>.</summary>
public sealed class MethodCondition(IEnumerable<string> methods) : SetCondition("methods", methods, StringComparer.Ordinal)
{
    protected override string? Fact(RequestFacts facts) => facts.Method;

    /// <summary>A <c>_method</c> query parameter makes Rails, Laravel and Symfony run another
    /// method than the one sent (the header forms are stripped before forwarding).</summary>
    public override Verdict Evaluate(RequestFacts facts, bool strict)
    {
        // The cheap test first: only a query that mentions "method" in any letter case, or has an
        // escape (the query is kept as sent, and "_%6Dethod" is "_method" to every server), is parsed.
        if (facts.RawQuery is { } raw
            && (raw.Contains("method", StringComparison.OrdinalIgnoreCase) || raw.Contains('%', StringComparison.Ordinal))
            && facts.Query.Keys.Any(IsOverride))
        {
            return Verdict.Ambiguous;
        }

        return base.Evaluate(facts, strict);
    }

    /// <summary>Whether a parameter is <c>_method</c> to some server: in any letter case, and as
    /// PHP names it (leading spaces dropped, '.' made '_'), so that <c>.method</c> is Laravel's
    /// and Symfony's <c>_method</c>.</summary>
    private static bool IsOverride(string name)
    {
        var trimmed = name.AsSpan().TrimStart(' ');
        return trimmed.Length == 7 && trimmed[0] is '_' or '.' && KeyCase.Same(trimmed[1..].ToString(), "method");
    }

    public override string WhyAmbiguous(RequestFacts facts) =>
        "the query carries _method, which Rails, Laravel and Symfony run instead of the method sent";
}

public sealed class SubjectCondition(IEnumerable<string> subjects) : SetCondition("subjects", subjects, StringComparer.Ordinal)
{
    protected override string? Fact(RequestFacts facts) => facts.Identity.Subject;
}

public sealed class KeyCondition(IEnumerable<string> keys) : SetCondition("keys", keys, StringComparer.Ordinal)
{
    protected override string? Fact(RequestFacts facts) => facts.Identity.KeyName;
}

public sealed class IssuerCondition(IEnumerable<string> issuers) : SetCondition("issuers", issuers, StringComparer.Ordinal)
{
    protected override string? Fact(RequestFacts facts) => facts.Identity.Issuer;
}
