using System.Collections.Immutable;

namespace Airlock.Gateway.Policy.Conditions;

/// <summary>The caller's groups: at least one of <c>anyOf</c>, and every one of <c>allOf</c>.</summary>
internal sealed class GroupsCondition(ImmutableArray<string> anyOf, ImmutableArray<string> allOf) : RuleCondition
{
    public ImmutableArray<string> AnyOf { get; } = anyOf;

    public ImmutableArray<string> AllOf { get; } = allOf;

    public override string Key => "groups";

    public override string Describe() =>
        "groups: " + string.Join("; ", new[] { AnyOf.IsEmpty ? null : "any of " + string.Join(", ", AnyOf), AllOf.IsEmpty ? null : "all of " + string.Join(", ", AllOf) }
            .Where(p => p is not null));

    public override Verdict Evaluate(RequestFacts facts, bool strict)
    {
        var groups = facts.Identity.Groups;
        if (!AnyOf.IsEmpty)
        {
            var any = false;
            foreach (var group in AnyOf)
            {
                if (Has(groups, group))
                {
                    any = true;
                    break;
                }
            }

            if (!any)
            {
                return Verdict.No;
            }
        }

        foreach (var group in AllOf)
        {
            if (!Has(groups, group))
            {
                return Verdict.No;
            }
        }

        return Verdict.Yes;
    }

    // A loop rather than LINQ's Contains, which would box the ImmutableArray on every request.
    private static bool Has(ImmutableArray<string> groups, string group)
    {
        foreach (var g in groups)
        {
            if (string.Equals(g, group, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public override string Explain(RequestFacts facts, bool strict)
    {
        var has = facts.Identity.Groups.IsEmpty ? "no groups" : "groups " + string.Join(", ", facts.Identity.Groups);
        var missing = AllOf.Where(g => !facts.Identity.Groups.Contains(g, StringComparer.Ordinal)).ToList();
        return missing.Count > 0
            ? $"groups: the caller ({has}) is not in all of {string.Join(", ", AllOf)}; missing {string.Join(", ", missing)}"
            : $"groups: the caller ({has}) is in none of {string.Join(", ", AnyOf)}";
    }
}
