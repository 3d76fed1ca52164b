using System.Collections.Immutable;

namespace Airlock.Gateway.Policy.Conditions;

/// <summary>The normalised path (connection segment included) matches one of the patterns.</summary>
internal sealed class PathCondition(ImmutableArray<PathPattern> patterns) : RuleCondition
{
    public ImmutableArray<PathPattern> Patterns { get; } = patterns;

    public override string Key => "paths";

    public override Verdict Evaluate(RequestFacts facts, bool strict)
    {
        foreach (var pattern in Patterns)
        {
            if (pattern.Matches(facts.Path, ignoreCase: !strict))
            {
                return Verdict.Yes;
            }
        }

        return Verdict.No;
    }

    public override string Describe() => $"paths: {string.Join(", ", Patterns)}";

    public override string Explain(RequestFacts facts, bool strict) =>
        $"paths: {facts.Path} matches none of {string.Join(", ", Patterns)}";
}
